"""The request strategies: valid requests are valid, invalid ones fail for the reason
their label names and nothing else, and both cover the space the fragments describe."""

from __future__ import annotations

import collections
import re
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from helpers import SERVICE_SID, WEBHOOK_SID
from twilio_webhook_contracts.strategies import DEFECTS, InvalidStrategyArgument, defects_for, invalid_requests, valid_requests
from twilio_webhook_contracts import oracle
from twilio_webhook_contracts.spec import default_spec
from twilio_webhook_contracts.validation import validate_request

OPERATIONS = sorted(default_spec().operations)

#: The property tests: 1,000 examples each. Health checks stay on (a generator
#: that filters too much fails them) except the timing one, which a busy CI
#: machine can trip without anything being wrong.
THOROUGH = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SAMPLE = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: What the fragments give each operation to get wrong: kind -> fields. Written out
#: by hand from the fragments, so a change in derivation shows up here.
EXPECTED_DEFECTS = {
    "FetchConfigurationWebhook": {},
    "UpdateConfigurationWebhook": {
        "bad_enum": {"Method", "Filters", "Target"},
        "bad_url": {"PreWebhookUrl", "PostWebhookUrl"},
    },
    "FetchServiceWebhookConfiguration": {"bad_path_param": {"ChatServiceSid"}},
    "UpdateServiceWebhookConfiguration": {
        "bad_path_param": {"ChatServiceSid"},
        "bad_enum": {"Method", "Filters"},
        "bad_url": {"PreWebhookUrl", "PostWebhookUrl"},
    },
    "CreateChannelWebhook": {
        "bad_path_param": {"ServiceSid", "ChannelSid"},
        "bad_enum": {"Type", "Configuration.Method"},
        "bad_url": {"Configuration.Url"},
        "bad_pattern": {"Configuration.FlowSid"},
        "too_short": {"Configuration.FlowSid"},
        "too_long": {"Configuration.FlowSid"},
        "wrong_type": {"Configuration.RetryCount"},
        "out_of_range": {"Configuration.RetryCount"},
        "too_many_items": {"Configuration.Triggers"},
        "missing_required": {"Type"},
    },
    "ListChannelWebhook": {
        "bad_path_param": {"ServiceSid", "ChannelSid"},
        "bad_query_param": {"PageSize", "Page"},
    },
    "FetchChannelWebhook": {"bad_path_param": {"ServiceSid", "ChannelSid", "Sid"}},
    "UpdateChannelWebhook": {
        "bad_path_param": {"ServiceSid", "ChannelSid", "Sid"},
        "bad_enum": {"Configuration.Method"},
        "bad_url": {"Configuration.Url"},
        "bad_pattern": {"Configuration.FlowSid"},
        "too_short": {"Configuration.FlowSid"},
        "too_long": {"Configuration.FlowSid"},
        "wrong_type": {"Configuration.RetryCount"},
        "out_of_range": {"Configuration.RetryCount"},
        "too_many_items": {"Configuration.Triggers"},
    },
    "DeleteChannelWebhook": {"bad_path_param": {"ServiceSid", "ChannelSid", "Sid"}},
}
INVALID_OPERATIONS = [op for op in OPERATIONS if EXPECTED_DEFECTS[op]]

#: kind -> (location, keywords that must be among the violations, keywords allowed)
REASONS = {
    "bad_enum": ("body", {"enum"}, {"enum"}),
    "bad_pattern": ("body", {"pattern"}, {"pattern"}),
    "bad_url": ("body", {"pattern"}, {"pattern"}),
    "wrong_type": ("body", {"type"}, {"type"}),
    "out_of_range": ("body", set(), {"minimum", "maximum"}),
    "too_short": ("body", {"minLength"}, {"minLength", "pattern"}),
    "too_long": ("body", {"maxLength"}, {"maxLength", "pattern"}),
    "too_many_items": ("body", {"maxItems"}, {"maxItems"}),
    "missing_required": ("body", {"required"}, {"required"}),
    "bad_path_param": ("path", set(), {"pattern", "minLength", "maxLength", "enum", "type", "minimum", "maximum"}),
    "bad_query_param": ("query", set(), {"pattern", "minLength", "maxLength", "enum", "type", "minimum", "maximum", "required"}),
}
_INDEX = re.compile(r"\[[0-9]+\]$")


def base_field(field: str) -> str:
    return _INDEX.sub("", field)


def test_the_defect_set_is_public_and_each_kind_has_a_reason():
    assert set(DEFECTS) == set(REASONS)
    assert len(DEFECTS) == len(set(DEFECTS))


@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_defects_for_lists_what_the_fragment_gives_each_operation(operation_id):
    assert set(defects_for(operation_id)) == set(EXPECTED_DEFECTS[operation_id])
    assert list(defects_for(operation_id)) == [k for k in DEFECTS if k in EXPECTED_DEFECTS[operation_id]]


# ---------------------------------------------------------------------------
# valid requests


def _features(request) -> set[str]:
    """What a request exercises: presence, array lengths, small values, URL shapes, path shapes."""
    operation = default_spec().operation(request.operation_id)
    found: set[str] = set()
    fields = request.fields()
    query = dict(request.query)
    for name, schema in operation.form_fields.items():
        values = fields.get(name)
        found.add(f"{name}:{'present' if values else 'absent'}")
        if not values:
            continue
        if schema.get("type") == "array":
            found.add(f"{name}:items={len(values)}")
        elif "enum" in schema or schema.get("type") == "integer":
            found.add(f"{name}={values[0]}")
        if "Url" in name:
            url = values[0]
            found.add(f"{name}:{'empty' if not url else url.split('://')[0]}")
            if re.match(r"https?://[^/?#]*:[0-9]+", url):
                found.add(f"{name}:port")
            if "?" in url:
                found.add(f"{name}:query")
            if "%" in url:
                found.add(f"{name}:percent-encoded")
    for param in operation.query_parameters:
        found.add(f"{param.name}:{'present' if param.name in query else 'absent'}")
        if param.name in query and param.schema.get("type") == "integer":
            found.add(f"{param.name}={query[param.name]}")
    for name, value in request.path_params.items():
        if re.fullmatch(r"[A-Z]{2}[0-9a-f]{32}", value):
            found.add(f"{name}:sid")
        else:
            found.add(f"{name}:name")
            found.add(f"{name}:length={len(value)}")
            if not value.isascii():
                found.add(f"{name}:non-ascii")
            if " " in value:
                found.add(f"{name}:space")
    return found


def _every_presence(operation_id: str, *, skip: tuple[str, ...] = ()) -> set[str]:
    operation = default_spec().operation(operation_id)
    names = [n for n in operation.form_fields if n not in operation.required_fields and n not in skip]
    names += [p.name for p in operation.query_parameters]
    return {f"{n}:{state}" for n in names for state in ("present", "absent")}


URL_SHAPES = {"https", "http", "port", "query", "percent-encoded"}
CHANNEL = {"ChannelSid:sid", "ChannelSid:name", "ChannelSid:non-ascii", "ChannelSid:space", "ChannelSid:length=256"}
CHANNEL_WEBHOOK_FIELDS = {
    "Configuration.RetryCount=0", "Configuration.RetryCount=3", "Configuration.RetryCount=1",
    "Configuration.Triggers:items=1", "Configuration.Triggers:items=5",
    "Configuration.Filters:items=1", "Configuration.Filters:items=2", "Configuration.Method=GET",
    "Configuration.Method=POST",
    *{f"Configuration.Url:{shape}" for shape in URL_SHAPES},
}

#: Features each operation's 1,000 valid requests must include.
EXPECTED_FEATURES = {
    "FetchConfigurationWebhook": set(),
    "UpdateConfigurationWebhook": {
        *_every_presence("UpdateConfigurationWebhook"), "Method=GET", "Method=POST", "Target=webhook",
        "Target=flex", "Filters:items=1", "Filters:items=5",
        *{f"PreWebhookUrl:{shape}" for shape in URL_SHAPES},
    },
    "FetchServiceWebhookConfiguration": {"ChatServiceSid:sid"},
    "UpdateServiceWebhookConfiguration": {
        *_every_presence("UpdateServiceWebhookConfiguration"), "ChatServiceSid:sid", "Filters:items=3",
        *{f"PostWebhookUrl:{shape}" for shape in URL_SHAPES},
    },
    "CreateChannelWebhook": {
        *_every_presence("CreateChannelWebhook", skip=("Configuration.Url",)), *CHANNEL, *CHANNEL_WEBHOOK_FIELDS,
        "Type=webhook", "Type=trigger", "Type=studio", "Configuration.Url:present", "Configuration.Url:absent",
    },
    "ListChannelWebhook": {
        *_every_presence("ListChannelWebhook"), *CHANNEL, "PageSize=1", "PageSize=5", "Page=0",
    },
    "FetchChannelWebhook": {*CHANNEL, "Sid:sid"},
    "UpdateChannelWebhook": {
        *_every_presence("UpdateChannelWebhook"), *CHANNEL, *CHANNEL_WEBHOOK_FIELDS,
    },
    "DeleteChannelWebhook": {*CHANNEL, "Sid:sid"},
}


def _check_well_formed(request) -> None:
    """What every generated request holds, valid or not: safe path segments, twilio-python's body."""
    operation = default_spec().operation(request.operation_id)
    assert request.method == operation.method
    for value in request.path_params.values():
        assert value and "/" not in value and value not in (".", ".."), value
    segments = request.path.split("/")
    assert "" not in segments[1:] and "." not in segments and ".." not in segments
    assert [unquote(s) for s in segments] == operation.render_path(request.path_params).split("/")
    order = list(operation.form_fields)
    keys = [key for key, _ in request.form]
    assert keys == sorted(keys, key=order.index), "form pairs follow the fragment's (twilio-python's) order"
    if operation.form_schema is None:
        assert request.body == b"" and "Content-Type" not in request.headers
    else:
        assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"


@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_every_valid_request_passes_validation(operation_id):
    seen: collections.Counter[str] = collections.Counter()

    @THOROUGH
    @given(valid_requests(operation_id))
    def check(request):
        assert request.operation_id == operation_id and request.defect is None
        assert validate_request(request) == [], str(request)
        _check_well_formed(request)
        for value in request.fields().values():
            assert len(value) == len(set(value)), "repeated keys carry distinct values"
        seen.update(_features(request))

    check()
    missing = EXPECTED_FEATURES[operation_id] - set(seen)
    assert not missing, f"never generated: {sorted(missing)}"
    # an empty value is an open point (empty_value): never part of a valid request
    assert not [feature for feature in seen if feature.endswith(":empty")], sorted(seen)


@pytest.mark.parametrize("operation_id", OPERATIONS)
@SAMPLE
@given(data=st.data())
def test_valid_requests_are_valid_for_openapi_core_too(operation_id, data):
    request = data.draw(valid_requests(operation_id))
    assert oracle.request_errors(request) == [], str(request)


# ---------------------------------------------------------------------------
# invalid requests


def _assert_fails_for_its_reason(request) -> None:
    assert request.defect in DEFECTS and request.defect_field and request.description
    violations = validate_request(request)
    assert violations, f"{request} was generated as {request.defect} but validates"
    location, required, allowed = REASONS[request.defect]
    keywords = {v.keyword for v in violations}
    assert {(v.location, base_field(v.field)) for v in violations} == {(location, request.defect_field)}, violations
    assert required <= keywords <= allowed, (request.defect, violations)
    if request.defect == "out_of_range":
        assert len(violations) == 1


def _assert_unambiguous(request) -> None:
    """The defective value is one no lenient server could read as valid."""
    operation = default_spec().operation(request.operation_id)
    name = request.defect_field
    if request.defect == "missing_required":
        assert name not in request.fields() and request.body, "the rest of the form is still sent"
        return
    if request.defect == "bad_path_param":
        values = [request.path_params[name]]
        schema = next(p.schema for p in operation.path_parameters if p.name == name)
    elif request.defect == "bad_query_param":
        values = [v for k, v in request.query if k == name]
        schema = next(p.schema for p in operation.query_parameters if p.name == name)
    else:
        values = request.fields()[name]
        schema = operation.form_fields[name]
        schema = schema.get("items", schema) if schema.get("type") == "array" else schema
    for value in values:
        assert value and value == value.strip(), repr(value)
        if request.defect in ("wrong_type", "bad_query_param") and schema.get("type") == "integer":
            assert re.fullmatch(r"-?[0-9]+", value) or not any(c.isdigit() for c in value), value
            assert value.lower() not in ("true", "false", "null", "nan", "inf"), value
        if "enum" in schema and request.defect in ("bad_enum", "bad_path_param", "bad_query_param"):
            folded = {str(v).casefold() for v in schema["enum"]}
            if value not in {str(v) for v in schema["enum"]}:
                assert value.casefold() not in folded, f"{value!r} is a case variant of an enum value"


@pytest.mark.parametrize("operation_id", INVALID_OPERATIONS)
def test_every_invalid_request_fails_for_the_reason_its_label_names(operation_id):
    seen: set[tuple[str, str]] = set()

    @THOROUGH
    @given(invalid_requests(operation_id))
    def check(request):
        assert request.operation_id == operation_id
        _assert_fails_for_its_reason(request)
        _assert_unambiguous(request)
        _check_well_formed(request)
        seen.add((request.defect, request.defect_field))

    check()
    expected = {(kind, name) for kind, names in EXPECTED_DEFECTS[operation_id].items() for name in names}
    assert seen == expected


@pytest.mark.parametrize("operation_id", INVALID_OPERATIONS)
@SAMPLE
@given(data=st.data())
def test_invalid_requests_are_invalid_for_openapi_core_too(operation_id, data):
    request = data.draw(invalid_requests(operation_id))
    assert oracle.request_errors(request) != [], f"openapi-core accepts {request} ({request.description})"


@pytest.mark.parametrize("kind", DEFECTS)
def test_each_kind_can_be_asked_for_alone(kind):
    operation_id = next(op for op in INVALID_OPERATIONS if kind in EXPECTED_DEFECTS[op])

    @settings(max_examples=30, deadline=None)
    @given(invalid_requests(operation_id, defects=[kind]))
    def check(request):
        assert request.defect == kind
        _assert_fails_for_its_reason(request)

    check()


# ---------------------------------------------------------------------------
# pinning

LIVE = {"ServiceSid": SERVICE_SID, "ChannelSid": "support room \u00e9"}


@settings(max_examples=100, deadline=None)
@given(valid_requests("CreateChannelWebhook", pinned={"Configuration.Url": "https://example.com/hook?x=1", "Type": "trigger"}, **LIVE))
def test_pinned_values_are_used_verbatim(request):
    assert request.path_params["ServiceSid"] == SERVICE_SID
    assert request.path_params["ChannelSid"] == "support room \u00e9"
    assert "/Channels/support%20room%20%C3%A9/" in request.path
    fields = request.fields()
    assert fields["Type"] == ["trigger"] and fields["Configuration.Url"] == ["https://example.com/hook?x=1"]
    assert fields["Configuration.Triggers"], "a trigger webhook always sends its triggers (x-valid-requests-include)"
    assert validate_request(request) == []


@settings(max_examples=50, deadline=None)
@given(valid_requests("UpdateChannelWebhook", pinned={"Configuration.Filters": ["onMessageSent", "onMemberAdded"],
                                                      "Configuration.Triggers": None, "Configuration.RetryCount": 2},
                      Sid=WEBHOOK_SID, **LIVE))
def test_pinned_arrays_and_absent_fields(request):
    fields = request.fields()
    assert fields["Configuration.Filters"] == ["onMessageSent", "onMemberAdded"]
    assert "Configuration.Triggers" not in fields
    assert fields["Configuration.RetryCount"] == ["2"]
    assert request.path_params["Sid"] == WEBHOOK_SID


@settings(max_examples=300, deadline=None)
@given(invalid_requests("CreateChannelWebhook", Type="webhook", **LIVE))
def test_invalid_requests_keep_the_pins_everywhere_but_the_defect(request):
    _assert_fails_for_its_reason(request)
    for name, value in LIVE.items():
        if request.defect_field != name:
            assert request.path_params[name] == value
    if request.defect_field != "Type":
        assert request.fields()["Type"] == ["webhook"]
        assert request.fields()["Configuration.Url"], "a webhook always sends its URL"


@settings(max_examples=100, deadline=None)
@given(valid_requests("ListChannelWebhook", PageToken=None, PageSize=5, **LIVE))
def test_query_parameters_can_be_pinned_and_left_out(request):
    assert dict(request.query).get("PageSize") == "5" and "PageToken" not in dict(request.query)


@pytest.mark.parametrize("call,message", [
    (lambda: valid_requests("CreateChannelWebhooks"), "unknown operation 'CreateChannelWebhooks'.*CreateChannelWebhook"),
    (lambda: valid_requests("CreateChannelWebhook", Configuration_Url="https://example.com"),
     r"Configuration_Url.*did you mean pinned=\{'Configuration.Url'"),
    (lambda: valid_requests("CreateChannelWebhook", FriendlyName="x"), "cannot pin 'FriendlyName'.*has: ServiceSid, ChannelSid, Type"),
    (lambda: valid_requests("CreateChannelWebhook", Type="sms"), "Type.*one of webhook, trigger, studio"),
    (lambda: valid_requests("CreateChannelWebhook", pinned={"Configuration.RetryCount": 4}), "Configuration.RetryCount.*<= 3"),
    (lambda: valid_requests("CreateChannelWebhook", pinned={"Configuration.RetryCount": True}), "RetryCount=True.*bool"),
    (lambda: valid_requests("CreateChannelWebhook", pinned={"Configuration.Url": "dummy"}), "Configuration.Url.*dummy"),
    (lambda: valid_requests("CreateChannelWebhook", pinned={"Configuration.Filters": "onMessageSent"}),
     r"repeated key; pin a list such as \['onMessageSent'\]"),
    (lambda: valid_requests("CreateChannelWebhook", ServiceSid="IS123"), "ServiceSid.*IS123"),
    (lambda: valid_requests("FetchChannelWebhook", ChannelSid="a/b"), "ChannelSid.*without '/'"),
    (lambda: valid_requests("FetchChannelWebhook", ChannelSid=".."), r"ChannelSid.*not '\.' or '\.\.'"),
    (lambda: valid_requests("CreateChannelWebhook", Type=None), "Type.*required"),
    (lambda: valid_requests("CreateChannelWebhook", pinned={"Type": "trigger", "Configuration.Triggers": None}),
     "Type='trigger' requests always include Configuration.Triggers"),
    (lambda: valid_requests("ListChannelWebhook", PageSize=9), "PageSize.*<= 5"),
    (lambda: valid_requests("CreateChannelWebhook", pinned={"Type": "webhook"}, Type="studio"), "Type is pinned twice"),
    (lambda: invalid_requests("FetchConfigurationWebhook"), "FetchConfigurationWebhook has nothing a request can get wrong"),
    (lambda: invalid_requests("CreateChannelWebhook", defects=["bad_query_param"]),
     "CreateChannelWebhook has no place for bad_query_param.*apply here are: bad_enum, bad_pattern"),
    (lambda: invalid_requests("CreateChannelWebhook", defects=["bad_emun"]), r"unknown defect kind\(s\) \['bad_emun'\]"),
    (lambda: invalid_requests("CreateChannelWebhook", defects="bad_enum"), "collection of kinds such as"),
    (lambda: invalid_requests("CreateChannelWebhook", defects=[]), "defects is empty"),
])
def test_mistakes_are_reported_when_the_strategy_is_built(call, message):
    with pytest.raises(InvalidStrategyArgument, match=message) as info:
        call()
    assert isinstance(info.value, ValueError)


def test_strategies_read_back_as_the_call_that_made_them():
    assert repr(valid_requests("CreateChannelWebhook", Type="webhook")) == (
        "valid_requests('CreateChannelWebhook', pinned={'Type': 'webhook'})"
    )
    assert repr(invalid_requests("ListChannelWebhook", defects=["bad_query_param"])) == (
        "invalid_requests('ListChannelWebhook', defects=['bad_query_param'])"
    )


# ---------------------------------------------------------------------------
# shrinking: a failing property reports the simplest request that still fails

ZERO = "0" * 32
#: No "explain" phase: it re-runs the test with random variations of every part
#: (about a hundred runs) to say which parts did not matter.
QUICK = settings(database=None, max_examples=500, deadline=None, phases=[Phase.generate, Phase.shrink])


def _simplest(strategy):
    return find(strategy, lambda request: True, settings=QUICK)


def test_the_simplest_request_is_the_first_choice_everywhere():
    operation = default_spec().operation("CreateChannelWebhook")
    first_type = operation.form_fields["Type"]["enum"][0]
    includes = operation.form_schema["x-valid-requests-include"][first_type]
    simplest = _simplest(valid_requests("CreateChannelWebhook"))
    assert simplest.path_params == {"ServiceSid": "IS" + ZERO, "ChannelSid": "CH" + ZERO}
    assert [key for key, _ in simplest.form] == ["Type", *includes]
    assert simplest.fields()["Type"] == [first_type]
    assert simplest.fields()["Configuration.Url"] == ["https://example.com"]


def test_a_failing_property_shrinks_to_the_simplest_request_plus_the_cause():
    simplest = _simplest(valid_requests("CreateChannelWebhook"))
    # "No valid CreateChannelWebhook has RetryCount 3" is false; the counterexample is minimal.
    shrunk = find(valid_requests("CreateChannelWebhook"),
                  lambda r: r.fields().get("Configuration.RetryCount") == ["3"], settings=QUICK)
    assert shrunk.path == simplest.path
    assert shrunk.form == simplest.form + (("Configuration.RetryCount", "3"),)


def test_a_failing_given_test_reports_a_minimal_request():
    events = default_spec().operation("UpdateConfigurationWebhook").form_fields["Filters"]["items"]["enum"]
    tried = []

    @QUICK
    @given(valid_requests("UpdateConfigurationWebhook"))
    def no_request_has_more_than_one_filter(request):
        tried.append(request)
        assert len(request.fields().get("Filters", [])) <= 1

    with pytest.raises(AssertionError):
        no_request_has_more_than_one_filter()
    reported = tried[-1]  # Hypothesis replays the minimal example last
    assert [key for key, _ in reported.form] == ["Filters", "Filters"]
    assert sorted(value for _, value in reported.form) == sorted(events[:2])


def test_long_unique_names_shrink_to_the_shortest_that_fails():
    shrunk = find(valid_requests("FetchChannelWebhook"), lambda r: len(r.path_params["ChannelSid"]) > 100, settings=QUICK)
    assert shrunk.path_params["ChannelSid"] == "0" * 101
    assert shrunk.path_params["ServiceSid"] == "IS" + ZERO and shrunk.path_params["Sid"] == "WH" + ZERO


@pytest.mark.parametrize("direction,expected", [(1, "4"), (-1, "-1")])
def test_out_of_range_shrinks_to_the_neighbour_of_the_bound(direction, expected):
    simplest = _simplest(valid_requests("CreateChannelWebhook"))
    shrunk = find(invalid_requests("CreateChannelWebhook", defects=["out_of_range"]),
                  lambda r: int(r.fields()["Configuration.RetryCount"][0]) * direction > 0, settings=QUICK)
    assert shrunk.form == simplest.form + (("Configuration.RetryCount", expected),)
    assert shrunk.defect == "out_of_range"


def test_too_many_items_shrinks_to_one_more_than_allowed():
    limit = default_spec().operation("CreateChannelWebhook").form_fields["Configuration.Triggers"]["maxItems"]
    shrunk = _simplest(invalid_requests("CreateChannelWebhook", defects=["too_many_items"]))
    assert len(shrunk.fields()["Configuration.Triggers"]) == limit + 1
    assert set(shrunk.fields()) == {"Type", "Configuration.Url", "Configuration.Triggers"}


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(valid_requests("CreateChannelWebhook"))
def test_a_valid_create_sends_only_the_fields_its_type_uses(request):
    """type_fields is open: a server may reject a field another Type uses (x-valid-requests-only)."""
    from twilio_webhook_contracts.strategies import fields_unused_by

    fields = request.fields()
    kind = fields["Type"][0]
    assert not set(fields) & set(fields_unused_by(kind)), (kind, sorted(fields))


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(invalid_requests("CreateChannelWebhook"))
def test_an_invalid_create_puts_its_defect_in_a_field_its_type_uses(request):
    from twilio_webhook_contracts.strategies import fields_unused_by

    kind = (request.fields().get("Type") or [None])[0]
    if kind in ("webhook", "trigger", "studio"):
        assert request.defect_field not in fields_unused_by(kind), (kind, request.defect_field)


def test_fields_unused_by_each_type_come_from_the_fragment():
    from twilio_webhook_contracts.strategies import fields_unused_by

    assert "Configuration.Triggers" in fields_unused_by("webhook")
    assert "Configuration.Filters" in fields_unused_by("trigger")
    assert {"Configuration.Url", "Configuration.Triggers"} <= set(fields_unused_by("studio"))
    assert fields_unused_by("no-such-type") == ()


def test_invalid_filters_include_what_a_sibling_endpoint_accepts():
    """The account-only user events are invalid for a service, and Chat event names for Conversations."""
    seen: set[str] = set()

    @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(invalid_requests("UpdateServiceWebhookConfiguration", defects=["bad_enum"]),
           invalid_requests("UpdateConfigurationWebhook", defects=["bad_enum"]))
    def check(service, account):
        for request in (service, account):
            assert validate_request(request) != [], str(request)
            seen.update(request.fields().get("Filters", []))

    check()
    assert {"onUserAdded", "onUserUpdate", "onUserUpdated"} & seen, "account-only events sent to a service"
    chat = set(default_spec().operation("CreateChannelWebhook").form_fields["Configuration.Filters"]["items"]
               .get("x-example-values", []))
    assert chat & seen, "Chat event names sent to Conversations"
