"""Coverage that does not depend on luck: every documented enum value, and every field each webhook
``Type`` uses, is sent in an accepted write in every run -- even a ten-example one -- and the JSON
report shows the coverage per (operation, field), so that a gap shows.

The evidence is the mock's own request log (what reached the wire), not the generator.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

import pytest

import variants as v
from twilio_webhook_contracts.contract_tests.runner import SuiteConfig, run_suite
from twilio_webhook_contracts.mock import MockApp, serve_mock
from twilio_webhook_contracts.report import coverage_gaps, field_coverage, to_json
from twilio_webhook_contracts.spec import default_spec
from twilio_webhook_contracts.target import Credentials, Target

SEEDS = (1, 2, 3, 4, 5)


def _run(app: MockApp, seed: int):
    with serve_mock(app) as mock:
        with Target(mock.url, credentials=Credentials(mock.account_sid, mock.auth_token), timeout=10) as target:
            results = run_suite(target, SuiteConfig(max_examples=10, seed=seed, database=None, shrink=False,
                                                    workers=1))
        return results, mock.requests


def _accepted_forms(log, operation_id: str) -> list[list[tuple[str, str]]]:
    return [parse_qsl(entry.body, keep_blank_values=True) for entry in log
            if entry.operation_id == operation_id and 200 <= entry.status < 300]


@pytest.mark.parametrize("seed", SEEDS)
def test_every_documented_value_and_field_is_accepted_on_every_seed(seed):
    results, log = _run(MockApp(), seed)
    assert not results.failures
    spec = default_spec()
    # every enum value of every write reached the wire in an accepted request
    for operation_id in spec.operations:
        properties = (spec.operation(operation_id).form_schema or {}).get("properties") or {}
        sent = {(k, val) for form in _accepted_forms(log, operation_id) for k, val in form}
        for name, schema in properties.items():
            values = schema.get("enum") or (schema.get("items") or {}).get("enum") or ()
            missing = [value for value in values if (name, value) not in sent]
            assert not missing, f"seed {seed}: {operation_id} {name}: never accepted with {missing}"
    # every (operation, field, Type) row of the report was accepted at least once
    rows = field_coverage(results)
    assert {row["type"] for row in rows if row["operation"] == "CreateChannelWebhook"} == {"webhook", "trigger", "studio"}
    assert [row for row in rows if row["accepted"] == 0] == []
    assert coverage_gaps(results) == []
    # the rows count what the log shows (the counting is not the generator's)
    flow_updates = sum(1 for form in _accepted_forms(log, "UpdateChannelWebhook")
                       if any(k == "Configuration.FlowSid" for k, _ in form))
    row = next(r for r in rows if (r["operation"], r["field"]) == ("UpdateChannelWebhook", "Configuration.FlowSid"))
    assert row["accepted"] == flow_updates >= 1


def test_a_refused_field_shows_as_a_gap_in_the_json_report():
    results, log = _run(v.RefusesFlowSidOnUpdate(), seed=1)
    assert ("valid_request_accepted", "UpdateChannelWebhook") in results.failures
    report = json.loads(json.dumps(to_json(results)))
    row = next(r for r in report["field_coverage"]
               if (r["operation"], r["field"]) == ("UpdateChannelWebhook", "Configuration.FlowSid"))
    assert row["accepted"] == 0 and row["rejected"] == row["sent"] > 0
    assert "UpdateChannelWebhook Configuration.FlowSid" in coverage_gaps(results)


def test_a_read_only_run_reports_no_gaps():
    with serve_mock(MockApp()) as mock:
        with Target(mock.url, credentials=Credentials(mock.account_sid, mock.auth_token), timeout=10) as target:
            results = run_suite(target, SuiteConfig(max_examples=3, seed=1, database=None, shrink=False,
                                                    allow_writes=False))
    assert all(row["accepted"] == 0 for row in field_coverage(results))
    assert coverage_gaps(results) == []  # no write was accepted, so there is nothing to call a gap
