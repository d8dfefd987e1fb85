"""Helpers shared by the mock's tests (this module holds no tests).

Every response the tests receive goes through :func:`assert_documented`, so the
whole suite doubles as a check that the mock only ever answers what the
fragments document.
"""

from __future__ import annotations

import json
from typing import Any, Iterator, Mapping
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from openapi_schema_validator import OAS30Validator
from twilio.http.http_client import TwilioHttpClient

from twilio_webhook_contracts.mock import EmbeddedMock, serve_mock
from twilio_webhook_contracts.spec import default_spec, match_path
from twilio_webhook_contracts.validation import validate_response, validator_for

SERVICE = "IS" + "b" * 32
OTHER_SERVICE = "IS" + "e" * 32
CHANNEL = "CH" + "c" * 32
ACCOUNT_PATH = "/v1/Configuration/Webhooks"
SERVICE_PATH = f"/v1/Services/{SERVICE}/Configuration/Webhooks"


def webhooks_path(service: str = SERVICE, channel: str = CHANNEL) -> str:
    return f"/v2/Services/{service}/Channels/{channel}/Webhooks"


#: An operation documenting 401, 404, 405 and 429 with Twilio's error body: the
#: yardstick for answers to paths that belong to no operation.
_ANY_PATH_OPERATION = "FetchChannelWebhook"


def operation_for(method: str, path: str) -> str:
    """The operation whose documentation a response to ``method path`` must follow."""
    spec = default_spec()
    found = spec.find(method, path)
    if found is not None and found[0].method == method:
        return found[0].operation_id
    same_path = [op.operation_id for op in spec if match_path(op.path, path) is not None]
    return same_path[0] if same_path else _ANY_PATH_OPERATION


def assert_documented(method: str, url: str, status: int, headers: Mapping[str, str], body: bytes) -> None:
    """Fail unless the fragments document this response (status, headers, content type, body)."""
    path = urlsplit(url).path
    operation_id = operation_for(method, path)
    if method == "HEAD":  # the answer a GET would get, without its body
        assert body == b""
        validator = validator_for(operation_id)
        violations = validator.status_violations(status) + validator.header_violations(status, dict(headers))
    else:
        violations = validate_response(operation_id, status, dict(headers), body)
    assert not violations, f"{method} {path} -> {status} {body[:300]!r}:\n" + "\n".join(map(str, violations))


_ERROR_SCHEMA = default_spec().documents["conversations"]["components"]["schemas"]["TwilioError"]


def assert_twilio_error(status: int, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
    """For answers no operation documents (injected 5xx, 413): still Twilio's error body."""
    assert headers.get("Content-Type") == "application/json"
    value = json.loads(body)
    assert OAS30Validator(_ERROR_SCHEMA).is_valid(value), value
    assert value["status"] == status and value["more_info"].endswith(str(value["code"]))
    return value


class CheckedSession(requests.Session):
    """A ``requests`` session on the mock: relative URLs, its credentials, every answer validated."""

    def __init__(self, mock: EmbeddedMock, *, validate: bool = True):
        super().__init__()
        self.mock = mock
        self.auth = mock.auth
        self.validate = validate

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if url.startswith("/"):
            url = self.mock.url + url
        response = super().request(method, url, *args, **kwargs)
        if self.validate:
            assert_documented(method.upper(), response.request.url or url, response.status_code,
                              response.headers, response.content)
        return response


class RedirectingHttpClient(TwilioHttpClient):
    """twilio-python's own HTTP client, sending to the mock instead of *.twilio.com.

    Only scheme and host change; every answer is also checked against the fragments.
    """

    def __init__(self, base_url: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.base = urlsplit(base_url)
        self.sent: list[tuple[str, str]] = []

    def request(self, method: str, url: str, params: Any = None, data: Any = None, headers: Any = None,
                auth: Any = None, timeout: Any = None, allow_redirects: bool = False) -> Any:
        parts = urlsplit(url)
        url = urlunsplit((self.base.scheme, self.base.netloc, parts.path, parts.query, parts.fragment))
        self.sent.append((method.upper(), parts.path))
        response = super().request(method, url, params, data, headers, auth, timeout, allow_redirects)
        assert_documented(method.upper(), url, response.status_code, response.headers, response.text.encode())
        return response


@pytest.fixture
def mock() -> Iterator[EmbeddedMock]:
    with serve_mock() as running:
        yield running
    assert running.app.internal_errors == 0


@pytest.fixture
def http(mock: EmbeddedMock) -> Iterator[CheckedSession]:
    with CheckedSession(mock) as session:
        yield session
