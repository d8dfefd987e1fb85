"""Issue 14: every run has a budget, a cut run says what it did not finish, shrinking is bounded,
repeats on the wire are not re-sent, and ``--workers auto`` follows the round trip.

Counted, never timed: request counts and report contents, against the in-process mock.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from hypothesis.database import InMemoryExampleDatabase

import variants as v
from twilio_webhook_contracts.contract_tests.budget import KeyedDatabase, ShrinkAllowance, WireMemo, wire_key
from twilio_webhook_contracts.contract_tests.results import CheckFailed, Results
from twilio_webhook_contracts.contract_tests.runner import SuiteConfig, auto_workers, run_suite
from twilio_webhook_contracts.mock import MockApp, serve_mock
from twilio_webhook_contracts.report import console_summary, markdown_summary, to_json, to_junit_xml
from twilio_webhook_contracts.request import Request
from twilio_webhook_contracts.target import BudgetSpent, Credentials, Limits, Target


def _run(app: MockApp, limits: Limits | None = None, **config) -> tuple[Results, int]:
    with serve_mock(app) as mock:
        with Target(mock.url, credentials=Credentials(mock.account_sid, mock.auth_token), limits=limits,
                    sleep=lambda s: None) as target:
            results = run_suite(target, SuiteConfig(database=None, **config))
        return results, len(mock.requests)


# -- the budget --------------------------------------------------------------


def test_limits_refuse_with_budget_spent_and_describe_themselves():
    limits = Limits(max_requests=2, time_budget=30)
    limits.acquire()
    limits.acquire()
    assert isinstance(limits.refusal(), BudgetSpent)
    assert limits.describe() == "budget 2 requests, 30 s"
    assert Limits().describe() == "budget no request limit, no time limit"
    requests, seconds = Limits.default_budget(50)
    assert requests >= 10_000 and seconds >= 600  # far above a default run (~1,500 requests)
    assert Limits.default_budget(1000) == (200_000, 12_000.0)


def test_a_budget_cut_run_marks_every_unfinished_check_in_every_report():
    results, received = _run(MockApp(), Limits(max_requests=150), seed=3, max_examples=10)
    assert received <= 150 + 5  # clean-up requests are not budgeted
    assert results.aborted == "stopped early: request budget of 150 requests is spent"
    assert results.unfinished and not results.failures
    assert all(reason == "not finished (budget): request budget of 150 requests is spent"
               for reason in results.unfinished.values())
    report = to_json(results)
    rows = {row["name"]: row for row in report["checks"]}
    assert {row["status"] for row in rows.values()} == {"not_finished"}
    assert report["counts"]["checks_not_finished"] == len(rows)
    assert "not finished (budget): " in console_summary(results)
    assert "not finished (budget) checks" in console_summary(results).splitlines()[-1]
    assert "⏸ not finished (budget)" in markdown_summary(results)
    cases = ET.fromstring(to_junit_xml(results)).iter("testcase")
    assert all(case.find("skipped").get("message").startswith("not finished (budget)") for case in cases)


def test_a_failure_found_before_the_cut_stays_failed():
    results, _ = _run(v.UpdateAnswers202(), Limits(max_requests=200), seed=3, max_examples=10)
    assert results.status_of("status_code_documented") == "failed"
    assert "status_code_documented" not in results.unfinished
    assert results.unfinished  # the rest was not finished


def test_the_cli_prints_its_budget_first_and_exits_1_when_cut(tmp_path, capsys):
    from twilio_webhook_contracts.cli import main

    report = tmp_path / "r.json"
    code = main(["run", "--max-requests", "100", "--seed", "1", "--database", "none", "--report-json", str(report)])
    out = capsys.readouterr().out
    assert out.splitlines()[0].endswith("; budget 100 requests, 600 s")
    assert code == 1
    assert json.loads(report.read_text())["counts"]["checks_not_finished"] > 0
    assert main(["run", "--max-requests", "-1"]) == 2


# -- bounded shrinking, deduplication, keyed database -------------------------


@pytest.mark.filterwarnings("ignore:Using `reject` outside a property-based test")
def test_the_allowance_rejects_only_after_a_failure_has_spent_its_share():
    sent, failures = [0], [0]
    allowance = ShrinkAllowance(lambda: sent[0], lambda: failures[0], max_examples=10, minimum=5)
    for _ in range(4):  # passing examples: never rejected
        allowance.before_example()
        sent[0] += 3
    failures[0] = 1
    allowance.before_example()  # notices the failure: 3 requests per example x 10 examples
    assert allowance.allowance == 30
    sent[0] += 29
    allowance.before_example()
    sent[0] += 1
    from hypothesis.errors import UnsatisfiedAssumption

    with pytest.raises(UnsatisfiedAssumption):
        allowance.before_example()
    assert allowance.rejected == 1


def test_a_broken_server_costs_at_most_twice_a_passing_run():
    passing, _ = _run(MockApp(), seed=2, max_examples=20)
    failing, _ = _run(v.IgnoresUnknownEnumValues(), seed=2, max_examples=20)
    assert {"invalid_request_rejected"} <= {check for check, _ in failing.failures}
    assert failing.requests_sent <= 2 * passing.requests_sent, (failing.requests_sent, passing.requests_sent)


def test_a_repeated_wire_request_is_answered_from_the_memo():
    memo = WireMemo()
    request = Request.build("FetchConfigurationWebhook", "GET", "/v1/Configuration/Webhooks")
    sent = []
    memo.run([wire_key(request)], lambda: sent.append(1))
    memo.run([wire_key(request)], lambda: sent.append(1))
    assert sent == [1] and memo.saved == 1
    failure = CheckFailed("x")

    def fails() -> None:
        sent.append(2)
        raise failure

    other = [wire_key(request, "none")]
    with pytest.raises(CheckFailed) as first:
        memo.run(other, fails)
    with pytest.raises(CheckFailed) as again:
        memo.run(other, fails)
    assert again.value is first.value and sent == [1, 2]  # the same failure, not sent again


def test_keyed_databases_keep_phases_apart():
    inner = InMemoryExampleDatabase()
    one, two = KeyedDatabase(inner, "A/valid"), KeyedDatabase(inner, "A/invalid")
    one.save(b"k", b"v1")
    two.save(b"k", b"v2")
    assert list(one.fetch(b"k")) == [b"v1"] and list(two.fetch(b"k")) == [b"v2"]
    one.move(b"k", b"k2", b"v1")
    assert list(one.fetch(b"k2")) == [b"v1"] and not list(one.fetch(b"k"))
    two.delete(b"k", b"v2")
    assert not list(two.fetch(b"k"))


def test_the_example_database_still_replays_with_a_seed(tmp_path):
    """@settings over @seed: the run is seeded and still saves its failing examples."""
    database = str(tmp_path / "db")
    with serve_mock(v.UpdateAnswers202()) as mock:
        with Target(mock.url, credentials=Credentials(mock.account_sid, mock.auth_token)) as target:
            results = run_suite(target, SuiteConfig(seed=4, max_examples=5, stateful=False, database=database))
    assert results.failures
    assert any(path.is_file() for path in (tmp_path / "db").rglob("*"))


# -- --workers auto -----------------------------------------------------------


@pytest.mark.parametrize(("round_trip", "rate_limit", "expected"), [
    (0.0003, None, 1),   # loopback
    (0.02, None, 4),     # 20 ms away
    (0.05, None, 8),     # capped
    (0.15, None, 8),
    (0.1, 5.0, 1),       # a live rate limit of 5/s keeps one busy over a 100 ms round trip
])
def test_auto_workers_follow_the_round_trip(round_trip, rate_limit, expected):
    assert auto_workers(round_trip, rate_limit) == expected


def test_workers_auto_on_a_local_mock_keeps_one_worker():
    results, _ = _run(MockApp(), seed=1, max_examples=5, workers="auto")
    assert not results.failures and results.target["workers"] == 1


def test_workers_auto_keeps_one_worker_against_a_twilio_host():
    from twilio_webhook_contracts.contract_tests.runner import Suite

    with serve_mock(MockApp()) as mock:  # for its credentials only
        target = Target("https://conversations.twilio.com", "https://chat.twilio.com",
                        credentials=Credentials(mock.account_sid, mock.auth_token))
        suite = Suite(target, SuiteConfig(seed=1, workers="auto"))
        suite.round_trip = 0.2  # what a far-away host measures: auto alone would pick 8

        def no_network(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            raise AssertionError("no request may leave this machine")

        target.send = no_network  # type: ignore[method-assign]
        assert suite.choose_workers(suite.session()) == 1
        target.close()
