"""The bundled contract suite.

Run it from any project where twilio-webhook-contracts is installed::

    pytest --pyargs twilio_webhook_contracts.contract_tests                                   # the embedded mock
    pytest --pyargs twilio_webhook_contracts.contract_tests --contract-target http://127.0.0.1:4010
    pytest --pyargs twilio_webhook_contracts.contract_tests -n auto                           # spread over cores (pytest-xdist)

One test per operation and kind of request (valid, invalid, unauthenticated) and
one for the stateful suite, so pytest-xdist can spread them; each test fails with
every check that failed in it, its explanation and a curl line to reproduce it.

Each test is one unit of the same guarded engine ``webhook-contracts run`` uses
(the ``contract_suite`` fixture): live mode, the guard, skip reasons, budgets and
stateless detection are the engine's; this file only turns a unit's results into
a pytest verdict.
"""

from __future__ import annotations

import pytest

from twilio_webhook_contracts.pytest_plugin import record_tested, xdist_worker
from twilio_webhook_contracts.contract_tests.engine import STATEFUL
from twilio_webhook_contracts.contract_tests.results import Results
from twilio_webhook_contracts.contract_tests.runner import KINDS
from twilio_webhook_contracts.spec import default_spec

pytestmark = pytest.mark.contract

OPERATIONS = list(default_spec().operations)


def _verdict(results: Results, nothing: str) -> None:
    replay = f"(seed {results.seed}: replay with --contract-seed {results.seed})"
    if results.failures:
        lines = []
        for record in results.violations:
            lines.append(f"{record.check} [{record.operation_id}]: {record.explanation}")
            steps = record.steps or ((record.curl,) if record.curl else ())
            if len(steps) > 8:
                lines.append(f"    ... {len(steps) - 8} earlier step(s)")
            lines += [f"    {step}" for step in steps[-8:]]
        lines.append(replay)
        pytest.fail("\n".join(lines), pytrace=False)
    if results.aborted:
        pytest.fail(f"{results.aborted} {replay}", pytrace=False)
    if not sum(results.checks_run.values()):
        pytest.skip("; ".join(sorted(set(results.skipped.values()))) or nothing)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_operation(contract_suite, operation_id: str, kind: str, request) -> None:
    results = contract_suite.run_unit(operation_id, kind)
    record_tested(request.node, results)
    _verdict(results, "nothing to check for this operation and kind")


def test_stateful(contract_suite, pytestconfig, request) -> None:
    index, count = xdist_worker(pytestconfig)
    # Under xdist other workers write the account configuration at the same time,
    # so the model leaves it out and uses resources of its own.
    results = contract_suite.run_unit(STATEFUL, worker=1 if count > 1 else 0, workers=2 if count > 1 else 1)
    record_tested(request.node, results)
    _verdict(results, "no state check selected")
