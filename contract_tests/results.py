"""What a contract run found: counts per check, one record per failing (check, operation).

Shared by the runner, the stateful suite, the pytest plugin and the reports. It is
thread-safe because ``--workers`` runs several sessions at once.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

from twilio_webhook_contracts.request import Request
from twilio_webhook_contracts.target import Response

from .checks import CHECKS, is_rejection

__all__ = ["CheckFailed", "FailureRecord", "OperationDead", "Results", "failure_type"]


class CheckFailed(AssertionError):
    """Raised inside a Hypothesis test so that Hypothesis shrinks and remembers the example.

    Each check gets its own subclass (:func:`failure_type`): Hypothesis tells
    distinct bugs apart by exception type, so one run can report a minimal
    example for every failing check, not just the first.
    """

    check = ""


class OperationDead(Exception):
    """An operation stopped answering; its tests end without sending more requests."""


_FAILURE_TYPES: dict[str, type[CheckFailed]] = {}
_TYPES_LOCK = threading.Lock()


def failure_type(check: str) -> type[CheckFailed]:
    with _TYPES_LOCK:
        cls = _FAILURE_TYPES.get(check)
        if cls is None:
            cls = type(f"CheckFailed[{check}]", (CheckFailed,), {"check": check})
            _FAILURE_TYPES[check] = cls
        return cls


@dataclass
class FailureRecord:
    """The smallest reproduction seen of one check failing on one operation."""

    check: str
    family: str
    operation_id: str
    explanation: str
    request: Request | None = None
    status: int | None = None
    response_excerpt: str = ""
    curl: str = ""
    steps: tuple[str, ...] = ()
    occurrences: int = 1

    def size(self) -> tuple[int, int]:
        return (len(self.steps), len(self.curl))


@dataclass
class Results:
    """Everything a run learned, plus the run's own facts (seed, duration, target)."""

    seed: int | None = None
    started: float = field(default_factory=time.time)
    finished: float | None = None
    checks_run: Counter = field(default_factory=Counter)
    check_failures: Counter = field(default_factory=Counter)
    #: failed check evaluations per operationId (progress lines; correct with several workers)
    operation_failures: Counter = field(default_factory=Counter)
    failures: dict[tuple[str, str], FailureRecord] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    #: checks the run's budget cut short (and that had not failed): check -> why, e.g.
    #: "not finished (budget): request budget of 10000 requests is spent"
    unfinished: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    aborted: str | None = None
    #: "SIGINT" or "SIGTERM" when the run was interrupted
    interrupted: str | None = None
    requests_sent: int = 0
    retries: int = 0
    target: dict[str, object] = field(default_factory=dict)
    #: evaluations and seconds of the exchanges judged, per (check, operationId): JUnit's test cases
    by_operation: Counter = field(default_factory=Counter)
    seconds: Counter = field(default_factory=Counter)
    #: responses per operationId (what a passing run says it tried)
    requests_by_operation: Counter = field(default_factory=Counter)
    #: form fields sent, per (operationId, field, webhook Type or None, "accepted"/"rejected"): the JSON
    #: report's ``field_coverage``, where a documented field no write ever got accepted with shows as a gap
    field_uses: Counter = field(default_factory=Counter)
    #: when a list, every exchange is kept here for a HAR cassette (``--report-har``)
    exchanges: list | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def ran(self, check: str, count: int = 1, operation: str | None = None, seconds: float = 0.0) -> None:
        with self._lock:
            self.checks_run[check] += count
            if operation is not None:
                self.by_operation[(check, operation)] += count
                self.seconds[(check, operation)] += seconds

    def exchanged(self, response: Response, failed: Sequence[str], started: float) -> None:
        """Count one answered request; keep it (with the checks it failed) when recording a cassette."""
        with self._lock:
            self.requests_by_operation[response.request.operation_id] += 1
            self._count_fields(response)
            if self.exchanges is not None:
                self.exchanges.append((started, response, tuple(failed)))

    def _count_fields(self, response: Response) -> None:
        request = response.request
        # neither a success nor a rejection (401/403/429, 5xx) says anything about the fields sent
        outcome = "accepted" if response.is_success else "rejected" if is_rejection(response) else None
        if not request.form or outcome is None:
            return
        fields = request.fields()
        kind = fields.get("Type", [None])[0] if request.operation_id == "CreateChannelWebhook" else None
        for name in fields:
            self.field_uses[(request.operation_id, name, kind, outcome)] += 1

    def record(
        self,
        check: str,
        operation_id: str,
        explanations: Sequence[str],
        *,
        response: Response | None = None,
        request: Request | None = None,
        curl: str = "",
        steps: Sequence[str] = (),
    ) -> None:
        """Count one failure; keep it if it is the smallest reproduction so far."""
        request = request if request is not None else (response.request if response is not None else None)
        candidate = FailureRecord(
            check=check,
            family=CHECKS[check].family if check in CHECKS else "other",
            operation_id=operation_id,
            explanation="; ".join(dict.fromkeys(explanations)),
            request=request,
            status=response.status if response is not None else None,
            response_excerpt=response.excerpt() if response is not None else "",
            curl=curl,
            steps=tuple(steps),
        )
        key = (check, operation_id)
        with self._lock:
            self.check_failures[check] += 1
            self.operation_failures[operation_id] += 1
            current = self.failures.get(key)
            if current is None:
                self.failures[key] = candidate
            else:
                candidate.occurrences = current.occurrences + 1
                if candidate.size() < current.size():
                    self.failures[key] = candidate
                else:
                    current.occurrences += 1

    def skip(self, check: str, reason: str) -> None:
        with self._lock:
            self.skipped.setdefault(check, reason)

    def not_finished(self, checks: Sequence[str], reason: str) -> None:
        """Mark *checks* as cut short by the budget: each is reported "not finished", never passed."""
        with self._lock:
            for check in checks:
                self.unfinished.setdefault(check, reason)

    def note(self, text: str) -> None:
        with self._lock:
            if text not in self.notes:
                self.notes.append(text)

    @property
    def violations(self) -> list[FailureRecord]:
        return sorted(self.failures.values(), key=lambda f: (list(CHECKS).index(f.check) if f.check in CHECKS else 99, f.operation_id))

    @property
    def duration(self) -> float:
        return (self.finished or time.time()) - self.started

    def status_of(self, check: str) -> str:
        if any(f.check == check for f in self.failures.values()):
            return "failed"
        if check in self.unfinished:
            return "not_finished"
        if self.checks_run[check]:
            return "passed"
        return "skipped"
