"""Suite throughput: checked requests per second of ``webhook-contracts run`` and of Schemathesis, side by side.

    .venv/bin/python benchmarks/bench_suite.py [--max-examples 50] [--seed 1] [--repeat 1] [--no-schemathesis]

What is measured, in one run of this script:

1. ``webhook-contracts run`` as a user runs it: its embedded mock, in its own process.
2. ``webhook-contracts run --target URL`` against a mock served by *this* process.
3. Schemathesis (``schemathesis run``) on our exported fragments (``webhook-contracts spec
   --output DIR``: one document per API, so two invocations, Conversations then Chat)
   against the same mock in this process.

Requests are counted on the server side, by the mock's request log (a counting log here),
for all three, so a request is a request whoever sends it: every one of them reaches the
mock, is validated by it and answered. For (1) the count comes from the mock inside that
process (the CLI is started through a small wrapper that counts the same way).

The figure is requests per second of *wall time of the whole command*, start-up included
(that is what a user waits for); each tool's own "finished in" time is printed alongside.
The headline ratio compares (1) with (3): ``webhook-contracts run`` as it is used, against
Schemathesis on the same mock. (2) is printed as well, the strictly like-for-like line: the
same server process for both tools, one client process each. It is slower than (1) on a
two-core virtual machine: each request is then a round trip between two processes (two
wake-ups on two CPUs), where the embedded mock answers from a thread of the same process.

Settings, chosen to be fair:

* the same example budget: ``--max-examples N`` for us (N generated requests per operation
  and kind, then the stateful suite, N // 5 runs) and ``--max-examples N`` for Schemathesis
  (N test cases per operation and phase, all of its default phases: examples, coverage,
  fuzzing in positive and negative mode, stateful);
* both check every response: all 20 of our checks, and ``--checks all`` for Schemathesis
  (schema, status code, content type, headers, negative/positive data, auth, ...);
* the same seed, no example database for either (``--database none``,
  ``--generation-database none``), one worker each (``-w 1``), shrinking left on (both
  shrink only after a failure), the same request timeout;
* the same credentials (HTTP Basic; Schemathesis gets ``--auth USER:PASS``), and the mock
  is reset to its initial state before each tool.

Schemathesis is installed only for this benchmark, from PyPI, into
``benchmarks/.venv-schemathesis`` (created on first use; ``--schemathesis-version`` pins
it). It is never a dependency of the project. Without network access to PyPI it is
skipped with a message, and our own figures are still printed.

Nothing is asserted: the figures are printed, with the machine they came from.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    ACCOUNT_SID,
    AUTH_TOKEN,
    CLI,
    ROOT,
    CountingLog,
    machine_line,
    package_version,
    run_measured,
    run_summary,
)

SCHEMATHESIS_VERSION = "4.32.5"
SCHEMATHESIS_VENV = ROOT / "benchmarks" / ".venv-schemathesis"

#: Runs ``webhook-contracts`` with its embedded mock, counting what that mock's request log records.
_EMBEDDED_WRAPPER = """
import atexit, json, os, sys, threading
from twilio_webhook_contracts.mock import log
count = [0]
lock = threading.Lock()
record = log.RequestLog.record
def counting(self, entry):
    with lock:
        count[0] += 1
    record(self, entry)
log.RequestLog.record = counting
atexit.register(lambda: open(os.environ["BENCH_COUNT_FILE"], "w").write(json.dumps(count[0])))
from twilio_webhook_contracts.cli import main
sys.exit(main(sys.argv[1:]))
"""


def ensure_schemathesis(version: str) -> Path | None:
    """The ``schemathesis`` executable of the benchmark's own venv, installed if needed; None if it cannot be."""
    executable = SCHEMATHESIS_VENV / "bin" / "schemathesis"
    python = SCHEMATHESIS_VENV / "bin" / "python"
    if executable.exists():
        installed = subprocess.run([str(python), "-c", "import importlib.metadata as m; print(m.version('schemathesis'))"],
                                   capture_output=True, text=True).stdout.strip()
        if installed == version:
            return executable
    print(f"installing schemathesis=={version} into {SCHEMATHESIS_VENV} (for this benchmark only) ...", flush=True)
    try:
        if not python.exists():
            venv.create(SCHEMATHESIS_VENV, with_pip=True)
        result = subprocess.run([str(python), "-m", "pip", "install", "-q", f"schemathesis=={version}"],
                                capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.SubprocessError) as exc:
        print(f"schemathesis: cannot install ({exc}); skipped")
        return None
    if result.returncode != 0 or not executable.exists():
        tail = (result.stderr.strip().splitlines() or ["?"])[-1]
        print(f"schemathesis: pip install failed ({tail}); skipped")
        return None
    return executable


def export_documents(directory: Path) -> list[Path]:
    result = subprocess.run([CLI, "spec", "--output", str(directory)], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"webhook-contracts spec failed: {result.stderr.strip()}")
    return [directory / "conversations_v1.yaml", directory / "chat_v2.yaml"]


def tool_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "HYPOTHESIS_"))}
    env.update(TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=AUTH_TOKEN, NO_COLOR="1")
    return env


def run_ours_embedded(args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        count_file = Path(scratch) / "count.json"
        env = tool_env()
        env["BENCH_COUNT_FILE"] = str(count_file)
        command = [sys.executable, "-c", _EMBEDDED_WRAPPER, "run", "-q", "--database", "none",
                   "--max-examples", str(args.max_examples), "--seed", str(args.seed)]
        timed = run_measured(command, env=env)
        count = json.loads(count_file.read_text()) if count_file.exists() else 0
    return _ours_result("webhook-contracts run (embedded mock)", timed, count)


def run_ours_target(args: argparse.Namespace, mock, counter: CountingLog) -> dict:
    mock.reset()
    before = counter.count
    command = [CLI, "run", "-q", "--database", "none", "--target", mock.url,
               "--max-examples", str(args.max_examples), "--seed", str(args.seed)]
    timed = run_measured(command, env=tool_env())
    return _ours_result("webhook-contracts run --target (this mock)", timed, counter.count - before)


def _ours_result(label: str, timed, count: int) -> dict:
    summary = run_summary(timed.stdout)
    if timed.returncode not in (0, 1) or summary is None:
        raise SystemExit(f"{label}: failed (exit {timed.returncode}): {(timed.stderr or timed.stdout).strip()[-500:]}")
    line = timed.stdout.strip().splitlines()[-1]
    return {"label": label, "requests": count, "wall": timed.seconds, "own": summary[1], "note": line,
            "client_count": summary[0]}


_ST_TIME = re.compile(r"in (?P<seconds>[0-9.]+)s")
_ST_CASES = re.compile(r"(?P<cases>\d+) generated")


def run_schemathesis(args: argparse.Namespace, executable: Path, documents: list[Path], mock,
                     counter: CountingLog) -> dict:
    mock.reset()
    before = counter.count
    wall = own = 0.0
    cases = 0
    statuses = []
    for document in documents:
        command = [str(executable), "run", str(document), "--url", mock.url,
                   "--auth", f"{ACCOUNT_SID}:{AUTH_TOKEN}",
                   "--max-examples", str(args.max_examples), "--seed", str(args.seed),
                   "--generation-database", "none", "--workers", "1", "--checks", "all",
                   "--request-timeout", "10", "--no-color"]
        # in the documents' scratch directory: Schemathesis keeps a .schemathesis/ cache in its working directory
        timed = run_measured(command, env=tool_env(), cwd=document.parent)
        if timed.returncode not in (0, 1):
            raise SystemExit(f"schemathesis failed (exit {timed.returncode}) on {document.name}: "
                             f"{(timed.stderr or timed.stdout).strip()[-800:]}")
        statuses.append(timed.returncode)
        wall += timed.seconds
        tail = timed.stdout.strip().splitlines()[-1] if timed.stdout.strip() else ""
        if match := _ST_TIME.search(tail):
            own += float(match["seconds"])
        if match := _ST_CASES.search(timed.stdout):
            cases += int(match["cases"])
    return {"label": f"schemathesis {package_version_in_venv()} run (both documents, this mock)",
            "requests": counter.count - before, "wall": wall, "own": own,
            "note": f"{cases} test cases generated; exit statuses {statuses} (1: it reported failures)"}


def package_version_in_venv() -> str:
    python = SCHEMATHESIS_VENV / "bin" / "python"
    return subprocess.run([str(python), "-c", "import importlib.metadata as m; print(m.version('schemathesis'))"],
                          capture_output=True, text=True).stdout.strip()


def show(result: dict) -> None:
    rate = result["requests"] / result["wall"] if result["wall"] else 0.0
    own_rate = result["requests"] / result["own"] if result["own"] else 0.0
    print(f"{result['label']:52} {result['requests']:6d} {result['wall']:8.2f} {rate:8.0f}   "
          f"{result['own']:7.2f} {own_rate:8.0f}")
    print(f"{'':52} {result['note']}")


def best(results: list[dict]) -> dict:
    return max(results, key=lambda r: r["requests"] / r["wall"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=50, help="example budget of both tools (default 50)")
    parser.add_argument("--seed", type=int, default=1, help="seed of both tools (default 1)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each tool; the best is shown (default 1)")
    parser.add_argument("--no-schemathesis", action="store_true", help="measure only webhook-contracts")
    parser.add_argument("--schemathesis-version", default=SCHEMATHESIS_VERSION,
                        help=f"Schemathesis to install into {SCHEMATHESIS_VENV.name} (default {SCHEMATHESIS_VERSION})")
    args = parser.parse_args()

    print(machine_line())
    print(f"webhook-contracts {package_version('twilio-webhook-contracts')}, hypothesis {package_version('hypothesis')}, "
          f"requests {package_version('requests')}")
    print(f"budget: --max-examples {args.max_examples}, --seed {args.seed}, no example database; "
          f"requests counted by the mock; rate = requests / wall time of the whole command\n")
    executable = None if args.no_schemathesis else ensure_schemathesis(args.schemathesis_version)

    from twilio_webhook_contracts.mock import serve_mock

    counter = CountingLog()
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as scratch, \
            serve_mock(accounts={ACCOUNT_SID: AUTH_TOKEN}, request_log=counter.log) as mock:
        documents = export_documents(Path(scratch))
        for _ in range(max(1, args.repeat)):
            runs = results.setdefault("embedded", []), results.setdefault("target", [])
            runs[0].append(run_ours_embedded(args))
            runs[1].append(run_ours_target(args, mock, counter))
            if executable is not None:
                results.setdefault("schemathesis", []).append(run_schemathesis(args, executable, documents, mock, counter))
        if mock.app.internal_errors:
            print(f"(the mock logged {mock.app.internal_errors} internal errors)")

    print(f"{'tool':52} {'requests':>6} {'wall s':>8} {'req/s':>8}   {'own s':>7} {'req/s':>8}")
    chosen = {name: best(runs) for name, runs in results.items()}
    for result in chosen.values():
        show(result)
    if "schemathesis" in chosen:
        theirs = chosen["schemathesis"]["requests"] / chosen["schemathesis"]["wall"]
        print()
        for key in ("embedded", "target"):
            ours = chosen[key]["requests"] / chosen[key]["wall"]
            target = " (target: >= 5x)" if key == "embedded" else " (like for like: the same mock process)"
            print(f"ratio, {chosen[key]['label']} / schemathesis: {ours / theirs:.1f}x requests per second{target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
