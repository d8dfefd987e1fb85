"""HAR 1.2 cassettes of a run (``--report-har PATH``) and replaying their failing steps.

Every exchange the run had with the target -- probe, generated requests, stateful steps,
clean-up, answers that were retried (429/503) -- becomes one HAR entry, in the order sent, so
any HAR viewer (browser devtools, Charles, Fiddler) shows the run. The spec
(http://www.softwareishard.com/blog/har-12-spec/) allows fields starting with ``_``; ours:

* ``_operationId``, ``_auth`` (``valid``/``none``/``wrong``);
* ``_request``: the request value (path parameters, query, form, defect), so that
  ``webhook-contracts replay`` rebuilds it exactly rather than re-parsing a URL;
* ``_failedChecks``: the response checks this exchange failed (empty: it passed them).

Secrets never reach the file: the ``Authorization`` header is written as ``Basic ***``, and the
whole log passes through the reports' redaction (:func:`report._redact_all`, then ``redact``
when written), as every other report does.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

if TYPE_CHECKING:  # pragma: no cover
    from twilio_webhook_contracts.contract_tests.results import Results
    from twilio_webhook_contracts.request import Request
    from twilio_webhook_contracts.target import Response

__all__ = ["HarError", "HarRecorder", "failing_steps", "load_har", "request_from_entry", "to_har"]

_REASONS = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
            404: "Not Found", 405: "Method Not Allowed", 409: "Conflict", 429: "Too Many Requests",
            500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


class HarError(Exception):
    """A cassette that cannot be read or is not one of ours; the message says which and why."""


class HarRecorder:
    """A target observer (``Target.observers``) keeping every answered exchange with its start time."""

    def __init__(self) -> None:
        self.exchanges: list[tuple[float, "Response"]] = []
        self._lock = threading.Lock()

    def after_response(self, response: "Response") -> None:
        now = time.time()
        with self._lock:
            for each in (*response.retried, response):
                self.exchanges.append((now - each.elapsed, each))


def _iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(timestamp)) + f".{int(timestamp % 1 * 1000):03d}Z"


def _pairs(pairs: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": str(key), "value": str(value)} for key, value in pairs]


def _entry(started: float, response: "Response", failed: Sequence[str]) -> dict[str, Any]:
    request = response.request
    headers = dict(request.headers)
    if response.auth != "none":
        headers["Authorization"] = "Basic ***"
    body_text = response.body.decode("utf-8", "replace")
    entry: dict[str, Any] = {
        "startedDateTime": _iso(started),
        "time": round(response.elapsed * 1000, 3),
        "request": {
            "method": request.method,
            "url": response.url,
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": _pairs(sorted(headers.items())),
            "queryString": _pairs(request.query),
            "headersSize": -1,
            "bodySize": len(request.body),
        },
        "response": {
            "status": response.status,
            "statusText": _REASONS.get(response.status, ""),
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": _pairs(list(response.headers.items())),
            "content": {"size": len(response.body), "mimeType": response.headers.get("Content-Type", "") or "x-unknown",
                        "text": body_text},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": len(response.body),
        },
        "cache": {},
        "timings": {"send": 0, "wait": round(response.elapsed * 1000, 3), "receive": 0},
        "_operationId": request.operation_id,
        "_auth": response.auth,
        "_request": {
            "operationId": request.operation_id,
            "method": request.method,
            "path": request.path,
            "pathParams": dict(request.path_params),
            "query": [list(pair) for pair in request.query],
            "form": None if "Content-Type" not in request.headers else [list(pair) for pair in request.form],
            "defect": request.defect,
            "defectField": request.defect_field,
        },
        "_failedChecks": list(failed),
    }
    if request.body or request.method in ("POST", "PUT", "PATCH"):
        entry["request"]["postData"] = {"mimeType": request.headers.get("Content-Type", ""), "params": _pairs(request.form),
                                        "text": request.body.decode("utf-8", "replace")}
    return entry


def to_har(recorder: HarRecorder, results: "Results", secrets: Sequence[str] = ()) -> str:
    """The cassette as JSON text: every recorded exchange, marked with the checks it failed."""
    from .report import _redact_all, _version

    failed_by_response = {id(response): failed for _, response, failed in (results.exchanges or [])}
    with recorder._lock:  # noqa: SLF001 - our own recorder
        exchanges = sorted(recorder.exchanges, key=lambda pair: pair[0])
    entries = [_entry(started, response, failed_by_response.get(id(response), ())) for started, response in exchanges]
    log = {"log": {
        "version": "1.2",
        "creator": {"name": "twilio-webhook-contracts", "version": _version()},
        "pages": [],
        "entries": entries,
        "comment": f"seed {results.seed}; entries with _failedChecks are the failing steps "
                   f"(webhook-contracts replay FILE --target URL re-sends and re-checks them)",
    }}
    return json.dumps(_redact_all(log, tuple(secrets)), indent=1, ensure_ascii=False) + "\n"


def load_har(path: str | Path) -> list[dict[str, Any]]:
    """The entries of a cassette; :class:`HarError` (one line) for anything else."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise HarError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise HarError(f"{path} is not JSON: {exc}") from None
    log = data.get("log") if isinstance(data, dict) else None
    if not isinstance(log, dict) or not isinstance(log.get("entries"), list):
        raise HarError(f"{path} is not a HAR file (no log.entries)")
    if str(log.get("version")) != "1.2":
        raise HarError(f"{path}: HAR version {log.get('version')!r}; expected 1.2")
    return log["entries"]


def failing_steps(entries: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The entries whose answer failed a check, in the order they were sent."""
    return [entry for entry in entries if entry.get("_failedChecks")]


def request_from_entry(entry: Mapping[str, Any]) -> "Request":
    """The request of an entry we wrote (its ``_request``), rebuilt exactly."""
    from .request import Request

    value = entry.get("_request")
    if not isinstance(value, dict) or not isinstance(value.get("operationId"), str):
        raise HarError("an entry without _request: this cassette was not written by webhook-contracts --report-har")
    try:
        form = value.get("form")
        return Request.build(
            value["operationId"], value["method"], value["path"],
            path_params={str(k): str(v) for k, v in (value.get("pathParams") or {}).items()},
            query=[(str(k), str(v)) for k, v in value.get("query") or []],
            form=None if form is None else [(str(k), str(v)) for k, v in form],
            defect=value.get("defect"), defect_field=value.get("defectField"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise HarError(f"a malformed _request in the cassette: {exc}") from None
