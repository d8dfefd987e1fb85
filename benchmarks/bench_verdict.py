"""Time and requests to a verdict: ``webhook-contracts run`` and Schemathesis on the same slow, rate-limited and broken servers.

    .venv/bin/python benchmarks/bench_verdict.py [--latency 0,20,50,150] [--variants 5] [--time-budget 180]
                                                 [--no-schemathesis] [--only NAME,...]

What a user waits for is the verdict, not a requests-per-second figure. Each scenario
serves the reference mock (or a broken variant from ``tests/variants.py``) from *this*
process, through a subclass defined here that

* sleeps ``latency`` ms before answering every request (standing in for the network:
  the server is 20, 50 or 150 ms away), and/or
* answers every 20th request ``429`` with ``Retry-After: 1`` and a Twilio error body
  (a correct server being polite about its rate limit),

and counts every request it receives, so that both tools are counted alike. Then, one
after the other on the same server (reset in between):

1. ``webhook-contracts run --target URL --seed 1 --database none --time-budget S``: the
   default settings otherwise (50 examples, default request ceiling, ``--workers auto``,
   shrinking on). The figures: exit status, wall time of the command, requests the
   server received, and the workers ``auto`` chose.
2. Schemathesis (installed on first use into ``benchmarks/.venv-schemathesis``, as
   ``bench_suite.py`` does) on our exported documents, both APIs one after the other:
   ``--max-examples 50 --seed 1 --checks all``, the same number of workers as ours chose,
   and the same time ceiling (its two invocations share it; a run still going at the
   ceiling is killed and shown as "no verdict").

Latency and the 429s are added by this file, not by the mock's own fault options, so
the benchmark measures the same thing whatever the mock grows. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ACCOUNT_SID, AUTH_TOKEN, CLI, ROOT, machine_line, run_measured, run_summary  # noqa: E402
from bench_suite import SCHEMATHESIS_VERSION, ensure_schemathesis, export_documents, package_version_in_venv, tool_env  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))

from twilio_webhook_contracts.mock import MockApp, serve_mock  # noqa: E402
from twilio_webhook_contracts.mock.errors import MockError  # noqa: E402

#: Five broken variants of different families: response, input, identity, state (twice).
DEFAULT_VARIANTS = ("CrashesOnUrlQuery", "IgnoresUnknownEnumValues", "ServiceSidFromDefaultService",
                    "MutateThenValidate", "FiltersDuplicatedOnReplace")


class Conditions:
    """What the benchmark's server adds to every answer: latency, a 429 every Nth request, a count."""

    def __init__(self, latency: float = 0.0, rate_limit_every: int = 0):
        self.latency = latency
        self.rate_limit_every = rate_limit_every
        self.count = 0
        self.lock = threading.Lock()


def slow_app(base: type[MockApp], conditions: Conditions) -> MockApp:
    """An instance of *base* (the reference mock or a variant) behind *conditions*."""

    class Slow(base):  # type: ignore[misc, valid-type]
        def handle(self, request):  # noqa: ANN001, ANN202
            with conditions.lock:
                conditions.count += 1
                limited = conditions.rate_limit_every and conditions.count % conditions.rate_limit_every == 0
            if conditions.latency:
                time.sleep(conditions.latency)
            if limited:
                response = self.encode_error(MockError(429, 20429, "Too Many Requests"))
                return dataclasses.replace(response, headers=[*response.headers, ("Retry-After", "1")])
            return super().handle(request)

    Slow.__name__ = f"Slow{base.__name__}"
    return Slow(accounts={ACCOUNT_SID: AUTH_TOKEN})


def run_ours(url: str, conditions: Conditions, args: argparse.Namespace) -> dict:
    before = conditions.count
    timed = run_measured([CLI, "run", "--database", "none", "--target", url, "--seed", str(args.seed),
                          "--time-budget", str(args.time_budget)], env=tool_env(), timeout=args.time_budget + 120)
    workers = re.search(r"workers: (\d+)", timed.stdout)
    summary = run_summary(timed.stdout)
    violations = re.search(r"(\d+) violation\(s\)", timed.stdout)
    cut = "not finished (budget)" in timed.stdout
    return {"exit": timed.returncode, "wall": timed.seconds, "requests": conditions.count - before,
            "workers": int(workers[1]) if workers else 1, "violations": int(violations[1]) if violations else None,
            "cut": cut, "client_requests": summary[0] if summary else None}


def run_schemathesis(executable: Path, documents: list[Path], url: str, conditions: Conditions, workers: int,
                     args: argparse.Namespace) -> dict:
    before = conditions.count
    started = time.perf_counter()
    statuses = []
    verdict = True
    for document in documents:
        left = args.time_budget - (time.perf_counter() - started)
        if left <= 0:
            verdict = False
            break
        command = [str(executable), "run", str(document), "--url", url, "--auth", f"{ACCOUNT_SID}:{AUTH_TOKEN}",
                   "--max-examples", "50", "--seed", str(args.seed), "--generation-database", "none",
                   "--workers", str(workers), "--checks", "all", "--request-timeout", "10", "--no-color"]
        timed = run_measured(command, env=tool_env(), cwd=document.parent, timeout=left)
        statuses.append(timed.returncode)
        tail = (timed.stdout.strip().splitlines() or [""])[-3:]
        if timed.returncode < 0:  # killed at the ceiling
            verdict = False
            break
        if timed.returncode not in (0, 1):  # an error of its own (not a verdict on the server)
            return {"exit": timed.returncode, "wall": time.perf_counter() - started,
                    "requests": conditions.count - before, "verdict": True, "statuses": statuses, "tail": tail}
    return {"exit": max(statuses) if statuses else None, "wall": time.perf_counter() - started,
            "requests": conditions.count - before, "verdict": verdict, "statuses": statuses}


def scenarios(args: argparse.Namespace) -> list[tuple[str, type[MockApp], Conditions]]:
    import variants

    chosen: list[tuple[str, type[MockApp], Conditions]] = []
    for ms in [float(x) for x in args.latency.split(",") if x.strip()]:
        chosen.append((f"correct, {ms:g} ms away", MockApp, Conditions(latency=ms / 1000)))
    chosen.append(("correct, 429 every 20th (Retry-After: 1)", MockApp, Conditions(rate_limit_every=20)))
    names = [n for n in DEFAULT_VARIANTS][: args.variants]
    for name in names:
        variant = getattr(variants, name)
        assert inspect.isclass(variant) and issubclass(variant, MockApp)
        chosen.append((f"broken: {name}", variant, Conditions()))
    if args.only:
        wanted = [w.strip().lower() for w in args.only.split(",")]
        chosen = [c for c in chosen if any(w in c[0].lower() for w in wanted)]
    return chosen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", default="0,20,50,150", help="added latencies in ms (default 0,20,50,150)")
    parser.add_argument("--variants", type=int, default=5, help="how many broken variants (default 5)")
    parser.add_argument("--time-budget", type=float, default=180.0,
                        help="time ceiling of each tool per scenario, seconds (default 180)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", help="run only scenarios whose name contains one of these (comma-separated)")
    parser.add_argument("--no-schemathesis", action="store_true")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args()

    print(machine_line())
    executable = None if args.no_schemathesis else ensure_schemathesis(SCHEMATHESIS_VERSION)
    if executable is not None:
        print(f"schemathesis {package_version_in_venv()}")
    print(f"each tool: seed {args.seed}, 50 examples, time ceiling {args.time_budget:g} s per scenario; "
          f"requests counted by the server\n")
    header = (f"{'scenario':44} {'ours: exit':>10} {'s':>7} {'requests':>9} {'workers':>7} | "
              f"{'st: exit':>8} {'s':>7} {'requests':>9} | {'time ratio':>10}")
    print(header)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        documents = export_documents(Path(scratch)) if executable is not None else []
        for label, base, conditions in scenarios(args):
            with serve_mock(slow_app(base, conditions)) as mock:
                ours = run_ours(mock.url, conditions, args)
                theirs = None
                if executable is not None:
                    mock.reset()
                    theirs = run_schemathesis(executable, documents, mock.url, conditions, ours["workers"], args)
            exit_ours = f"{ours['exit']}{' cut' if ours['cut'] else ''}"
            line = f"{label:44} {exit_ours:>10} {ours['wall']:7.1f} {ours['requests']:9d} {ours['workers']:7d} | "
            if theirs is not None:
                exit_theirs = str(theirs["exit"]) if theirs["verdict"] else "none"
                ratio = theirs["wall"] / ours["wall"] if ours["wall"] else 0.0
                more = "" if theirs["verdict"] else ">"
                line += f"{exit_theirs:>8} {theirs['wall']:7.1f} {theirs['requests']:9d} | {more}{ratio:9.1f}x"
            print(line, flush=True)
            rows.append({"scenario": label, "ours": ours, "schemathesis": theirs})
    print("\nexit: 0 no violation, 1 violations (or cut by the budget: 'cut'), other: the tool's own error; st 'none': "
          "no verdict within the ceiling. time ratio: Schemathesis' wall time / ours (> means it had no verdict yet).")
    for row in rows:
        theirs = row["schemathesis"]
        if theirs and theirs.get("tail"):
            print(f"schemathesis on {row['scenario']}: exit {theirs['exit']}: {' / '.join(theirs['tail'])[:300]}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
