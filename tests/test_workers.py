"""``--workers N``: the same verdicts from several threads, and state checks that stay correct.

Each worker's state machine owns services and channels no other worker touches, so
a model never sees another worker's writes: a correct server gives no false alarm,
and a broken one is still caught by the check that owns the defect. Named (live)
resources are one each, so only worker 0 may model them; and a live run with
workers still leaves the account exactly as it found it.
"""

from __future__ import annotations

import pytest

import variants as v
from twilio_webhook_contracts.contract_tests.checks import CHECKS
from twilio_webhook_contracts.contract_tests.runner import Suite, SuiteConfig, run_suite
from twilio_webhook_contracts.mock import SUITE_EMBEDDED_POLICIES, MockApp, serve_mock
from twilio_webhook_contracts.target import Credentials, Target

from live_helpers import TOKEN_ENV, cli, live_args, report_args
from test_live import ACCOUNTS, seed_state

STATE_RUNS = 20


def run_with_workers(app: MockApp, workers: int, *, seed: int = 1, max_examples: int = 10,
                     stateful_examples: int | None = None, timeout: float = 5.0):
    app.configure(SUITE_EMBEDDED_POLICIES)  # the spec's PageSize cap, which the strategies call the boundary
    with serve_mock(app) as mock:
        credentials = Credentials(mock.account_sid, mock.auth_token)
        with Target(mock.url, credentials=credentials, timeout=timeout) as target:
            results = run_suite(target, SuiteConfig(
                max_examples=max_examples, seed=seed, database=None, shrink=False,
                stateful_examples=stateful_examples, workers=workers))
        return results, mock.requests


def describe(results) -> str:
    return "\n".join([f"aborted: {results.aborted}"] +
                     [f"{r.check} [{r.operation_id}]: {r.explanation[:200]}" for r in results.violations])


@pytest.mark.parametrize("workers", [2, 4])
def test_the_reference_mock_passes_every_check_with_workers(workers):
    results, log = run_with_workers(MockApp(), workers, seed=workers, stateful_examples=8)
    assert results.violations == [], describe(results)
    assert results.aborted is None
    assert {name: results.status_of(name) for name in CHECKS} == {name: "passed" for name in CHECKS}
    # every worker ran its own state machine: its services appear in the log, and no other worker's did
    suite = Suite.__new__(Suite)  # only for pools(): the same derivation the run used
    suite.config, suite.seed = SuiteConfig(seed=workers), workers
    owned = [suite.pools(i, workers).services for i in range(workers)]
    assert all(owned) and len({sid for services in owned for sid in services}) == 2 * workers
    for services in owned:
        assert any(services[0] in entry.path for entry in log)
    assert results.requests_sent == len(log)


@pytest.mark.parametrize("make, check", [
    (v.ServicesShareOneConfiguration, "scopes_isolated"),
    (v.DeleteIsNoOp, "deleted_webhook_gone"),
    (v.ServiceUpdateReplacesAll, "absent_fields_unchanged"),
    (v.WrongAccountSid, "account_sid_matches"),
    (v.MalformedSidIs400, "status_code_documented"),
])
def test_a_broken_server_is_caught_by_the_same_check_with_workers(make, check):
    results, _ = run_with_workers(make(), 3, seed=2, stateful_examples=STATE_RUNS)
    assert check in {name for name, _ in results.failures}, describe(results)


def test_a_server_that_never_answers_one_endpoint_still_ends_the_run_with_workers():
    app = v.NeverAnswers("UpdateChannelWebhook")
    results, log = run_with_workers(app, 3, timeout=0.5)
    assert set(results.failures) == {("responds_within_timeout", "UpdateChannelWebhook")}, describe(results)
    assert results.aborted is None and results.finished is not None
    # not hammered: every worker that meets the silent operation finds it dead after the first timeout
    assert 1 <= app.calls <= 3
    assert {e.operation_id for e in log if e.operation_id} == set(app.spec.operations) - {"UpdateChannelWebhook"}


def test_named_resources_belong_to_worker_zero_alone():
    suite = Suite.__new__(Suite)
    suite.config = SuiteConfig(seed=7, service_sid="IS" + "1" * 32, channel_sid="CH" + "2" * 32)
    suite.seed = 7
    first, second = suite.pools(0, 3), suite.pools(1, 3)
    assert first.services == ("IS" + "1" * 32,) and first.channels == (("IS" + "1" * 32, "CH" + "2" * 32),)
    assert first.include_account
    assert (second.services, second.channels, second.include_account) == ((), (), False)


def test_a_live_run_with_workers_leaves_the_account_exactly_as_it_found_it(tmp_path):
    with serve_mock(MockApp(accounts=ACCOUNTS)) as mock:
        initial = seed_state(mock)
        outcome = cli([*live_args(mock.url, "--workers", "3"), *report_args(tmp_path)], tmp_path, TOKEN_ENV)
        state = mock.state.snapshot()
        log = mock.requests
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert [e for e in log if e.is_write and e.status < 300]  # it did write
    assert state == initial
    assert "live restore: done, verified" in outcome.stdout


@pytest.mark.parametrize("value", ["0", "65", "-1"])
def test_workers_out_of_range_is_a_usage_error(tmp_path, value):
    outcome = cli(["--workers", value], tmp_path)
    assert outcome.code == 2
    assert outcome.stderr == "webhook-contracts: error: --workers must be between 1 and 64\n"
