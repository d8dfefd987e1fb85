"""Each deliberate tightening: Twilio's looser spec accepts it, ours rejects it, and
what must stay valid (nulls, extra fields, legacy values) still is."""

from __future__ import annotations

import copy

import pytest

from helpers import ACCOUNT_SID, CHANNEL_SID, JSON, SERVICE_SID, WEBHOOK_SID, body, make_request, reference_spec
from twilio_webhook_contracts.spec import default_spec
from twilio_webhook_contracts.validation import validate_request, validate_response

REFERENCE = reference_spec()

ACCOUNT_CONFIG = {
    "account_sid": ACCOUNT_SID, "method": "POST", "filters": ["onMessageAdded"],
    "pre_webhook_url": "https://example.com/pre", "post_webhook_url": None,
    "target": "webhook", "url": "https://conversations.twilio.com/v1/Configuration/Webhooks",
}
SERVICE_CONFIG = {
    "account_sid": ACCOUNT_SID, "chat_service_sid": SERVICE_SID, "pre_webhook_url": None,
    "post_webhook_url": "https://example.com/post", "filters": None, "method": "POST",
    "url": f"https://conversations.twilio.com/v1/Services/{SERVICE_SID}/Configuration/Webhooks",
}
WEBHOOK = {
    "sid": WEBHOOK_SID, "account_sid": ACCOUNT_SID, "service_sid": SERVICE_SID, "channel_sid": CHANNEL_SID,
    "type": "webhook", "url": f"https://chat.twilio.com/v2/Services/{SERVICE_SID}/Channels/{CHANNEL_SID}/Webhooks/{WEBHOOK_SID}",
    "configuration": {"url": "https://example.com/hook", "method": "POST", "filters": ["onMessageSent"], "retry_count": 1},
    "date_created": "2026-11-25T12:00:00Z", "date_updated": "2026-11-25T12:00:00Z",
}
PAGE = {
    "webhooks": [WEBHOOK],
    "meta": {"page": 0, "page_size": 5, "key": "webhooks", "next_page_url": None, "previous_page_url": None,
             "first_page_url": "https://chat.twilio.com/v2/x?PageSize=5&Page=0", "url": "https://chat.twilio.com/v2/x?PageSize=5&Page=0"},
}


def _with(base, **changes):
    value = copy.deepcopy(base)
    for dotted, new in changes.items():
        node = value
        *parents, last = dotted.split("__")
        for part in parents:
            node = node[part]
        if new is _DELETE:
            del node[last]
        else:
            node[last] = new
    return value


_DELETE = object()

# (name, operation, status, rejected-by-ours-accepted-by-reference, still-accepted-by-ours)
RESPONSE_TIGHTENINGS = [
    ("account config: every documented property required", "FetchConfigurationWebhook", 200,
     _with(ACCOUNT_CONFIG, target=_DELETE), _with(ACCOUNT_CONFIG, brand_new_field={"additive": True})),
    ("account config: url fields are absolute http(s) URLs or null", "UpdateConfigurationWebhook", 200,
     _with(ACCOUNT_CONFIG, pre_webhook_url="example.com/pre"), _with(ACCOUNT_CONFIG, pre_webhook_url=None)),
    ("account config: filters are event names", "FetchConfigurationWebhook", 200,
     _with(ACCOUNT_CONFIG, filters=["not an event"]), _with(ACCOUNT_CONFIG, filters=["onMessageSend", "onSomethingNew"])),
    ("account config: resource url is absolute", "FetchConfigurationWebhook", 200,
     _with(ACCOUNT_CONFIG, url="/v1/Configuration/Webhooks"), _with(ACCOUNT_CONFIG, url="http://127.0.0.1:8080/v1/Configuration/Webhooks")),
    ("service config: every documented property required", "FetchServiceWebhookConfiguration", 200,
     _with(SERVICE_CONFIG, chat_service_sid=_DELETE), _with(SERVICE_CONFIG, friendly_name="extra")),
    ("service config: urls absolute", "UpdateServiceWebhookConfiguration", 200,
     _with(SERVICE_CONFIG, post_webhook_url="ftp:/x"), _with(SERVICE_CONFIG, post_webhook_url="https://example.com:8443/a?b=c")),
    ("channel webhook: every documented property required", "FetchChannelWebhook", 200,
     _with(WEBHOOK, date_created=_DELETE), _with(WEBHOOK, date_created=None, extra=1)),
    ("channel webhook: type is webhook, trigger or studio", "CreateChannelWebhook", 201,
     _with(WEBHOOK, type="flex"), _with(WEBHOOK, type=None)),
    ("channel webhook: configuration.retry_count 0-3", "UpdateChannelWebhook", 200,
     _with(WEBHOOK, configuration__retry_count=7), _with(WEBHOOK, configuration={"url": "dummy"})),
    ("channel webhook: configuration.method GET or POST", "FetchChannelWebhook", 200,
     _with(WEBHOOK, configuration__method="PUT"), _with(WEBHOOK, configuration__method=None)),
    ("channel webhook: configuration.flow_sid is a FW sid", "FetchChannelWebhook", 200,
     _with(WEBHOOK, type="studio", configuration={"flow_sid": "FW123"}),
     _with(WEBHOOK, type="studio", configuration={"flow_sid": "FW" + "e" * 32})),
    ("list: meta and all its fields required", "ListChannelWebhook", 200,
     _with(PAGE, meta__key=_DELETE), _with(PAGE, webhooks=[])),
    ("list: meta.key is webhooks", "ListChannelWebhook", 200,
     _with(PAGE, meta__key="channels"), _with(PAGE, meta__extra="x")),
]


@pytest.mark.parametrize("name,operation_id,status,rejected,accepted", RESPONSE_TIGHTENINGS,
                         ids=[t[0] for t in RESPONSE_TIGHTENINGS])
def test_response_tightening(name, operation_id, status, rejected, accepted):
    assert validate_response(operation_id, status, JSON, body(rejected), spec=REFERENCE) == []
    assert validate_response(operation_id, status, JSON, body(rejected)) != []
    assert validate_response(operation_id, status, JSON, body(accepted)) == []


def test_error_responses_are_documented_with_the_twilio_error_body():
    error = {"code": 20404, "message": "The requested resource was not found",
             "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404}
    # Twilio's spec documents no error response at all: every 404 is "undocumented" there.
    assert validate_response("FetchChannelWebhook", 404, JSON, body(error), spec=REFERENCE) != []
    assert validate_response("FetchChannelWebhook", 404, JSON, body(error)) == []
    assert validate_response("FetchChannelWebhook", 404, JSON, body({"error": "not found"})) != []
    assert validate_response("FetchChannelWebhook", 429, JSON, body({**error, "code": 20429, "status": 429})) != []
    assert validate_response("FetchChannelWebhook", 429, {**JSON, "Retry-After": "2"},
                             body({**error, "code": 20429, "status": 429})) == []


# (name, operation, rejected form/path, accepted form/path)
REQUEST_TIGHTENINGS = [
    ("account Method enum", "UpdateConfigurationWebhook", {"Method": "PUT"}, {"Method": "GET"}),
    ("service Method enum", "UpdateServiceWebhookConfiguration", {"Method": "DELETE"}, {"Method": "POST"}),
    ("account filter list", "UpdateConfigurationWebhook", {"Filters": ["onMessageAdded", "onNothing"]},
     {"Filters": ["onMessageAdded", "onUserAdded"]}),
    ("service filter list lacks the user events", "UpdateServiceWebhookConfiguration", {"Filters": ["onUserAdded"]},
     {"Filters": ["onParticipantAdd", "onConversationStateUpdated"]}),
    ("absolute webhook urls", "UpdateConfigurationWebhook", {"PreWebhookUrl": "not a url"},
     {"PreWebhookUrl": "", "PostWebhookUrl": "https://example.com:8443/post?x=1&y=%C3%A9"}),
    ("service urls", "UpdateServiceWebhookConfiguration", {"PostWebhookUrl": "example.com"},
     {"PostWebhookUrl": "http://example.com/"}),
    ("square brackets only around an IPv6 host", "UpdateConfigurationWebhook", {"PreWebhookUrl": "https://[oops/hook"},
     {"PreWebhookUrl": "https://user:pw@[2001:db8::1]:8443/hook?a=[1]"}),
    ("RetryCount 0-3", "CreateChannelWebhook", {"Type": "webhook", "Configuration.RetryCount": 4},
     {"Type": "webhook", "Configuration.RetryCount": 3}),
    ("RetryCount 0-3 on update", "UpdateChannelWebhook", {"Configuration.RetryCount": -1},
     {"Configuration.RetryCount": 0}),
    ("at most 5 triggers", "CreateChannelWebhook", {"Type": "trigger", "Configuration.Triggers": list("abcdef")},
     {"Type": "trigger", "Configuration.Triggers": list("abcde")}),
    ("channel webhook url", "UpdateChannelWebhook", {"Configuration.Url": "dummy"},
     {"Configuration.Url": "https://example.com/chat"}),
]


@pytest.mark.parametrize("name,operation_id,rejected,accepted", REQUEST_TIGHTENINGS,
                         ids=[t[0] for t in REQUEST_TIGHTENINGS])
def test_request_tightening(name, operation_id, rejected, accepted):
    assert validate_request(make_request(operation_id, rejected, spec=REFERENCE), spec=REFERENCE) == []
    assert validate_request(make_request(operation_id, rejected)) != []
    assert validate_request(make_request(operation_id, accepted)) == []


def test_channel_sid_is_a_sid_or_a_unique_name():
    too_long = make_request("FetchChannelWebhook", path_params={"ChannelSid": "n" * 257})
    assert validate_request(too_long, spec=REFERENCE) == []
    assert [v.field for v in validate_request(too_long)] == ["ChannelSid", "ChannelSid"]
    for name in [CHANNEL_SID, "support-room", "Room 5 / é".replace("/", ""), "CH123"]:
        assert validate_request(make_request("FetchChannelWebhook", path_params={"ChannelSid": name})) == []


def test_twilios_own_update_request_example_is_rejected_for_its_retry_count():
    example = {"Configuration.Url": "https://example.com/dummy", "Configuration.Method": "POST",
               "Configuration.Triggers": ["keyword1", "keyword2"], "Configuration.RetryCount": 5}
    violations = validate_request(make_request("UpdateChannelWebhook", example))
    assert [(v.field, v.keyword) for v in violations] == [("Configuration.RetryCount", "maximum")]


def test_retry_count_on_the_wire_is_a_string_and_still_an_integer():
    request = make_request("CreateChannelWebhook", {"Type": "webhook", "Configuration.RetryCount": "3"})
    assert b"Configuration.RetryCount=3" in request.body
    assert validate_request(request) == []
    wrong = make_request("CreateChannelWebhook", {"Type": "webhook", "Configuration.RetryCount": "three"})
    assert [(v.field, v.keyword) for v in validate_request(wrong)] == [("Configuration.RetryCount", "type")]


def test_the_fragments_record_each_tightening():
    text = "".join(p.read_text() for p in default_spec().directory.glob("*.yaml"))
    assert text.count("x-tightening") >= 12
    assert text.count("x-decision") >= 3


def test_service_method_is_nullable_as_twilios_own_fetch_empty_example_shows():
    empty = {"account_sid": ACCOUNT_SID, "chat_service_sid": SERVICE_SID, "url": SERVICE_CONFIG["url"],
             "pre_webhook_url": None, "post_webhook_url": None, "filters": None, "method": None}
    # Twilio's spec rejects its own example (its method enum is not nullable) ...
    assert {v.field for v in validate_response("FetchServiceWebhookConfiguration", 200, JSON, body(empty),
                                               spec=REFERENCE)} == {"$.method"}
    # ... the fragments follow the example.
    assert validate_response("FetchServiceWebhookConfiguration", 200, JSON, body(empty)) == []
