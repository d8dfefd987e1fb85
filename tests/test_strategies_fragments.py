"""Generation follows the fragments: change one, and valid and invalid requests change
with it, with no code change."""

from __future__ import annotations

import collections
import re

import pytest
import yaml
from hypothesis import HealthCheck, given, seed, settings

from twilio_webhook_contracts.strategies import defects_for, invalid_requests, valid_requests
from twilio_webhook_contracts.spec import Spec, default_spec
from twilio_webhook_contracts.validation import validate_request

HTTPS_ONLY = r"^(|https://[^\s/?#]+[^\s]*)$"
DIGITS_FLOW = "^FW[0-9]{32}$"


@pytest.fixture(scope="module")
def modified(tmp_path_factory) -> Spec:
    """The bundled fragments with one more enum value, one new optional field and two changed patterns."""
    directory = tmp_path_factory.mktemp("fragments")
    for path in default_spec().directory.glob("*.yaml"):
        (directory / path.name).write_text(path.read_text())
    components = yaml.safe_load((directory / "components.yaml").read_text())
    schemas = components["components"]["schemas"]
    schemas["HttpMethod"]["enum"].append("PUT")
    schemas["WebhookUrlParam"]["pattern"] = HTTPS_ONLY
    schemas["FlowSid"]["pattern"] = DIGITS_FLOW
    (directory / "components.yaml").write_text(yaml.safe_dump(components, sort_keys=False))
    chat = yaml.safe_load((directory / "chat_v2.yaml").read_text())
    create = chat["paths"]["/v2/Services/{ServiceSid}/Channels/{ChannelSid}/Webhooks"]["post"]
    form = create["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    form["properties"]["Configuration.Timeout"] = {"type": "integer", "minimum": 1, "maximum": 30}
    (directory / "chat_v2.yaml").write_text(yaml.safe_dump(chat, sort_keys=False))
    return Spec.load(directory)


CHANGED = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_valid_requests_follow_the_changed_fragments(modified):
    seen: collections.Counter[str] = collections.Counter()

    @CHANGED
    @given(valid_requests("CreateChannelWebhook", spec=modified))
    def check(request):
        assert validate_request(request, spec=modified) == [], str(request)
        fields = request.fields()
        seen.update(f"Method={m}" for m in fields.get("Configuration.Method", []))
        for timeout in fields.get("Configuration.Timeout", []):
            assert 1 <= int(timeout) <= 30
            seen["Timeout"] += 1
        for url in fields.get("Configuration.Url", []):
            assert re.fullmatch(HTTPS_ONLY, url), url
            seen["url"] += 1
        for flow in fields.get("Configuration.FlowSid", []):
            assert re.fullmatch(DIGITS_FLOW, flow), flow
            seen["flow"] += 1
        if "PUT" in fields.get("Configuration.Method", []) or "Configuration.Timeout" in fields:
            # The bundled fragments know neither: what is generated is really new.
            assert "Configuration.Timeout" in fields or validate_request(request) != []

    check()
    assert seen["Method=PUT"] and seen["Method=GET"] and seen["Timeout"] and seen["url"] and seen["flow"]


def test_invalid_requests_derive_their_defects_from_the_changed_constraints(modified):
    assert set(defects_for("CreateChannelWebhook", spec=modified)) == set(defects_for("CreateChannelWebhook"))
    seen: set[tuple[str, str]] = set()

    # a fixed seed: which of the many (defect, field) pairs 250 random examples reach is chance,
    # and this test is about the two a changed constraint adds, not about luck
    @seed(20261125)
    @CHANGED
    @given(invalid_requests("CreateChannelWebhook", spec=modified))
    def check(request):
        violations = validate_request(request, spec=modified)
        assert violations and {re.sub(r"\[\d+\]$", "", v.field) for v in violations} == {request.defect_field}
        seen.add((request.defect, request.defect_field))
        value = (request.fields().get(request.defect_field) or [""])[0]
        if request.defect == "bad_enum" and request.defect_field == "Configuration.Method":
            assert value.casefold() not in ("get", "post", "put")
        if request.defect == "bad_pattern" and request.defect_field == "Configuration.FlowSid":
            assert not re.fullmatch(DIGITS_FLOW, value) and len(value) == 34

    check()
    assert ("out_of_range", "Configuration.Timeout") in seen and ("wrong_type", "Configuration.Timeout") in seen


def test_a_narrower_url_pattern_makes_http_urls_defects(modified):
    http_urls: list[str] = []

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(invalid_requests("UpdateChannelWebhook", spec=modified, defects=["bad_url"]))
    def check(request):
        url = request.fields()["Configuration.Url"][0]
        assert [v.keyword for v in validate_request(request, spec=modified)] == ["pattern"]
        if url.startswith("http://"):
            http_urls.append(url)

    check()
    assert http_urls, "an http:// URL is a defect once the pattern says https only"
    # ... and only because of the change: the bundled fragments accept the same URLs.
    assert all(validate_request_default_accepts_url(url) for url in http_urls[:20])


def validate_request_default_accepts_url(url: str) -> bool:
    """The same URL is fine for the bundled fragments: the defect comes from the change."""
    from helpers import make_request
    return validate_request(make_request("CreateChannelWebhook", {"Type": "webhook", "Configuration.Url": url})) == []
