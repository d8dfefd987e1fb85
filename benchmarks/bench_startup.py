"""Start-up: time to ``webhook-contracts --help``, and from launch to the first request.

    .venv/bin/python benchmarks/bench_startup.py [--repeat 10]

* ``--help``: wall time of the whole process, best and median of ``--repeat`` runs.
* first request, ``--target``: ``webhook-contracts run --target URL`` against a mock served
  by this process; the time from launching the process to the moment the first request
  reaches the mock (server side).
* first request, embedded mock: ``webhook-contracts run`` as a user runs it; the time from
  launch to the first request reaching its own mock (recorded inside that process by the
  same counting hook, against the launch time taken here).

Python's own start-up (``python -c pass``) is shown for scale. The target (issue 8) is
``--help`` in under 300 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ACCOUNT_SID, AUTH_TOKEN, CLI, machine_line  # noqa: E402

_FIRST_REQUEST_WRAPPER = """
import os, sys, time
from twilio_webhook_contracts.mock import log
record = log.RequestLog.record
def first(self, entry):
    if not os.path.exists(os.environ["BENCH_FIRST_FILE"]):
        open(os.environ["BENCH_FIRST_FILE"], "w").write(repr(time.time()))
    record(self, entry)
log.RequestLog.record = first
from twilio_webhook_contracts.cli import main
sys.exit(main(sys.argv[1:]))
"""


def wall(command: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
    return time.perf_counter() - started


def show(label: str, samples: list[float]) -> None:
    print(f"{label:58} {min(samples) * 1e3:7.0f} ms best {statistics.median(samples) * 1e3:7.0f} ms median")


def first_request_target(env: dict[str, str]) -> float:
    """Launch to first request of ``run --target`` against a mock in this process."""
    from twilio_webhook_contracts.mock import serve_mock
    from twilio_webhook_contracts.mock.log import RequestLog

    arrived = threading.Event()
    stamp: list[float] = []

    class FirstLog(RequestLog):
        def record(self, entry) -> None:  # noqa: ANN001
            if not stamp:
                stamp.append(time.perf_counter())
                arrived.set()

    with serve_mock(accounts={ACCOUNT_SID: AUTH_TOKEN}, request_log=FirstLog(maxlen=1)) as mock:
        started = time.perf_counter()
        process = subprocess.Popen([CLI, "run", "-q", "--database", "none", "--seed", "1", "--max-examples", "1",
                                    "--no-stateful", "--target", mock.url],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        arrived.wait(120)
        process.wait(300)
        return stamp[0] - started if stamp else float("nan")


def first_request_embedded(env: dict[str, str]) -> float:
    with tempfile.TemporaryDirectory() as scratch:
        marker = Path(scratch) / "first"
        env = {**env, "BENCH_FIRST_FILE": str(marker)}
        started = time.time()
        subprocess.run([sys.executable, "-c", _FIRST_REQUEST_WRAPPER, "run", "-q", "--database", "none", "--seed", "1",
                        "--max-examples", "1", "--no-stateful"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, timeout=300)
        return float(marker.read_text()) - started if marker.exists() else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=10, help="runs of each measurement (default 10)")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "HYPOTHESIS_"))}
    env.update(TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=AUTH_TOKEN)

    print(machine_line())
    print(f"{args.repeat} runs each\n")
    show("python -c pass", [wall([sys.executable, "-c", "pass"]) for _ in range(args.repeat)])
    help_times = [wall([CLI, "--help"], env) for _ in range(args.repeat)]
    show("webhook-contracts --help", help_times)
    show("webhook-contracts run --help", [wall([CLI, "run", "--help"], env) for _ in range(args.repeat)])
    repeat = max(3, args.repeat // 2)
    show("launch -> first request: run --target (mock in this process)", [first_request_target(env) for _ in range(repeat)])
    show("launch -> first request: run (embedded mock)", [first_request_embedded(env) for _ in range(repeat)])
    best = min(help_times) * 1e3
    print(f"\n--help: {best:.0f} ms best, {statistics.median(help_times) * 1e3:.0f} ms median (target < 300 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
