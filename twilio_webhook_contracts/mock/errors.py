"""Twilio's error answers: ``{code, message, more_info, status}`` as ``application/json``.

Raising :class:`MockError` anywhere below the app's ``handle`` turns into such a
response; the constructors here name the codes Twilio uses so that handlers
read as the behaviour they implement.
"""

from __future__ import annotations

import json
from typing import Mapping

__all__ = [
    "MockError",
    "error_body",
    "invalid_parameter",
    "method_not_allowed",
    "not_found",
    "unauthorized",
]

MORE_INFO = "https://www.twilio.com/docs/errors/{code}"
#: Twilio's realm, so that clients that look at the challenge see the real one.
WWW_AUTHENTICATE = 'Basic realm="Twilio API"'


class MockError(Exception):
    """An error answer: HTTP status, Twilio error code, message, extra headers."""

    def __init__(self, status: int, code: int, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def body(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message,
                "more_info": MORE_INFO.format(code=self.code), "status": self.status}


def error_body(status: int, code: int, message: str) -> bytes:
    """The encoded error body (for layers below the app, such as the HTTP server)."""
    return json.dumps(MockError(status, code, message).body()).encode()


def unauthorized() -> MockError:
    return MockError(401, 20003, "Authenticate", {"WWW-Authenticate": WWW_AUTHENTICATE})


def not_found(path: str) -> MockError:
    shown = path if len(path) <= 200 else path[:197] + "..."
    return MockError(404, 20404, f"The requested resource {shown} was not found")


def method_not_allowed(method: str, allowed: list[str]) -> MockError:
    return MockError(405, 20004, f"Method {method[:32]} not allowed; use {', '.join(allowed)}",
                     {"Allow": ", ".join(allowed)})


def invalid_parameter(name: str, detail: str = "") -> MockError:
    return MockError(400, 20001, f"Invalid parameter: {name}" + (f" ({detail})" if detail else ""))
