"""One worker's conversation with the target: send, judge every response, remember.

Both the example-based tests and the stateful suite send through a
:class:`Session`, so every response -- whatever sent it -- goes through the same
response checks, is counted once, and lands in the step history that a stateful
failure reports as its reproduction.
"""

from __future__ import annotations

import time
from typing import Mapping

from twilio_webhook_contracts.ledger import Ledger, ledger_of
from twilio_webhook_contracts.request import Request
from twilio_webhook_contracts.target import Auth, Response, Target, TargetTimeout, TargetUnreachable

from .checks import Check, Context, response_checks_for
from .results import OperationDead, Results, failure_type

__all__ = ["Session", "TargetGone"]

#: the read that asks about the same parent as a write
_PARENT_READS = {"CreateChannelWebhook": "ListChannelWebhook",
                 "UpdateServiceWebhookConfiguration": "FetchServiceWebhookConfiguration"}


class TargetGone(Exception):
    """The target stopped accepting connections in the middle of the run."""


class Session:
    """Sends requests for one worker and applies the selected response checks."""

    def __init__(self, target: Target, context: Context, results: Results, checks: Mapping[str, Check]):
        self.target = target
        self.context = context
        self.results = results
        self.checks = checks
        self._response_checks = response_checks_for(checks)
        self.history: list[str] = []
        #: the run's one ledger of webhooks created and not deleted: sid -> (service, channel as addressed),
        #: observed on the target (so shared with every session, the state machine and the live guard)
        self.created: Ledger = ledger_of(target)
        #: failures this session recorded (the runner's shrink allowance watches its own worker's)
        self.failures = 0

    def enabled(self, check: str) -> bool:
        return check in self.checks

    def exchange(self, request: Request, auth: Auth = "valid", *, expected_status: int | None = None) -> tuple[Response, list[str]]:
        """Send *request*, run the response checks; return the response and failed check names.

        ``expected_status`` marks a valid request whose answer the caller judges
        itself (a fetch of a deleted webhook must be 404): the generic "valid
        requests are accepted" check then does not apply.

        Raises :class:`OperationDead` when the operation has stopped answering (a
        liveness failure is recorded once) and :class:`TargetGone` when nothing
        accepts connections any more.
        """
        op = request.operation_id
        if self.target.is_dead(op):
            raise OperationDead(self.target.timed_out[op])
        self.history.append(self.target.curl(request, auth))
        started = time.time()
        try:
            response = self.target.send(request, auth=auth)
        except TargetTimeout as exc:
            if self.enabled("responds_within_timeout"):
                self.results.ran("responds_within_timeout", operation=op, seconds=time.time() - started)
                self.results.record("responds_within_timeout", op, [str(exc)], request=request,
                                    curl=self.target.curl(request, auth), steps=self._steps())
            raise OperationDead(str(exc)) from None
        except TargetUnreachable as exc:
            raise TargetGone(str(exc)) from None
        if self.enabled("responds_within_timeout"):
            self.results.ran("responds_within_timeout", operation=op, seconds=response.elapsed)
        failed: list[str] = []
        for check in self._response_checks:
            if expected_status is not None and check.name == "valid_request_accepted":
                continue
            outcome = check.function(response, self.context)  # type: ignore[misc]
            if outcome is None:
                continue
            self.results.ran(check.name, operation=op, seconds=response.elapsed)
            if outcome:
                failed.append(check.name)
                self.fail(check.name, op, outcome, response=response, raise_=False, auth=auth)
        self.results.exchanged(response, failed, started)
        if self.context.learn_parent(response) and request.method != "GET":
            self._confirm_absent(request)
        return response, failed

    def _confirm_absent(self, write: Request) -> None:
        """A write was told its parent does not exist: ask a read of the same parent.

        The first answer about a parent is the target's decision, so a target that
        answers every first write 404 would never be held to anything; one read
        of the same parent (no write: it cannot change the account) shows whether
        the target stands by it, and ``parents_consistent`` judges the answer.
        """
        read = _PARENT_READS.get(write.operation_id)
        if read is None or self.target.is_dead(read):
            return
        from .stateful import fixed_request  # the one request builder; stateful imports this module

        params = {name: write.path_params[name] for name in ("ServiceSid", "ChannelSid", "ChatServiceSid")
                  if name in write.path_params}
        try:
            self.exchange(fixed_request(self.context.spec, read, params))
        except OperationDead:
            return

    def _steps(self) -> tuple[str, ...]:
        return tuple(self.history) if len(self.history) > 1 else ()

    def fail(self, check: str, operation_id: str, explanations: list[str], *, response: Response | None = None,
             request: Request | None = None, raise_: bool = True, auth: Auth = "valid") -> None:
        """Record a failure of *check* (with this session's steps) and, by default, raise it."""
        request = request or (response.request if response else None)
        self.failures += 1
        self.results.record(
            check, operation_id, explanations, response=response, request=request,
            curl=self.target.curl(request, auth) if request is not None else "",
            steps=self._steps(),
        )
        if raise_:
            raise failure_type(check)(f"{check}: {explanations[0]}")

    def raise_first(self, failed: list[str], response: Response) -> None:
        """Re-raise the first failed response check so Hypothesis shrinks towards it."""
        if failed:
            raise failure_type(failed[0])(f"{failed[0]} failed for {response.request}")

    def new_example(self) -> None:
        """Start a fresh reproduction: a failure's steps are the requests of its own example."""
        self.history.clear()
