"""Zero false alarms: the suite against the mock under every policy a correct server may choose.

Each policy is one open point (``twilio_webhook_contracts/open_points.py``): the
mock makes the other choice a correct Twilio server could make, and the suite must
find no violation -- one alternative at a time and all of them together, over five
seeds each. The seeds of one setting run on threads at once (each against its own
mock): the transport policies spend their time waiting (latency, Retry-After), and
waits overlap.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from twilio_webhook_contracts.contract_tests.runner import SuiteConfig, _serialized_ast_parse, run_suite
from twilio_webhook_contracts.mock import MockApp
from twilio_webhook_contracts.mock.policies import CATALOGUE, Policies, Resources
from twilio_webhook_contracts.mock.server import serve_mock
from twilio_webhook_contracts.open_points import OPEN_POINTS
from twilio_webhook_contracts.target import Credentials, Target

SEEDS = (1, 2, 3, 4, 5)
SERVICE = "IS" + "1" * 32
CHANNEL = "CH" + "2" * 32
#: what a mock under ``parents=declared`` knows, and the suite is pointed at
RESOURCES = (f"{SERVICE}/{CHANNEL}", f"{SERVICE}/general")

ALTERNATIVES = [(policy.name, value) for policy in CATALOGUE for value in policy.values[1:]]


def _run(pairs: list[str], seed: int, *, pinned: bool) -> tuple[object, MockApp]:
    app = MockApp(policies=Policies.from_pairs(pairs), resources=Resources.parse(RESOURCES))
    with serve_mock(app) as mock:
        credentials = Credentials(mock.account_sid, mock.auth_token)
        with Target(mock.url, credentials=credentials, timeout=10) as target:
            config = SuiteConfig(max_examples=8, seed=seed, database=None, shrink=False, stateful_examples=3,
                                 service_sid=SERVICE if pinned else None, channel_sid=CHANNEL if pinned else None)
            return run_suite(target, config), app


def _matrix(pairs: list[str], *, pinned: bool = False) -> None:
    with _serialized_ast_parse(), ThreadPoolExecutor(len(SEEDS)) as pool:
        outcomes = list(pool.map(lambda seed: (seed, *_run(pairs, seed, pinned=pinned)), SEEDS))
    problems = []
    for seed, results, app in outcomes:
        assert results.aborted is None, (pairs, seed, results.aborted)
        assert app.internal_errors == 0
        assert results.requests_sent > 100, "not vacuous: the suite really ran"
        for (check, operation), record in results.failures.items():
            problems.append(f"seed {seed}: {check} [{operation}] {record.explanation[:300]}")
    assert not problems, f"false alarms under {pairs}:\n" + "\n".join(problems)


def test_every_open_point_has_a_policy_with_the_same_choices():
    policies = {policy.name: policy.values for policy in CATALOGUE}
    for point in OPEN_POINTS:
        assert policies.get(point.name) == point.choices, point.name


@pytest.mark.slow
@pytest.mark.parametrize("name, value", ALTERNATIVES, ids=[f"{n}={v}" for n, v in ALTERNATIVES])
def test_no_violation_under_each_alternative(name, value):
    _matrix([f"{name}={value}"], pinned=name == "parents")


@pytest.mark.slow
def test_no_violation_with_every_alternative_at_once():
    _matrix([f"{name}={value}" for name, value in ALTERNATIVES], pinned=True)


@pytest.mark.slow
def test_under_declared_parents_the_unpinned_suite_learns_what_exists():
    """No --service-sid: every generated service and channel is unknown to the target, which
    answers 404 for each -- its choice, not a violation."""
    _matrix(["parents=declared"], pinned=False)
