"""The one guarded engine behind ``webhook-contracts run``, ``verify`` and the pytest plugin.

Every entry point hands the engine a target and a :class:`SuiteConfig`; the
engine decides what is safe to do there and schedules it:

* **live mode** is on when the entry point says so (``--live``) *or* when a base
  URL is on a Twilio host -- the engine looks at the target itself, so no entry
  point can forget. Live mode means: read-only unless writes are explicitly
  allowed, only the named service and channel are touched, no shrinking, live
  budgets when the entry point set none, and the :class:`~twilio_webhook_contracts.live.Guard`
  around everything (snapshot and journal before the first write, clean-up of
  created webhooks and a verified restore afterwards);
* **scheduling and accounting**: the probe, one unit per (operation, kind), the
  stateful suite, stateless detection, skip reasons, budget and interruption.
  ``run`` and ``verify`` call :meth:`Engine.execute`; the pytest plugin calls
  :meth:`Engine.start`, :meth:`Engine.run_unit` once per test and
  :meth:`Engine.close` at session end -- the same units, judged the same way.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from twilio_webhook_contracts.live import (LIVE_DEFAULTS, Guard, LiveError, Terminated, interruptible, is_live_url,
                                           signal_name)
from twilio_webhook_contracts.target import BudgetExhausted, BudgetSpent, Target, TargetUnreachable

from .checks import CHECKS
from .results import Results
from .runner import KINDS, Suite, SuiteConfig
from .session import Session, TargetGone
from .stateless import StateEvidence, conclude as conclude_state

__all__ = ["STATEFUL", "Engine", "LiveError", "interruption_of", "is_live_target"]

#: The unit name of the stateful suite (``run_unit(STATEFUL)``).
STATEFUL = "stateful"
#: Why checks were not run in a live run without the opt-in to write.
READ_ONLY_REASON = "live run without --allow-writes: only read-only and rejected-read checks run"


def is_live_target(target: Target) -> bool:
    """A target whose base URLs include a Twilio host: live mode, whatever the entry point said."""
    return is_live_url(target.conversations_url) or is_live_url(target.chat_url)


class Engine:
    """One guarded run of the contract suite against one target.

    *live*: the entry point's own verdict (``--live``, or a Twilio host among the
    URLs the user named); the engine adds its own look at the target.
    *allow_writes*: the explicit opt-in to write in a live run (ignored otherwise,
    where ``config.allow_writes`` decides). *journal*: where the live guard keeps
    its crash-safe journal (None: the default location).
    """

    def __init__(self, target: Target, config: SuiteConfig, results: Results | None = None, *, live: bool = False,
                 allow_writes: bool = False, journal: str | None = None, log: Callable[[str], None] | None = None):
        self.target = target
        self.config = config
        self.live = bool(live) or is_live_target(target)
        self.writes_allowed = config.allow_writes and (not self.live or allow_writes)
        self.journal_path = journal
        self.log = log or config.progress or (lambda line: None)
        if self.live:
            self._apply_live_policy()
        self.suite = Suite(target, config, results)
        self.results = self.suite.results
        self.seed = self.suite.seed
        self.guard: Guard | None = None
        #: the target could not be reached (exit status 3): why
        self.unreachable: str | None = None
        self.restore_problems: list[str] = []
        self.session: Session | None = None
        self._evidence: StateEvidence | None = None
        self._started = False
        self._closed = False

    # -- policy ------------------------------------------------------------

    def _apply_live_policy(self) -> None:
        """What live mode changes in the configuration, whoever filled it in."""
        config = self.config
        config.allow_writes = self.writes_allowed
        config.shrink = False  # every shrink step is another request to production
        config.generate_resources = False  # only the named service and channel are ever touched
        limits = self.target.limits
        if limits.max_requests is None and limits.time_budget is None:  # the entry point set no budget at all
            limits.max_requests = int(LIVE_DEFAULTS["max_requests"])
            limits.time_budget = LIVE_DEFAULTS["time_budget"]
            if limits.rate_limit is None:
                limits.rate_limit = LIVE_DEFAULTS["rate_limit"]
            if limits.max_server_errors is None:
                limits.max_server_errors = int(LIVE_DEFAULTS["max_server_errors"])

    def _live_operations(self) -> list[str]:
        """Live runs touch only resources the user named: no service or channel is ever generated."""
        operations = []
        for op in self.suite.spec:
            if op.operation_id not in self.suite.operations:
                continue
            reason = self._live_skip(op.operation_id)
            if reason:
                self.log(f"{op.operation_id:36} skipped: {reason}")
                self.results.note(f"{op.operation_id}: skipped: {reason}")
                continue
            operations.append(op.operation_id)
        return operations

    def _live_skip(self, operation_id: str) -> str | None:
        names = {p.name for p in self.suite.spec.operation(operation_id).path_parameters}
        if names & {"ChatServiceSid", "ServiceSid"} and not self.config.service_sid:
            return "live runs use a real service (--service-sid)"
        if "ChannelSid" in names and not self.config.channel_sid:
            return "live runs use a real channel (--channel-sid)"
        return None

    # -- the run -----------------------------------------------------------

    def start(self) -> None:
        """Before the first request: the live guard (snapshot, journal), then the probe.

        Raises :class:`LiveError` when a live run cannot snapshot what it would
        change, and :class:`TargetUnreachable` when nothing answers at all.
        """
        if self._started:
            return
        self._started = True
        if self.live:
            self.suite.operations = self._live_operations()
            self.guard = self._start_guard()
        self.session = self.suite.session()
        self._evidence = StateEvidence(self.suite.spec).attach(self.target)  # sees whether writes are read back
        self.suite.probe(self.session)

    def _start_guard(self) -> Guard:
        from twilio_webhook_contracts.journal import Journal

        config = self.config
        services = [config.service_sid] if config.service_sid else []
        channels = [(config.service_sid, config.channel_sid)] if config.service_sid and config.channel_sid else []
        journal = Journal.for_target(self.target, self.journal_path)
        guard = Guard(self.target, self.target.spec, services=services, channels=channels, log=self.log, journal=journal)
        guard.recover()  # a journal a killed run left behind: restore from it first (raises LiveError if it cannot)
        try:
            guard.take_snapshot()  # TargetUnreachable and LiveError propagate: nothing was written
        except LiveError:
            if self.target.unreachable:  # nothing answered at all: unreachable (exit 3), not a refusal
                raise TargetUnreachable(self.target.unreachable[0]) from None
            raise
        self.target.observers.append(guard)
        frozen = guard.frozen_fields()
        pins: dict[str, dict[str, Any]] = {op: {name: None for name in fields} for op, fields in frozen.items()}
        # A studio webhook needs a real Studio Flow; a live run creates only webhook-type ones.
        pins.setdefault("CreateChannelWebhook", {})["Type"] = "webhook"
        config.form_pins = pins
        if self.writes_allowed:
            for op, fields in frozen.items():
                self.log(f"{op:36} never writes {', '.join(fields)}: unset now, or a value a form cannot write back")
        return guard

    def units(self) -> list[tuple[str, str]]:
        """The run's units in order: (operation, kind) for every operation, then the stateful suite."""
        units = [(operation_id, kind) for operation_id in self.suite.spec.operations for kind in KINDS]
        return units + [(STATEFUL, "")]

    def run_unit(self, operation_id: str, kind: str = "", results: Results | None = None, *,
                 worker: int = 0, workers: int = 1) -> Results:
        """One unit (an operation's kind, or :data:`STATEFUL`) into *results* (default: a fresh one).

        A run already ended (budget, lost target) skips the unit, saying why;
        interruptions propagate (the caller decides what they end).
        """
        self.start()
        results = results if results is not None else Results(seed=self.seed)
        session = self.session if results is self.results and self.session is not None else self.suite.session(results=results)
        if self.results.aborted:
            self._account(results, ran=False)
            return results
        try:
            if operation_id == STATEFUL:
                if self.config.stateful and not self.config.stateless:
                    self.suite.run_stateful(session, self.suite.pools(worker, workers))
                if results is not self.results:
                    conclude_state(results, self._evidence, declared=self.config.stateless, checks=self.config.checks)
            elif operation_id not in self.suite.operations:
                if results is not self.results:  # the run's own results were told once, at the start
                    reason = (self._live_skip(operation_id) if self.live else None) or "not among the operations"
                    results.note(f"{operation_id}: skipped: {reason}")
            else:
                self.suite.run_phase(session, operation_id, kind)
                if kind == KINDS[-1]:
                    self.suite.report_operation(session, operation_id)
        except TargetGone as exc:
            self.suite.target_gone(session, exc)
            self.results.aborted = results.aborted
        except BudgetExhausted as exc:
            spent = isinstance(exc, BudgetSpent)  # the run's own ceiling, not a refusal of the target's
            results.aborted = f"stopped early: {exc}"
            results.note(results.aborted)
            self.results.aborted = results.aborted
            if spent:
                self.suite.mark_not_finished(f"not finished (budget): {exc}")
                if results is not self.results:  # a plugin test: it fails with what it found, not finished
                    results.aborted = f"not finished (budget): {exc}"
        finally:
            if results is not self.results:
                self.suite.cleanup(session)
        if results is not self.results:
            self._account(results, ran=True)
        return results

    def run(self) -> None:
        """Every unit, in order, into the run's results (or shared out over ``config.workers`` threads)."""
        self.start()
        assert self.session is not None
        try:
            workers = self.config.workers
            if not (isinstance(workers, int) and workers > 0):  # ``auto``: from the round trip the probe measured
                workers = self.suite.choose_workers(self.session)
            if workers > 1:
                self.suite.run_parallel(workers)
            else:
                for operation_id, kind in self.units():
                    if self.results.aborted:
                        break
                    self.run_unit(operation_id, kind, self.results)
        except TargetGone as exc:
            self.suite.target_gone(self.session, exc)
        except BudgetExhausted as exc:
            self.results.aborted = f"stopped early: {exc}"
            self.results.note(self.results.aborted)
            if isinstance(exc, BudgetSpent):
                self.suite.mark_not_finished(f"not finished (budget): {exc}")
        except (KeyboardInterrupt, Terminated) as exc:
            self.results.interrupted = "SIGTERM" if isinstance(exc, Terminated) else "SIGINT"
            self.results.aborted = f"interrupted ({self.results.interrupted})"

    def close(self) -> list[str]:
        """After the run, whatever ended it: clean up, conclude, restore (live), account.

        Returns what a live restore could not put back (also noted in the results).
        Never raises for the restore: a bug there is reported as a restore problem.
        """
        if self._closed:
            return self.restore_problems
        self._closed = True
        for session in [s for s in (self.session, *self.suite.worker_sessions) if s is not None]:
            self.suite.cleanup(session)
        if self._evidence is not None:
            self._evidence.detach(self.target)
        self.suite.finish()
        conclude_state(self.results, self._evidence, declared=self.config.stateless, checks=self.config.checks)
        self.restore()
        self._account(self.results, ran=True)
        return self.restore_problems

    def restore(self) -> list[str]:
        if self.guard is None:
            return []
        self.log("live restore: deleting the webhooks this run created, writing back what it changed ...")
        try:
            self.restore_problems = self.guard.restore()
        except Exception as exc:  # noqa: BLE001 - a bug here must still end in the loud message and status 5
            self.restore_problems = [f"the restore stopped with an unexpected error ({type(exc).__name__}: {exc}); "
                                     f"before the run the account was: {self.guard.describe_snapshot()}"]
        self.results.target["restore_requests"] = self.guard.restore_requests
        self.log(f"live restore: {'FAILED' if self.restore_problems else 'done, verified'} "
                 f"({self.guard.restore_requests} requests)")
        for problem in self.restore_problems:
            self.results.note(f"RESTORE FAILED: {problem}")
        self.guard = None  # restored once; close() after execute() does not restore again
        return self.restore_problems

    def execute(self) -> Results:
        """The whole run, guarded against signals: start, every unit, then the clean-up and restore.

        The first SIGINT/SIGTERM interrupts the suite; from then on -- and from
        the moment the suite is over -- signals are only remembered, so the
        restore is never cut short (the results say so). Sets :attr:`unreachable`
        instead of raising when nothing answered; re-raises anything else that
        escaped (after the restore), e.g. :class:`LiveError`.
        """
        escaped: BaseException | None = None
        with interruptible() as signals:
            self.target.hold = signals.held  # a signal never lands between counting a request and writing it
            try:
                try:
                    self.start()
                    self.run()
                finally:
                    signals.disarm()
            except TargetUnreachable as exc:
                self.unreachable = str(exc)
            except BaseException as exc:  # noqa: BLE001 - re-raised after the restore (interruptions: reported)
                escaped = exc
            self.close()
        interruption = interruption_of(escaped, signals.first)
        results = self.results
        if interruption:  # landed outside the suite's own handling
            if not results.interrupted:
                results.interrupted = interruption
                results.aborted = f"interrupted ({results.interrupted})"
        elif escaped is not None:
            raise escaped
        if signals.first and not results.interrupted:  # arrived after the suite was over: honoured now
            results.interrupted = signals.first
            late = f"interrupted ({signals.first}) while the run was finishing"
            results.aborted = f"{results.aborted}; then {late}" if results.aborted else late
            results.note(f"{signals.first} received while the run was finishing"
                         + (" (the live restore was completed first)" if self.live else ""))
        held = [signal_name(signum) for signum in signals.received[1:]]
        if held:
            results.note(f"further signals ({', '.join(held)}) arrived while the run was cleaning up; "
                         "they were held until the restore and the reports were done")
        return results

    # -- accounting ----------------------------------------------------------

    def _account(self, results: Results, *, ran: bool) -> None:
        """Why each check that did not run was skipped, in the same words for every entry point."""
        results.target["live"] = self.live
        if self.live:
            results.target["writes_allowed"] = self.writes_allowed
        for name in CHECKS:
            if name not in self.config.checks:
                results.skip(name, "not selected (--checks/--exclude-checks)")
            elif not self.config.stateful and CHECKS[name].family == "state":
                results.skip(name, "the stateful suite was not run (--no-stateful)")
            elif self.live and not self.writes_allowed and not results.checks_run[name]:
                results.skip(name, READ_ONLY_REASON)
            elif (self.results.aborted or not ran) and not results.checks_run[name]:
                results.skip(name, "not reached: the run ended early")


def interruption_of(escaped: BaseException | None, first_signal: str | None) -> str | None:
    """``"SIGINT"``/``"SIGTERM"`` when *escaped* is, or was caused by, the run's interruption.

    A signal can land anywhere -- also deep inside Hypothesis, which may then fail
    on its own internal assertions while handling it. What escapes is then a
    different exception with the interruption in its chain (or, when the chain
    was lost, after a signal arrived): it is reported as the interruption it is,
    not as an internal error.
    """
    seen = set()
    exc = escaped
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, Terminated):
            return "SIGTERM"
        if isinstance(exc, KeyboardInterrupt):
            return "SIGINT"
        exc = exc.__cause__ or exc.__context__
    return first_signal if escaped is not None else None

