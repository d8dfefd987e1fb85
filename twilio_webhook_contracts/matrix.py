"""The conformance matrix of ``webhook-contracts verify``: checks x targets.

One column per target, one row per check. A cell is one of

* ``pass N``      -- the check held on all N exchanges (or comparisons) it applied to;
* ``FAIL k/N``    -- it failed k times out of N;
* ``no state``    -- a state check on a target found to keep no state
  (:mod:`twilio_webhook_contracts.contract_tests.stateless`): the check cannot mean anything there;
* ``skip``        -- not run (deselected, ``--stateless``, or nothing it applies to);
* ``unreachable`` -- nothing answered at the target, so nothing was checked;
* ``error``       -- the run against the target crashed (a bug of this tool).

Rendered as text (terminal), markdown and JSON.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from twilio_webhook_contracts.contract_tests.results import Results

__all__ = ["MATRIX_SCHEMA_VERSION", "Matrix", "TargetRun"]

MATRIX_SCHEMA_VERSION = 1

PASS, FAIL, NO_STATE, SKIP, UNREACHABLE, ERROR = "pass", "fail", "no state", "skip", "unreachable", "error"
_MARKDOWN = {PASS: "✅", FAIL: "❌", NO_STATE: "➖ no state", SKIP: "⏭ skip", UNREACHABLE: "⛔ unreachable",
             ERROR: "💥 error"}


@dataclass
class TargetRun:
    """One column: a target and what running the suite against it gave."""

    label: str
    conversations_url: str
    chat_url: str
    results: "Results | None" = None
    error: str | None = None  # set when the target could not be reached at all (or the run crashed)
    crashed: bool = False  # the run raised: an internal error, not the target's fault

    @property
    def reachable(self) -> bool:
        return self.results is not None

    @property
    def stateless(self) -> str | None:
        if self.results is None:
            return None
        from twilio_webhook_contracts.contract_tests.stateless import keeps_no_state

        return keeps_no_state(self.results)


@dataclass(frozen=True)
class Cell:
    status: str
    runs: int = 0
    failures: int = 0
    reason: str | None = None

    def text(self) -> str:
        if self.status == PASS:
            return f"pass {self.runs}"
        if self.status == FAIL:
            return f"FAIL {self.failures}/{self.runs}"
        return self.status

    def markdown(self) -> str:
        if self.status == PASS:
            return f"✅ {self.runs}"
        if self.status == FAIL:
            return f"❌ {self.failures}/{self.runs}"
        return _MARKDOWN[self.status]

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "runs": self.runs, "failures": self.failures, "reason": self.reason}


@dataclass
class Matrix:
    targets: list[TargetRun]
    seed: int | None = None
    started: float = field(default_factory=time.time)

    # -- cells ----------------------------------------------------------------

    def checks(self) -> list[Any]:
        from twilio_webhook_contracts.contract_tests.checks import CHECKS

        return list(CHECKS.values())

    def cell(self, check: Any, target: TargetRun) -> Cell:
        results = target.results
        if results is None:
            return Cell(ERROR if target.crashed else UNREACHABLE, reason=target.error)
        if check.family == "state" and target.stateless == "detected":
            return Cell(NO_STATE, reason="target keeps no state")
        status = results.status_of(check.name)
        runs, failures = results.checks_run[check.name], results.check_failures[check.name]
        if status == "failed":
            return Cell(FAIL, runs, failures)
        if status == "passed":
            return Cell(PASS, runs)
        return Cell(SKIP, reason=results.skipped.get(check.name) or "not run")

    def target_failed(self, target: TargetRun) -> bool:
        if target.results is None:
            return False
        if target.results.aborted:
            return True
        return any(self.cell(check, target).status == FAIL for check in self.checks()) or (
            target.stateless == "detected")

    def exit_status(self) -> int:
        """4 if a run crashed, 3 if a target was unreachable (the matrix is incomplete), else 1 on any
        failure, else 0.

        A target found to keep no state counts as a failure (Twilio keeps state);
        declare it with ``--stateless`` to check only per-request behaviour.
        """
        if any(t.crashed for t in self.targets):
            return 4
        if any(not t.reachable for t in self.targets):
            return 3
        return 1 if any(self.target_failed(t) for t in self.targets) else 0

    def totals(self, target: TargetRun) -> dict[str, int]:
        counts = {PASS: 0, FAIL: 0, NO_STATE: 0, SKIP: 0, UNREACHABLE: 0, ERROR: 0}
        for check in self.checks():
            counts[self.cell(check, target).status] += 1
        return counts

    # -- renderings ---------------------------------------------------------

    def text(self, failures: bool = True, width: int = 110) -> str:
        labels = [t.label for t in self.targets]
        name_width = max(len(c.name) for c in self.checks())
        cells = [[self.cell(c, t).text() for t in self.targets] for c in self.checks()]
        widths = [max(len(label), *(len(row[i]) for row in cells)) for i, label in enumerate(labels)]
        lines = ["  ".join([f"{'check':{name_width}}", *(f"{label:{w}}" for label, w in zip(labels, widths))]).rstrip()]
        lines.append("  ".join(["-" * name_width, *("-" * w for w in widths)]))
        for check, row in zip(self.checks(), cells):
            lines.append("  ".join([f"{check.name:{name_width}}", *(f"{value:{w}}" for value, w in zip(row, widths))]).rstrip())
        lines.append("")
        for target in self.targets:
            lines.append(f"{target.label}: {self._summary(target)}")
            if failures:
                lines += [f"  {line}" for line in self._failure_lines(target, width)]
        return "\n".join(lines).rstrip() + "\n"

    def markdown(self) -> str:
        lines = ["## Conformance matrix", ""]
        lines.append(f"Seed `{self.seed}` · {time.strftime('%Y-%m-%d', time.gmtime(self.started))} · "
                     f"`webhook-contracts verify`, twilio-webhook-contracts {_version()}")
        lines += ["", "| Target | Conversations URL | Chat URL | Requests | Result |", "| --- | --- | --- | --- | --- |"]
        for target in self.targets:
            requests = target.results.requests_sent if target.results else 0
            lines.append(f"| **{target.label}** | `{target.conversations_url}` | `{target.chat_url}` | {requests} | "
                         f"{self._summary(target, requests=False)} |")
        lines += ["", "| Check | Family | " + " | ".join(t.label for t in self.targets) + " |",
                  "| --- | --- | " + " | ".join("---" for _ in self.targets) + " |"]
        for check in self.checks():
            row = [self.cell(check, t).markdown() for t in self.targets]
            lines.append(f"| `{check.name}` | {check.family} | " + " | ".join(row) + " |")
        lines += ["", "Cells: ✅ N = passed on all N exchanges it applied to; ❌ k/N = failed k of N; "
                  "➖ no state = a state check on a target that keeps no state; ⏭ skip = not run; "
                  "⛔ unreachable = nothing answered; 💥 error = the run crashed."]
        for target in self.targets:
            details = self._failure_lines(target, 400, markdown=True)
            if details:
                lines += ["", f"### {target.label}", "", *details]
        return "\n".join(lines).rstrip() + "\n"

    def as_dict(self) -> dict[str, Any]:
        from .report import to_json

        targets = []
        for target in self.targets:
            entry: dict[str, Any] = {
                "label": target.label,
                "conversations_url": target.conversations_url,
                "chat_url": target.chat_url,
                "status": "ok" if target.reachable else ("error" if target.crashed else "unreachable"),
                "error": target.error,
                "keeps_state": None if target.results is None else target.stateless is None,
                "stateless": target.stateless,
                "totals": self.totals(target),
                "report": to_json(target.results) if target.results is not None else None,
            }
            targets.append(entry)
        return {
            "schema_version": MATRIX_SCHEMA_VERSION,
            "tool": {"name": "twilio-webhook-contracts", "version": _version()},
            "seed": self.seed,
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started)),
            "exit_status": self.exit_status(),
            "targets": targets,
            "checks": [
                {"name": check.name, "family": check.family, "description": check.description,
                 "cells": {t.label: self.cell(check, t).as_dict() for t in self.targets}}
                for check in self.checks()
            ],
        }

    def json_text(self) -> str:
        return json.dumps(self.as_dict(), indent=2, ensure_ascii=False) + "\n"

    # -- helpers ------------------------------------------------------------

    def _summary(self, target: TargetRun, requests: bool = True) -> str:
        if target.results is None:
            return f"{'error' if target.crashed else 'unreachable'}: {target.error}"
        totals = self.totals(target)
        parts = [f"{totals[PASS]} pass", f"{totals[FAIL]} fail"]
        if totals[NO_STATE]:
            parts.append(f"{totals[NO_STATE]} no state")
        parts.append(f"{totals[SKIP]} skip")
        text = ", ".join(parts) + (f" ({target.results.requests_sent} requests)" if requests else "")
        if target.stateless == "detected":
            text += "; keeps no state"
        elif target.stateless == "declared":
            text += "; declared stateless"
        if target.results.aborted:
            text += f"; ended early: {target.results.aborted}"
        return text

    def _failure_lines(self, target: TargetRun, width: int, markdown: bool = False) -> list[str]:
        results = target.results
        if results is None:
            return []
        out = []
        for record in results.violations:
            text = " ".join(record.explanation.split())
            if len(text) > width:
                text = text[: width - 3] + "..."
            count = f" ({record.occurrences}×)" if record.occurrences > 1 else ""
            if markdown:
                out.append(f"- `{record.check}` on `{record.operation_id}`{count}: {text.replace('|', '/')}")
            else:
                out.append(f"{record.check} [{record.operation_id}]{count}: {text}")
        for note in results.notes:
            out.append(f"- note: {note}" if markdown else f"note: {note}")
        return out

    def junit_xml(self) -> str:
        """JUnit XML with one ``<testsuite>`` per reachable target (unreachable ones as one error)."""
        import xml.etree.ElementTree as ET

        from .report import to_junit_xml

        root = ET.Element("testsuites")
        for target in self.targets:
            if target.results is None:
                suite = ET.SubElement(root, "testsuite", {"name": f"twilio-webhook-contracts[{target.label}]",
                                                          "tests": "1", "failures": "0", "errors": "1", "skipped": "0"})
                case = ET.SubElement(suite, "testcase", {"classname": "contract.target", "name": "reachable"})
                ET.SubElement(case, "error", {"message": target.error or "unreachable"})
                continue
            parsed = ET.fromstring(to_junit_xml(target.results))
            for suite in parsed.iter("testsuite"):
                suite.set("name", f"twilio-webhook-contracts[{target.label}]")
                root.append(suite)
        ET.indent(root)
        return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _version() -> str:
    from . import __version__

    return __version__
