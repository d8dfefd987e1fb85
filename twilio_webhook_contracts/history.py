"""Run history in a local SQLite file: when did each check last pass, since when does it fail?

A nightly job's reader does not want one night's report; they want to know whether a
failure is new, and for how long it has been there. Each run appends one row per
check (``--history PATH``); ``webhook-contracts history`` reads them back.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

__all__ = ["CheckHistory", "HistoryError", "check_histories", "record_run", "render_history"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at TEXT NOT NULL,
    duration_seconds REAL NOT NULL,
    target TEXT NOT NULL,
    seed INTEGER,
    requests_sent INTEGER NOT NULL,
    violations INTEGER NOT NULL,
    aborted TEXT
);
CREATE TABLE IF NOT EXISTS check_results (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    check_name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('passed', 'failed', 'skipped')),
    runs INTEGER NOT NULL,
    failures INTEGER NOT NULL,
    detail TEXT,
    PRIMARY KEY (run_id, check_name)
);
"""


class HistoryError(Exception):
    """The history file cannot be read or written; the message names it."""


@dataclass(frozen=True)
class CheckHistory:
    """One check across the recorded runs."""

    check: str
    last_status: str
    last_run_at: str
    last_passed_at: str | None
    failing_since: str | None  # first run of the current unbroken streak of failures
    failing_runs: int  # length of that streak
    recent: str  # newest last, e.g. "PPPF" (P pass, F fail, S skip)
    detail: str | None  # the latest failure's first explanation
    last_passed_run: int | None = None  # run ids (1, 2, ... in the order recorded): timestamps have
    failing_since_run: int | None = None  # one-second resolution, two runs may share one


def _connect(path: str | Path) -> sqlite3.Connection:
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(str(path), timeout=10)
        connection.executescript(_SCHEMA)
        return connection
    except (sqlite3.Error, OSError) as exc:
        raise HistoryError(f"cannot open history file {path}: {exc}") from None


def record_run(path: str | Path, report: Mapping[str, Any]) -> int:
    """Append one run (a JSON report as :func:`report.to_json` makes it); return its id."""
    first_failure: dict[str, str] = {}
    for violation in report.get("violations", []):
        operation, explanation = violation["operation"], violation["explanation"]
        headline = explanation if explanation.startswith(f"{operation}: ") else f"{operation}: {explanation}"
        first_failure.setdefault(violation["check"], headline[:500])
    with closing(_connect(path)) as connection:
        try:
            with connection:
                cursor = connection.execute(
                    "INSERT INTO runs (started_at, duration_seconds, target, seed, requests_sent, violations, aborted) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (report["started_at"], report["duration_seconds"],
                     str(report["target"].get("description") or report["target"].get("conversations_url", "")),
                     report.get("seed"), report["counts"]["requests_sent"], report["counts"]["violations"],
                     report.get("aborted")),
                )
                run_id = int(cursor.lastrowid or 0)
                connection.executemany(
                    "INSERT INTO check_results (run_id, check_name, status, runs, failures, detail) VALUES (?, ?, ?, ?, ?, ?)",
                    # a check the budget cut short is kept as skipped (not judged), its detail saying so
                    [(run_id, row["name"], "skipped" if row["status"] == "not_finished" else row["status"],
                      row["runs"], row["failures"],
                      first_failure.get(row["name"]) or row.get("skip_reason") or row.get("not_finished"))
                     for row in report["checks"]],
                )
        except sqlite3.Error as exc:
            raise HistoryError(f"cannot write history file {path}: {exc}") from None
    return run_id


def check_histories(path: str | Path, last: int = 10) -> list[CheckHistory]:
    """Per check, what the recorded runs say, oldest run first internally."""
    if not Path(path).exists():
        raise HistoryError(f"no history at {path} (runs write it with --history {path})")
    with closing(_connect(path)) as connection:
        try:
            rows = connection.execute(
                "SELECT r.id, r.started_at, c.check_name, c.status, c.detail FROM check_results c "
                "JOIN runs r ON r.id = c.run_id ORDER BY r.id"
            ).fetchall()
        except sqlite3.Error as exc:
            raise HistoryError(f"cannot read history file {path}: {exc}") from None
    by_check: dict[str, list[tuple[str, str, str | None, int]]] = {}
    for run_id, started, name, status, detail in rows:
        by_check.setdefault(name, []).append((started, status, detail, run_id))
    histories = []
    for name, runs in by_check.items():
        judged = [r for r in runs if r[1] != "skipped"]
        passed = next((r for r in reversed(judged) if r[1] == "passed"), None)
        streak: list[tuple[str, str, str | None, int]] = []
        for run in reversed(judged):
            if run[1] != "failed":
                break
            streak.append(run)
        histories.append(CheckHistory(
            check=name,
            last_status=runs[-1][1],
            last_run_at=runs[-1][0],
            last_passed_at=passed[0] if passed else None,
            failing_since=streak[-1][0] if streak else None,
            failing_runs=len(streak),
            recent="".join({"passed": "P", "failed": "F", "skipped": "S"}[r[1]] for r in runs[-last:]),
            detail=streak[0][2] if streak else None,
            last_passed_run=passed[3] if passed else None,
            failing_since_run=streak[-1][3] if streak else None,
        ))
    return histories


def render_history(histories: Sequence[CheckHistory]) -> str:
    """A table for a terminal: failing checks first, with since when."""
    if not histories:
        return "no runs recorded yet"
    ordered = sorted(histories, key=lambda h: (h.last_status != "failed", h.check))
    width = max(len(h.check) for h in ordered)
    lines = [f"{'check':{width}}  {'now':7}  {'last passed':29}  {'failing since':38}  recent (newest last)"]
    for h in ordered:
        passed = f"run {h.last_passed_run} {h.last_passed_at}" if h.last_passed_at else "never"
        failing = (f"run {h.failing_since_run} {h.failing_since} ({h.failing_runs} run{'s' * (h.failing_runs != 1)})"
                   if h.failing_since else "-")
        lines.append(f"{h.check:{width}}  {h.last_status:7}  {passed:29}  {failing:38}  {h.recent}")
        if h.detail and h.last_status == "failed":
            lines.append(f"{'':{width}}  └ {h.detail}")
    return "\n".join(lines)


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
