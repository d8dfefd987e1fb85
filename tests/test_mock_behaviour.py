"""The mock behaves like Twilio: state, validation, errors, paging, auth, faults, the log.

Every response here goes through ``CheckedSession``, which fails the test when the
fragments do not document it.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from datetime import datetime, timedelta, timezone
from http.client import HTTPConnection
from wsgiref.validate import validator

import pytest
import requests
from werkzeug.test import Client as WsgiClient

from test_mock_support import (
    ACCOUNT_PATH, CHANNEL, OTHER_SERVICE, SERVICE, SERVICE_PATH, CheckedSession, assert_documented,
    assert_twilio_error, http, mock, webhooks_path,
)
from twilio_webhook_contracts.mock import (
    INITIAL_ACCOUNT_CONFIG, Credentials, Faults, MockApp, MockState, RequestLog, serve_mock,
)
from twilio_webhook_contracts.validation import validate_response

__all__ = ["http", "mock"]  # fixtures

RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\Z")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def error(response: requests.Response, status: int, code: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert response.headers["Content-Type"] == "application/json"
    assert (body["code"], body["status"], body["more_info"]) == (code, status, f"https://www.twilio.com/docs/errors/{code}")
    return body["message"]


def create(http, path=None, **fields) -> dict:
    response = http.post(path or webhooks_path(), data={"Type": "webhook", **fields})
    assert response.status_code == 201, response.text
    return response.json()


# -- initial state and updates ------------------------------------------------------


def test_initial_state_is_documented_and_complete(http, mock):
    account = http.get(ACCOUNT_PATH).json()
    assert account == {**INITIAL_ACCOUNT_CONFIG, "account_sid": mock.account_sid, "url": mock.url + ACCOUNT_PATH}
    assert account == {"account_sid": mock.account_sid, "method": "POST", "filters": [], "pre_webhook_url": None,
                       "post_webhook_url": None, "target": "webhook", "url": mock.url + ACCOUNT_PATH}
    service = http.get(SERVICE_PATH).json()
    assert service == {"account_sid": mock.account_sid, "chat_service_sid": SERVICE, "pre_webhook_url": None,
                       "post_webhook_url": None, "filters": [], "method": "POST", "url": mock.url + SERVICE_PATH}
    page = http.get(webhooks_path()).json()
    assert page["webhooks"] == [] and page["meta"]["next_page_url"] is None and page["meta"]["page_size"] == 50


def test_update_changes_only_what_is_sent(http):
    http.post(ACCOUNT_PATH, data={"Method": "GET", "Filters": ["onMessageAdded", "onUserAdded"],
                                  "PreWebhookUrl": "https://example.com/pre", "Target": "flex"})
    after = http.post(ACCOUNT_PATH, data={"PostWebhookUrl": "https://example.com/post"}).json()
    assert (after["method"], after["filters"], after["target"]) == ("GET", ["onMessageAdded", "onUserAdded"], "flex")
    assert (after["pre_webhook_url"], after["post_webhook_url"]) == ("https://example.com/pre", "https://example.com/post")
    replaced = http.post(ACCOUNT_PATH, data={"Filters": "onConversationAdded"}).json()
    assert replaced["filters"] == ["onConversationAdded"]  # a new list replaces the old one
    assert http.post(ACCOUNT_PATH).json() == replaced  # an empty update changes nothing
    assert http.get(ACCOUNT_PATH).json() == replaced


def test_empty_url_clears_to_null(http):
    http.post(SERVICE_PATH, data={"PreWebhookUrl": "https://example.com/a", "PostWebhookUrl": "https://example.com/b"})
    cleared = http.post(SERVICE_PATH, data={"PreWebhookUrl": ""}).json()
    assert (cleared["pre_webhook_url"], cleared["post_webhook_url"]) == (None, "https://example.com/b")


def test_unknown_parameters_are_ignored(http):
    before = http.get(SERVICE_PATH).json()
    # Target is an account-level field: the per-service endpoint does not have it
    after = http.post(SERVICE_PATH, data={"Target": "nonsense", "Bogus": "1", "method": "PUT"}).json()
    assert after == before and "target" not in after


def test_configurations_are_independent(http, mock):
    http.post(SERVICE_PATH, data={"Method": "GET"})
    assert http.get(ACCOUNT_PATH).json()["method"] == "POST"
    assert http.get(f"/v1/Services/{OTHER_SERVICE}/Configuration/Webhooks").json()["method"] == "POST"
    http.post(ACCOUNT_PATH, data={"Method": "GET", "Target": "flex"})
    assert http.get(SERVICE_PATH).json()["method"] == "GET"


def test_accounts_are_independent_and_each_sees_its_own_sid():
    second = "AC" + "1" * 32
    accounts = {"AC" + "0" * 32: "token-0", second: "token-1"}
    with serve_mock(accounts=accounts, api_keys={"SK" + "1" * 32: ("key-1", second)}) as running, \
            CheckedSession(running) as http:
        http.post(ACCOUNT_PATH, data={"Target": "flex"})
        other = http.get(ACCOUNT_PATH, auth=(second, "token-1")).json()
        assert (other["target"], other["account_sid"]) == ("webhook", second)
        via_key = http.get(ACCOUNT_PATH, auth=("SK" + "1" * 32, "key-1")).json()
        assert via_key == other
        assert http.get(ACCOUNT_PATH, auth=(second, "token-0")).status_code == 401  # another account's token


# -- invalid requests change nothing --------------------------------------------------

INVALID_UPDATES = [
    (ACCOUNT_PATH, {"Method": "PUT"}, "Method"),
    (ACCOUNT_PATH, {"Method": "GET", "Filters": ["onMessageAdded", "onNothing"]}, "Filters"),
    (ACCOUNT_PATH, {"PreWebhookUrl": "https://example.com/ok", "PostWebhookUrl": "not a url"}, "PostWebhookUrl"),
    (ACCOUNT_PATH, {"Target": "sms", "Method": "GET"}, "Target"),
    (SERVICE_PATH, {"Filters": "onUserAdded", "Method": "GET"}, "Filters"),
    (SERVICE_PATH, {"Method": ""}, "Method"),
]


@pytest.mark.parametrize("path,form,field", INVALID_UPDATES, ids=[f"{p.split('/')[2]}-{f}" for p, _, f in INVALID_UPDATES])
def test_an_invalid_field_is_a_400_naming_it_and_nothing_changes(http, mock, path, form, field):
    before = mock.state.snapshot()
    message = error(http.post(path, data=form), 400, 20001)
    assert field in message
    assert mock.state.snapshot() == before
    assert http.get(path).json()["method"] in ("POST", None)


def test_invalid_channel_webhook_requests_change_nothing(http, mock):
    hook = create(http, **{"Configuration.Url": "https://example.com/h"})
    item = f"{webhooks_path()}/{hook['sid']}"
    before = mock.state.snapshot()
    cases = [
        (webhooks_path(), {"Configuration.Url": "https://example.com"}, "Type"),  # Type missing
        (webhooks_path(), {"Type": "sms"}, "Type"),
        (webhooks_path(), {"Type": "trigger", "Configuration.Triggers": list("abcdef")}, "Configuration.Triggers"),
        (webhooks_path(), {"Type": "studio", "Configuration.FlowSid": "FW123"}, "Configuration.FlowSid"),
        (item, {"Configuration.Url": "https://example.com/new", "Configuration.RetryCount": "three"},
         "Configuration.RetryCount"),
        (item, {"Configuration.Method": "GET", "Configuration.Url": "dummy"}, "Configuration.Url"),
    ]
    for path, form, field in cases:
        assert field in error(http.post(path, data=form), 400, 20001)
        assert mock.state.snapshot() == before
    assert http.get(item).json() == hook


def test_a_body_that_is_not_utf8_is_a_400(http, mock):
    before = mock.state.snapshot()
    error(http.post(ACCOUNT_PATH, data=b"Method=G\xffT", headers=FORM), 400, 20001)
    assert mock.state.snapshot() == before


def test_a_body_that_is_not_form_data_is_not_read(http, mock):
    before = http.get(ACCOUNT_PATH).json()
    ignored = http.post(ACCOUNT_PATH, data=json.dumps({"Method": "GET"}), headers={"Content-Type": "application/json"})
    assert ignored.json() == before
    assert "Type" in error(http.post(webhooks_path(), data="Type=webhook", headers={"Content-Type": "text/plain"}),
                           400, 20001)


def test_list_query_is_validated_against_the_fragment(http):
    # the maximum is the page_size_max policy (default 1000, Twilio's paging limit; the spec says 5)
    assert "PageSize" in error(http.get(webhooks_path(), params={"PageSize": 1001}), 400, 20001)
    assert http.get(webhooks_path(), params={"PageSize": 1000}).status_code == 200
    assert "PageSize" in error(http.get(webhooks_path(), params={"PageSize": 0}), 400, 20001)
    assert "PageSize" in error(http.get(webhooks_path(), params={"PageSize": "five"}), 400, 20001)
    assert "Page" in error(http.get(webhooks_path(), params={"Page": -1}), 400, 20001)
    assert http.get(webhooks_path(), params={"PageSize": 5, "Unknown": "x"}).status_code == 200


# -- routing, auth, error bodies --------------------------------------------------------


@pytest.mark.parametrize("path", [
    "/v1/Services/IS123/Configuration/Webhooks",
    "/v1/Services/" + "IS" + "g" * 32 + "/Configuration/Webhooks",
    f"/v2/Services/{SERVICE[:-1]}/Channels/{CHANNEL}/Webhooks",
    f"/v2/Services/{SERVICE}/Channels/{'n' * 257}/Webhooks",
    f"/v2/Services/{SERVICE}/Channels/a%2Fb/Webhooks",
    f"/v2/Services/{SERVICE}/Channels/%FF%FE/Webhooks",
    f"/v2/Services/{SERVICE}/Channels/{CHANNEL}/Webhooks/WH123",
    f"/v2/Services/{SERVICE}/Channels/{CHANNEL}/Webhooks/{'WH' + 'd' * 32}",  # well-formed, never created
    "/v1/Configuration", "/v2/Services", "/", "/v1/Configuration/Webhooks/extra", "/v1//Configuration/Webhooks",
])
def test_malformed_sids_and_unknown_paths_are_404(http, path):
    assert "was not found" in error(http.get(path), 404, 20404)


@pytest.mark.parametrize("method,path,allowed", [
    ("DELETE", ACCOUNT_PATH, "GET, POST"),
    ("PUT", SERVICE_PATH, "GET, POST"),
    ("DELETE", webhooks_path(), "GET, POST"),
    ("PATCH", f"{webhooks_path()}/{'WH' + 'd' * 32}", "DELETE, GET, POST"),
])
def test_unsupported_methods_are_405_with_allow(http, method, path, allowed):
    response = http.request(method, path)
    error(response, 405, 20004)
    assert response.headers["Allow"] == allowed


def test_methods_are_case_sensitive(mock):
    connection = HTTPConnection(mock.server.host, mock.server.port)  # sends the method verbatim
    connection.request("get", ACCOUNT_PATH, headers={"Authorization": _basic(f"{mock.account_sid}:{mock.auth_token}".encode())})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    assert (response.status, response.getheader("Allow")) == (405, "GET, POST")
    assert_documented("GET", ACCOUNT_PATH, response.status, dict(response.getheaders()), body)


def test_head_is_405_without_a_body(http):
    response = http.head(ACCOUNT_PATH)
    assert response.status_code == 405 and response.content == b""


def _basic(text: bytes) -> str:
    return "Basic " + base64.b64encode(text).decode()


@pytest.mark.parametrize("authorization", [
    None, "", "Basic", "Basic !!!", "Bearer abc", _basic(b"no-colon"), _basic(b"\xff\xfe:\xff"),
    _basic(b"AC00000000000000000000000000000000:wrong"), _basic(b"AC00000000000000000000000000000000:"),
    _basic(b"AC00000000000000000000000000000001:mock-auth-token"),
    _basic(b"SK00000000000000000000000000000000:mock-auth-token"),
    _basic(b":mock-auth-token"), "Basic " + "A" * 10_000,
])
def test_anything_but_valid_credentials_is_401(mock, authorization):
    headers = {"Authorization": authorization} if authorization is not None else {}
    with CheckedSession(mock) as http:
        http.auth = None
        for method, path in [("GET", ACCOUNT_PATH), ("POST", SERVICE_PATH), ("DELETE", "/nowhere")]:
            response = http.request(method, path, headers=headers, data={"Method": "GET"})
            assert error(response, 401, 20003) == "Authenticate"
            assert response.headers["WWW-Authenticate"] == 'Basic realm="Twilio API"'
    assert mock.state.snapshot() == MockState().snapshot()


def test_api_key_acts_for_its_account(http, mock):
    response = http.get(ACCOUNT_PATH, auth=(mock.api_key_sid, mock.api_key_secret))
    assert response.json()["account_sid"] == mock.account_sid


def test_resource_urls_follow_the_host_the_client_used(http, mock):
    hook = create(http, path=webhooks_path(channel="lobby"))
    aliased = http.get(webhooks_path(channel="lobby"), headers={"Host": "localhost:1234"}).json()
    assert aliased["webhooks"][0]["url"].startswith("http://localhost:1234/v2/")
    assert http.get(hook["url"]).json() == hook  # absolute, with sids: a client can follow it
    garbled = http.get(ACCOUNT_PATH, headers={"Host": "bad host/x"}).json()
    assert garbled["url"] == mock.url + ACCOUNT_PATH


# -- channel webhooks ---------------------------------------------------------------


def test_create_answers_201_with_the_configuration_that_was_set(http, mock):
    hook = create(http, **{"Configuration.Url": "https://example.com/h", "Configuration.Method": "POST",
                           "Configuration.Filters": ["onMessageSent", "onMemberAdded"],
                           "Configuration.RetryCount": "0", "Ignored": "x"})
    assert re.fullmatch(r"WH[0-9a-f]{32}", hook["sid"])
    assert hook["configuration"] == {"url": "https://example.com/h", "method": "POST",
                                     "filters": ["onMessageSent", "onMemberAdded"], "retry_count": 0}
    assert RFC3339.match(hook["date_created"]) and hook["date_created"] == hook["date_updated"]
    assert hook["url"] == f"{mock.url}{webhooks_path()}/{hook['sid']}"
    assert (hook["account_sid"], hook["service_sid"], hook["channel_sid"], hook["type"]) == (
        mock.account_sid, SERVICE, CHANNEL, "webhook")
    assert create(http)["configuration"] == {}


def test_unique_names_resolve_to_a_stable_channel_sid(http):
    first = create(http, path=webhooks_path(channel="Room%20%C3%A9"))
    channel = first["channel_sid"]
    assert re.fullmatch(r"CH[0-9a-f]{32}", channel)
    assert first["url"] == f"{http.mock.url}{webhooks_path(channel=channel)}/{first['sid']}"
    assert create(http, path=webhooks_path(channel="Room%20%C3%A9"))["channel_sid"] == channel
    assert [w["sid"] for w in http.get(webhooks_path(channel=channel)).json()["webhooks"]][0] == first["sid"]
    assert create(http, path=webhooks_path(OTHER_SERVICE, "Room%20%C3%A9"))["channel_sid"] != channel
    assert create(http, path=webhooks_path(channel="room%20%C3%A9"))["channel_sid"] != channel


def test_a_webhook_belongs_to_its_channel(http):
    hook = create(http)
    for path in (webhooks_path(channel="elsewhere"), webhooks_path(OTHER_SERVICE)):
        error(http.get(f"{path}/{hook['sid']}"), 404, 20404)
        error(http.delete(f"{path}/{hook['sid']}"), 404, 20404)
    assert http.get(f"{webhooks_path()}/{hook['sid']}").status_code == 200


def test_update_keeps_absent_fields_and_touches_date_updated():
    moments = iter(datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc) + timedelta(minutes=m) for m in range(100))
    with serve_mock(state=MockState(clock=lambda: next(moments))) as running, CheckedSession(running) as http:
        hook = create(http, **{"Configuration.Url": "https://example.com/h", "Configuration.Triggers": ["a", "b"]})
        assert hook["date_created"] == "2026-11-25T12:00:00Z"
        item = f"{webhooks_path()}/{hook['sid']}"
        updated = http.post(item, data={"Configuration.Method": "GET", "Type": "studio"}).json()
        assert updated["configuration"] == {"url": "https://example.com/h", "triggers": ["a", "b"], "method": "GET"}
        assert updated["type"] == "webhook"  # Type is not an update parameter
        assert (updated["date_created"], updated["date_updated"]) == ("2026-11-25T12:00:00Z", "2026-11-25T12:01:00Z")
        cleared = http.post(item, data={"Configuration.Url": ""}).json()
        assert cleared["configuration"]["url"] is None and cleared["configuration"]["triggers"] == ["a", "b"]
        assert http.get(item).json() == cleared


def test_delete_answers_204_and_the_webhook_is_gone(http):
    hook = create(http)
    item = f"{webhooks_path()}/{hook['sid']}"
    deleted = http.delete(item)
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert "Content-Type" not in deleted.headers
    error(http.get(item), 404, 20404)
    error(http.post(item, data={"Configuration.Method": "GET"}), 404, 20404)
    error(http.delete(item), 404, 20404)
    assert http.get(webhooks_path()).json()["webhooks"] == []


def test_paging_follows_links_in_both_directions(http):
    sids = [create(http)["sid"] for _ in range(5)]
    first = http.get(webhooks_path(), params={"PageSize": 2}).json()
    meta = first["meta"]
    assert (meta["page"], meta["page_size"], meta["key"], meta["previous_page_url"]) == (0, 2, "webhooks", None)
    assert meta["first_page_url"] == meta["url"] == f"{http.mock.url}{webhooks_path()}?PageSize=2&Page=0"
    seen, page = [], first
    for _ in range(10):  # bounded walk
        seen += [w["sid"] for w in page["webhooks"]]
        if page["meta"]["next_page_url"] is None:
            break
        page = http.get(page["meta"]["next_page_url"]).json()
    assert seen == sids and page["meta"]["page"] == 2 and len(page["webhooks"]) == 1
    back = http.get(page["meta"]["previous_page_url"]).json()
    assert [w["sid"] for w in back["webhooks"]] == sids[2:4] and back["meta"]["page"] == 1
    assert back["meta"]["previous_page_url"] is not None  # page 1 links page 0
    front = http.get(back["meta"]["previous_page_url"]).json()
    assert [w["sid"] for w in front["webhooks"]] == sids[:2] and front["meta"]["page"] == 0


def test_every_page_after_the_first_links_back(http):
    """Issue 16: ``PageSize=2&Page=1`` had ``previous_page_url: null`` although there is a page 0."""
    [create(http) for _ in range(3)]
    for params in ({"PageSize": 2, "Page": 1}, {"Page": 1}, {"PageSize": 2, "Page": 3, "PageToken": "junk"}):
        meta = http.get(webhooks_path(), params=params).json()["meta"]
        assert meta["previous_page_url"] is not None, params
        assert f"Page={params['Page'] - 1}" in meta["previous_page_url"]
        back = http.get(meta["previous_page_url"]).json()["meta"]
        assert back["page"] == params["Page"] - 1
    assert http.get(webhooks_path(), params={"PageSize": 2, "Page": 0}).json()["meta"]["previous_page_url"] is None


def test_paging_neither_skips_nor_repeats_when_webhooks_are_deleted_meanwhile(http):
    sids = [create(http)["sid"] for _ in range(5)]
    first = http.get(webhooks_path(), params={"PageSize": 2}).json()
    http.delete(f"{webhooks_path()}/{sids[1]}")  # already read
    http.delete(f"{webhooks_path()}/{sids[2]}")  # not read yet
    second = http.get(first["meta"]["next_page_url"]).json()
    assert [w["sid"] for w in second["webhooks"]] == [sids[3], sids[4]]


def test_an_unknown_page_token_reads_the_first_page(http):
    sid = create(http)["sid"]
    page = http.get(webhooks_path(), params={"PageToken": "garbage", "Page": 4}).json()
    assert [w["sid"] for w in page["webhooks"]] == [sid] and page["meta"]["page"] == 4


# -- the request log ----------------------------------------------------------------------


def test_the_request_log_records_each_exchange_without_secrets(http, mock, tmp_path):
    http.get(ACCOUNT_PATH, params={"x": "1"})
    http.post(ACCOUNT_PATH, data={"Method": "PUT"})
    http.get(ACCOUNT_PATH, auth=("someone", "secret-password"))
    entries = mock.requests
    assert [(e.method, e.path, e.query, e.status, e.operation_id) for e in entries] == [
        ("GET", ACCOUNT_PATH, "x=1", 200, "FetchConfigurationWebhook"),
        ("POST", ACCOUNT_PATH, "", 400, "UpdateConfigurationWebhook"),
        ("GET", ACCOUNT_PATH, "", 401, None),
    ]
    assert entries[1].body == "Method=PUT" and entries[1].is_write and not entries[0].is_write
    assert [e.username for e in entries] == [mock.account_sid, mock.account_sid, "someone"]
    assert "secret-password" not in repr(entries) and mock.auth_token not in repr(entries)
    assert mock.app.request_log.writes() == [entries[1]]


def test_the_request_log_is_bounded_and_can_be_written_as_json_lines(tmp_path):
    path = tmp_path / "requests.jsonl"
    with serve_mock(request_log=RequestLog(maxlen=3, path=path)) as running, CheckedSession(running) as http:
        for _ in range(5):
            http.get(ACCOUNT_PATH)
        assert len(running.requests) == 3
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(lines) == 5 and {line["status"] for line in lines} == {200}
    assert set(lines[0]) == {"timestamp", "method", "path", "query", "body", "status", "username", "operation_id", "fault"}
    assert running.auth_token not in path.read_text()


def test_reset_restores_the_initial_state_and_empties_the_log(http, mock):
    http.post(ACCOUNT_PATH, data={"Target": "flex"})
    create(http)
    mock.reset()
    assert mock.requests == [] and mock.state.snapshot() == MockState().snapshot()
    assert http.get(ACCOUNT_PATH).json()["target"] == "webhook"


# -- faults --------------------------------------------------------------------------------


def test_every_nth_request_is_rate_limited_and_changes_nothing():
    with serve_mock(faults=Faults(rate_limit_every=3, retry_after=7)) as running, CheckedSession(running) as http:
        statuses = [http.post(ACCOUNT_PATH, data={"Target": "flex"}).status_code for _ in range(2)]
        limited = http.post(SERVICE_PATH, data={"Method": "GET"})
        assert statuses == [200, 200] and limited.status_code == 429
        assert limited.headers["Retry-After"] == "7" and limited.json()["code"] == 20429
        assert running.state.service_config(running.account_sid, SERVICE)["method"] == "POST"
        assert [e.fault for e in running.requests] == [None, None, "rate-limit"]


def test_server_errors_have_twilios_body_and_the_same_seed_gives_the_same_faults():
    def run(seed: int) -> list[int]:
        faults = Faults(error_rate=0.5, rate_limit_probability=0.2, seed=seed)
        with serve_mock(faults=faults) as running, CheckedSession(running, validate=False) as http:
            statuses = []
            for _ in range(40):
                response = http.post(ACCOUNT_PATH, data={"Method": "GET"})
                statuses.append(response.status_code)
                if response.status_code >= 500:
                    assert_twilio_error(response.status_code, response.headers, response.content)
                else:
                    assert not validate_response("UpdateConfigurationWebhook", response.status_code,
                                                 response.headers, response.content)
            return statuses

    first = run(seed=3)
    assert {500, 503, 429, 200} <= set(first)
    assert run(seed=3) == first
    assert run(seed=4) != first


def test_stop_is_prompt_even_while_a_handler_sleeps():
    results: list[object] = []
    outcome: list[str] = []
    with serve_mock(faults=Faults(latency=3600)) as running:
        def call() -> None:
            try:
                results.append(requests.get(running.url + ACCOUNT_PATH, auth=running.auth, timeout=120))
            except requests.RequestException as exc:
                results.append(exc)

        caller = threading.Thread(target=call, daemon=True)
        caller.start()
        for _ in range(2000):  # bounded wait until the handler is inside the app
            if running.server._server._handlers:
                break
            threading.Event().wait(0.005)

        def leave() -> None:
            running.server.stop()
            outcome.append("stopped")

        stopper = threading.Thread(target=leave, daemon=True)
        stopper.start()
        stopper.join(60)  # liveness bound far below the hour of latency, not a timing assertion
        assert outcome == ["stopped"]
    caller.join(60)
    assert results, "the client call did not return"


# -- extension points and WSGI ------------------------------------------------------------


class DropsTarget(MockApp):
    """A broken variant with exactly one defect: the account configuration lacks ``target``."""

    def render_account_config(self, call, stored):
        body = super().render_account_config(call, stored)
        del body["target"]
        return body


class IgnoresMethod(MockApp):
    """Another: updates silently drop ``Method``."""

    def changes(self, call):
        changes = super().changes(call)
        if call.operation.operation_id == "UpdateConfigurationWebhook":
            changes.pop("method", None)
        return changes


def test_subclasses_make_broken_variants_with_one_defect():
    with serve_mock(DropsTarget()) as running, CheckedSession(running, validate=False) as http:
        response = http.get(ACCOUNT_PATH)
        violations = validate_response("FetchConfigurationWebhook", 200, response.headers, response.content)
        assert [(v.field, v.keyword) for v in violations] == [("$.target", "required")]
        assert http.get(SERVICE_PATH).status_code == 200
    with serve_mock(IgnoresMethod()) as running, CheckedSession(running) as http:
        after = http.post(ACCOUNT_PATH, data={"Method": "GET", "Target": "flex"}).json()
        assert (after["method"], after["target"]) == ("POST", "flex")  # valid, and wrong: a round trip catches it


def test_the_app_is_a_valid_wsgi_application():
    app = MockApp()
    client = WsgiClient(validator(app))
    auth = {"Authorization": _basic(b"AC00000000000000000000000000000000:mock-auth-token")}
    exchanges = [client.get(ACCOUNT_PATH, headers=auth), client.post(ACCOUNT_PATH, headers=auth, data={"Method": "GET"}),
                 client.get(ACCOUNT_PATH)]
    bodies = [json.loads(response.get_data()) for response in exchanges]
    for response in exchanges:
        response.close()  # wsgiref's validator insists the iterable is closed
    assert [r.status_code for r in exchanges] == [200, 200, 401]
    assert (bodies[0]["method"], bodies[1]["method"], bodies[2]["code"]) == ("POST", "GET", 20003)


def test_credentials_must_be_consistent():
    with pytest.raises(ValueError, match="belong to no configured account"):
        Credentials({"AC" + "1" * 32: "t"}, {"SK" + "1" * 32: ("s", "AC" + "2" * 32)})
    with pytest.raises(TypeError):
        MockApp(credentials=Credentials(), accounts={"AC" + "1" * 32: "t"})
    only_account = MockApp(accounts={"AC" + "1" * 32: "t"}).credentials
    assert dict(only_account.accounts) == {"AC" + "1" * 32: "t"} and dict(only_account.api_keys) == {}
