"""Scaling: run time and peak memory of ``webhook-contracts run`` for 10, 100 and 1,000 examples.

    .venv/bin/python benchmarks/bench_scaling.py [--examples 10,100,1000] [--seed 1]

Each size runs in its own process -- ``webhook-contracts run -q --database none --seed S
--max-examples N`` with its embedded mock, exactly as a user runs it -- and the figures
are its wall time, the requests it sent (its closing line) and its peak resident memory
(``ru_maxrss`` of that child, from ``wait4``).

Run time should grow linearly with the examples (the time per request stays flat; a
fixed start-up is added once), and memory should stay flat: the growth from the smallest
to the largest size is printed against the target (issue 8: under 20 MB from 10 to
1,000 examples). 1,000 examples take a few minutes.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import CLI, machine_line, run_measured, run_summary  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", default="10,100,1000", help="sizes, comma-separated (default 10,100,1000)")
    parser.add_argument("--seed", type=int, default=1, help="seed of every run (default 1)")
    args = parser.parse_args()
    sizes = [int(n) for n in args.examples.split(",")]

    print(machine_line())
    print(f"webhook-contracts run -q --database none --seed {args.seed} --max-examples N (embedded mock), one process each\n")
    print(f"{'N':>6} {'requests':>9} {'wall s':>8} {'run s':>7} {'ms/request':>11} {'req/s':>7} {'peak RSS MB':>12}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "HYPOTHESIS_"))}
    rows = []
    for size in sizes:
        timed = run_measured([CLI, "run", "-q", "--database", "none", "--seed", str(args.seed),
                              "--max-examples", str(size)], env=env, timeout=3600)
        summary = run_summary(timed.stdout)
        if timed.returncode not in (0, 1) or summary is None:
            print(f"N={size}: failed (exit {timed.returncode}): {(timed.stderr or timed.stdout).strip()[-400:]}")
            return 1
        requests, run_seconds = summary
        rss_mb = (timed.maxrss_kib or 0) / 1024
        rows.append((size, requests, timed.seconds, run_seconds, rss_mb))
        print(f"{size:6d} {requests:9d} {timed.seconds:8.2f} {run_seconds:7.1f} {run_seconds / requests * 1e3:11.2f} "
              f"{requests / timed.seconds:7.0f} {rss_mb:12.1f}")
        if timed.returncode == 1:
            print(f"{'':6} (exit 1: {timed.stdout.strip().splitlines()[-1]})")
    if len(rows) >= 2:
        (n0, r0, w0, s0, m0), (n1, r1, w1, s1, m1) = rows[0], rows[-1]
        per_small, per_large = s0 / r0 * 1e3, s1 / r1 * 1e3
        print(f"\ntime: {r1 / r0:.0f}x the requests took {s1 / s0:.0f}x the run time; per request "
              f"{per_small:.2f} ms at N={n0}, {per_large:.2f} ms at N={n1} "
              f"({'flat: linear' if per_large <= per_small * 1.25 else 'growing: NOT linear'})")
        print(f"memory: peak RSS {m0:.1f} MB at N={n0}, {m1:.1f} MB at N={n1}: growth {m1 - m0:.1f} MB "
              f"(target < 20 MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
