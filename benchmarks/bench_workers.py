"""``--workers N`` against a target with network latency: wall time and requests/s per N.

    .venv/bin/python benchmarks/bench_workers.py [--latency 0.02] [--workers 1,2,4] [--max-examples 20]

Requests are I/O-bound against a remote target (live Twilio answers in tens of
milliseconds), so the suite sends from several threads at once. Loopback has no such
wait, so the reference mock is started in its own process with ``--latency`` added to
every answer, standing in for the network; each N runs ``webhook-contracts run
--target URL --workers N`` with one seed and one budget, in its own process. Against the
embedded mock (same process, no latency) workers add nothing: generation, checks and
the mock share one interpreter.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import CLI, machine_line, mock_process, run_measured, run_summary  # noqa: E402

ACCOUNT = "AC" + "0" * 32
TOKEN = "mock-auth-token"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=float, default=0.02, help="seconds the mock adds to each answer (default 0.02)")
    parser.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated (default 1,2,4)")
    parser.add_argument("--max-examples", type=int, default=20, help="examples per operation and kind (default 20)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    with mock_process("--latency", str(args.latency)) as port:
        print(machine_line())
        print(f"webhook-contracts run --target http://127.0.0.1:{port} --workers N --max-examples {args.max_examples} "
              f"--seed {args.seed}; the mock adds {args.latency * 1000:g} ms to every answer\n")
        print(f"{'workers':>7} {'requests':>9} {'wall s':>7} {'req/s':>7} {'speed-up':>9}")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "HYPOTHESIS_"))}
        env.update(TWILIO_ACCOUNT_SID=ACCOUNT, TWILIO_AUTH_TOKEN=TOKEN)
        first = None
        for workers in [int(n) for n in args.workers.split(",")]:
            timed = run_measured([CLI, "run", "-q", "--database", "none", "--target", f"http://127.0.0.1:{port}",
                                  "--seed", str(args.seed), "--max-examples", str(args.max_examples),
                                  "--workers", str(workers)], env=env, timeout=3600)
            summary = run_summary(timed.stdout)
            if timed.returncode != 0 or summary is None:
                print(f"workers={workers}: failed (exit {timed.returncode}): {(timed.stderr or timed.stdout).strip()[-400:]}")
                return 1
            requests = summary[0]
            first = first or timed.seconds
            print(f"{workers:7d} {requests:9d} {timed.seconds:7.2f} {requests / timed.seconds:7.0f} {first / timed.seconds:8.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
