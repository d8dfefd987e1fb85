"""`webhook-contracts drift`: the fragments against Twilio's own description, and against changed copies."""

from __future__ import annotations

import copy
import json

import pytest
import yaml

from helpers import DATA
from twilio_webhook_contracts.cli import main
from twilio_webhook_contracts.drift import ADDITIVE, BREAKING, DELIBERATE, drift, iter_notes

REFERENCE = DATA / "reference"
CONVERSATIONS = REFERENCE / "conversations_v1_webhooks.json"
CHAT = REFERENCE / "chat_v2_channel_webhooks.json"
IP_MESSAGING = REFERENCE / "ip_messaging_v2_channel_webhooks.json"

#: Notes of the fragments that describe no difference on the wire from Twilio's spec, and why.
NOTES_WITHOUT_A_WIRE_DIFFERENCE = {
    # Configuration.Filters items stay plain strings, as in Twilio's spec (only example values differ)
    "Twilio documents the item as a plain string",
    # which configuration a Type needs: a rule for generating requests, not a schema constraint
    "The docs say which configuration each `Type` uses",
    # ChannelSid: the difference is reported with the node's x-tightening, which explains it
    "A unique name cannot be told apart from a malformed sid on the wire",
}


def _load(path):
    return json.loads(path.read_text())


def _write(tmp_path, name, document):
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def test_twilios_reference_shows_only_the_deliberate_tightenings():
    report = drift([CONVERSATIONS, CHAT, IP_MESSAGING])
    assert [s.matched for s in report.sources] == [4, 5, 5]
    assert report.of(BREAKING) == []
    assert report.of(ADDITIVE) == []
    assert report.exit_status == 0
    deliberate = report.of(DELIBERATE)
    assert deliberate and all(d.note for d in deliberate)
    # exactly the notes of the fragments: every one with a wire difference is reported, no other text
    used = {d.note for d in deliberate}
    notes = {text for _, text in iter_notes()}
    assert used <= notes | {d.note for d in deliberate if d.note_kind == "error responses"}
    unused = {text for text in notes - used}
    assert {next(p for p in NOTES_WITHOUT_A_WIRE_DIFFERENCE if text.startswith(p)) for text in unused} \
        == NOTES_WITHOUT_A_WIRE_DIFFERENCE


@pytest.mark.parametrize("operation,where,change_part,kind", [
    ("FetchChannelWebhook", "parameter path ChannelSid", "pattern", "x-tightening"),
    ("CreateChannelWebhook", "request body field Configuration.RetryCount", "minimum 0, maximum 3", "x-tightening"),
    ("UpdateChannelWebhook", "request body field Configuration.Triggers", "maxItems 5", "x-tightening"),
    ("UpdateConfigurationWebhook", "request body field Method", "limited to GET, POST", "x-tightening"),
    ("UpdateServiceWebhookConfiguration", "request body field Filters[]", "limited to", "x-tightening"),
    ("FetchServiceWebhookConfiguration", "response 200 $.method", "null allowed", "x-decision"),
    ("FetchConfigurationWebhook", "response 200 $.filters[]", "pattern", "x-decision"),
    ("FetchConfigurationWebhook", "response 200 $", "required by the fragments", "x-tightening"),
    ("ListChannelWebhook", "response 200 $.meta.key", "limited to webhooks", "x-tightening"),
    ("CreateChannelWebhook", "response 201 $.configuration", "typed object", "x-tightening"),
    ("DeleteChannelWebhook", "response 404", "fragments only", "error responses"),
    ("UpdateConfigurationWebhook", "response 429", "fragments only", "error responses"),
])
def test_each_kind_of_tightening_is_reported_as_deliberate_with_its_note(operation, where, change_part, kind):
    report = drift([CONVERSATIONS, CHAT])
    found = [d for d in report.differences if d.operation_id == operation and d.where == where]
    assert found, f"nothing reported at {operation} {where}"
    assert all(d.severity == DELIBERATE for d in found)
    assert any(change_part in d.change and d.note_kind == kind for d in found)


def test_a_removed_property_a_narrowed_enum_and_a_new_required_parameter_are_breaking(tmp_path, capsys):
    conversations = _load(CONVERSATIONS)
    del conversations["components"]["schemas"]["conversations.v1.configuration.configuration_webhook"]["properties"]["target"]
    chat = _load(CHAT)
    chat["components"]["schemas"]["channel_webhook_enum_type"]["enum"] = ["webhook", "trigger"]
    chat["paths"]["/v2/Services/{ServiceSid}/Channels/{ChannelSid}/Webhooks"]["get"]["parameters"].append(
        {"name": "Direction", "in": "query", "required": True, "schema": {"type": "string"}})
    files = [_write(tmp_path, "conversations.json", conversations), _write(tmp_path, "chat.json", chat)]

    report = drift(files)
    breaking = sorted((d.operation_id, d.where, d.change) for d in report.of(BREAKING))
    assert breaking == [
        ("CreateChannelWebhook", "request body field Type", "enum values removed upstream: studio"),
        ("FetchConfigurationWebhook", "response 200 $.target", "no longer in the upstream response"),
        ("ListChannelWebhook", "parameter query Direction", "new required parameter upstream"),
        ("UpdateConfigurationWebhook", "response 200 $.target", "no longer in the upstream response"),
    ]
    # the removed property sits under a node with x-tightening; that note does not excuse it
    removed = next(d for d in report.of(BREAKING) if d.where == "response 200 $.target")
    assert removed.note_kind == "x-tightening"
    assert report.of(ADDITIVE) == []

    assert main(["drift", *map(str, files)]) == 1
    out = capsys.readouterr().out
    assert "BREAKING" in out and "4 breaking, 0 additive" in out


def test_additive_changes_exit_0(tmp_path, capsys):
    chat = _load(CHAT)
    webhook = chat["components"]["schemas"]["chat.v2.service.channel.channel_webhook"]
    webhook["properties"]["friendly_name"] = {"type": "string", "nullable": True}
    chat["components"]["schemas"]["channel_webhook_enum_method"]["enum"] = ["GET", "POST", "PUT"]
    body = chat["paths"]["/v2/Services/{ServiceSid}/Channels/{ChannelSid}/Webhooks"]["post"]["requestBody"]
    body["content"]["application/x-www-form-urlencoded"]["schema"]["properties"]["FriendlyName"] = {"type": "string"}
    path = _write(tmp_path, "chat.yaml", chat)
    path.write_text(yaml.safe_dump(chat))  # YAML is read as well

    report = drift([path])
    additive = {(d.operation_id, d.where, d.change.split(":")[0]) for d in report.of(ADDITIVE)}
    assert ("CreateChannelWebhook", "request body field FriendlyName", "new optional parameter upstream") in additive
    assert ("FetchChannelWebhook", "response 200 $.friendly_name", "new property upstream") in additive
    # a widened request enum is additive for a client
    assert ("CreateChannelWebhook", "request body field Configuration.Method", "enum values added upstream") in additive
    assert report.of(BREAKING) == []
    assert main(["drift", "-q", str(path)]) == 0
    assert "deliberate ones not shown" in capsys.readouterr().out


def test_a_widened_response_enum_is_additive_and_says_the_fragment_needs_it(tmp_path):
    conversations = _load(CONVERSATIONS)
    conversations["components"]["schemas"]["configuration_webhook_enum_target"]["enum"] = ["webhook", "flex", "studio"]
    report = drift([_write(tmp_path, "c.json", conversations)])
    target = [d for d in report.differences if d.where == "response 200 $.target"]
    assert {d.severity for d in target} == {ADDITIVE}
    assert all("closed enum rejects them" in d.change for d in target)
    request = [d for d in report.differences if d.where == "request body field Target"]
    assert {d.severity for d in request} == {ADDITIVE}


def test_upstream_constraining_a_noted_node_is_not_deliberate(tmp_path):
    """Our x-tightening gives Method an enum Twilio's spec lacks; if Twilio's spec then
    narrows it further, that is a breaking change the note does not explain."""
    conversations = _load(CONVERSATIONS)
    body = conversations["paths"]["/v1/Configuration/Webhooks"]["post"]["requestBody"]
    body["content"]["application/x-www-form-urlencoded"]["schema"]["properties"]["Method"]["enum"] = ["POST"]
    report = drift([_write(tmp_path, "c.json", conversations)])
    method = [d for d in report.differences
              if d.where == "request body field Method" and d.operation_id == "UpdateConfigurationWebhook"]
    assert [(d.severity, d.change) for d in method] == [(BREAKING, "enum values removed upstream: GET")]
    assert method[0].note_kind == "x-tightening"  # shown for context


def test_a_removed_operation_is_breaking_and_a_new_one_additive(tmp_path):
    chat = _load(CHAT)
    item = chat["paths"]["/v2/Services/{ServiceSid}/Channels/{ChannelSid}/Webhooks/{Sid}"]
    del item["delete"]
    item["put"] = copy.deepcopy(item["post"])
    item["put"]["operationId"] = "ReplaceChannelWebhook"
    report = drift([_write(tmp_path, "chat.json", chat)])
    assert [(d.severity, d.operation_id) for d in report.differences if d.where == "operation"] == [
        (BREAKING, "DeleteChannelWebhook"), (ADDITIVE, "ReplaceChannelWebhook")]


def test_json_output(capsys):
    assert main(["drift", "--json", str(CONVERSATIONS)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["counts"]["breaking"] == 0 and data["exit_status"] == 0
    assert {d["severity"] for d in data["differences"]} == {"deliberate"}


@pytest.mark.parametrize("content,message", [
    (None, "no such file"),
    ("{not json", "not valid JSON or YAML"),
    ('{"swagger": "2.0"}', "not an OpenAPI 3 document"),
    ('{"openapi": "3.0.3", "paths": {"/v1/Other": {"get": {"operationId": "FetchOther"}}}}', "describes none"),
])
def test_unreadable_input_is_one_line_and_exit_2(tmp_path, capsys, content, message):
    path = tmp_path / "upstream.json"
    if content is not None:
        path.write_text(content)
    assert main(["drift", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
