"""Reports of a contract run: JSON (machines), JUnit XML (CI), markdown and console (people).

Every report says, per check, whether it passed, failed or was skipped (and why),
and for each failure: which operation, why, and a ``curl`` line (or for stateful
failures, the sequence of ``curl`` lines) that reproduces it with
``$TWILIO_AUTH_TOKEN`` in place of the secret.

Secrets never reach a report: requests carry no credentials and curl lines name
a shell variable. As a last line of defence every writer here also passes its
text through :func:`redact` with the run's secrets.
"""

from __future__ import annotations

import json
import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

if TYPE_CHECKING:  # pragma: no cover
    from twilio_webhook_contracts.contract_tests.results import FailureRecord, Results

__all__ = ["REPORT_SCHEMA_VERSION", "console_summary", "markdown_summary", "redact", "to_json", "to_junit_xml",
           "write_report"]

REPORT_SCHEMA_VERSION = 1
_REDACTED = "***"
_NOT_EXERCISED = "no exchange it judges came up in this run (a larger --max-examples may reach one)"


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """*text* with every secret in every form replaced by ``***`` (see :mod:`..credentials`:
    the run's *secrets* and every secret this process knows, also base64 and cut-off pieces)."""
    from .credentials import redact as redact_secrets

    return redact_secrets(text, secrets)


def _redact_all(value: Any, secrets: Sequence[str]) -> Any:
    """Every string inside *value* (dicts, lists) redacted: before any encoding can hide a secret
    behind an escape (``\\"`` in JSON, ``&amp;`` in XML)."""
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {key: _redact_all(item, secrets) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redact_all(item, secrets) for item in value]
    return value


#: Characters XML 1.0 cannot carry at all (a broken server's binary body would make the file unreadable).
_NOT_XML = re.compile(r"[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else "\ufffd", text)


def _headline(violation: dict[str, Any]) -> str:
    """``Operation: explanation``, without saying the operation twice (most explanations start with it)."""
    operation, explanation = violation["operation"], violation["explanation"]
    if explanation.startswith(f"{operation}: "):
        return explanation
    return f"{operation}: {explanation}"


def _explanation(violation: dict[str, Any]) -> str:
    """The explanation without a leading ``Operation: `` (where the operation is shown beside it)."""
    prefix = f"{violation['operation']}: "
    text = violation["explanation"]
    return text[len(prefix):] if text.startswith(prefix) else text


def _checks():
    from twilio_webhook_contracts.contract_tests.checks import CHECKS

    return CHECKS


def _iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


def _violation(record: "FailureRecord") -> dict[str, Any]:
    request = record.request
    return {
        "check": record.check,
        "family": record.family,
        "operation": record.operation_id,
        "explanation": record.explanation,
        "status": record.status,
        "response_excerpt": record.response_excerpt,
        "request": None if request is None else {
            "method": request.method,
            "path": request.path,
            "query": [list(pair) for pair in request.query],
            "form": [list(pair) for pair in request.form],
            "defect": request.defect,
            "defect_field": request.defect_field,
        },
        "curl": record.curl,
        "steps": list(record.steps),
        "occurrences": record.occurrences,
    }


def to_json(results: "Results", secrets: Sequence[str] = ()) -> dict[str, Any]:
    """The JSON report as a dict (its schema is documented in the README), *secrets* redacted."""
    checks = _checks()
    rows = []
    for name, check in checks.items():
        status = results.status_of(name)
        rows.append({
            "name": name,
            "family": check.family,
            "description": check.description,
            "status": status,
            "runs": results.checks_run[name],
            "failures": results.check_failures[name],
            "skip_reason": (results.skipped.get(name) or _NOT_EXERCISED) if status == "skipped" else None,
            "not_finished": results.unfinished.get(name) if status == "not_finished" else None,
        })
    violations = [_violation(record) for record in results.violations]
    return _redact_all({
        "schema_version": REPORT_SCHEMA_VERSION,
        "tool": {"name": "twilio-webhook-contracts", "version": _version()},
        "target": dict(results.target),
        "seed": results.seed,
        "started_at": _iso(results.started),
        "duration_seconds": round(results.duration, 3),
        "counts": {
            "requests_sent": results.requests_sent,
            "retries": results.retries,
            "checks_run": sum(results.checks_run.values()),
            "checks_passed": sum(1 for r in rows if r["status"] == "passed"),
            "checks_failed": sum(1 for r in rows if r["status"] == "failed"),
            "checks_skipped": sum(1 for r in rows if r["status"] == "skipped"),
            "checks_not_finished": sum(1 for r in rows if r["status"] == "not_finished"),
            "violations": len(violations),
        },
        "checks": rows,
        "violations": violations,
        "notes": list(results.notes),
        "aborted": results.aborted,
        "field_coverage": field_coverage(results),
    }, tuple(secrets))


def field_coverage(results: "Results", spec: Any = None) -> list[dict[str, Any]]:
    """Per documented form field of every write (and, on create, per webhook ``Type`` that uses it):
    how many requests sent it and how many of those the target accepted or rejected.

    A row with ``accepted: 0`` in a run that wrote is a gap: no read-back ever judged that field, so a
    server that drops it would pass. Counting at the wire, not in the generator, is what makes the gap
    honest (a generated value the budget never sent is not coverage).
    """
    if spec is None:
        from .spec import default_spec

        spec = default_spec()
    from .strategies import fields_unused_by

    rows = []
    for operation_id in spec.operations:
        operation = spec.operation(operation_id)
        properties = operation.form_fields
        if not operation.is_write or not properties:
            continue
        kinds: list[str | None] = [None]
        if operation_id == "CreateChannelWebhook" and "Type" in properties:
            kinds = list(properties["Type"].get("enum") or [None])
        for kind in kinds:
            unused = set(fields_unused_by(kind, spec, operation_id)) if kind else set()
            for name in properties:
                if name in unused:
                    continue
                uses = {outcome: results.field_uses[(operation_id, name, kind, outcome)]
                        for outcome in ("accepted", "rejected")}
                rows.append({"operation": operation_id, "field": name, "type": kind,
                             "sent": sum(uses.values()), **uses})
    return rows


def coverage_gaps(results: "Results", spec: Any = None) -> list[str]:
    """The documented fields no accepted write carried, on operations that had accepted writes at all
    (a read-only run has no gaps to speak of: it has no writes)."""
    rows = field_coverage(results, spec)
    wrote = {(row["operation"], row["type"]) for row in rows if row["accepted"]}
    return [f"{row['operation']} {row['field']}" + (f" (Type={row['type']})" if row["type"] else "")
            for row in rows if not row["accepted"] and (row["operation"], row["type"]) in wrote]


def to_junit_xml(results: "Results", secrets: Sequence[str] = ()) -> str:
    """JUnit XML: one test case per (check, operation), with the seconds of the exchanges it judged
    and at most one ``<failure>`` (a check never exercised is one skipped test case).

    CI tools (Jenkins, GitLab, GitHub test reporters) show one failure per test case and reject
    several; the file validates against Jenkins' ``junit-10.xsd`` (tests/test_junit.py).
    """
    report = to_json(results, secrets)
    by_check: dict[str, dict[str, dict[str, Any]]] = {}
    for violation in report["violations"]:
        by_check.setdefault(violation["check"], {})[violation["operation"]] = violation
    cases: list[tuple[dict[str, Any], str, float, dict[str, Any] | None]] = []
    for row in report["checks"]:
        if row["status"] == "skipped":
            cases.append((row, "", 0.0, None))
            continue
        failed = by_check.get(row["name"], {})
        operations = sorted({op for (check, op) in results.by_operation if check == row["name"]} | set(failed))
        for operation in operations or ["all operations"]:
            cases.append((row, operation, results.seconds.get((row["name"], operation), 0.0), failed.get(operation)))
    failures = sum(1 for *_, violation in cases if violation is not None)
    skipped = sum(1 for row, *_, violation in cases
                  if row["status"] == "skipped" or (row["status"] == "not_finished" and violation is None))
    suite = ET.Element("testsuite", {
        "name": "twilio-webhook-contracts",
        "tests": str(len(cases)),
        "failures": str(failures),
        "skipped": str(skipped),
        "errors": "0",
        "time": f"{report['duration_seconds']:.3f}",
        "timestamp": report["started_at"],
    })
    properties = ET.SubElement(suite, "properties")
    for key, value in (("seed", report["seed"]), *sorted(report["target"].items())):
        ET.SubElement(properties, "property", {"name": _xml_text(str(key)), "value": _xml_text(str(value))})
    for row, operation, seconds, violation in cases:
        name = f"{row['name']}[{operation}]" if operation else row["name"]
        case = ET.SubElement(suite, "testcase", {"classname": f"contract.{row['family']}.{row['name']}",
                                                 "name": _xml_text(name), "time": f"{seconds:.3f}"})
        if row["status"] == "skipped":
            ET.SubElement(case, "skipped", {"message": _xml_text(row["skip_reason"] or "not run")})
        elif row["status"] == "not_finished" and violation is None:  # JUnit has no such outcome: skipped, saying so
            ET.SubElement(case, "skipped", {"message": _xml_text(row["not_finished"] or "not finished (budget)")})
        if violation is not None:
            failure = ET.SubElement(case, "failure", {
                "message": _xml_text(_headline(violation)[:500]),
                "type": row["name"],
            })
            failure.text = _xml_text(_failure_text(violation))
    if report["notes"] or report["aborted"]:
        out = ET.SubElement(suite, "system-out")
        out.text = _xml_text("\n".join([*report["notes"], *([report["aborted"]] if report["aborted"] else [])]))
    root = ET.Element("testsuites", {"name": "twilio-webhook-contracts", "tests": str(len(cases)),
                                     "failures": str(failures), "errors": "0",
                                     "time": f"{report['duration_seconds']:.3f}"})
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _failure_text(violation: dict[str, Any]) -> str:
    lines = [_headline(violation)]
    if violation["status"] is not None:
        lines.append(f"answered {violation['status']}: {violation['response_excerpt']}")
    if violation["steps"]:
        lines.append("reproduce (in order):")
        lines += [f"  {step}" for step in violation["steps"]]
    elif violation["curl"]:
        lines += ["reproduce:", f"  {violation['curl']}"]
    return "\n".join(lines)


def markdown_summary(results: "Results", secrets: Sequence[str] = ()) -> str:
    """A short summary for a CI job page: verdict, per-check table, each failure with its reproduction."""
    report = to_json(results, secrets)
    counts = report["counts"]
    verdict = "no violations" if not counts["violations"] else f"{counts['violations']} violation(s)"
    icon = "✅" if not counts["violations"] and not report["aborted"] else "❌"
    lines = [
        f"## {icon} Twilio webhook contracts: {verdict}",
        "",
        f"Target `{report['target'].get('conversations_url')}`"
        + (f" / `{report['target'].get('chat_url')}`" if report["target"].get("chat_url") != report["target"].get("conversations_url") else "")
        + f" · seed `{report['seed']}` · {counts['requests_sent']} requests · {report['duration_seconds']:.1f} s",
        "",
    ]
    if report["aborted"]:
        lines += [f"**Run ended early:** {report['aborted']}", ""]
    for note in report["notes"]:
        lines.append(f"> {note}")
    if report["notes"]:
        lines.append("")
    lines += ["| Check | Family | Result | Runs |", "| --- | --- | --- | --- |"]
    for row in report["checks"]:
        result = {"passed": "✅ pass", "failed": f"❌ fail ({row['failures']})", "skipped": "⏭ skipped",
                  "not_finished": "⏸ not finished (budget)"}[row["status"]]
        if row["status"] == "skipped" and row["skip_reason"]:
            result += f": {_one_line(row['skip_reason'], 200).replace('|', '/')}"
        lines.append(f"| `{row['name']}` | {row['family']} | {result} | {row['runs']} |")
    if report["violations"]:
        lines += ["", "### Failures", ""]
        for violation in report["violations"]:
            lines += [f"#### `{violation['check']}` on `{violation['operation']}`", "", _explanation(violation), ""]
            if violation["status"] is not None:
                lines += [f"Answered `{violation['status']}`: `{_one_line(violation['response_excerpt'], 200)}`", ""]
            steps = violation["steps"] or ([violation["curl"]] if violation["curl"] else [])
            if steps:
                lines += ["Reproduce:", "", "```sh", *steps, "```", ""]
    return "\n".join(lines).rstrip() + "\n"


def what_was_tested(results: "Results", spec: Any = None) -> list[str]:
    """One compact block: per family, the checks that held and how many times each was judged;
    then why an operation got few requests (``nothing to vary: no parameters``).

    A passing run that says only "20 passed" leaves the reader guessing whether a check ran
    once or a thousand times; this says it, without a line per check.
    """
    checks = _checks()
    held: dict[str, list[str]] = {}
    for name, check in checks.items():
        if results.status_of(name) == "passed":
            held.setdefault(check.family, []).append(f"{name} ×{results.checks_run[name]}")
    if not held:
        return []
    width = max(len(family) for family in held)
    lines = ["held (times judged):"] + [f"  {family:{width}}  {', '.join(names)}" for family, names in held.items()]
    lines += [f"  {line}" for line in _low_counts(results, spec)]
    gaps = coverage_gaps(results, spec)
    if gaps:
        lines.append(f"  never accepted in a write (not read back): {', '.join(gaps)}")
    return lines


def _low_counts(results: "Results", spec: Any) -> list[str]:
    counts = results.requests_by_operation
    if not counts:
        return []
    if spec is None:
        from .spec import default_spec

        spec = default_spec()
    ordered = sorted(counts.values())
    median = ordered[len(ordered) // 2]
    lines = []
    for operation_id, sent in counts.items():
        try:
            operation = spec.operation(operation_id)
        except Exception:  # noqa: BLE001 - an operation the spec does not know: nothing to explain
            continue
        if not operation.parameters and not operation.form_fields:
            lines.append(f"{operation_id}: few requests of its own: nothing to vary: no parameters (every generated "
                         f"request is the same one, sent once per kind; {sent} in all with the stateful suite's)")
        elif sent * 4 < median:
            varying = "only its path varies" if not operation.form_fields and not operation.query_parameters \
                else "few distinct requests exist or were reached"
            lines.append(f"{operation_id}: {sent} requests (median {median}): {varying}")
    return lines


def console_summary(results: "Results", verbose: bool = False, secrets: Sequence[str] = (), quiet: bool = False) -> str:
    """What a person reads in a terminal at the end of a run (``quiet``: without the "held" block)."""
    report = to_json(results, secrets)
    counts = report["counts"]
    lines = [] if quiet else [redact(line, secrets) for line in what_was_tested(results)]
    for violation in report["violations"]:
        lines.append(f"FAIL {violation['check']} [{violation['operation']}] {_explanation(violation)}")
        steps = violation["steps"] or ([violation["curl"]] if violation["curl"] else [])
        shown = steps if verbose else steps[-6:]
        if len(shown) < len(steps):
            lines.append(f"     ... {len(steps) - len(shown)} earlier step(s) in the JSON report")
        lines += [f"     {step}" for step in shown]
    if verbose:
        for row in report["checks"]:
            if row["status"] == "skipped":
                lines.append(f"skip {row['name']}: {row['skip_reason'] or 'not applicable to this run'}")
    unfinished = [row["name"] for row in report["checks"] if row["status"] == "not_finished"]
    if unfinished:
        lines.append(f"not finished (budget): {', '.join(unfinished)}")
    for note in report["notes"]:
        lines.append(f"note: {note}")
    if report["aborted"]:
        lines.append(f"run ended early: {report['aborted']}")
    not_finished = f", {len(unfinished)} not finished (budget)" if unfinished else ""
    lines.append(
        f"{counts['checks_passed']} passed, {counts['checks_failed']} failed, {counts['checks_skipped']} skipped"
        f"{not_finished} checks; "
        f"{counts['violations']} violation(s) in {counts['requests_sent']} requests, "
        f"{report['duration_seconds']:.1f} s, seed {report['seed']} (replay with --seed {report['seed']})"
    )
    return "\n".join(lines)


def write_report(path: str | Path, text: str, secrets: Sequence[str] = ()) -> None:
    """Write a report file, redacting secrets; parent directories are created."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(redact(text, secrets), encoding="utf-8")


def dumps(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


def _one_line(text: str, limit: int) -> str:
    text = " ".join(text.split()).replace("`", "'")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _version() -> str:
    from . import __version__

    return __version__
