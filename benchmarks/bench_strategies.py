"""How fast the request strategies generate, per operation.

Run from the repository root::

    .venv/bin/python benchmarks/bench_strategies.py [--examples N]

Requests are drawn the way a test draws them -- through ``@given``, with the
Hypothesis engine's own overhead included -- with no database and no shrinking.
The figures are requests per second; nothing is asserted.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402

from twilio_webhook_contracts.strategies import defects_for, invalid_requests, valid_requests  # noqa: E402
from twilio_webhook_contracts.spec import default_spec  # noqa: E402
from twilio_webhook_contracts.validation import validate_request  # noqa: E402


def rate(strategy, examples: int, check: bool) -> float | None:
    """Requests per second drawn from *strategy* (and validated, with *check*).

    None when the strategy has fewer than *examples* distinct requests (an
    operation without parameters or body has exactly one) and Hypothesis stops early.
    """
    count = 0

    @settings(max_examples=examples, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def draw(request):
        nonlocal count
        count += 1
        if check:
            validate_request(request)

    start = time.perf_counter()
    draw()
    elapsed = time.perf_counter() - start
    return count / elapsed if count >= examples else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1000, help="requests drawn per strategy (default 1000)")
    parser.add_argument("--validate", action="store_true", help="also validate each request (as the tests do)")
    args = parser.parse_args()

    start = time.perf_counter()
    spec = default_spec()
    print(f"fragments loaded in {time.perf_counter() - start:.2f}s; {args.examples} requests per strategy"
          f"{', each validated' if args.validate else ''}\n")
    print(f"{'operation':36} {'build (us)':>10} {'valid/s':>9} {'invalid/s':>10}")
    total_valid = total_invalid = 0.0
    for operation_id in sorted(spec.operations):
        start = time.perf_counter()
        valid = valid_requests(operation_id)
        built = (time.perf_counter() - start) * 1e6
        valid_rate = rate(valid, args.examples, args.validate)
        invalid_rate = rate(invalid_requests(operation_id), args.examples, args.validate) if defects_for(operation_id) else None
        total_valid += args.examples / valid_rate if valid_rate else 0.0
        total_invalid += args.examples / invalid_rate if invalid_rate else 0.0
        valid_shown = f"{valid_rate:9.0f}" if valid_rate else f"{'(one)':>9}"
        invalid_shown = f"{invalid_rate:10.0f}" if invalid_rate else f"{'-':>10}"
        print(f"{operation_id:36} {built:10.0f} {valid_shown} {invalid_shown}")
    print("\n(one): the operation has a single possible request; -: nothing to get wrong.")
    print(f"time for {args.examples} valid + {args.examples} invalid requests of every operation: "
          f"{total_valid + total_invalid:.1f}s")


if __name__ == "__main__":
    main()
