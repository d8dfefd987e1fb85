"""Stateless targets and ``webhook-contracts verify``: the conformance matrix.

Two levels:

* the evidence rule of :mod:`twilio_webhook_contracts.contract_tests.stateless` on hand-made exchanges
  (what counts as "a write was not kept", and what protects a stateful server
  with a state bug from being excused);
* whole runs against mocks on 127.0.0.1: the reference mock, a stateless variant
  of it (``tests/stateless_mock.py``) and stateful variants with one state bug.

Runs are small and, where the evidence must be certain, pin a service and a
channel (``--service-sid``/``--channel-sid``): then the example phase writes to
resources the stateful suite reads, so the evidence does not depend on which
sequences Hypothesis happens to explore.
"""

from __future__ import annotations

import json
import socket
from contextlib import contextmanager
from typing import Any, Iterator

import pytest

from twilio_webhook_contracts.contract_tests.checks import CHECKS
from twilio_webhook_contracts.contract_tests.results import Results
from twilio_webhook_contracts.contract_tests.runner import SuiteConfig, run_suite
from twilio_webhook_contracts.contract_tests.stateless import (
    DECLARED_REASON,
    DETECTED_REASON,
    StateEvidence,
    conclude,
    keeps_no_state,
    state_checks,
)
from helpers import ACCOUNT_SID, CHANNEL_SID, SERVICE_SID, WEBHOOK_SID, make_request
from stateless_mock import (
    AccountConfigNeverStored,
    DeleteKeepsWebhook,
    DropsFilters,
    ServicesShareAccountConfig,
    stateless_mock,
)
from twilio_webhook_contracts.cli import main
from twilio_webhook_contracts.mock import MockApp, serve_mock
from twilio_webhook_contracts.spec import default_spec
from twilio_webhook_contracts.target import Credentials, Response, Target

TOKEN = "verify-token-0123456789abcdef"
PINS = ["--service-sid", SERVICE_SID, "--channel-sid", CHANNEL_SID]
SMALL = ["--max-examples", "5", "--no-shrink", "--seed", "7"]
STATE = state_checks()


@pytest.fixture(autouse=True)
def hermetic(monkeypatch, tmp_path):
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_KEY", "TWILIO_API_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def credentials(monkeypatch):
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)


@contextmanager
def served(app: MockApp) -> Iterator[str]:
    with serve_mock(app) as mock:
        yield mock.url


# ---------------------------------------------------------------------------
# the evidence rule, on hand-made exchanges

ACCOUNT_CONFIG = {"account_sid": ACCOUNT_SID, "method": "POST", "filters": None, "pre_webhook_url": None,
                  "post_webhook_url": None, "target": "webhook", "url": "https://x/v1/Configuration/Webhooks"}
SERVICE_CONFIG = {"account_sid": ACCOUNT_SID, "chat_service_sid": SERVICE_SID, "method": None, "filters": None,
                  "pre_webhook_url": None, "post_webhook_url": None, "url": "https://x/v1/Services/x"}


def _exchange(evidence: StateEvidence, operation_id: str, form: dict | None, body: Any, status: int = 200,
              **path: str) -> None:
    request = make_request(operation_id, form, path_params=path or None)
    evidence.observe(Response(request, "http://127.0.0.1/x", status, {"Content-Type": "application/json"},
                              json.dumps(body).encode(), 0.0))


def _account_round(evidence, form, read):
    _exchange(evidence, "UpdateConfigurationWebhook", form, {**ACCOUNT_CONFIG, **read})
    _exchange(evidence, "FetchConfigurationWebhook", None, {**ACCOUNT_CONFIG, **read})


def _service_round(evidence, form, read):
    _exchange(evidence, "UpdateServiceWebhookConfiguration", form, {**SERVICE_CONFIG, **read})
    _exchange(evidence, "FetchServiceWebhookConfiguration", None, {**SERVICE_CONFIG, **read})


def _stateless_history(evidence: StateEvidence) -> None:
    """Two kinds of resource; three writes, each answered with an echo and read back as before."""
    _exchange(evidence, "FetchConfigurationWebhook", None, ACCOUNT_CONFIG)
    _exchange(evidence, "FetchServiceWebhookConfiguration", None, SERVICE_CONFIG)
    for form in ({"Method": "GET"}, {"PreWebhookUrl": "https://example.com/a"}):
        _exchange(evidence, "UpdateConfigurationWebhook", form, ACCOUNT_CONFIG)
        _exchange(evidence, "FetchConfigurationWebhook", None, ACCOUNT_CONFIG)
    _exchange(evidence, "UpdateServiceWebhookConfiguration", {"Method": "GET"}, SERVICE_CONFIG)
    _exchange(evidence, "FetchServiceWebhookConfiguration", None, SERVICE_CONFIG)


def test_writes_never_read_back_on_two_kinds_of_resource_mean_no_state():
    evidence = StateEvidence(default_spec())
    _stateless_history(evidence)
    verdict = evidence.verdict()
    assert (verdict.reverted, verdict.kept, len(verdict.kinds)) == (3, 0, 2)
    assert verdict.keeps_no_state


def test_one_write_read_back_even_in_one_field_means_state():
    evidence = StateEvidence(default_spec())
    _stateless_history(evidence)
    # a fourth write: Method is not kept, but the URL is
    _exchange(evidence, "UpdateConfigurationWebhook", {"Method": "GET", "PostWebhookUrl": "https://example.com/b"}, {})
    _exchange(evidence, "FetchConfigurationWebhook", None, {**ACCOUNT_CONFIG, "post_webhook_url": "https://example.com/b"})
    assert evidence.verdict().kept == 1
    assert not evidence.verdict().keeps_no_state


def test_one_kind_of_resource_never_stored_is_a_state_bug_not_statelessness():
    """A server that never stores the account configuration, and was only seen writing that."""
    evidence = StateEvidence(default_spec())
    _exchange(evidence, "FetchConfigurationWebhook", None, ACCOUNT_CONFIG)
    for form in ({"Method": "GET"}, {"Target": "flex"}, {"PreWebhookUrl": "https://example.com/a"}, {"Method": "GET"}):
        _account_round(evidence, form, {})
    verdict = evidence.verdict()
    assert verdict.reverted == 4 and verdict.kept == 0
    assert not verdict.keeps_no_state  # one kind of resource: could be one missing table


def test_only_the_last_write_of_a_field_is_judged():
    """A correct server: GET then POST written back to back; the read shows POST. The first write is
    not "reverted" -- a later write set the field again."""
    evidence = StateEvidence(default_spec())
    _exchange(evidence, "FetchConfigurationWebhook", None, ACCOUNT_CONFIG)
    _exchange(evidence, "UpdateConfigurationWebhook", {"Method": "GET"}, {**ACCOUNT_CONFIG, "method": "GET"})
    _exchange(evidence, "UpdateConfigurationWebhook", {"Method": "POST", "Target": "flex"}, {**ACCOUNT_CONFIG, "target": "flex"})
    _exchange(evidence, "FetchConfigurationWebhook", None, {**ACCOUNT_CONFIG, "target": "flex"})
    verdict = evidence.verdict()
    assert (verdict.reverted, verdict.kept) == (0, 1)


def test_rejected_unauthenticated_and_unread_writes_are_no_evidence():
    evidence = StateEvidence(default_spec())
    _exchange(evidence, "UpdateConfigurationWebhook", {"Method": "GET"}, ACCOUNT_CONFIG)  # no read before it
    _exchange(evidence, "FetchConfigurationWebhook", None, ACCOUNT_CONFIG)
    _exchange(evidence, "UpdateConfigurationWebhook", {"Method": "GET"}, {"code": 20001}, status=400)
    _exchange(evidence, "FetchConfigurationWebhook", None, ACCOUNT_CONFIG)
    verdict = evidence.verdict()
    assert (verdict.reverted, verdict.kept, verdict.other) == (0, 0, 0)


def test_a_created_webhook_missing_from_its_channels_list_counts_and_one_present_does_not():
    evidence = StateEvidence(default_spec())
    path = {"ServiceSid": SERVICE_SID, "ChannelSid": CHANNEL_SID}
    webhook = {"sid": WEBHOOK_SID, "type": "webhook", "configuration": {"url": "https://example.com/h"}}
    _exchange(evidence, "CreateChannelWebhook", {"Type": "webhook", "Configuration.Url": "https://example.com/h"},
              webhook, status=201, **path)
    empty = {"webhooks": [], "meta": {"next_page_url": None}}
    _exchange(evidence, "ListChannelWebhook", None, empty, **path)
    assert evidence.verdict().reverted == 1
    # an example-answering mock lists the very sid its create example answered: that is not "kept"
    _exchange(evidence, "CreateChannelWebhook", {"Type": "webhook"}, webhook, status=201, **path)
    _exchange(evidence, "ListChannelWebhook", None, {"webhooks": [webhook], "meta": {"next_page_url": None}}, **path)
    assert (evidence.verdict().reverted, evidence.verdict().kept) == (1, 0)
    # deleted in between: no longer expected in the list
    _exchange(evidence, "CreateChannelWebhook", {"Type": "webhook"}, webhook, status=201, **path)
    _exchange(evidence, "DeleteChannelWebhook", None, None, status=204, Sid=WEBHOOK_SID, **path)
    _exchange(evidence, "ListChannelWebhook", None, empty, **path)
    assert evidence.verdict().reverted == 1


def _results_with_state_failures() -> Results:
    results = Results(seed=1)
    for check, count in (("write_read_back", 30), ("absent_fields_unchanged", 12), ("list_reflects_webhooks", 5)):
        for index in range(count):
            results.ran(check)
            results.record(check, f"Operation{index % 3}", [f"{check}: expected x, found y"])
    results.ran("status_code_documented", 10)
    return results


def test_conclude_folds_the_state_failures_of_a_stateless_target_into_one_line():
    evidence = StateEvidence(default_spec())
    _stateless_history(evidence)
    results = _results_with_state_failures()
    verdict = conclude(results, evidence)
    assert verdict is not None and keeps_no_state(results) == "detected"
    assert [(f.check, f.operation_id) for f in results.violations] == [("write_read_back", "UpdateConfigurationWebhook")]
    line = results.violations[0].explanation
    assert line.startswith(DETECTED_REASON) and "47 state-check failures" in line and "--stateless" in line
    assert len(results.violations[0].steps) == 2  # the write, and the read that shows the old value
    assert {name: results.status_of(name) for name in STATE} == {
        name: "failed" if name == "write_read_back" else "skipped" for name in STATE}
    assert all(results.skipped[name] == DETECTED_REASON for name in STATE if name != "write_read_back")
    assert results.status_of("status_code_documented") == "passed"


def test_conclude_leaves_the_failures_of_a_target_that_keeps_state_alone():
    evidence = StateEvidence(default_spec())
    _stateless_history(evidence)
    _account_round(evidence, {"Target": "flex"}, {"target": "flex"})  # kept once
    results = _results_with_state_failures()
    before = {key: record.occurrences for key, record in results.failures.items()}
    assert conclude(results, evidence) is None
    assert {key: record.occurrences for key, record in results.failures.items()} == before
    assert keeps_no_state(results) is None
    assert results.target["state_evidence"]["writes_kept"] == 1


def test_declared_stateless_marks_every_state_check_skipped():
    results = Results(seed=1)
    conclude(results, None, declared=True)
    assert all(results.status_of(name) == "skipped" and results.skipped[name] == DECLARED_REASON for name in STATE)
    assert keeps_no_state(results) == "declared"


# ---------------------------------------------------------------------------
# whole runs


def _run(app: MockApp, **config: Any) -> Results:
    with serve_mock(app) as mock:
        with Target(mock.url, credentials=Credentials(ACCOUNT_SID, TOKEN)) as target:
            return run_suite(target, SuiteConfig(database="none", **config))


PINNED = dict(max_examples=8, stateful_examples=10, seed=7, shrink=False, service_sid=SERVICE_SID, channel_sid=CHANNEL_SID)


def test_a_stateless_mock_is_recognised_and_reported_in_one_line():
    results = _run(stateless_mock(accounts={ACCOUNT_SID: TOKEN}), **PINNED)
    assert keeps_no_state(results) == "detected", results.target.get("state_evidence")
    state_failures = [f for f in results.violations if f.family == "state"]
    assert [f.check for f in state_failures] == ["write_read_back"]
    assert state_failures[0].explanation.startswith(DETECTED_REASON)
    assert all(results.skipped.get(name) == DETECTED_REASON for name in STATE if name != "write_read_back")
    # it answers every single request correctly: only state is missing
    assert [f.check for f in results.violations] == ["write_read_back"]


@pytest.mark.parametrize("variant,pinned,bug_check", [
    # one kind of resource never stored: its writes are all "reverted"; the services keep state
    (AccountConfigNeverStored, True, "write_read_back"),
    # one field never stored: reverted writes on both kinds of configuration, but the others are kept
    (DropsFilters, True, "write_read_back"),
    (ServicesShareAccountConfig, False, "scopes_isolated"),
    (DeleteKeepsWebhook, False, "deleted_webhook_gone"),
])
def test_a_stateful_mock_with_one_state_bug_is_not_called_stateless(variant, pinned, bug_check):
    config = PINNED if pinned else {key: value for key, value in PINNED.items() if not key.endswith("_sid")}
    results = _run(variant(accounts={ACCOUNT_SID: TOKEN}), **config)
    assert keeps_no_state(results) is None
    assert results.target["state_evidence"]["writes_kept"] > 0
    assert results.check_failures[bug_check] > 0, "the bug itself is found, and reported as it is"
    assert all(DETECTED_REASON not in f.explanation for f in results.violations)


def test_run_stateless_skips_the_state_checks_and_passes_a_stateless_mock(capsys, credentials):
    with served(stateless_mock(accounts={ACCOUNT_SID: TOKEN})) as url:
        code = main(["run", "--target", url, "--stateless", "-v", *SMALL])
    out = capsys.readouterr().out
    assert code == 0, out
    for name in STATE:
        assert f"skip {name}: {DECLARED_REASON}" in out
    assert not any(line.startswith("stateful suite") for line in out.splitlines())  # not run


# ---------------------------------------------------------------------------
# verify: the matrix


def _verify(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["verify", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _rows(out: str) -> dict[str, list[str]]:
    rows = {}
    for line in out.splitlines():
        name = line.split("  ")[0].strip()
        if name in CHECKS:
            rows[name] = [cell.strip() for cell in line[len(name):].split("  ") if cell.strip()]
    return rows


def test_the_matrix_for_our_mock_is_all_pass(capsys, tmp_path):
    code, out, _ = _verify(capsys, "mock", "--max-examples", "30", "--seed", "1", "-q",
                           "--report-json", str(tmp_path / "m.json"))
    assert code == 0, out
    rows = _rows(out)
    assert set(rows) == set(CHECKS)
    assert all(len(cells) == 1 and cells[0].startswith("pass ") for cells in rows.values()), out
    data = json.loads((tmp_path / "m.json").read_text())
    assert data["exit_status"] == 0 and data["targets"][0]["keeps_state"] is True
    assert {c["cells"]["mock"]["status"] for c in data["checks"]} == {"pass"}


def test_a_stateless_target_shows_no_state_for_the_state_checks(capsys, credentials, tmp_path):
    with served(stateless_mock(accounts={ACCOUNT_SID: TOKEN})) as url:
        code, out, _ = _verify(capsys, "mock", f"forgetful={url}", *SMALL, *PINS,
                               "--report-json", str(tmp_path / "m.json"), "--report-markdown", str(tmp_path / "m.md"),
                               "--junitxml", str(tmp_path / "m.xml"))
    assert code == 1  # keeping no state is not a pass
    rows = _rows(out)
    for name in STATE:
        assert rows[name][1] == "no state", out
    for name in set(CHECKS) - set(STATE):
        assert rows[name][1].startswith("pass"), out
    assert all(cells[0].startswith("pass") for cells in rows.values())
    assert "forgetful: 14 pass, 0 fail, 12 no state, 0 skip" in out
    # one line, not dozens of round-trip failures
    failure_lines = [line for line in out.splitlines() if line.startswith("  ") and "[" in line]
    assert [line.split()[0] for line in failure_lines] == ["write_read_back"], out
    assert DETECTED_REASON in failure_lines[0]

    data = json.loads((tmp_path / "m.json").read_text())
    assert [t["label"] for t in data["targets"]] == ["mock", "forgetful"]
    forgetful = data["targets"][1]
    assert forgetful["keeps_state"] is False and forgetful["stateless"] == "detected"
    assert {c["cells"]["forgetful"]["status"] for c in data["checks"] if c["family"] == "state"} == {"no state"}
    markdown = (tmp_path / "m.md").read_text()
    assert "| Check | Family | mock | forgetful |" in markdown and "➖ no state" in markdown
    assert (tmp_path / "m.xml").read_text().count("<testsuite ") == 2
    assert TOKEN not in (tmp_path / "m.json").read_text() + markdown


def test_verify_stateless_declares_it_for_every_target(capsys, credentials):
    with served(stateless_mock(accounts={ACCOUNT_SID: TOKEN})) as url:
        code, out, _ = _verify(capsys, f"forgetful={url}", "--stateless", *SMALL, "-q")
    assert code == 0, out
    rows = _rows(out)
    assert all(rows[name] == ["skip"] for name in STATE)
    assert "declared stateless" in out


def test_an_unreachable_target_is_shown_and_the_others_still_verified(capsys, credentials):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        code, out, _ = _verify(capsys, "mock", f"gone=http://127.0.0.1:{port}", *SMALL, "-q")
    assert code == 3
    rows = _rows(out)
    assert all(cells[0].startswith("pass") and cells[1] == "unreachable" for cells in rows.values())
    assert f"gone: unreachable: cannot reach http://127.0.0.1:{port}: connection refused" in out


def test_per_api_urls_and_labels(capsys, credentials):
    with served(MockApp(accounts={ACCOUNT_SID: TOKEN})) as conversations, \
            served(MockApp(accounts={ACCOUNT_SID: TOKEN})) as chat:
        code, out, _ = _verify(capsys, f"{conversations},{chat}", *SMALL, "--no-stateful", "-q")
    assert code == 0, out
    label = f"{conversations.split('//')[1]}+{chat.split('//')[1]}"
    assert out.splitlines()[0].split()[-1] == label


@pytest.mark.parametrize("args,message", [
    (["ftp://127.0.0.1:1"], "expected an absolute http(s) URL"),
    (["127.0.0.1:4010"], "expected an absolute http(s) URL"),
    (["a=http://x,http://y,http://z"], "expected [LABEL=]URL"),
    (["http://AC1:secret@127.0.0.1:1"], "must not carry credentials"),
    (["http://127.0.0.1:1"], "no credentials"),
    (["mock", "--max-examples", "0"], "--max-examples"),
])
def test_usage_errors_exit_2_with_one_line(capsys, args, message):
    code, out, err = _verify(capsys, *args)
    assert code == 2
    assert message in err and err.count("\n") == 1
