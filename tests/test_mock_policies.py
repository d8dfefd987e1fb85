"""Each mock policy really changes what the mock answers over HTTP, and nothing documented.

Every test here fails if its policy is a no-op: it observes the alternative's
effect and the default's absence of it. ``test_every_policy_is_observed`` keeps
the list complete when a policy is added to the catalogue.
"""

from __future__ import annotations

import base64
import gzip
import json
import socket
import time
from typing import Callable, Iterator

import pytest
import requests

from twilio_webhook_contracts.mock import CATALOGUE, EmbeddedMock, Policies, PolicyError, Resources, serve_mock

SERVICE = "IS" + "a" * 32
OTHER_SERVICE = "IS" + "b" * 32
CHANNEL = "CH" + "c" * 32
OTHER_CHANNEL = "CH" + "d" * 32
ACCOUNT_PATH = "/v1/Configuration/Webhooks"
DECLARED = (SERVICE, f"{SERVICE}/{CHANNEL}", f"{SERVICE}/my-room")

OBSERVED: set[str] = set()


def observes(*names: str) -> Callable:
    """Mark a test as the one that observes these policies over HTTP."""
    OBSERVED.update(names)
    return lambda test: test


def service_path(service: str = SERVICE) -> str:
    return f"/v1/Services/{service}/Configuration/Webhooks"


def hooks_path(service: str = SERVICE, channel: str = CHANNEL) -> str:
    return f"/v2/Services/{service}/Channels/{channel}/Webhooks"


class Http(requests.Session):
    """requests against one mock, authenticated, paths relative to its URL."""

    def __init__(self, mock: EmbeddedMock):
        super().__init__()
        self.mock = mock
        self.auth = mock.auth

    def request(self, method, url, *args, **kwargs):  # type: ignore[override]
        return super().request(method, url if url.startswith("http") else self.mock.url + url, *args, **kwargs)


@pytest.fixture
def serve() -> Iterator[Callable[..., tuple[EmbeddedMock, Http]]]:
    """``serve("name=value", ..., resources=...)``: a mock under those policies and a session for it."""
    stack: list = []

    def start(*pairs: str, resources=()) -> tuple[EmbeddedMock, Http]:
        context = serve_mock(policies=Policies.from_pairs(pairs), resources=resources)
        mock = context.__enter__()
        http = Http(mock)
        stack.append((context, http))
        return mock, http

    yield start
    for context, http in reversed(stack):
        http.close()
        context.__exit__(None, None, None)


def twilio_error(response: requests.Response, status: int, code: int | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) >= {"code", "message", "more_info", "status"} and body["status"] == status
    if code is not None:
        assert body["code"] == code
    return body


def raw_exchange(mock: EmbeddedMock, request: bytes, timeout: float = 5.0) -> tuple[bytes, bool]:
    """Send raw bytes; (everything received, whether the server closed the connection)."""
    with socket.create_connection((mock.server.host, mock.server.port), timeout=timeout) as conn:
        conn.sendall(request)
        received = b""
        conn.settimeout(1.0)
        try:
            while chunk := conn.recv(65536):
                received += chunk
            return received, True
        except TimeoutError:
            return received, False


def basic(mock: EmbeddedMock) -> bytes:
    return b"Basic " + base64.b64encode(f"{mock.account_sid}:{mock.auth_token}".encode())


def get_raw(mock: EmbeddedMock, path: str, *extra: bytes, close: bool = True) -> tuple[str, dict[str, str], bytes, bool]:
    lines = [b"GET " + path.encode() + b" HTTP/1.1", b"Host: mock", b"Authorization: " + basic(mock), *extra]
    if close:
        lines.append(b"Connection: close")
    raw, closed = raw_exchange(mock, b"\r\n".join(lines) + b"\r\n\r\n")
    head, _, body = raw.partition(b"\r\n\r\n")
    status, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value for name, _, value in (line.partition(": ") for line in header_lines)}
    return status, headers, body, closed


def dechunk(body: bytes) -> bytes:
    out = b""
    while True:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            return out
        out, body = out + body[:size], body[size + 2:]


# -- the catalogue -----------------------------------------------------------------------------

BRIEF = {
    "parents": ("implicit", "declared"), "unique_names": ("any", "restricted"),
    "validation_order": ("body-first", "path-first"), "empty_value": ("clears", "rejected"),
    "page_size_max": ("1000", "5"), "default_page_size": ("50", "5"), "initial_filters": ("empty", "null"),
    "initial_method": ("POST", "null"), "legacy_filters": ("off", "on"), "url_host": ("request", "twilio"),
    "filter_order": ("sent", "sorted"), "error_messages": ("twilio", "terse"), "channel_limit": ("400", "409"),
    "latency_ms": ("0", "50"), "rate_limit_every": ("0", "20"), "unavailable_every": ("0",),
    "connection": ("keep-alive", "close"), "chunked": ("off", "on"), "gzip": ("off", "on"),
    "charset": ("off", "on"), "extra": ("off", "on"),
}


def test_the_catalogue_has_every_policy_with_its_default_first():
    assert [policy.name for policy in CATALOGUE] == list(BRIEF)
    for policy in CATALOGUE:
        assert policy.values[:len(BRIEF[policy.name])] == BRIEF[policy.name], policy.name
        assert str(getattr(Policies(), policy.name)) == policy.default
        assert len(policy.doc) > 60, policy.name  # says what a correct server may choose, and why
    assert Policies.alternatives().changed() == {p.name: p.coerce(p.alternative) for p in CATALOGUE}


@pytest.mark.parametrize("text, message", [
    ("nonsense=1", "unknown policy 'nonsense' (known: parents, "),
    ("parents=maybe", "policy parents: 'maybe' is not one of implicit, declared"),
    ("parents", "expected NAME=VALUE"),
    ("latency_ms=-1", "policy latency_ms: '-1' is not a whole number >= 0"),
    ("page_size_max=0", "policy page_size_max: '0' is not a whole number >= 1"),
    ("rate_limit_every=" + "9" * 5000, "is not a whole number"),
])
def test_bad_policies_are_one_line_errors_naming_the_choices(text, message):
    with pytest.raises(PolicyError) as error:
        Policies.parse(text)
    assert message in str(error.value) and "\n" not in str(error.value) and len(str(error.value)) < 400


def test_policies_parse_typed_and_combine():
    policies = Policies.from_pairs(["parents=declared", "latency-ms=50", ("gzip", "on")])
    assert (policies.parents, policies.latency_ms, policies.gzip) == ("declared", 50, "on")
    assert policies.with_(gzip="off").changed() == {"parents": "declared", "latency_ms": 50}
    assert Policies().describe() == "defaults" and "parents=declared" in policies.describe()
    with pytest.raises(PolicyError):
        Resources.parse(["ISnot-a-sid"])
    assert Resources.parse(DECLARED).channels == {(SERVICE, CHANNEL), (SERVICE, "my-room")}


# -- resources and validation ------------------------------------------------------------------


def _every_parent_operation(http: Http, service: str, channel: str) -> list[requests.Response]:
    hook = hooks_path(service, channel)
    wh = "WH" + "e" * 32
    return [
        http.get(hook), http.post(hook, data={"Type": "webhook", "Configuration.Url": "https://e.example"}),
        http.get(f"{hook}/{wh}"), http.post(f"{hook}/{wh}", data={"Configuration.Url": "https://e.example"}),
        http.delete(f"{hook}/{wh}"),
    ]


@observes("parents")
def test_declared_parents_alone_exist_and_every_other_is_a_twilio_404(serve):
    mock, http = serve("parents=declared", resources=DECLARED)
    for service, channel in ((OTHER_SERVICE, CHANNEL), (SERVICE, OTHER_CHANNEL), (SERVICE, "other-room")):
        for response in _every_parent_operation(http, service, channel):
            twilio_error(response, 404, 20404)
    twilio_error(http.get(service_path(OTHER_SERVICE)), 404, 20404)
    twilio_error(http.post(service_path(OTHER_SERVICE), data={"Method": "GET"}), 404, 20404)
    assert mock.state.snapshot()["services"] == {} and mock.state.snapshot()["webhooks"] == {}
    # what was declared exists: by sid, by unique name, and by the sid that name stands for
    assert http.post(service_path(), data={"Method": "GET"}).json()["method"] == "GET"
    assert http.post(hooks_path(), data={"Type": "webhook"}).status_code == 201
    room = http.post(hooks_path(channel="my-room"), data={"Type": "webhook"}).json()
    assert http.get(hooks_path(channel=room["channel_sid"])).json()["webhooks"][0]["sid"] == room["sid"]
    assert http.get(ACCOUNT_PATH).status_code == 200  # the account is no parent
    # the default: everything well-formed exists
    _, implicit = serve()
    assert [r.status_code for r in _every_parent_operation(implicit, OTHER_SERVICE, "other-room")] == [
        200, 201, 404, 404, 404]  # (the webhook sid itself was never created)


@observes("unique_names")
def test_restricted_unique_names_outside_the_alphabet_do_not_exist(serve):
    _, http = serve("unique_names=restricted")
    for name in ("a b", "room.é", "x" * 65, "semi;colon"):
        twilio_error(http.get(hooks_path(channel=name)), 404, 20404)
        twilio_error(http.post(hooks_path(channel=name), data={"Type": "webhook"}), 404, 20404)
    assert http.get(hooks_path(channel="Room_1.-x" + "y" * 55)).status_code == 200
    assert http.get(hooks_path(channel=CHANNEL)).status_code == 200
    _, default = serve()
    assert default.get(hooks_path(channel="a b")).status_code == 200


@observes("validation_order")
def test_path_first_answers_404_before_the_body_400(serve):
    bad_body = {"Type": "not-a-type"}
    _, path_first = serve("parents=declared", "validation_order=path-first", resources=DECLARED)
    twilio_error(path_first.post(hooks_path(OTHER_SERVICE), data=bad_body), 404, 20404)
    twilio_error(path_first.post(hooks_path(), data=bad_body), 400, 20001)  # a known parent: the body
    _, body_first = serve("parents=declared", resources=DECLARED)
    twilio_error(body_first.post(hooks_path(OTHER_SERVICE), data=bad_body), 400, 20001)
    twilio_error(body_first.post(hooks_path(OTHER_SERVICE), data={"Type": "webhook"}), 404, 20404)


@observes("empty_value")
def test_empty_values_clear_or_are_rejected(serve):
    mock, rejecting = serve("empty_value=rejected")
    rejecting.post(ACCOUNT_PATH, data={"PreWebhookUrl": "https://e.example/pre"})
    before = mock.state.snapshot()
    assert "PreWebhookUrl" in twilio_error(rejecting.post(ACCOUNT_PATH, data={"PreWebhookUrl": ""}), 400, 20001)["message"]
    assert mock.state.snapshot() == before
    hook = rejecting.post(hooks_path(), data={"Type": "webhook", "Configuration.Url": "https://e.example"}).json()
    twilio_error(rejecting.post(f"{hooks_path()}/{hook['sid']}", data={"Configuration.Url": ""}), 400, 20001)
    _, clearing = serve()
    clearing.post(ACCOUNT_PATH, data={"PreWebhookUrl": "https://e.example/pre"})
    assert clearing.post(ACCOUNT_PATH, data={"PreWebhookUrl": ""}).json()["pre_webhook_url"] is None


@observes("page_size_max")
def test_page_size_max_is_twilios_limit_or_the_specs(serve):
    _, default = serve()
    assert default.get(hooks_path(), params={"PageSize": 1000}).json()["meta"]["page_size"] == 1000
    assert "1000" in twilio_error(default.get(hooks_path(), params={"PageSize": 1001}), 400, 20001)["message"]
    _, spec_cap = serve("page_size_max=5")
    assert spec_cap.get(hooks_path(), params={"PageSize": 5}).status_code == 200
    assert "PageSize" in twilio_error(spec_cap.get(hooks_path(), params={"PageSize": 6}), 400, 20001)["message"]


@observes("default_page_size")
def test_default_page_size(serve):
    for value in (50, 5):
        _, http = serve(f"default_page_size={value}")
        meta = http.get(hooks_path()).json()["meta"]
        assert meta["page_size"] == value and f"PageSize={value}&" in meta["url"]


@observes("initial_filters", "initial_method", "legacy_filters")
def test_initial_configuration_values(serve):
    _, default = serve()
    assert default.get(ACCOUNT_PATH).json()["filters"] == []
    assert (default.get(service_path()).json()["filters"], default.get(service_path()).json()["method"]) == ([], "POST")
    _, nulls = serve("initial_filters=null", "initial_method=null")
    assert nulls.get(ACCOUNT_PATH).json()["filters"] is None
    service = nulls.get(service_path()).json()
    assert (service["filters"], service["method"]) == (None, None)  # Twilio's fetchEmpty
    assert nulls.get(ACCOUNT_PATH).json()["method"] == "POST"  # the account's method is not open
    _, legacy = serve("legacy_filters=on")
    assert legacy.get(ACCOUNT_PATH).json()["filters"] == ["onMessageSend"]
    assert legacy.get(service_path()).json()["filters"] == []
    # a write replaces the legacy value, and reads back as written
    assert legacy.post(ACCOUNT_PATH, data={"Filters": "onMessageAdded"}).json()["filters"] == ["onMessageAdded"]


@observes("url_host")
def test_url_host_twilio_puts_the_canonical_hosts_in_every_url(serve):
    mock, http = serve("url_host=twilio")
    assert http.get(ACCOUNT_PATH).json()["url"] == "https://conversations.twilio.com" + ACCOUNT_PATH
    assert http.get(service_path()).json()["url"] == "https://conversations.twilio.com" + service_path()
    hooks = [http.post(hooks_path(), data={"Type": "webhook"}).json() for _ in range(3)]
    assert hooks[0]["url"] == f"https://chat.twilio.com{hooks_path()}/{hooks[0]['sid']}"
    page = http.get(hooks_path(), params={"PageSize": 1, "Page": 1, "PageToken": "PA" + hooks[0]["sid"]}).json()
    urls = [page["meta"][key] for key in ("first_page_url", "previous_page_url", "next_page_url", "url")]
    urls += [item["url"] for item in page["webhooks"]]
    assert all(url.startswith("https://chat.twilio.com/v2/") for url in urls), urls
    assert mock.url not in json.dumps(page)
    _, default = serve()
    assert default.get(ACCOUNT_PATH).json()["url"] == default.mock.url + ACCOUNT_PATH


@observes("filter_order")
def test_filters_read_back_as_sent_or_sorted(serve):
    sent = ["onUserAdded", "onMessageAdded", "onConversationAdded"]
    _, sorting = serve("filter_order=sorted")
    assert sorting.post(ACCOUNT_PATH, data={"Filters": sent}).json()["filters"] == sorted(sent)
    hook = sorting.post(hooks_path(), data={"Type": "webhook", "Configuration.Filters": ["onMessageSent", "onMemberAdded"]})
    assert hook.json()["configuration"]["filters"] == ["onMemberAdded", "onMessageSent"]
    _, default = serve()
    assert default.post(ACCOUNT_PATH, data={"Filters": sent}).json()["filters"] == sent


@observes("error_messages")
def test_terse_error_messages_keep_status_and_code(serve):
    _, terse = serve("error_messages=terse")
    _, default = serve()
    for method, path, data in (("POST", ACCOUNT_PATH, {"Method": "PUT"}), ("GET", "/v1/Nothing", None),
                               ("DELETE", ACCOUNT_PATH, None)):
        a, b = terse.request(method, path, data=data), default.request(method, path, data=data)
        assert (a.status_code, a.json()["code"]) == (b.status_code, b.json()["code"])
        assert a.json()["message"] != b.json()["message"]
    assert terse.get(ACCOUNT_PATH, auth=("AC" + "0" * 32, "wrong")).json()["code"] == 20003


@observes("channel_limit")
def test_the_sixth_webhook_on_a_channel_is_refused_with_the_policys_status(serve):
    for value, code in (("400", 20001), ("409", 20409)):
        mock, http = serve(f"channel_limit={value}")
        kinds = [{"Type": "webhook", "Configuration.Url": "https://e.example/1"},
                 {"Type": "studio", "Configuration.FlowSid": "FW" + "f" * 32},
                 {"Type": "trigger", "Configuration.Url": "https://e.example/t",
                  "Configuration.Triggers": ["a", "b", "c", "d", "e"]}]
        for index in range(5):
            assert http.post(hooks_path(), data=kinds[index % 3]).status_code == 201
        before = mock.state.snapshot()
        twilio_error(http.post(hooks_path(), data=kinds[0]), int(value), code)
        assert mock.state.snapshot() == before
        assert len(http.get(hooks_path()).json()["webhooks"]) == 5
        assert http.post(hooks_path(channel=OTHER_CHANNEL), data=kinds[0]).status_code == 201  # per channel
        first = http.get(hooks_path()).json()["webhooks"][0]["sid"]
        assert http.delete(f"{hooks_path()}/{first}").status_code == 204
        assert http.post(hooks_path(), data=kinds[0]).status_code == 201  # room again
    # and at most 5 triggers (documented): the 6th trigger string is a 400
    _, http = serve()
    twilio_error(http.post(hooks_path(), data={"Type": "trigger", "Configuration.Url": "https://e.example",
                                               "Configuration.Triggers": list("abcdef")}), 400, 20001)


# -- transport ---------------------------------------------------------------------------------


@observes("latency_ms")
def test_latency_delays_every_answer(serve):
    _, slow = serve("latency_ms=300")
    started = time.monotonic()
    assert slow.get(ACCOUNT_PATH).status_code == 200
    assert time.monotonic() - started >= 0.3


@observes("rate_limit_every")
def test_every_nth_request_is_a_429_with_retry_after_that_changes_nothing(serve):
    mock, http = serve("rate_limit_every=3")
    statuses = [http.post(ACCOUNT_PATH, data={"Target": "flex"}).status_code for _ in range(2)]
    before = mock.state.snapshot()
    limited = http.post(ACCOUNT_PATH, data={"Target": "webhook"})
    assert statuses == [200, 200]
    assert twilio_error(limited, 429, 20429) and limited.headers["Retry-After"] == "1"
    assert mock.state.snapshot() == before
    assert [http.get(ACCOUNT_PATH).status_code for _ in range(3)] == [200, 200, 429]
    mock.reset()  # the count starts over
    assert [http.get(ACCOUNT_PATH).status_code for _ in range(3)] == [200, 200, 429]


@observes("unavailable_every")
def test_every_nth_request_is_a_503_with_retry_after(serve):
    mock, http = serve("unavailable_every=2")
    first, second = http.post(ACCOUNT_PATH, data={"Target": "flex"}), http.post(ACCOUNT_PATH, data={"Target": "webhook"})
    assert first.status_code == 200
    assert twilio_error(second, 503, 20503) and second.headers["Retry-After"] == "1"
    assert http.get(ACCOUNT_PATH).json()["target"] == "flex"


@observes("connection")
def test_connection_close_answers_and_closes(serve):
    mock, _ = serve("connection=close")
    status, headers, body, closed = get_raw(mock, ACCOUNT_PATH, close=False)
    assert status.startswith("HTTP/1.1 200") and headers["connection"] == "close" and closed
    assert json.loads(body)["account_sid"] == mock.account_sid
    default, _ = serve()
    status, headers, _, closed = get_raw(default, ACCOUNT_PATH, close=False)
    assert "connection" not in headers and not closed  # keep-alive


@observes("chunked")
def test_chunked_bodies(serve):
    mock, http = serve("chunked=on")
    status, headers, body, _ = get_raw(mock, ACCOUNT_PATH)
    assert headers["transfer-encoding"] == "chunked" and "content-length" not in headers
    assert json.loads(dechunk(body))["url"].endswith(ACCOUNT_PATH)
    assert http.get(hooks_path()).json()["webhooks"] == []  # a client reads it as usual
    default, _ = serve()
    _, headers, body, _ = get_raw(default, ACCOUNT_PATH)
    assert "transfer-encoding" not in headers and int(headers["content-length"]) == len(body)


@observes("gzip")
def test_gzip_when_asked(serve):
    mock, _ = serve("gzip=on")
    _, headers, body, _ = get_raw(mock, ACCOUNT_PATH, b"Accept-Encoding: gzip, deflate")
    assert headers["content-encoding"] == "gzip" and int(headers["content-length"]) == len(body)
    assert json.loads(gzip.decompress(body))["account_sid"] == mock.account_sid
    for refusing in (b"Accept-Encoding: identity", b"Accept-Encoding: gzip;q=0", b"X-Nothing: 1"):
        _, headers, body, _ = get_raw(mock, ACCOUNT_PATH, refusing)
        assert "content-encoding" not in headers and json.loads(body)
    default, _ = serve()
    _, headers, _, _ = get_raw(default, ACCOUNT_PATH, b"Accept-Encoding: gzip")
    assert "content-encoding" not in headers


@observes("charset")
def test_charset_parameter(serve):
    _, labelled = serve("charset=on")
    assert labelled.get(ACCOUNT_PATH).headers["Content-Type"] == "application/json; charset=utf-8"
    assert labelled.get("/v1/Nothing").headers["Content-Type"] == "application/json; charset=utf-8"
    _, default = serve()
    assert default.get(ACCOUNT_PATH).headers["Content-Type"] == "application/json"


@observes("extra")
def test_extra_fields_and_headers(serve):
    _, extra = serve("extra=on")
    _, default = serve()
    account, plain = extra.get(ACCOUNT_PATH), default.get(ACCOUNT_PATH)
    assert set(account.json()) > set(plain.json())
    assert {k: v for k, v in account.json().items() if k in plain.json() and k != "url"} == {
        k: v for k, v in plain.json().items() if k != "url"}
    assert "X-Shenanigans" in account.headers and "X-Shenanigans" not in plain.headers
    extra.post(hooks_path(), data={"Type": "webhook"})
    page = extra.get(hooks_path()).json()
    assert "links" in page and "links" in page["webhooks"][0] and "total" in page["meta"]


def test_every_policy_is_observed():
    assert OBSERVED == {policy.name for policy in CATALOGUE}


def test_all_alternatives_together_still_serve_a_correct_twilio(serve):
    mock, http = serve(*(f"{p.name}={p.alternative}" for p in CATALOGUE if p.name not in ("rate_limit_every", "unavailable_every")),
                       resources=DECLARED)
    http.headers["Accept-Encoding"] = "gzip"
    assert http.get(service_path()).json()["method"] is None
    created = http.post(hooks_path(channel="my-room"), data={"Type": "webhook", "Configuration.Url": "https://e.example",
                                                            "Configuration.Filters": ["onB", "onA"]})
    assert created.status_code == 201 and created.headers["Content-Encoding"] == "gzip"
    assert created.json()["configuration"]["filters"] == ["onA", "onB"]
    fetched = http.get(f"{hooks_path(channel='my-room')}/{created.json()['sid']}").json()
    assert fetched["configuration"] == created.json()["configuration"]
    twilio_error(http.get(hooks_path(OTHER_SERVICE)), 404, 20404)


# -- the fixture -------------------------------------------------------------------------------


class TestFixtureConfiguration:
    """``twilio_mock`` follows ``twilio_mock_policies``/``twilio_mock_resources`` and resets after each test."""

    @pytest.fixture
    def twilio_mock_policies(self):
        return Policies.from_pairs(["parents=declared", "url_host=twilio"])

    @pytest.fixture
    def twilio_mock_resources(self):
        return (SERVICE,)

    def test_overridden_policies_apply(self, twilio_mock):
        http = Http(twilio_mock)
        assert http.get(service_path()).json()["url"].startswith("https://conversations.twilio.com/")
        twilio_error(http.get(service_path(OTHER_SERVICE)), 404, 20404)
        twilio_mock.configure(policies=Policies())  # reconfigure inside a test
        assert http.get(service_path(OTHER_SERVICE)).status_code == 200


def test_the_next_test_gets_default_policies_and_a_fresh_state(twilio_mock):
    assert twilio_mock.policies == Policies() and twilio_mock.requests == []
    assert Http(twilio_mock).get(service_path(OTHER_SERVICE)).json()["url"].startswith(twilio_mock.url)


# -- issue 19: integers and lengths too long for Python ----------------------------------------


@pytest.mark.parametrize("request_parts", [
    ("GET", hooks_path(), {"PageSize": "9" * 4301}, None),
    ("GET", hooks_path(), {"Page": "1" * 5000}, None),
    ("POST", hooks_path(), None, {"Type": "webhook", "Configuration.RetryCount": "9" * 4301}),
    ("POST", hooks_path(), None, {"Type": "webhook", "Configuration.RetryCount": "-" + "9" * 4301}),
])
def test_huge_integers_are_a_twilio_400(serve, request_parts):
    method, path, params, data = request_parts
    mock, http = serve()
    name = next(iter((params or {}).keys() - {"Type"} or (data or {}).keys() - {"Type"}))
    assert name in twilio_error(http.request(method, path, params=params, data=data), 400, 20001)["message"]
    assert mock.app.internal_errors == 0


def test_a_content_length_of_4301_digits_is_answered_400(serve):
    mock, _ = serve()
    raw, _ = raw_exchange(mock, b"POST " + ACCOUNT_PATH.encode() + b" HTTP/1.1\r\nHost: x\r\nAuthorization: " +
                          basic(mock) + b"\r\nContent-Length: " + b"9" * 4301 + b"\r\n\r\nMethod=GET")
    assert raw.startswith(b"HTTP/1.1 400 ")
    assert json.loads(raw.partition(b"\r\n\r\n")[2])["code"] == 20400


# -- issue 16: absolute-form request targets ---------------------------------------------------


def test_absolute_form_request_targets_are_accepted(serve):
    mock, _ = serve()
    status, _, body, _ = get_raw(mock, f"http://{mock.server.host}:{mock.server.port}{ACCOUNT_PATH}")
    assert status.startswith("HTTP/1.1 200") and json.loads(body)["url"] == mock.url + ACCOUNT_PATH
    # the host in the target replaces the Host header (RFC 9112 3.2.2), and shows in url fields
    status, _, body, _ = get_raw(mock, f"HTTP://proxy.example:8443{hooks_path()}?PageSize=2")
    assert status.startswith("HTTP/1.1 200")
    assert json.loads(body)["meta"]["url"].startswith(f"http://proxy.example:8443{hooks_path()}?PageSize=2")


def test_the_readme_lists_every_policy_with_its_values():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    for policy in CATALOGUE:
        row = next((line for line in readme.splitlines() if line.startswith(f"| `{policy.name}` |")), None)
        assert row is not None, policy.name
        assert all(f"`{value}`" in row for value in policy.values), policy.name
