"""`webhook-contracts spec`: the exported documents are valid OpenAPI and are exactly the fragments."""

from __future__ import annotations

import json

import pytest
import yaml
from openapi_spec_validator import validate

from twilio_webhook_contracts.cli import main
from twilio_webhook_contracts.export import document_text, export_filename, load_exported, write_documents
from twilio_webhook_contracts.spec import API_FILES, Spec, default_spec


def _shape(spec: Spec) -> dict:
    """What a consumer of the documents sees of each operation."""
    return {
        op.operation_id: (
            op.api, op.method, op.path, op.server,
            tuple((p.name, p.location, p.required, json.dumps(p.schema, sort_keys=True)) for p in op.parameters),
            json.dumps(op.form_schema, sort_keys=True), op.body_required,
            tuple((status, r.content_type, json.dumps(r.schema, sort_keys=True), json.dumps(r.headers, sort_keys=True))
                  for status, r in op.responses.items()),
        )
        for op in spec
    }


@pytest.mark.parametrize("fmt", ["yaml", "json"])
@pytest.mark.parametrize("api", sorted(API_FILES))
def test_exported_document_is_valid_openapi_and_loads_back_to_the_same_operations(tmp_path, api, fmt):
    text = document_text(api, fmt)
    document = json.loads(text) if fmt == "json" else yaml.safe_load(text)
    validate(document)  # openapi-spec-validator: raises on any error
    assert _without_encoding(document) == default_spec().documents[api]
    reloaded = Spec(tmp_path, {api: document})
    expected = {op_id: shape for op_id, shape in _shape(default_spec()).items()
                if default_spec().operation(op_id).api == api}
    assert _shape(reloaded) == expected
    assert len(expected) == {"conversations": 4, "chat": 5}[api]


def _without_encoding(document):
    document = json.loads(json.dumps(document))
    for item in document["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict):
                for media in operation.get("requestBody", {}).get("content", {}).values():
                    media.pop("encoding", None)
    return document


def test_array_form_fields_get_the_default_encoding_spelled_out():
    """Repeated keys, as Twilio reads them: OpenAPI's default, made explicit for Prism."""
    found = {}
    for api in API_FILES:
        for item in yaml.safe_load(document_text(api))["paths"].values():
            for operation in item.values():
                if isinstance(operation, dict) and "requestBody" in operation:
                    media = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]
                    found[operation["operationId"]] = media.get("encoding", {})
    arrays = {op.operation_id: sorted(n for n, s in op.form_fields.items() if s.get("type") == "array")
              for op in default_spec() if op.form_schema is not None}
    assert {op: sorted(enc) for op, enc in found.items()} == arrays
    assert arrays["CreateChannelWebhook"] == ["Configuration.Filters", "Configuration.Triggers"]
    assert all(e == {"style": "form", "explode": True} for enc in found.values() for e in enc.values())


def test_both_documents_together_give_every_operation(tmp_path):
    written = write_documents(tmp_path, "json")
    assert sorted(p.name for p in written) == ["chat_v2.json", "conversations_v1.json"]
    documents = {api: load_exported(tmp_path / export_filename(api, "json")) for api in API_FILES}
    assert _shape(Spec(tmp_path, documents)) == _shape(default_spec())


def test_notes_stay_in_the_export_and_references_are_internal():
    text = document_text("chat", "yaml")
    assert "x-tightening" in text and "x-decision" in text
    assert "components.yaml#" not in text
    assert text.startswith("# ")  # says where it comes from


def test_cli_writes_one_api_to_stdout(capsys):
    assert main(["spec", "--api", "chat", "--format", "json"]) == 0
    out = capsys.readouterr().out
    assert _without_encoding(json.loads(out)) == default_spec().documents["chat"]


def test_cli_writes_both_apis_into_a_directory(tmp_path, capsys):
    target = tmp_path / "out" / "specs"
    assert main(["spec", "--output", str(target)]) == 0
    assert sorted(p.name for p in target.iterdir()) == ["chat_v2.yaml", "conversations_v1.yaml"]
    for api in API_FILES:
        assert _without_encoding(load_exported(target / export_filename(api, "yaml"))) == default_spec().documents[api]
    assert "wrote" in capsys.readouterr().err


def test_cli_with_api_and_a_directory_uses_the_documents_own_name(tmp_path):
    assert main(["spec", "--api", "conversations", "--format", "json", "--output", str(tmp_path)]) == 0
    assert _without_encoding(load_exported(tmp_path / "conversations_v1.json")) == default_spec().documents["conversations"]
    file = tmp_path / "mine.yaml"
    assert main(["spec", "--api", "chat", "--output", str(file)]) == 0
    assert _without_encoding(load_exported(file)) == default_spec().documents["chat"]


@pytest.mark.parametrize("argv,message", [
    (["spec"], "pass --api"),
    (["spec", "--format", "xml", "--api", "chat"], "invalid choice"),
    (["spec", "--api", "sms"], "invalid choice"),
])
def test_cli_usage_errors_are_one_line_and_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_cli_refuses_two_documents_into_one_file(tmp_path, capsys):
    existing = tmp_path / "file.yaml"
    existing.write_text("x")
    assert main(["spec", "--output", str(existing)]) == 2
    assert "directory" in capsys.readouterr().err
    assert existing.read_text() == "x"
