"""The HTML report (``--report-html PATH``): one self-contained file a person opens in a browser.

It holds what the other reports hold -- the verdict, every check's status, each violation with
its explanation, request, response excerpt and ``curl`` steps -- plus two pictures they cannot
give: the ``verify`` matrix as a coloured grid, and, with ``--history``, a per-check timeline of
the last runs (since when has it failed).

Self-contained means no external asset of any kind: styles and the small script are inline and
a Content-Security-Policy forbids every fetch, so the file looks the same offline, attached to a
CI run, or years later. Secrets are redacted with the reports' own functions
(:func:`twilio_webhook_contracts.report.to_json` and ``redact``) *before* HTML escaping, which
would otherwise disguise a secret containing ``&`` or ``<``.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any, Mapping, Sequence

if TYPE_CHECKING:  # pragma: no cover
    from twilio_webhook_contracts.contract_tests.results import Results
    from twilio_webhook_contracts.history import CheckHistory
    from twilio_webhook_contracts.matrix import Matrix

__all__ = ["matrix_html", "run_html"]

_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"

_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d232a;background:#f5f6f8}
header{padding:18px 28px;color:#fff}
header.ok{background:#1e7b45} header.bad{background:#b3261e}
header h1{margin:0 0 4px;font-size:22px} header p{margin:0;opacity:.92}
main{padding:8px 28px 40px;max-width:1200px}
h2{font-size:17px;margin:26px 0 8px}
table{border-collapse:collapse;background:#fff;box-shadow:0 1px 2px #0002;width:100%}
th,td{padding:5px 9px;border-bottom:1px solid #e3e5e8;text-align:left;vertical-align:top}
th{background:#eceef1;font-weight:600}
.badge{display:inline-block;padding:1px 8px;border-radius:9px;font-size:12px;font-weight:600;white-space:nowrap}
.passed,.pass{background:#d4f1dd;color:#125c30} .failed,.fail{background:#f9d7d4;color:#8c1d15}
.skipped,.skip{background:#e6e7ea;color:#4a4f57} .nostate{background:#fff0c2;color:#6b5200}
.unreachable,.error{background:#3a3f47;color:#fff}
td.cell{text-align:center;font-weight:600}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:16px 0}
.card{background:#fff;box-shadow:0 1px 2px #0002;padding:10px 16px;border-radius:6px;min-width:110px}
.card b{display:block;font-size:22px}
section.violation{background:#fff;box-shadow:0 1px 2px #0002;border-left:5px solid #b3261e;margin:12px 0;padding:10px 16px}
section.violation h3{margin:2px 0 6px;font-size:15px}
pre{background:#f0f1f3;padding:8px 10px;overflow-x:auto;white-space:pre-wrap;word-break:break-all;margin:4px 0 8px;font-size:12.5px}
.muted{color:#5c636d} .note{background:#fff7d6;padding:6px 10px;margin:6px 0;border-radius:4px}
.timeline span{display:inline-block;width:14px;height:14px;margin-right:2px;border-radius:2px;vertical-align:middle}
.timeline .P{background:#2e9d5b} .timeline .F{background:#c8372d} .timeline .S{background:#b9bdc4}
.timeline .now{outline:2px solid #1d232a;outline-offset:1px}
"""

#: Marks the page as rendered and collects script errors into the DOM, where a headless browser's
#: ``--dump-dom`` (and a reader) can see them.
_SCRIPT = """
window.__errors=[];window.addEventListener('error',function(e){window.__errors.push(String(e.message))});
document.addEventListener('DOMContentLoaded',function(){
  var v=document.querySelectorAll('section.violation').length;
  document.body.setAttribute('data-violations-rendered',String(v));
  document.body.setAttribute('data-errors',window.__errors.join(' | '));
  document.body.setAttribute('data-ready','yes');
});
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _page(title: str, ok: bool, subtitle: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{_CSP}\">"
        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
        f"<title>{_e(title)}</title><style>{_STYLE}</style><script>{_SCRIPT}</script></head>\n"
        f"<body><header class=\"{'ok' if ok else 'bad'}\"><h1>{_e(title)}</h1><p>{_e(subtitle)}</p></header>"
        f"<main>{body}</main></body></html>\n"
    )


def _cards(pairs: Sequence[tuple[str, Any]]) -> str:
    return "<div class=\"cards\">" + "".join(f"<div class=\"card\"><b>{_e(v)}</b>{_e(k)}</div>" for k, v in pairs) + "</div>"


def _checks_table(report: Mapping[str, Any]) -> str:
    rows = []
    for row in report["checks"]:
        status = row["status"]
        detail = row["skip_reason"] if status == "skipped" else (f"{row['failures']} failure(s)" if row["failures"] else "")
        rows.append(f"<tr data-check=\"{_e(row['name'])}\" data-status=\"{_e(status)}\"><td><code>{_e(row['name'])}</code>"
                    f"<div class=\"muted\">{_e(row['description'])}</div></td><td>{_e(row['family'])}</td>"
                    f"<td><span class=\"badge {_e(status)}\">{_e(status)}</span></td><td>{_e(row['runs'])}</td>"
                    f"<td>{_e(detail)}</td></tr>")
    return ("<h2>Checks</h2><table id=\"checks\"><thead><tr><th>Check</th><th>Family</th><th>Status</th>"
            "<th>Times judged</th><th>Detail</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def _request_text(request: Mapping[str, Any] | None) -> str:
    if not request:
        return "(no single request: see the steps)"
    query = "&".join(f"{k}={v}" for k, v in request["query"])
    lines = [f"{request['method']} {request['path']}" + (f"?{query}" if query else "")]
    lines += [f"  {key} = {value}" for key, value in request["form"]]
    if request.get("defect"):
        lines.append(f"  (invalid on purpose: {request['defect']}" +
                     (f" in {request['defect_field']})" if request.get("defect_field") else ")"))
    return "\n".join(lines)


def _violations(report: Mapping[str, Any]) -> str:
    items = report["violations"]
    if not items:
        return "<h2>Violations</h2><p>None.</p>"
    out = [f"<h2>Violations ({len(items)})</h2>"]
    for index, violation in enumerate(items, 1):
        steps = violation["steps"] or ([violation["curl"]] if violation["curl"] else [])
        answered = (f"<p><b>Answered {_e(violation['status'])}</b>:</p><pre class=\"response\">"
                    f"{_e(violation['response_excerpt'])}</pre>") if violation["status"] is not None else ""
        occurrences = violation.get("occurrences", 1)
        out.append(
            f"<section class=\"violation\" id=\"violation-{index}\" data-check=\"{_e(violation['check'])}\" "
            f"data-operation=\"{_e(violation['operation'])}\">"
            f"<h3><code>{_e(violation['check'])}</code> on <code>{_e(violation['operation'])}</code>"
            f" <span class=\"muted\">({_e(violation['family'])}; {occurrences} time(s))</span></h3>"
            f"<p class=\"explanation\">{_e(violation['explanation'])}</p>"
            f"<p><b>Request</b>:</p><pre class=\"request\">{_e(_request_text(violation['request']))}</pre>{answered}"
            + (f"<p><b>Reproduce</b> (in order):</p><pre class=\"curl\">{_e(chr(10).join(steps))}</pre>" if steps else "")
            + "</section>")
    return "".join(out)


def _timeline(histories: Sequence["CheckHistory"], current: Mapping[str, str], last: int) -> str:
    by_check = {h.check: h for h in histories}
    names = list(dict.fromkeys([*current, *by_check]))
    rows = []
    mark = {"passed": "P", "failed": "F", "skipped": "S"}
    for name in names:
        history = by_check.get(name)
        recent = list(history.recent if history else "")
        if name in current:
            recent.append("*" + mark.get(current[name], "S"))
        recent = recent[-last:]
        squares = "".join(
            f"<span class=\"{'now ' if r.startswith('*') else ''}{r[-1]}\" title=\"{'this run: ' if r.startswith('*') else ''}"
            f"{ {'P': 'passed', 'F': 'failed', 'S': 'skipped'}[r[-1]] }\"></span>" for r in recent)
        failing = ""
        if history and history.failing_since and current.get(name, "failed") == "failed":
            failing = f"failing since run {history.failing_since_run} ({history.failing_since})"
        elif current.get(name) == "failed":
            failing = "fails from this run on"
        passed = f"run {history.last_passed_run} ({history.last_passed_at})" if history and history.last_passed_at else "never"
        rows.append(f"<tr data-check=\"{_e(name)}\"><td><code>{_e(name)}</code></td><td class=\"timeline\">{squares}</td>"
                    f"<td>{_e(failing)}</td><td>{_e(passed)}</td></tr>")
    return (f"<h2>History (last {last} runs, newest right; outlined: this run)</h2><table id=\"history\"><thead><tr>"
            "<th>Check</th><th>Timeline</th><th>Failing since</th><th>Last passed (before this run)</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")


def run_html(results: "Results", secrets: Sequence[str] = (), histories: Sequence["CheckHistory"] | None = None,
             last: int = 20) -> str:
    """The report of one run; with *histories* (:func:`history.check_histories` read before this run
    was recorded), the per-check timeline with this run last."""
    from .report import to_json

    report = to_json(results, secrets)
    return _run_page(report, histories, last)


def _run_page(report: Mapping[str, Any], histories: Sequence["CheckHistory"] | None, last: int) -> str:
    counts = report["counts"]
    ok = not counts["violations"] and not report["aborted"]
    target = report["target"].get("conversations_url")
    chat = report["target"].get("chat_url")
    subtitle = (f"target {target}" + (f" / {chat}" if chat and chat != target else "")
                + f" · seed {report['seed']} · {counts['requests_sent']} requests · {report['duration_seconds']:.1f} s"
                + f" · {report['started_at']}")
    verdict = "no violations" if not counts["violations"] else f"{counts['violations']} violation(s)"
    body = [_cards([("violations", counts["violations"]), ("checks passed", counts["checks_passed"]),
                    ("checks failed", counts["checks_failed"]), ("checks skipped", counts["checks_skipped"]),
                    ("requests", counts["requests_sent"]), ("seed", report["seed"])])]
    if report["aborted"]:
        body.append(f"<p class=\"note\"><b>Run ended early:</b> {_e(report['aborted'])}</p>")
    body += [f"<p class=\"note\">{_e(note)}</p>" for note in report["notes"]]
    body.append(f"<p class=\"muted\">Replay: <code>--seed {_e(report['seed'])}</code></p>")
    body.append(_checks_table(report))
    body.append(_violations(report))
    if histories is not None:
        body.append(_timeline(histories, {row["name"]: row["status"] for row in report["checks"]}, last))
    return _page(f"Twilio webhook contracts: {verdict}", ok, subtitle, "".join(body))


_CELL_CLASS = {"pass": "pass", "fail": "fail", "no state": "nostate", "skip": "skip", "unreachable": "unreachable",
               "error": "error"}


def matrix_html(matrix: "Matrix", secrets: Sequence[str] = ()) -> str:
    """The ``verify`` report: the matrix as a coloured grid, then each target's violations."""
    from .report import _redact_all

    data = _redact_all(matrix.as_dict(), tuple(secrets))
    labels = [t["label"] for t in data["targets"]]
    head = "".join(f"<th>{_e(label)}</th>" for label in labels)
    rows = []
    for check in data["checks"]:
        cells = []
        for label in labels:
            cell = check["cells"][label]
            status = cell["status"]
            text = (f"pass {cell['runs']}" if status == "pass" else f"FAIL {cell['failures']}/{cell['runs']}"
                    if status == "fail" else status)
            cells.append(f"<td class=\"cell {_CELL_CLASS[status]}\" data-target=\"{_e(label)}\" data-status=\"{_e(status)}\""
                         f" title=\"{_e(cell['reason'] or '')}\">{_e(text)}</td>")
        rows.append(f"<tr data-check=\"{_e(check['name'])}\"><td><code>{_e(check['name'])}</code></td>"
                    f"<td>{_e(check['family'])}</td>{''.join(cells)}</tr>")
    ok = data["exit_status"] == 0
    body = [f"<h2>Conformance matrix</h2><table id=\"matrix\"><thead><tr><th>Check</th><th>Family</th>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"]
    for target in data["targets"]:
        body.append(f"<h2>{_e(target['label'])}: {_e(target['conversations_url'])}</h2>")
        if target["report"] is None:
            body.append(f"<p class=\"note\">{_e(target['status'])}: {_e(target['error'])}</p>")
            continue
        body.append(_violations(target["report"]).replace("<h2>Violations", "<h3>Violations", 1).replace("</h2>", "</h3>", 1))
    subtitle = f"{len(labels)} target(s) · seed {data['seed']} · {data['started_at']} · exit status {data['exit_status']}"
    return _page("Twilio webhook contracts: verify", ok, subtitle, "".join(body))
