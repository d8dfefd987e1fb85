"""The bundled fragments: valid OpenAPI, complete, and faithful to Twilio's examples."""

from __future__ import annotations

import copy
import json
import re

import pytest
import yaml
from openapi_spec_validator import validate as validate_openapi

from helpers import DATA, JSON, body, reference_spec
from twilio_webhook_contracts.spec import API_FILES, Spec, SpecError, default_spec
from twilio_webhook_contracts.validation import validate_response

OPERATION_IDS = {
    "FetchConfigurationWebhook", "UpdateConfigurationWebhook",
    "FetchServiceWebhookConfiguration", "UpdateServiceWebhookConfiguration",
    "CreateChannelWebhook", "ListChannelWebhook", "FetchChannelWebhook",
    "UpdateChannelWebhook", "DeleteChannelWebhook",
}


@pytest.mark.parametrize("api", sorted(API_FILES))
def test_bundled_documents_pass_openapi_spec_validator(api):
    validate_openapi(copy.deepcopy(dict(default_spec().documents[api])))


def test_every_operation_is_exposed_by_its_operation_id():
    spec = default_spec()
    assert set(spec.operations) == OPERATION_IDS
    assert spec.operation("CreateChannelWebhook").success_status == 201
    assert spec.operation("DeleteChannelWebhook").success_status == 204
    assert spec.operation("FetchConfigurationWebhook").server == "https://conversations.twilio.com"
    assert spec.operation("ListChannelWebhook").server == "https://chat.twilio.com"


def test_fragments_are_read_once_per_process():
    assert default_spec() is default_spec()


def test_unknown_operation_names_the_known_ones():
    with pytest.raises(SpecError, match="FetchConfigurationWebhook"):
        default_spec().operation("FetchWebhooks")


@pytest.mark.parametrize("status", [400, 401, 404, 405, 429])
def test_error_responses_use_the_twilio_error_body(status):
    spec = default_spec()
    documented = [op for op in spec if status in op.responses]
    assert documented, f"no operation documents {status}"
    for op in documented:
        schema = op.responses[status].schema
        assert schema is not None and set(schema["required"]) == {"code", "message", "more_info", "status"}
    for op in spec:
        if 429 in op.responses:
            assert op.responses[429].headers["Retry-After"]["required"] is True


def test_every_path_sid_parameter_and_sid_field_has_a_pattern():
    spec = default_spec()
    for op in spec:
        for param in op.path_parameters:
            assert "pattern" in param.schema, (op.operation_id, param.name)
        for response in op.responses.values():
            schema = response.schema or {}
            props = schema.get("properties", {})
            if "webhooks" in props:
                props = props["webhooks"]["items"]["properties"]
            for name, prop in props.items():
                if name.endswith("sid"):
                    assert "pattern" in prop, (op.operation_id, name)


def test_every_tightening_and_decision_says_why():
    for filename in ["components.yaml", *API_FILES.values()]:
        text = (default_spec().directory / filename).read_text()
        for match in re.finditer(r"x-(tightening|decision): *(.*)", text):
            assert match.group(2).strip() not in ("", "''", '""'), (filename, match.group(0))


def _examples(document):
    for path, item in document["paths"].items():
        for method, op in item.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            for status, response in op["responses"].items():
                for media in response.get("content", {}).values():
                    for name, example in media.get("examples", {}).items():
                        yield op["operationId"], int(status), name, example["value"]


REFERENCE_EXAMPLES = [
    (api, op, status, name, value)
    for api, filename in [("conversations", "conversations_v1_webhooks.json"),
                          ("chat", "chat_v2_channel_webhooks.json"),
                          ("ip_messaging", "ip_messaging_v2_channel_webhooks.json")]
    for op, status, name, value in _examples(json.loads((DATA / "reference" / filename).read_text()))
]


def test_reference_has_examples_for_every_operation_that_answers_with_a_body():
    covered = {op for _, op, _, _, _ in REFERENCE_EXAMPLES}
    assert covered == OPERATION_IDS - {"DeleteChannelWebhook"}


@pytest.mark.parametrize("api,operation_id,status,name,value", REFERENCE_EXAMPLES,
                         ids=[f"{a}-{o}-{n}" for a, o, _, n, _ in REFERENCE_EXAMPLES])
def test_every_reference_example_response_validates(api, operation_id, status, name, value):
    assert validate_response(operation_id, status, JSON, body(value)) == []


SEED_EXAMPLES = yaml.safe_load((DATA / "seed_examples.yaml").read_text())


@pytest.mark.parametrize("example", SEED_EXAMPLES, ids=[e["source"] for e in SEED_EXAMPLES])
def test_every_seed_example_response_validates(example):
    value = copy.deepcopy(example["body"])
    placeholder = example.get("placeholder")
    if placeholder:
        # Unchanged, the docs' placeholder is the one and only thing rejected ...
        violations = validate_response(example["operation"], example["status"], JSON, body(value))
        assert {v.field for v in violations} == {"$." + placeholder["field"]}
        # ... and with the sid its own url carries, the example conforms.
        value[placeholder["field"]] = re.search(r"/(IS[0-9a-fA-F]{32})/", value["url"]).group(1)
    assert validate_response(example["operation"], example["status"], JSON, body(value)) == []


def test_a_modified_fragment_directory_is_loaded_instead_of_the_bundled_one(tmp_path):
    for path in default_spec().directory.glob("*.yaml"):
        (tmp_path / path.name).write_text(path.read_text())
    chat = yaml.safe_load((tmp_path / "chat_v2.yaml").read_text())
    chat["components"]["schemas"]["ChannelWebhookType"]["enum"].append("flex")
    (tmp_path / "chat_v2.yaml").write_text(yaml.safe_dump(chat, sort_keys=False))
    modified = Spec.load(tmp_path)
    assert "flex" in modified.operation("CreateChannelWebhook").form_fields["Type"]["enum"]
    assert "flex" not in default_spec().operation("CreateChannelWebhook").form_fields["Type"]["enum"]


def test_a_broken_fragment_is_reported_with_its_file(tmp_path):
    for path in default_spec().directory.glob("*.yaml"):
        (tmp_path / path.name).write_text(path.read_text())
    (tmp_path / "chat_v2.yaml").write_text("paths: [unclosed")
    with pytest.raises(SpecError, match="chat_v2.yaml"):
        Spec.load(tmp_path)


def test_reference_spec_loads_with_the_same_operations():
    assert set(reference_spec().operations) == OPERATION_IDS
