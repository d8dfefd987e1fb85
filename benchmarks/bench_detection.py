"""Requests to first detection: for every broken variant, how many requests the suite had sent when the
check that owns the defect first failed, and how many the whole run sent.

    .venv/bin/python benchmarks/bench_detection.py [--seeds 1,2,3] [--max-examples 50]

Every case of ``tests/test_broken_variants.py`` (its variant and the check that must catch it),
run in-process with the CLI's defaults (50 examples, shrinking on, one worker, no example
database; ``Retry-After`` sleeps skipped), once per seed. The count is the run's own request
counter at the moment the owning check's first failure is recorded. A variant "not caught" in a
seed is listed as such. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, machine_line  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))

from twilio_webhook_contracts.contract_tests.results import Results  # noqa: E402
from twilio_webhook_contracts.contract_tests.runner import SuiteConfig, run_suite  # noqa: E402
from twilio_webhook_contracts.mock import serve_mock  # noqa: E402
from twilio_webhook_contracts.target import Credentials, Target  # noqa: E402


def first_detection(case, seed: int, max_examples: int) -> tuple[int | None, int]:
    """(requests sent when ``case.catches`` first failed, or None; requests of the whole run)."""
    first: dict[str, int] = {}
    with serve_mock(case.make()) as mock:
        with Target(mock.url, credentials=Credentials(mock.account_sid, mock.auth_token), sleep=lambda s: None) as target:

            class Watching(Results):
                def record(self, check, operation_id, explanations, **kwargs):  # noqa: ANN001, ANN003
                    first.setdefault(check, target.limits.sent)
                    super().record(check, operation_id, explanations, **kwargs)

            results = run_suite(target, SuiteConfig(seed=seed, max_examples=max_examples, database=None),
                                Watching(seed=seed))
    return first.get(case.catches), results.requests_sent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--max-examples", type=int, default=50)
    args = parser.parse_args()
    from test_broken_variants import CASES

    seeds = [int(s) for s in args.seeds.split(",")]
    print(machine_line())
    print(f"--max-examples {args.max_examples}, seeds {seeds}; requests to first detection by the owning check\n")
    print(f"{'case':46} {'check':28} {'first (per seed)':>22} {'median':>7} {'run':>6}")
    firsts: list[int] = []
    for name, case in CASES.items():
        outcomes = [first_detection(case, seed, args.max_examples) for seed in seeds]
        found = [f for f, _ in outcomes if f is not None]
        firsts += found
        shown = ",".join("-" if f is None else str(f) for f, _ in outcomes)
        median = f"{statistics.median(found):7.0f}" if found else "     --"
        runs = max(total for _, total in outcomes)
        print(f"{name[:46]:46} {case.catches:28} {shown:>22} {median} {runs:6d}", flush=True)
    if firsts:
        print(f"\nall cases: median {statistics.median(firsts):.0f} requests to first detection, "
              f"max {max(firsts)}; '-': not caught in that seed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
