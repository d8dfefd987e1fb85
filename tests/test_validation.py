"""Violations name the operation, the field path, what was expected and what was found."""

from __future__ import annotations

import pytest

from helpers import ACCOUNT_SID, JSON, SERVICE_SID, body, make_request
from test_tightenings import ACCOUNT_CONFIG, PAGE, SERVICE_CONFIG, WEBHOOK, _DELETE, _with
from twilio_webhook_contracts import oracle as _oracle
from twilio_webhook_contracts.validation import Violation, validate_request, validate_response, validator_for


def only(violations: list[Violation]) -> Violation:
    assert len(violations) == 1, violations
    return violations[0]


def test_missing_field_names_its_path():
    v = only(validate_response("FetchConfigurationWebhook", 200, JSON, body(_with(ACCOUNT_CONFIG, target=_DELETE))))
    assert (v.operation_id, v.location, v.field, v.keyword) == ("FetchConfigurationWebhook", "response", "$.target", "required")
    assert v.message == "FetchConfigurationWebhook: response $.target: expected the property to be present, found nothing"


def test_wrong_type_names_path_expected_and_found():
    v = only(validate_response("FetchServiceWebhookConfiguration", 200, JSON, body(_with(SERVICE_CONFIG, filters="onMessageAdded"))))
    assert v.field == "$.filters" and v.keyword == "type"
    assert "expected an array or null" in v.message and 'found "onMessageAdded"' in v.message


def test_bad_pattern_in_a_nested_list_item():
    page = _with(PAGE)
    page["webhooks"][0]["channel_sid"] = "CH-not-a-sid"
    violations = validate_response("ListChannelWebhook", 200, JSON, body(page))
    assert {v.field for v in violations} == {"$.webhooks[0].channel_sid"}
    pattern = [v for v in violations if v.keyword == "pattern"][0]
    assert "^CH[0-9a-fA-F]{32}$" in pattern.expected and pattern.found == '"CH-not-a-sid"'


def test_bad_enum_lists_the_allowed_values():
    v = only(validate_response("CreateChannelWebhook", 201, JSON, body(_with(WEBHOOK, type="sms"))))
    assert v.field == "$.type" and v.keyword == "enum"
    assert v.expected == "one of webhook, trigger, studio, null" and v.found == '"sms"'


def test_undocumented_status_lists_the_documented_ones():
    v = only(validate_response("UpdateConfigurationWebhook", 500, JSON, body({})))
    assert v.location == "status" and v.found == "500"
    assert v.expected == "one of 200, 400, 401, 405, 429"


def test_wrong_content_type():
    v = only(validate_response("FetchConfigurationWebhook", 200, {"Content-Type": "text/html; charset=utf-8"}, body(ACCOUNT_CONFIG)))
    assert (v.location, v.keyword, v.expected, v.found) == ("content-type", "content-type", "application/json", '"text/html"')


def test_json_content_type_with_charset_is_json():
    assert validate_response("FetchConfigurationWebhook", 200, {"content-type": "application/json; charset=utf-8"}, body(ACCOUNT_CONFIG)) == []


def test_a_body_that_is_not_json_is_a_violation_not_an_exception():
    v = only(validate_response("FetchConfigurationWebhook", 200, JSON, b"<html>oops</html>"))
    assert v.keyword == "json" and "<html>" in v.found


def test_delete_answers_204_without_a_body():
    assert validate_response("DeleteChannelWebhook", 204, {}, b"") == []
    assert only(validate_response("DeleteChannelWebhook", 204, JSON, b"{}")).keyword == "content"
    assert only(validate_response("DeleteChannelWebhook", 200, JSON, b"{}")).location == "status"


def test_request_violations_name_the_form_field():
    v = only(validate_request(make_request("UpdateConfigurationWebhook", {"Filters": ["onMessageAdded", "onNope"]})))
    assert (v.location, v.field, v.keyword, v.found) == ("body", "Filters[1]", "enum", '"onNope"')


def test_request_missing_required_field():
    v = only(validate_request(make_request("CreateChannelWebhook", {"Configuration.Url": "https://example.com"})))
    assert (v.field, v.keyword) == ("Type", "required")


def test_request_path_parameter_violations_name_the_parameter():
    violations = validate_request(make_request("FetchServiceWebhookConfiguration", path_params={"ChatServiceSid": "IS123"}))
    assert {(v.location, v.field) for v in violations} == {("path", "ChatServiceSid")}


def test_form_body_that_is_not_utf8_is_a_violation_not_an_exception():
    validator = validator_for("UpdateConfigurationWebhook")
    v = only(validator.form_violations(b"Method=\xff\xfe"))
    assert v.keyword == "encoding"
    v = only(validator.form_violations(b"Method=%FF"))
    assert v.keyword == "encoding"


def test_unknown_form_parameters_are_ignored():
    assert validate_request(make_request("UpdateConfigurationWebhook", {"Method": "GET", "FriendlyName": "x", "Foo.Bar": "1"})) == []


def test_raw_path_segments_are_percent_decoded_before_checking():
    validator = validator_for("FetchChannelWebhook")
    assert validator.path_violations({"ServiceSid": SERVICE_SID, "ChannelSid": "my%20room", "Sid": "WH" + "0" * 32}) == []
    assert [v.keyword for v in validator.path_violations({"ServiceSid": SERVICE_SID, "ChannelSid": "%C3%28", "Sid": "WH" + "0" * 32})] == ["encoding"]


# -- the compiled validators agree with openapi-core on these fixed cases --------

AGREEMENT_REQUESTS = [
    make_request("UpdateConfigurationWebhook", {"Method": "GET", "Filters": ["onUserAdded"], "Target": "flex"}),
    make_request("UpdateConfigurationWebhook", {"Method": "PATCH"}),
    make_request("UpdateConfigurationWebhook", {"Target": "sms"}),
    make_request("UpdateServiceWebhookConfiguration", {"Filters": ["onUserAdded"]}),
    make_request("UpdateServiceWebhookConfiguration", {"PreWebhookUrl": "https://example.com/a b"}),
    make_request("FetchServiceWebhookConfiguration", path_params={"ChatServiceSid": "IS" + "g" * 32}),
    make_request("CreateChannelWebhook", {"Type": "studio", "Configuration.FlowSid": "FW" + "1" * 32}),
    make_request("CreateChannelWebhook", {"Type": "webhook", "Configuration.RetryCount": "three"}),
    make_request("CreateChannelWebhook", {"Configuration.Url": "https://example.com"}),
    make_request("UpdateChannelWebhook", {"Configuration.Method": "get"}),
    make_request("ListChannelWebhook", query=(("PageSize", "6"),)),
    make_request("ListChannelWebhook", query=(("PageSize", "5"), ("Page", "0"))),
    make_request("DeleteChannelWebhook", path_params={"Sid": "WH" + "1" * 31}),
]


@pytest.mark.parametrize("request_", AGREEMENT_REQUESTS, ids=str)
def test_request_verdict_agrees_with_openapi_core(request_):
    assert (validate_request(request_) == []) == (_oracle.request_errors(request_) == [])


AGREEMENT_RESPONSES = [
    ("FetchConfigurationWebhook", 200, ACCOUNT_CONFIG),
    ("FetchConfigurationWebhook", 200, _with(ACCOUNT_CONFIG, method="PUT")),
    ("FetchConfigurationWebhook", 200, _with(ACCOUNT_CONFIG, account_sid=ACCOUNT_SID[:-1])),
    ("UpdateServiceWebhookConfiguration", 200, SERVICE_CONFIG),
    ("UpdateServiceWebhookConfiguration", 200, _with(SERVICE_CONFIG, url=None, extra=[1, 2])),
    ("FetchChannelWebhook", 200, WEBHOOK),
    ("FetchChannelWebhook", 200, _with(WEBHOOK, date_updated="yesterday")),
    ("ListChannelWebhook", 200, PAGE),
    ("ListChannelWebhook", 200, _with(PAGE, meta__page=-1)),
]


@pytest.mark.parametrize("operation_id,status,value", AGREEMENT_RESPONSES)
def test_response_verdict_agrees_with_openapi_core(operation_id, status, value):
    request = make_request(operation_id)
    ours = validate_response(operation_id, status, JSON, body(value))
    assert (ours == []) == (_oracle.response_errors(request, status, value) == [])
