"""The mock's WSGI application: Twilio's behaviour for the nine operations, driven by the fragments.

The fragments decide everything a request can get wrong: routing is
``Spec.find``, path/query/body checks are the compiled validators of
:mod:`..validation`, the stored field names are the form field names in
snake_case, and a response carries exactly the properties its response schema
documents. There is no second copy of an enum, a pattern or a field list here,
so a changed fragment changes the mock with no code change.

Each request goes through :meth:`MockApp.handle`:

1. fault injection (off by default),
2. :meth:`~MockApp.authenticate` -- 401 / Twilio 20003,
3. :meth:`~MockApp.route` -- 404 for unknown paths, 405 with ``Allow``,
4. :meth:`~MockApp.parse` -- 404 for malformed path sids, 400 / 20001 for any
   invalid parameter, before anything is changed,
5. the operation's handler, a method named after its operationId in snake_case
   (``create_channel_webhook``), which uses the ``render_*`` methods.

Extension points (for "broken variants" with exactly one defect, and for users
who need Twilio to misbehave in one particular way): subclass :class:`MockApp` and
override one handler, one ``render_*`` method, :meth:`~MockApp.changes` (what an
update stores), :meth:`~MockApp.ok` (success statuses), :meth:`~MockApp.channel_sid`
(unique-name resolution) or :meth:`~MockApp.page_cursor` (paging). For example::

    class DropsTarget(MockApp):
        def render_account_config(self, call, stored):
            body = super().render_account_config(call, stored)
            del body["target"]
            return body
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import re
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import parse_qsl, quote, unquote, urlencode

from ..request import FORM_CONTENT_TYPE
from ..spec import Operation, Spec, SpecError, default_spec
from ..validation import Violation, typed_fields, validator_for
from .auth import Credentials, basic_credentials
from .errors import MockError, invalid_parameter, method_not_allowed, not_found, unauthorized
from .faults import Fault, FaultInjector, Faults
from .log import LoggedRequest, RequestLog, body_text, now_rfc3339_millis
from .policies import Policies, Resources
from .state import INITIAL_ACCOUNT_CONFIG, INITIAL_SERVICE_CONFIG, MockState, Record, WebhookPage

__all__ = ["Call", "MAX_BODY_BYTES", "MockApp", "MockRequest", "MockResponse", "Reply", "snake_case"]

logger = logging.getLogger("twilio_webhook_contracts.mock")

#: Larger request bodies are answered 413 without being read.
MAX_BODY_BYTES = 1 << 20
#: Twilio's Chat reference: "you can use this resource to specify up to five unique
#: webhook targets for each channel". The sixth is refused (status: the channel_limit policy).
CHANNEL_WEBHOOK_LIMIT = 5
#: Integer parameters longer than this are refused before Python converts them
#: (its int/str limit is 4,300 digits; no documented integer needs more than 19).
MAX_INTEGER_DIGITS = 64

_REASONS = {status.value: status.phrase for status in HTTPStatus}
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_ITEM_INDEX = re.compile(r"\[\d+\]$")
_HOST = re.compile(r"(?:[A-Za-z0-9\-._~]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?\Z")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_PLAIN_SEGMENT = re.compile(r"[A-Za-z0-9_.~-]*\Z")  # needs no percent-encoding
_RESTRICTED_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}\Z")  # unique_names=restricted
_LONG_DIGITS = re.compile(r"\s*[-+]?\d{%d,}" % (MAX_INTEGER_DIGITS + 1))
_ACCEPTS_GZIP = re.compile(r"(?:^|,)\s*(?:gzip|x-gzip|\*)\s*(?:;\s*q\s*=\s*(?!0(?:\.0*)?\s*(?:,|$))[0-9.]+\s*)?(?:,|$)", re.I)
#: Extra response headers of ``extra=on``: what Twilio's front door adds.
_EXTRA_HEADERS = (("Twilio-Concurrent-Requests", "1"), ("X-Shenanigans", "none"), ("X-Powered-By", "AT-5000"),
                  ("Strict-Transport-Security", "max-age=31536000"))
#: Other wording for ``error_messages=terse`` (same status, same code).
_TERSE = {20001: "Bad request", 20003: "Unauthorized", 20004: "Method not allowed", 20404: "Not found",
          20409: "Conflict", 20413: "Too large", 20429: "Slow down", 20503: "Try later", 20500: "Oops"}


def snake_case(name: str) -> str:
    """``PreWebhookUrl`` -> ``pre_webhook_url``: Twilio's request names become its response names."""
    return _CAMEL_BOUNDARY.sub("_", name).lower()


@dataclass(frozen=True)
class MockRequest:
    """What the app needs of an HTTP request, independent of the server.

    ``path`` is raw (still percent-encoded; non-ASCII bytes percent-encoded too),
    ``query`` the raw query string, ``headers`` lower-case names, ``base_url`` the
    scheme and host the client addressed (``http://127.0.0.1:8080``).
    """

    method: str
    path: str
    query: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    base_url: str = "http://localhost"


@dataclass(frozen=True)
class MockResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True)
class Call:
    """An authenticated, routed, validated request, as a handler sees it.

    ``params`` are the decoded path values as sent (``ChannelSid`` may be a
    unique name: use :meth:`MockApp.channel_sid`), ``query`` and ``form`` the
    documented fields typed by their schemas (unknown ones dropped).
    """

    operation: Operation
    account_sid: str
    params: Mapping[str, str]
    query: Mapping[str, Any]
    form: Mapping[str, Any]
    base_url: str
    request: MockRequest


@dataclass
class Reply:
    """A handler's answer: status, JSON value (None: no body) and extra headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class _Note:
    """What the request log wants to know, filled in as the request goes through."""

    __slots__ = ("username", "operation_id", "fault")

    def __init__(self) -> None:
        self.username: str | None = None
        self.operation_id: str | None = None
        self.fault: str | None = None


class MockApp:
    """A stateful, contract-enforcing stand-in for Twilio's webhook-configuration APIs.

    A WSGI application (call it with ``environ, start_response``), or call
    :meth:`handle` with a :class:`MockRequest` to skip HTTP altogether.
    """

    def __init__(
        self,
        state: MockState | None = None,
        *,
        credentials: Credentials | None = None,
        accounts: Mapping[str, str] | None = None,
        api_keys: Mapping[str, tuple[str, str]] | None = None,
        faults: Faults | None = None,
        request_log: RequestLog | None = None,
        spec: Spec | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
        policies: Policies | None = None,
        resources: Resources | Iterable[str] | None = None,
    ):
        """*accounts* maps account SID -> auth token and *api_keys* key SID -> (secret,
        account SID), as a shortcut for *credentials*; without any of them the
        mock accepts the documented test credentials. *policies* chooses at every
        open point (:mod:`.policies`); *resources* (``IS...``, ``IS.../CH...``,
        ``IS.../unique-name``) are what exists under ``parents=declared``."""
        if credentials is not None and (accounts is not None or api_keys is not None):
            raise TypeError("pass credentials, or accounts/api_keys, not both")
        self.spec = spec or default_spec()
        self.state = state if state is not None else MockState()
        self.credentials = credentials or Credentials.of(accounts, api_keys)
        self.faults = FaultInjector(faults) if faults is not None and faults.enabled else None
        self.request_log = request_log if request_log is not None else RequestLog()
        self.max_body_bytes = max_body_bytes
        #: How many requests reached the catch-all (each one is a bug; tests assert 0).
        self.internal_errors = 0
        self._wake = threading.Event()
        # Everything derived from the fragments is computed once, here: nothing
        # is parsed or compiled per request.
        self._validators = {op_id: validator_for(op_id, self.spec) for op_id in self.spec.operations}
        self._handler_names = {op_id: snake_case(op_id) for op_id in self.spec.operations}
        missing = [op_id for op_id, name in self._handler_names.items() if not callable(getattr(self, name, None))]
        if missing:
            raise SpecError(f"the mock has no handler for {', '.join(sorted(missing))}")
        self._query_fields = {op.operation_id: {p.name: p.schema for p in op.query_parameters} for op in self.spec}
        self._properties = {op.operation_id: _documented_properties(op) for op in self.spec}
        webhook_schema = self.spec.operation("FetchChannelWebhook").responses[200].schema or {}
        self._webhook_properties = tuple(webhook_schema.get("properties", {}))
        self._is_channel_sid = re.compile(webhook_schema["properties"]["channel_sid"]["pattern"]).match
        list_op = self.spec.operation("ListChannelWebhook")
        meta = (list_op.responses[200].schema or {})["properties"]["meta"]["properties"]
        self._list_key: str = meta["key"]["enum"][0]
        page_size = next(p.schema for p in list_op.query_parameters if p.name == "PageSize")
        self._spec_page_size_max = int(page_size["maximum"])
        self._requests_seen = 0
        self._count_lock = threading.Lock()
        self._create_lock = threading.Lock()
        self.policies = Policies()
        self.resources = Resources()
        self.configure(policies or Policies(), resources)

    def configure(self, policies: Policies | None = None,
                  resources: Resources | Iterable[str] | None = None) -> None:
        """Switch policies (and, if given, the declared resources) from the next request on.

        Stored state is kept; configurations never written read as the new
        policies' initial values; the every-Nth-request count starts over.
        """
        if policies is not None:
            self.policies = policies
        if resources is not None:
            self.resources = resources if isinstance(resources, Resources) else Resources.parse(resources)
        self.set_initial_state(self.policies)
        with self._count_lock:
            self._requests_seen = 0

    def set_initial_state(self, p: Policies) -> None:
        """What never-configured configurations read as under *p* (stored configurations are kept)."""
        filters: list[str] | None = [] if p.initial_filters == "empty" else None
        account_filters = (filters or []) + ["onMessageSend"] if p.legacy_filters == "on" else filters
        self.state.set_initial(
            {**INITIAL_ACCOUNT_CONFIG, "filters": account_filters},
            {**INITIAL_SERVICE_CONFIG, "filters": filters, "method": None if p.initial_method == "null" else "POST"},
        )

    @property
    def _default_page_size(self) -> int:
        """The page size without PageSize (kept for variants that page themselves): the policy's."""
        return self.policies.default_page_size

    # -- lifecycle -----------------------------------------------------------

    def reset(self) -> None:
        """Initial state, empty request log, fault sequence and every-Nth-request count from the start."""
        self.state.reset()
        self.request_log.clear()
        if self.faults is not None:
            self.faults.reset()
        with self._count_lock:
            self._requests_seen = 0

    def close(self) -> None:
        """Wake handlers sleeping for injected latency (the server is stopping); later requests do not sleep."""
        self._wake.set()

    # -- WSGI ----------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        response = self.handle_environ(environ)
        start_response(f"{response.status} {_REASONS.get(response.status, 'Unknown')}", response.headers)
        return [response.body]

    def handle_environ(self, environ: Mapping[str, Any]) -> MockResponse:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length > self.max_body_bytes:
            error = MockError(413, 20413, f"Request body larger than {self.max_body_bytes} bytes")
            return self.encode_error(error)
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        headers = {key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
        if raw:
            path, _, query = raw.partition("?")
            if not path.isascii():  # raw bytes as latin-1 text (PEP 3333): make them %XX
                path = _NON_ASCII.sub(_percent_byte, path)
        else:
            path = quote(environ.get("PATH_INFO", "").encode("latin-1", "replace"), safe="/;=:@!$&'()*+,~")
            query = environ.get("QUERY_STRING", "")
        host = environ.get("HTTP_HOST", "")
        if not _HOST.match(host):
            host = f"{environ.get('SERVER_NAME', 'localhost')}:{environ.get('SERVER_PORT', '80')}"
        base_url = f"{environ.get('wsgi.url_scheme', 'http')}://{host}"
        return self.handle(MockRequest(environ.get("REQUEST_METHOD", "GET"), path, query, headers, body, base_url))

    # -- the pipeline --------------------------------------------------------

    def handle(self, request: MockRequest) -> MockResponse:
        """Answer one request; never raises, never answers 5xx unless a fault was injected."""
        note = _Note()
        try:
            response = self.encode(self.process(request, note))
        except MockError as error:
            response = self.encode_error(error)
        except Exception:  # noqa: BLE001 - the last line of defence; each hit is a bug
            self.internal_errors += 1
            logger.exception("mock: unexpected error answering %s %s", request.method, request.path[:200])
            response = self.encode_error(MockError(500, 20500, "Internal Server Error"))
        response = self.compress(request, response)
        self.request_log.record(LoggedRequest(
            now_rfc3339_millis(), request.method, request.path, request.query, body_text(request.body),
            response.status, note.username, note.operation_id, note.fault,
        ))
        return response

    def process(self, request: MockRequest, note: _Note) -> Reply:
        credentials = basic_credentials(request.headers.get("authorization"))
        note.username = credentials[0] if credentials else None
        self.front_door(note)
        if self.faults is not None:
            fault = self.faults.decide()
            if fault is not None:
                note.fault = fault.name
                if fault.delay and not self._wake.is_set():
                    self._wake.wait(fault.delay)
                if fault.status is not None:
                    raise self.fault_error(fault)
        account_sid = self.authenticate(credentials)
        operation, raw_values = self.route(request)
        note.operation_id = operation.operation_id
        return self.dispatch(self.parse(operation, raw_values, request, account_sid))

    def front_door(self, note: _Note) -> None:
        """Transport policies applied before anything else: latency, then 429 or 503 every Nth request.

        A refused request is answered instead of being processed, so it changes
        nothing and a client's retry is safe (as with Twilio's own rate limiting).
        """
        p = self.policies
        if p.latency_ms and not self._wake.is_set():
            self._wake.wait(p.latency_ms / 1000)
        if not (p.rate_limit_every or p.unavailable_every):
            return
        with self._count_lock:
            self._requests_seen += 1
            count = self._requests_seen
        if p.rate_limit_every and count % p.rate_limit_every == 0:
            note.fault = "policy-rate-limit"
            raise MockError(429, 20429, "Too Many Requests", {"Retry-After": "1"})
        if p.unavailable_every and count % p.unavailable_every == 0:
            note.fault = "policy-unavailable"
            raise MockError(503, 20503, "Service Unavailable", {"Retry-After": "1"})

    def authenticate(self, credentials: tuple[str, str] | None) -> str:
        """The account the request acts for (an API key acts for its account); 401 otherwise."""
        account = self.credentials.account_for(*credentials) if credentials else None
        if account is None:
            raise unauthorized()
        return account

    def route(self, request: MockRequest) -> tuple[Operation, dict[str, str]]:
        """The operation for this method and path, with its raw path values; 404 or 405 otherwise."""
        found = self.spec.find(request.method, request.path)
        if found is not None and found[0].method == request.method:  # methods are case-sensitive
            return found
        allowed = self.spec.methods_for(request.path)
        if allowed:
            raise method_not_allowed(request.method, allowed)
        raise not_found(request.path)

    def parse(self, operation: Operation, raw_values: Mapping[str, str], request: MockRequest,
              account_sid: str) -> Call:
        """Validate everything (path, query, body) against the fragment before anything is changed."""
        validator = self._validators[operation.operation_id]
        params: dict[str, str] = {}
        if raw_values:
            if validator.path_violations(raw_values):
                raise not_found(request.path)
            params = {name: unquote(raw, errors="strict") for name, raw in raw_values.items()}
        path_first = self.policies.validation_order == "path-first"
        if path_first:
            self.check_parents(params, account_sid, request)
        query: dict[str, Any] = {}
        fields = self._query_fields[operation.operation_id]
        if fields:
            pairs = parse_qsl(request.query, keep_blank_values=True, errors="replace")
            self.check_integer_lengths(pairs, fields)
            # PageSize's maximum is a policy (page_size_max), not the fragment's 5.
            violations = [v for v in validator.query_violations(pairs)
                          if not (v.field == "PageSize" and v.keyword == "maximum")]
            if violations:
                raise self.invalid(operation, violations)
            query = typed_fields(pairs, fields)
            size = query.get("PageSize")
            if isinstance(size, int) and size > self.policies.page_size_max:
                raise invalid_parameter("PageSize", f"expected a value <= {self.policies.page_size_max}")
        form: dict[str, Any] = {}
        if operation.form_schema is not None:
            body = request.body if self.reads_form(request) else b""
            if _LONG_DIGITS.search(body.decode("latin-1")) is not None:
                self.check_integer_lengths(parse_qsl(body.decode("latin-1"), keep_blank_values=True),
                                           operation.form_schema.get("properties", {}))
            form, violations = validator.read_form(body)  # one parse: checked, then stored
            if violations:
                raise self.invalid(operation, violations)
            if self.policies.empty_value == "rejected":
                for name, value in form.items():
                    if value == "" or (isinstance(value, list) and "" in value):
                        raise invalid_parameter(name, "must not be empty")
            if self.policies.type_fields == "rejected" and isinstance(form.get("Type"), str):
                self.check_type_fields(form["Type"], form)
        if not path_first:
            self.check_parents(params, account_sid, request)
        return Call(operation, account_sid, params, query, form, request.base_url, request)

    def check_integer_lengths(self, pairs: Iterable[tuple[str, str]], fields: Mapping[str, Any]) -> None:
        """400 for an integer parameter of more digits than any documented value has.

        Python refuses to convert integers of more than 4,300 digits (a ValueError
        deep in validation); the answer must be Twilio's 400, not a 500.
        """
        for name, value in pairs:
            schema = fields.get(name) or {}
            if schema.get("type") == "integer" and _LONG_DIGITS.match(value):
                raise invalid_parameter(name, f"expected an integer of at most {MAX_INTEGER_DIGITS} digits")

    def check_parents(self, params: Mapping[str, str], account_sid: str, request: MockRequest) -> None:
        """404 20404 for a service or channel that does not exist under the policies.

        ``parents=implicit`` (default): every well-formed one exists;
        ``parents=declared``: only the declared resources; ``unique_names=restricted``:
        channel unique names outside ``[A-Za-z0-9_.-]{1,64}`` never exist.
        """
        service = params.get("ServiceSid") or params.get("ChatServiceSid")
        if service is None:
            return
        channel = params.get("ChannelSid")
        if (channel is not None and self.policies.unique_names == "restricted" and not self._is_channel_sid(channel)
                and not _RESTRICTED_NAME.match(channel)):
            raise not_found(request.path)
        if self.policies.parents != "declared":
            return
        if service not in self.resources.services:
            raise not_found(request.path)
        if channel is not None:
            wanted = self.resolve_channel(account_sid, service, channel)
            if not any(declared_service == service
                       and (name == channel or self.resolve_channel(account_sid, service, name) == wanted)
                       for declared_service, name in self.resources.channels):
                raise not_found(request.path)

    def reads_form(self, request: MockRequest) -> bool:
        """Whether the body is form data; like Twilio, any other body is not read at all."""
        media = request.headers.get("content-type", FORM_CONTENT_TYPE).split(";")[0].strip().lower()
        return media == FORM_CONTENT_TYPE

    def invalid(self, operation: Operation, violations: list[Violation]) -> MockError:
        """400 / 20001 naming the first invalid parameter (Twilio reports one at a time)."""
        first = violations[0]
        name = _ITEM_INDEX.sub("", first.field)
        if first.keyword == "required":
            name = name or ", ".join(operation.required_fields) or "body"
            return MockError(400, 20001, f"Missing required parameter {name} in the post body")
        if first.keyword == "encoding":
            return MockError(400, 20001, "Invalid parameter: the body is not UTF-8 form data")
        return invalid_parameter(name, f"expected {first.expected}")

    def dispatch(self, call: Call) -> Reply:
        return getattr(self, self._handler_names[call.operation.operation_id])(call)

    def fault_error(self, fault: Fault) -> MockError:
        if fault.status == 429:
            return MockError(429, 20429, "Too Many Requests", {"Retry-After": str(fault.retry_after)})
        if fault.status == 503:
            return MockError(503, 20503, "Service Unavailable")
        return MockError(500, 20500, "Internal Server Error")

    def encode(self, reply: Reply) -> MockResponse:
        p = self.policies
        if reply.body is None:
            headers = [("Content-Length", "0")]
            body = b""
        else:
            value = reply.body
            if p.extra == "on" and reply.status < 400:
                value = _with_extra_fields(value, self._list_key)
            body = json.dumps(value, separators=(",", ":")).encode()
            media = "application/json; charset=utf-8" if p.charset == "on" else "application/json"
            headers = [("Content-Type", media), ("Content-Length", str(len(body)))]
        headers.extend(reply.headers.items())
        if p.extra == "on":
            headers.extend(_EXTRA_HEADERS)
            headers.append(("Twilio-Request-Id", "RQ" + hashlib.md5(body).hexdigest()))
        return MockResponse(reply.status, headers, body)

    def encode_error(self, error: MockError) -> MockResponse:
        if self.policies.error_messages == "terse":
            error = MockError(error.status, error.code, _TERSE.get(error.code, f"Error {error.code}"), error.headers)
        return self.encode(Reply(error.status, error.body(), error.headers))

    def compress(self, request: MockRequest, response: MockResponse) -> MockResponse:
        """``gzip=on``: gzip a body when the request's Accept-Encoding allows it."""
        if self.policies.gzip != "on" or not response.body:
            return response
        if not _ACCEPTS_GZIP.search(request.headers.get("accept-encoding", "")):
            return response
        body = gzip.compress(response.body, mtime=0)
        headers = [(name, str(len(body)) if name.lower() == "content-length" else value)
                   for name, value in response.headers]
        headers += [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")]
        return MockResponse(response.status, headers, body)

    # -- shared pieces of behaviour -----------------------------------------

    def ok(self, call: Call, body: Any = None) -> Reply:
        """The operation's documented success status (201 for create, 204 for delete, else 200)."""
        return Reply(call.operation.success_status, body)

    def changes(self, call: Call) -> dict[str, Any]:
        """What an update (or create) stores: the fields sent, nothing else.

        Names follow Twilio's snake_case (``Configuration.FlowSid`` ->
        ``configuration.flow_sid``); an empty value clears to null (only the URL
        fields can validly be empty); absent fields are not in the result, so they
        keep their stored value.
        """
        out: dict[str, Any] = {}
        for name, value in call.form.items():
            if value == "":
                value = None
            elif isinstance(value, list) and name.endswith("Filters") and self.policies.filter_order == "sorted":
                value = sorted(value)
            parent, _, leaf = name.rpartition(".")
            if parent:
                out.setdefault(snake_case(parent), {})[snake_case(leaf)] = value
            else:
                out[snake_case(name)] = value
        return out

    def channel_sid(self, call: Call) -> str:
        """The channel's ``CH`` sid: as sent, or derived from a unique name.

        Any channel exists, so a unique name stands for a channel whose sid is a
        hash of (account, service, name): stable across requests and restarts,
        and different for the same name in another service or account.
        """
        return self.resolve_channel(call.account_sid, call.params["ServiceSid"], call.params["ChannelSid"])

    def resolve_channel(self, account_sid: str, service_sid: str, name: str) -> str:
        """The ``CH`` sid a channel sid or unique name stands for (see :meth:`channel_sid`)."""
        if self._is_channel_sid(name):
            return name
        seed = "\n".join((account_sid, service_sid, name))
        return "CH" + hashlib.sha256(seed.encode("utf-8", "surrogatepass")).hexdigest()[:32]

    def channel_scope(self, call: Call) -> tuple[str, str, str]:
        return (call.account_sid, call.params["ServiceSid"], self.channel_sid(call))

    def page_cursor(self, token: str | None) -> tuple[str | None, str | None]:
        """(after sid, before sid) from a ``PageToken``.

        Tokens are ``PA<sid>`` (the page after that webhook) and ``PB<sid>``
        (the page before it), in the style of Twilio's. Any other token -- the
        fragment allows any string -- reads the first page.
        """
        if token and len(token) > 2 and token[:2] in ("PA", "PB"):
            return (token[2:], None) if token[:2] == "PA" else (None, token[2:])
        return None, None

    def resource_url(self, call: Call, operation: Operation | None = None, **values: str) -> str:
        """The absolute URL of a resource, always with sids: at the host the client used,
        or (``url_host=twilio``) at Twilio's canonical host for the API."""
        operation = operation or call.operation
        params = {name: value if _PLAIN_SEGMENT.match(value) else quote(value, safe="")
                  for name, value in {**call.params, **values}.items()}
        base = operation.server.rstrip("/") if self.policies.url_host == "twilio" else call.base_url
        return base + operation.render_path(params)

    def webhook_url(self, call: Call, sid: str) -> str:
        return self.resource_url(call, self.spec.operation("FetchChannelWebhook"),
                                 ChannelSid=self.channel_sid(call), Sid=sid)

    # -- rendering: every documented property, null where unset ---------------

    def render_account_config(self, call: Call, stored: Record) -> dict[str, Any]:
        return _complete(self._properties[call.operation.operation_id],
                         {**stored, "account_sid": call.account_sid, "url": self.resource_url(call)})

    def render_service_config(self, call: Call, stored: Record) -> dict[str, Any]:
        return _complete(self._properties[call.operation.operation_id], {
            **stored, "account_sid": call.account_sid,
            "chat_service_sid": call.params["ChatServiceSid"], "url": self.resource_url(call),
        })

    def check_type_fields(self, kind: str, form: Mapping[str, Any]) -> None:
        """``type_fields=rejected``: 400 for a configuration field the webhook's Type does not use."""
        from ..strategies import fields_unused_by

        for name in fields_unused_by(kind, self.spec):
            if name in form:
                raise invalid_parameter(name, f"not used by a {kind} webhook")

    def render_channel_webhook(self, call: Call, record: Record) -> dict[str, Any]:
        """One webhook; ``configuration`` holds exactly the keys that were set."""
        body = _complete(self._webhook_properties, {
            **record, "account_sid": call.account_sid, "service_sid": call.params["ServiceSid"],
            "channel_sid": self.channel_sid(call), "url": self.webhook_url(call, record["sid"]),
        })
        configuration = body.get("configuration")
        if (self.policies.triggers_key == "filters" and body.get("type") == "trigger"
                and isinstance(configuration, dict) and "triggers" in configuration):
            configuration = dict(configuration)
            configuration["filters"] = configuration.pop("triggers")
            body["configuration"] = configuration
        return body

    def render_webhook_page(self, call: Call, page: WebhookPage, *, size: int, number: int,
                            token: str | None) -> dict[str, Any]:
        """A list page with Twilio's ``meta``: links carry PageSize, Page and (after the first) PageToken."""
        base = self.resource_url(call, self.spec.operation("ListChannelWebhook"), ChannelSid=self.channel_sid(call))

        def link(page_number: int, page_token: str | None = None) -> str:
            query: list[tuple[str, Any]] = [("PageSize", size), ("Page", page_number)]
            if page_token:
                query.append(("PageToken", page_token))
            return f"{base}?{urlencode(query)}"

        records = page.records
        return {
            self._list_key: [self.render_channel_webhook(call, record) for record in records],
            "meta": {
                "page": number,
                "page_size": size,
                "first_page_url": link(0),
                # Every page after the first links back (page 1 links page 0), with a
                # cursor when there is one; without, the previous index reads from the start.
                "previous_page_url": link(max(number - 1, 0), "PB" + records[0]["sid"])
                if page.more_before and records else link(number - 1) if number > 0 else None,
                "next_page_url": link(number + 1, "PA" + records[-1]["sid"]) if page.more_after and records else None,
                "url": link(number, token),
                "key": self._list_key,
            },
        }

    # -- handlers: one per operationId, named after it in snake_case ---------

    def fetch_configuration_webhook(self, call: Call) -> Reply:
        return self.ok(call, self.render_account_config(call, self.state.account_config(call.account_sid)))

    def update_configuration_webhook(self, call: Call) -> Reply:
        stored = self.state.update_account_config(call.account_sid, self.changes(call))
        return self.ok(call, self.render_account_config(call, stored))

    def fetch_service_webhook_configuration(self, call: Call) -> Reply:
        stored = self.state.service_config(call.account_sid, call.params["ChatServiceSid"])
        return self.ok(call, self.render_service_config(call, stored))

    def update_service_webhook_configuration(self, call: Call) -> Reply:
        stored = self.state.update_service_config(call.account_sid, call.params["ChatServiceSid"], self.changes(call))
        return self.ok(call, self.render_service_config(call, stored))

    def create_channel_webhook(self, call: Call) -> Reply:
        scope = self.channel_scope(call)
        with self._create_lock:  # count and create as one step: concurrent creates cannot pass the cap
            if self.state.webhook_count(scope) >= CHANNEL_WEBHOOK_LIMIT:
                raise self.channel_full()
            record = self.state.create_webhook(scope, self.changes(call))
        return self.ok(call, self.render_channel_webhook(call, record))

    def channel_full(self) -> MockError:
        """The answer to a 6th webhook on a channel (documented limit, undocumented error: a policy)."""
        message = f"A channel can have at most {CHANNEL_WEBHOOK_LIMIT} webhooks"
        if self.policies.channel_limit == "409":
            return MockError(409, 20409, message)
        return invalid_parameter("Type", message.lower())

    def list_channel_webhook(self, call: Call) -> Reply:
        size = call.query.get("PageSize", self.policies.default_page_size)
        token = call.query.get("PageToken")
        after, before = self.page_cursor(token)
        page = self.state.webhook_page(self.channel_scope(call), size, after=after, before=before)
        return self.ok(call, self.render_webhook_page(call, page, size=size, number=call.query.get("Page", 0),
                                                      token=token))

    def fetch_channel_webhook(self, call: Call) -> Reply:
        record = self.state.webhook(self.channel_scope(call), call.params["Sid"])
        if record is None:
            raise not_found(call.request.path)
        return self.ok(call, self.render_channel_webhook(call, record))

    def update_channel_webhook(self, call: Call) -> Reply:
        if self.policies.type_fields == "rejected":
            stored = self.state.webhook(self.channel_scope(call), call.params["Sid"])
            if stored is not None and isinstance(stored.get("type"), str):
                self.check_type_fields(stored["type"], call.form)
        record = self.state.update_webhook(self.channel_scope(call), call.params["Sid"], self.changes(call))
        if record is None:
            raise not_found(call.request.path)
        return self.ok(call, self.render_channel_webhook(call, record))

    def delete_channel_webhook(self, call: Call) -> Reply:
        if not self.state.delete_webhook(self.channel_scope(call), call.params["Sid"]):
            raise not_found(call.request.path)
        return self.ok(call)


def _documented_properties(operation: Operation) -> tuple[str, ...]:
    schema = operation.responses[operation.success_status].schema or {}
    return tuple(schema.get("properties", {}))


def _with_extra_fields(value: Any, list_key: str) -> Any:
    """``extra=on``: undocumented, additive fields on a resource, a page, its meta and its items."""
    if not isinstance(value, dict):
        return value
    out = {**value, "links": {}, "x_twilio_edge": "ashburn"}
    if isinstance(value.get(list_key), list):
        out[list_key] = [_with_extra_fields(item, list_key) for item in value[list_key]]
        if isinstance(value.get("meta"), dict):
            out["meta"] = {**value["meta"], "total": None}
    return out


def _complete(properties: Iterable[str], values: Mapping[str, Any]) -> dict[str, Any]:
    """Exactly the documented properties, in the fragment's order, null where there is no value."""
    return {name: values.get(name) for name in properties}


def _percent_byte(match: re.Match[str]) -> str:
    char = match.group()
    raw = char.encode("latin-1") if char <= "\xff" else char.encode("utf-8", "surrogatepass")
    return "".join(f"%{byte:02X}" for byte in raw)
