"""The two transports against the same mock: whether the plain ``http.client`` path still earns its place.

    .venv/bin/python benchmarks/bench_transport.py [--rounds 3] [--requests 2000]

The reference mock runs in its own process (as a user's mock would); one target sends the same
valid ``FetchConfigurationWebhook`` *requests* times through each transport, alternating rounds so
that the machine's noise falls on both. Printed: microseconds per exchange for each and the ratio.
``twilio_webhook_contracts.transport`` keeps the plain path only while the ratio is clearly above 1.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine_line, mock_process  # noqa: E402

ACCOUNT = "AC" + "0" * 32
TOKEN = "mock-auth-token"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=2000, help="exchanges per transport and round")
    args = parser.parse_args()

    from twilio_webhook_contracts.contract_tests.stateful import fixed_request
    from twilio_webhook_contracts.spec import default_spec
    from twilio_webhook_contracts.target import Credentials, Target

    with mock_process() as port:
        print(machine_line())
        print(f"{args.rounds} rounds of {args.requests} GET /v1/Configuration/Webhooks per transport, mock in its own process\n")
        request = fixed_request(default_spec(), "FetchConfigurationWebhook", {})
        totals = {"plain": 0.0, "requests": 0.0}
        with Target(f"http://127.0.0.1:{port}", credentials=Credentials(ACCOUNT, TOKEN), timeout=10) as target:
            usable = target._plain.usable  # noqa: SLF001 - the benchmark switches the path, nothing else
            for _ in range(args.rounds):
                for name in ("plain", "requests"):
                    target._plain.usable = usable if name == "plain" else (lambda url: None)  # noqa: SLF001
                    started = time.perf_counter()
                    for _ in range(args.requests):
                        assert target.send(request, budgeted=False).status == 200
                    totals[name] += time.perf_counter() - started
        per = {name: seconds / (args.rounds * args.requests) * 1e6 for name, seconds in totals.items()}
        for name in ("plain", "requests"):
            print(f"{name:9} {per[name]:8.0f} µs per exchange")
        print(f"\nrequests / plain: {per['requests'] / per['plain']:.2f}x "
              f"({per['requests'] - per['plain']:.0f} µs saved per exchange by the plain path)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
