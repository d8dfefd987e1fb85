"""openapi-core as an independent second opinion on requests and responses.

openapi-core is the reference implementation of OpenAPI 3.0 request/response
semantics (form styles, casting, path finding), but it costs 1-5 ms per call on
these operations, so :mod:`.validation` compiles its own validators for the hot
path. This module runs openapi-core itself on the same bundled documents; the
test suite uses it to show both reach the same verdict on generated requests and
responses, and a user can call it to double-check a surprising result.
"""

from __future__ import annotations

import functools
import json
from typing import Any

try:
    from openapi_core import OpenAPI
    from openapi_core.testing import MockRequest, MockResponse
except ImportError as exc:  # an optional extra: say how to get it, in one line
    raise ImportError("twilio_webhook_contracts.oracle needs openapi-core: "
                      "pip install 'twilio-webhook-contracts[oracle]'") from exc

from .request import Request
from .spec import Spec, default_spec

__all__ = ["request_errors", "response_errors"]


@functools.lru_cache(maxsize=8)
def _apps(spec: Spec) -> dict[str, OpenAPI]:
    return {api: OpenAPI.from_dict(document) for api, document in spec.documents.items()}


def _mock_request(request: Request, spec: Spec) -> MockRequest:
    operation = spec.operation(request.operation_id)
    args: dict[str, Any] = {}
    for key, value in request.query:
        args.setdefault(key, value)
    return MockRequest(
        operation.server,
        request.method,
        request.path,
        args=args,
        headers={"Authorization": "Basic QUM6dG9rZW4="},  # security is checked elsewhere
        data=request.body,
        content_type=request.headers.get("Content-Type", "application/x-www-form-urlencoded"),
    )


def request_errors(request: Request, spec: Spec | None = None) -> list[Exception]:
    """openapi-core's errors for *request* (credentials are not checked)."""
    spec = spec or default_spec()
    app = _apps(spec)[spec.operation(request.operation_id).api]
    return list(app.iter_request_errors(_mock_request(request, spec)))


def response_errors(
    request: Request, status: int, body: Any, content_type: str = "application/json",
    headers: dict[str, str] | None = None, spec: Spec | None = None,
) -> list[Exception]:
    """openapi-core's errors for a response to *request*."""
    spec = spec or default_spec()
    app = _apps(spec)[spec.operation(request.operation_id).api]
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = MockResponse(data, status_code=status, content_type=content_type, headers=headers or {})
    return list(app.iter_response_errors(_mock_request(request, spec), response))
