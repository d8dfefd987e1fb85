"""Run the contract suite against a target: examples per operation, then the stateful suite.

This is the engine behind ``webhook-contracts run`` and the bundled pytest suite.
For each operation it runs three Hypothesis tests -- valid requests, invalid
requests, requests without or with wrong credentials -- where every response
goes through the selected response checks; then the stateful suite compares
random sequences of operations with a model. A failing check raises inside the
Hypothesis test, so Hypothesis shrinks the example and keeps it in its example
database; every failure is also recorded, so one run reports every failing check,
each with its smallest reproduction.
"""

from __future__ import annotations

import ast
import hashlib
import math
import random
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping, Sequence
from urllib.parse import urlsplit

import hypothesis
from hypothesis import HealthCheck, Phase, Verbosity, given
from hypothesis import settings as hypothesis_settings
from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase, InMemoryExampleDatabase
from hypothesis.errors import Flaky, NoSuchExample, UnsatisfiedAssumption
from hypothesis.stateful import run_state_machine_as_test

from twilio_webhook_contracts import strategies as request_strategies
from twilio_webhook_contracts.live import is_live_url
from twilio_webhook_contracts.request import Request
from twilio_webhook_contracts.target import Target, TargetUnreachable

from .budget import KeyedDatabase, OutcomeCoverage, ShrinkAllowance, WireMemo, wire_key

from .checks import CHECKS, Check, Context
from . import state_checks
from .results import CheckFailed, OperationDead, Results
from .session import Session, TargetGone
from .stateful import CHANNEL_CAPACITY, Pools, build_machine, fixed_request

__all__ = ["KINDS", "Suite", "SuiteConfig", "derived_sid", "run_suite"]

# CHANNEL_CAPACITY (stateful.py): Twilio answers at most five webhooks per channel;
# the suite never keeps more than one of its own on a channel at once in the example
# phase, and the stateful suite never asks for a sixth.


@dataclass
class SuiteConfig:
    """How to run the suite; the CLI and the pytest plugin both fill one of these."""

    max_examples: int = 50
    seed: int | None = None
    checks: Mapping[str, Check] = field(default_factory=lambda: dict(CHECKS))
    operations: Sequence[str] | None = None
    service_sid: str | None = None
    channel_sid: str | None = None
    allow_writes: bool = True
    stateful: bool = True
    #: the target keeps no state (``--stateless``): skip the stateful suite, report state checks as skipped
    stateless: bool = False
    stateful_steps: int = 15
    #: runs of the state machine (each up to ``stateful_steps`` steps); None: ``max(3, max_examples // 5)``
    stateful_examples: int | None = None
    shrink: bool = True
    database: ExampleDatabase | str | None = None
    progress: Callable[[str], None] | None = None
    #: per operation, form fields pinned in every generated request (``None``: always absent)
    form_pins: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: services and channels may be derived from the seed when none is named; a live run sets this
    #: to False: it touches only ``service_sid`` and ``channel_sid`` (what its guard snapshots)
    generate_resources: bool = True
    #: threads sending requests at once (``--workers``): operations are shared out among them,
    #: and each runs its own state machine on resources no other worker touches; 0 is ``auto``:
    #: chosen from the round trip the probe measures (:func:`auto_workers`), as is ``"auto"``
    workers: int | str = 1
    #: once a Hypothesis test has failed, the requests it may still spend (shrinking, and
    #: looking for other failures), as a share of what the test would send passing
    shrink_share: float = 1.0


def derived_sid(prefix: str, seed: int, label: str) -> str:
    """A well-formed sid that depends only on the seed: runs replay exactly with ``--seed``."""
    return prefix + hashlib.sha256(f"{seed}:{label}".encode()).hexdigest()[:32]


KINDS = ("valid", "invalid", "auth")
_AST_LOCK = threading.Lock()


@contextmanager
def _serialized_ast_parse() -> Iterator[None]:
    """``ast.parse`` one thread at a time, while workers run.

    Hypothesis parses source with ``ast`` in many places (a test's database
    key, a state machine's digest, precondition and strategy descriptions,
    failure reports), and on CPython 3.11 two threads doing so at once can fail
    with "SystemError: AST constructor recursion depth mismatch". Serialising
    the parser itself covers every caller; parsing is rare and fast, the
    threads' time goes to the network.
    """
    original = ast.parse
    if getattr(original, "_serialized", False):  # already, by an enclosing run
        yield
        return

    def parse(*args: Any, **kwargs: Any) -> Any:
        with _AST_LOCK:
            return original(*args, **kwargs)

    parse._serialized = True  # type: ignore[attr-defined]
    ast.parse = parse
    try:
        yield
    finally:
        ast.parse = original


_WEBHOOK_SID = re.compile(r"WH[0-9a-fA-F]{32}\Z")
#: What one request costs this process besides waiting for the answer (generation, checks,
#: bookkeeping; 1.6-2.5 ms a request on the 2-core benchmark machine, see benchmarks/README.md).
_LOCAL_COST = 0.0025
#: More threads than this only add contention (one interpreter, one GIL) and server load.
_MAX_AUTO_WORKERS = 8


def auto_workers(round_trip: float, rate_limit: float | None = None) -> int:
    """Workers for ``--workers auto``: enough to keep requests in flight while one waits.

    One worker is busy ``_LOCAL_COST`` per request and idle for the round trip; a
    second worker pays off once the wait is about twice the local cost, so a
    loopback target (well under a millisecond) keeps one worker and a server 50 ms
    away gets the maximum. A rate limit caps it: more workers than the limit can
    keep busy over one round trip would only queue.
    """
    workers = max(1, min(_MAX_AUTO_WORKERS, round(round_trip / (2 * _LOCAL_COST))))
    if rate_limit:
        workers = min(workers, max(1, math.ceil(rate_limit * (round_trip + _LOCAL_COST))))
    return workers


def run_suite(target: Target, config: SuiteConfig, results: Results | None = None) -> Results:
    """Run everything *config* selects against *target* and return what was found.

    Raises :class:`TargetUnreachable` when nothing answers at the target at all
    (the CLI's exit status 3); any later loss of the target is reported in the
    results instead. A run that ends early -- budget spent, the circuit breaker
    tripped by a target answering 5xx again and again, Ctrl-C, SIGTERM -- says why
    in ``results.aborted``. Pass *results* to keep hold of what was found even if
    an interruption escapes (lands outside the suite's own handling).

    A target on a Twilio host is live: read-only, budgeted and guarded (see
    :mod:`.engine`); a live run's restore problems are in ``results.notes``.
    """
    from .engine import Engine  # the one guarded engine: live mode and its guard switch on for Twilio hosts

    engine = Engine(target, config, results)
    engine.execute()
    if engine.unreachable is not None:
        raise TargetUnreachable(engine.unreachable)
    return engine.results


class Suite:
    """The parts of a run -- probe, one phase per (operation, kind), the stateful
    suite, clean-up -- so that the CLI, ``--workers`` and the pytest plugin can
    schedule them differently while judging the same way.
    """

    def __init__(self, target: Target, config: SuiteConfig, results: Results | None = None):
        self.target = target
        self.config = config
        self.seed = config.seed if config.seed is not None else random.SystemRandom().randrange(2**32)
        self.spec = target.spec
        self.results = results or Results(seed=self.seed)
        self.results.seed = self.seed
        self.results.target = {"conversations_url": target.conversations_url, "chat_url": target.chat_url}
        self.context = Context(spec=self.spec, account_sid=target.credentials.account_sid)
        self.database = _database(config.database)
        self.progress = config.progress or (lambda line: None)
        self.operations = list(config.operations or self.spec.operations)
        self._marks: dict[str, tuple[int, int]] = {}
        #: the sessions of ``--workers`` threads (each with its own target clone), for clean-up and counts
        self.worker_sessions: list[Session] = []
        #: the fastest round trip the probe measured, seconds (None before the probe)
        self.round_trip: float | None = None
        #: requests not sent because the same wire request had been sent in the same phase
        self.deduplicated = 0
        self._lock = threading.Lock()

    def session(self, target: Target | None = None, results: Results | None = None) -> Session:
        """A session for one worker (own connection pool) recording into *results* (default: the run's)."""
        return Session(target or self.target, self.context, results or self.results, self.config.checks)

    # -- phases ------------------------------------------------------------

    def probe(self, session: Session) -> None:
        """One harmless read; a target that nothing answers at ends the run with exit 3."""
        request = fixed_request(self.spec, "FetchConfigurationWebhook", {})
        try:
            response, _ = session.exchange(request)
        except TargetGone as exc:
            raise TargetUnreachable(str(exc)) from None
        except OperationDead:
            return
        self.round_trip = response.elapsed
        if response.status == 401:
            session.results.note("the target answered 401 to the configured credentials: every check that needs "
                                 "them will fail; check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or the API key)")
        elif response.status == 200:
            self._read_again(session, request, response)

    def _read_again(self, session: Session, request: Request, first: Any) -> None:
        """The same read once more, before anything is written: the same request in the same state gets
        the same answer, whatever the server chose at an open point (a never-configured account's
        filters, with or without the legacy ``onMessageSend``). Later reads all follow writes, which
        the stateful model judges; this is the one moment two answers to one state can be compared."""
        if not (self.config.allow_writes and self.config.stateful and not self.config.stateless
                and session.enabled("open_choice_consistent")):
            return  # the check does not run here (read-only, or no stateful suite)
        try:
            again, _ = session.exchange(request)
        except (TargetGone, OperationDead):
            return
        before, after = first.json(), again.json()
        if again.status != 200 or not isinstance(before, dict) or not isinstance(after, dict):
            return  # a changed status is judged by the response checks
        session.results.ran("open_choice_consistent", operation=request.operation_id, seconds=again.elapsed)
        for body in (before, after):  # the host in url is open (url_host), the resource it names is not
            if isinstance(body.get("url"), str):
                body["url"] = urlsplit(body["url"]).path
        changed = state_checks.differences(before, after, sorted(set(before) | set(after)), keep_counts=True)
        if changed:
            session.fail("open_choice_consistent", request.operation_id,
                         [f"the same read twice, before any write, answered differently: {'; '.join(changed)}"],
                         response=again, raise_=False)

    def choose_workers(self, session: Session) -> int:
        """``--workers auto``: from the round trip, the fastest of the probe and two more harmless reads
        (the probe's includes connecting); one worker when the probe got no answer to time."""
        if self.round_trip is None:
            return 1
        if is_live_url(self.target.conversations_url) or is_live_url(self.target.chat_url):
            return 1  # live Twilio, from whichever entry point: politeness before speed
        request = fixed_request(self.spec, "FetchConfigurationWebhook", {})
        for _ in range(2):
            try:
                response, _ = session.exchange(request)
            except (TargetGone, OperationDead):
                break
            self.round_trip = min(self.round_trip, response.elapsed)
        workers = auto_workers(self.round_trip, self.target.limits.rate_limit)
        if workers > 1:  # one worker is what a run without the option always did: nothing to say
            self.progress(f"workers: {workers} (auto: round trip {self.round_trip * 1000:.1f} ms)")
            self.results.note(f"--workers auto chose {workers} (round trip {self.round_trip * 1000:.1f} ms): "
                              f"an exact replay takes --seed {self.seed} --workers {workers}")
        self.results.target["workers"] = workers
        return workers

    def mark_not_finished(self, reason: str) -> None:
        """The budget ended the run: every selected check that has not failed, and was
        not skipped for a reason of its own, is "not finished" -- never a pass."""
        failed = {check for check, _ in self.results.failures}
        state_ran = self.config.stateful and not self.config.stateless
        self.results.not_finished(
            [name for name, check in self.config.checks.items()
             if name not in failed and name not in self.results.skipped and (state_ran or check.family != "state")],
            reason)

    def run_phase(self, session: Session, operation_id: str, kind: str) -> None:
        """Valid, invalid or unauthenticated requests of one operation, as one Hypothesis test."""
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
        self._marks.setdefault(operation_id, (session.target.sent, session.results.operation_failures[operation_id]))
        operation = self.spec.operation(operation_id)
        if operation.is_write and not self.config.allow_writes:
            # not even invalid or unauthenticated ones: a server that wrongly accepts one would change the account
            if kind == "valid":
                self._skip_kind(session, operation_id, "all", "writes are not allowed (pass --allow-writes)")
            return
        try:
            self._run_phase(session, operation, kind)
        except OperationDead:
            return  # reported once, as responds_within_timeout; the operation is not tried again

    def _run_phase(self, session: Session, operation: Any, kind: str) -> None:
        operation_id = operation.operation_id
        pins = self._pins(operation_id)
        form = dict(self.config.form_pins.get(operation_id, {}))
        needs_webhook = any(p.name == "Sid" for p in operation.path_parameters)
        examples = self.config.max_examples
        if kind == "valid":
            if needs_webhook and not self.config.allow_writes:
                self._skip_kind(session, operation_id, "valid", "needs a webhook to exist, and writes are not allowed")
            elif needs_webhook:
                self._valid_on_webhook(session, operation_id, pins)
            else:
                self._hypothesis(session, f"{operation_id}/valid",
                                 request_strategies.valid_requests(operation_id, spec=self.spec, pinned=form, **pins),
                                 self._send_valid, examples)
                self._every_documented_value(session, operation_id, pins, form)
                if operation_id == "CreateChannelWebhook" and "Type" not in form:
                    for kind in _enum(operation, "Type"):
                        self._cover_fields(session, request_strategies.valid_requests(
                            operation_id, spec=self.spec, pinned={**form, "Type": kind}, **pins),
                            self._fields_used(operation_id, kind) - set(form))
        elif kind == "invalid":
            if not request_strategies.defects_for(operation_id, spec=self.spec):
                return
            if needs_webhook and "Sid" not in pins:
                pins["Sid"] = derived_sid("WH", self.seed, "missing-webhook")
            self._hypothesis(session, f"{operation_id}/invalid",
                             request_strategies.invalid_requests(operation_id, spec=self.spec, pinned=form, **pins),
                             self._send_invalid, examples)
            self._sibling_values(session, operation_id, pins, form)
        elif kind == "auth":
            if not session.enabled("authentication_required"):
                return
            if needs_webhook and "Sid" not in pins:
                pins["Sid"] = derived_sid("WH", self.seed, "auth-webhook")
            self._hypothesis(session, f"{operation_id}/auth",
                             request_strategies.valid_requests(operation_id, spec=self.spec, pinned=form, **pins),
                             self._send_unauthenticated, max(2, min(5, examples // 10)))

    def _every_documented_value(self, session: Session, operation_id: str, pins: dict[str, Any],
                                form: dict[str, Any]) -> None:
        """Each value an enum documents, in one valid request per value (a list field: all its values
        at once), once per run whatever the seed or the example count.

        Drawn at random, a value is reached by luck: in a ten-example run ``Target=flex`` or
        ``Type=trigger`` is often never sent, and a server that refuses it passes that night.
        """
        for name, values in _documented_values(self.spec.operation(operation_id)).items():
            if name in form:
                continue  # the user pinned it: their value is the one to send
            for value in values:
                request = _draw_one(request_strategies.valid_requests(
                    operation_id, spec=self.spec, pinned={**form, name: value}, **pins), self.seed)
                session.new_example()
                try:
                    self._send_valid(session, request)
                except (CheckFailed, OperationDead):
                    continue  # recorded; the next value is tried all the same

    def _sibling_values(self, session: Session, operation_id: str, pins: dict[str, Any], form: dict[str, Any]) -> None:
        """Every value a sibling endpoint accepts in a same-named field, once per run, whatever the seed:
        a server that checks against the wrong endpoint's list is found every time, not by luck."""
        siblings = {name: values for name, values in request_strategies.sibling_values(operation_id, spec=self.spec).items()
                    if name not in form}
        if not siblings:
            return
        base = _draw_one(request_strategies.valid_requests(operation_id, spec=self.spec, pinned=form, **pins), self.seed)
        for name, values in siblings.items():
            for value in values:
                request = Request.build(operation_id, base.method, base.path, path_params=base.path_params,
                                        query=base.query, form=[*(p for p in base.form if p[0] != name), (name, value)],
                                        defect="bad_enum", defect_field=name,
                                        description=f"{name} is {value!r}, which a sibling endpoint accepts")
                session.new_example()
                try:
                    self._send_invalid(session, request)
                except (CheckFailed, OperationDead):
                    continue  # recorded; the next value is tried all the same

    def report_operation(self, session: Session, operation_id: str) -> None:
        """One progress line per operation: requests sent and failed checks since its first phase."""
        sent_before, failed_before = self._marks.pop(operation_id, (session.target.sent, 0))
        sent = session.target.sent - sent_before
        failed = session.results.operation_failures[operation_id] - failed_before
        dead = " (stopped answering)" if session.target.is_dead(operation_id) else ""
        self.progress(f"{operation_id:36} {sent:5} requests  {failed:4} failed checks{dead}")

    def run_stateful(self, session: Session, pools: Pools, label: str = "stateful suite", runs: int | None = None) -> None:
        state_checks = [c for c in self.config.checks.values() if c.family == "state"]
        if not state_checks:
            return
        if not self.config.allow_writes:
            for check in state_checks:
                session.results.skip(check.name, "the stateful suite writes; writes are not allowed (pass --allow-writes)")
            return
        if not (pools.services or pools.channels or pools.include_account):
            return  # nothing this worker may touch (another worker owns the named resources)
        machine = build_machine(session, pools)
        runs = runs or self.stateful_runs()
        sent_before = session.target.sent
        failures_before = sum(session.results.check_failures.values())
        allowance = self._allowance(session, runs)
        coverage = OutcomeCoverage()

        class Bounded(machine):  # type: ignore[misc, valid-type]
            """The machine, with the shrink allowance asked before each run (a spent one sends nothing),
            and each run scored by the (operation, status) pairs it reached (``hypothesis.target``)."""

            def __init__(self) -> None:
                allowance.before_example()
                coverage.pairs.clear()
                super().__init__()

            def teardown(self) -> None:
                super().teardown()
                hypothesis.target(float(len(coverage.pairs)), label="(operation, status) pairs reached")

        Bounded.__name__ = Bounded.__qualname__ = machine.__name__
        hypothesis.seed(self.seed)(Bounded)  # the documented way to seed a state machine
        # explicit settings (with the example database) after the seed, which on its own switches the database off
        settings = self._settings(runs, key=f"stateful/{label}", stateful_step_count=self.config.stateful_steps)
        # this worker's target only, and a new list: the list clones share is never changed while others send
        observers = session.target.observers
        session.target.observers = [*observers, coverage]
        try:
            self._execute(lambda: run_state_machine_as_test(Bounded, settings=settings))
        finally:
            session.target.observers = observers
        sent = session.target.sent - sent_before
        failed = sum(session.results.check_failures.values()) - failures_before
        self.progress(f"{label:36} {sent:5} requests  {failed:4} failed checks")

    def stateful_runs(self) -> int:
        return self.config.stateful_examples or max(3, self.config.max_examples // 5)

    def run_parallel(self, workers: int) -> None:
        """The whole suite on *workers* threads: requests are I/O-bound, so a slow
        (remote) target is asked by several at once.

        Operations are shared out, each run whole (all its kinds) by one worker;
        then every worker runs the state machine on its own :meth:`pools`, so a
        model never sees another worker's writes. The stateful runs are divided
        among the workers: the same work as one worker, spread. The first
        exception a worker ends with ends the run for all (budget refused to the
        others) and is raised here, as the single-threaded suite would raise it.
        """
        with _serialized_ast_parse():
            self._run_parallel(workers)

    def _run_parallel(self, workers: int) -> None:
        self.worker_sessions = [self.session(self.target.clone()) for _ in range(workers)]
        queue = list(self.operations)
        lock = threading.Lock()

        def phases(index: int, session: Session) -> None:
            while True:
                with lock:
                    if not queue:
                        return
                    operation_id = queue.pop(0)
                for kind in KINDS:
                    self.run_phase(session, operation_id, kind)
                self.report_operation(session, operation_id)

        self._on_workers(phases)
        if self.config.stateful and not self.config.stateless:
            runs = max(1, -(-self.stateful_runs() // workers))

            def stateful(index: int, session: Session) -> None:
                self.run_stateful(session, self.pools(index, workers), f"stateful suite, worker {index + 1}", runs)

            self._on_workers(stateful)

    def _on_workers(self, job: Callable[[int, Session], None]) -> None:
        errors: list[BaseException] = []

        def work(index: int, session: Session) -> None:
            try:
                job(index, session)
            except BaseException as exc:  # noqa: BLE001 - handed to the main thread
                errors.append(exc)
                self.target.limits.stop(f"the run is ending ({type(exc).__name__} in worker {index + 1})")

        threads = [threading.Thread(target=work, args=(i, s), name=f"contract-worker-{i + 1}", daemon=True)
                   for i, s in enumerate(self.worker_sessions)]
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                while thread.is_alive():
                    thread.join(0.2)  # short waits: SIGINT/SIGTERM land here, in the main thread
        except BaseException as exc:
            # interrupted: the workers stop at their next request; requests in flight finish
            self.target.limits.stop(f"interrupted ({type(exc).__name__})")
            for thread in threads:
                thread.join()
            raise
        if errors:
            raise errors[0]  # the cause; any later one is the stop it caused in the other workers

    def pools(self, worker: int = 0, workers: int = 1) -> Pools:
        """The services and channels one worker's state machine owns.

        Workers never share a resource: each gets its own derived services and
        channels, and only worker 0 models the account-wide configuration and
        the named (``--service-sid``/``--channel-sid``) service and channel.
        """
        suffix = "" if workers == 1 else f"-w{worker}"
        if (self.config.service_sid or not self.config.generate_resources) and worker > 0:
            # a named service and channel are one each: worker 0's alone
            return Pools(services=(), channels=(), include_account=False,
                         allow_writes=self.config.allow_writes, form_pins=self.config.form_pins)
        if self.config.service_sid:
            services: tuple[str, ...] = (self.config.service_sid,)
        elif not self.config.generate_resources:
            services = ()  # live: only the account-wide configuration is modelled
        else:
            services = (derived_sid("IS", self.seed, f"state-service-1{suffix}"),
                        derived_sid("IS", self.seed, f"state-service-2{suffix}"))
        if self.config.channel_sid and services:
            channels: tuple[tuple[str, str], ...] = ((services[0], self.config.channel_sid),)
        elif self.config.service_sid or not self.config.generate_resources:
            channels = ()  # a real service: only a real channel (--channel-sid) may be used
        else:
            channels = ((services[0], derived_sid("CH", self.seed, f"state-channel{suffix}")),
                        (services[0], f"contract-room-{self.seed % 100000}{suffix}"))
        return Pools(services=services, channels=channels, include_account=worker == 0,
                     allow_writes=self.config.allow_writes, form_pins=self.config.form_pins)

    def target_gone(self, session: Session, exc: Exception) -> None:
        session.results.aborted = f"the target stopped accepting connections: {exc}"
        if session.enabled("responds_within_timeout"):
            session.results.record("responds_within_timeout", "*", [session.results.aborted])

    def cleanup(self, session: Session) -> None:
        """Delete every webhook this session created and did not delete itself."""
        for sid, (service, channel) in list(session.created.items()):
            request = fixed_request(self.spec, "DeleteChannelWebhook", {"ServiceSid": service, "ChannelSid": channel, "Sid": sid})
            try:
                session.target.send(request)
            except Exception:  # noqa: BLE001 - best effort here; live mode verifies it
                continue
            session.created.pop(sid, None)

    def finish(self) -> None:
        self.results.finished = time.time()
        self.results.target["deduplicated_requests"] = self.deduplicated
        self.results.requests_sent = self.target.limits.sent
        self.results.retries = self.target.retries + sum(s.target.retries for s in self.worker_sessions)

    # -- test bodies -------------------------------------------------------

    @staticmethod
    def _send_valid(session: Session, request) -> None:
        response, failed = session.exchange(request)
        if request.operation_id == "CreateChannelWebhook" and response.status == 201:
            Suite._delete_created(session, response)
        session.raise_first(failed, response)

    @staticmethod
    def _send_invalid(session: Session, request) -> None:
        response, failed = session.exchange(request)
        if request.operation_id == "CreateChannelWebhook" and response.is_success:
            Suite._delete_created(session, response)
        session.raise_first(failed, response)

    @staticmethod
    def _send_unauthenticated(session: Session, request) -> None:
        """Both without credentials and with a wrong secret, judged before either is raised."""
        outcomes = [session.exchange(request, auth=auth) for auth in ("none", "wrong")]
        for response, failed in outcomes:
            session.raise_first(failed, response)

    @staticmethod
    def _delete_created(session: Session, response) -> None:
        """Example-phase webhooks are deleted at once: a channel holds at most five."""
        data = response.json()
        sid = data.get("sid") if isinstance(data, dict) else None
        if not isinstance(sid, str) or sid not in session.created:
            return
        service, channel = session.created[sid]
        request = fixed_request(session.context.spec, "DeleteChannelWebhook", {"ServiceSid": service, "ChannelSid": channel, "Sid": sid})
        session.exchange(request)

    def _valid_on_webhook(self, session: Session, operation_id: str, pins: dict[str, str]) -> None:
        """Fetch/update/delete need a webhook that exists: create one (or one per delete)."""
        service = pins.get("ServiceSid") or derived_sid("IS", self.seed, "examples-service")
        channel = pins.get("ChannelSid") or derived_sid("CH", self.seed, "examples-channel")

        created_type: list[str | None] = [None]

        def create(kind: str | None = None) -> str | None:
            pinned = dict(self.config.form_pins.get("CreateChannelWebhook", {}))
            if kind is not None:
                pinned["Type"] = kind
            request = _draw_one(request_strategies.valid_requests(
                "CreateChannelWebhook", spec=self.spec, pinned=pinned, ServiceSid=service, ChannelSid=channel), self.seed)
            session.new_example()
            response, failed = session.exchange(request)
            data = response.json()
            created_type[0] = request.fields().get("Type", [None])[0]
            if response.status == 201 and isinstance(data, dict) and isinstance(data.get("sid"), str):
                if _WEBHOOK_SID.match(data["sid"]):  # a mock may answer any string; it cannot be a pin
                    return data["sid"]
                session.results.note(f"{operation_id}: could not create a webhook to test on (create answered "
                                     f"sid {data['sid'][:40]!r}, not a WH sid)")
                return None
            if response.status == 404:
                session.results.note(f"{operation_id}: valid requests not tried: the target says channel {channel!r} "
                                     f"of service {service} does not exist (its choice; pass --service-sid and "
                                     f"--channel-sid of a channel it has)")
            else:
                session.results.note(f"{operation_id}: could not create a webhook to test on (create answered {response.status})")
            return None

        if operation_id == "DeleteChannelWebhook":
            for _ in range(max(1, min(self.config.max_examples, 10))):
                sid = create()
                if sid is None:
                    return
                request = fixed_request(self.spec, operation_id, {"ServiceSid": service, "ChannelSid": channel, "Sid": sid})
                try:
                    session.exchange(request)
                except OperationDead:
                    return
            return
        sid = create()
        if sid is None:
            return
        self._hypothesis(session, f"{operation_id}/valid", self._update_of(operation_id, sid, created_type[0], service, channel),
                         self._send_valid, self.config.max_examples)
        if operation_id == "UpdateChannelWebhook" and "Type" not in self.config.form_pins.get("CreateChannelWebhook", {}):
            for kind in _enum(self.spec.operation("CreateChannelWebhook"), "Type"):
                sid = create(kind)
                if sid is None:
                    return
                self._cover_fields(session, self._update_of(operation_id, sid, kind, service, channel),
                                   self._fields_used(operation_id, kind))
                session.exchange(fixed_request(self.spec, "DeleteChannelWebhook",
                                               {"ServiceSid": service, "ChannelSid": channel, "Sid": sid}))

    def _update_of(self, operation_id: str, sid: str, kind: str | None, service: str, channel: str) -> Any:
        """Valid updates of webhook *sid* of Type *kind*: the fields its Type does not use are left out."""
        unused = request_strategies.fields_unused_by(kind, self.spec) if kind else ()
        return request_strategies.valid_requests(
            operation_id, spec=self.spec, ServiceSid=service, ChannelSid=channel, Sid=sid,
            pinned={name: None for name in unused if name in self.spec.operation(operation_id).form_fields})

    def _fields_used(self, operation_id: str, kind: str | None) -> set[str]:
        unused = set(request_strategies.fields_unused_by(kind, self.spec)) if kind else set()
        return {name for name in self.spec.operation(operation_id).form_fields if name not in unused}

    def _cover_fields(self, session: Session, strategy: Any, wanted: set[str]) -> None:
        """One valid request that sends every field in *wanted* at once.

        A field a ten-example run never sends is a field no check judged (``Configuration.FlowSid``
        on an update needs a studio webhook first, and each optional field is sent half the time).
        ``hypothesis.find`` looks for the request without sending anything: it costs one request.
        """
        try:
            request = hypothesis.find(strategy, lambda drawn: wanted <= set(drawn.fields()),
                                      settings=hypothesis_settings(max_examples=500, database=None, deadline=None,
                                                                   suppress_health_check=list(HealthCheck),
                                                                   verbosity=Verbosity.quiet),
                                      random=random.Random(self.seed))
        except NoSuchExample:
            return  # the fragment does not allow them together: the random phase covers them one by one
        session.new_example()
        try:
            self._send_valid(session, request)
        except (CheckFailed, OperationDead):
            pass  # recorded

    # -- machinery ---------------------------------------------------------

    def _pins(self, operation_id: str) -> dict[str, str]:
        names = {p.name for p in self.spec.operation(operation_id).path_parameters}
        pins: dict[str, str] = {}
        if self.config.service_sid:
            for name in ("ChatServiceSid", "ServiceSid"):
                if name in names:
                    pins[name] = self.config.service_sid
        if self.config.channel_sid and "ChannelSid" in names:
            pins["ChannelSid"] = self.config.channel_sid
        if any(p.name == "PageToken" for p in self.spec.operation(operation_id).query_parameters):
            # a token is "provided by the API": one we made up may be refused by a faithful server
            pins["PageToken"] = None  # type: ignore[assignment]
        return pins

    def _skip_kind(self, session: Session, operation_id: str, kind: str, reason: str) -> None:
        session.results.note(f"{operation_id}: {kind} requests skipped: {reason}")
        if kind in ("valid", "all"):
            session.results.skip("valid_request_accepted", reason)

    def _settings(self, max_examples: int, key: str = "", **extra: Any) -> hypothesis_settings:
        """Settings of one Hypothesis test; *key* keeps its examples apart in the database."""
        phases = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target]
        if self.config.shrink:
            phases.append(Phase.shrink)
        return hypothesis_settings(
            max_examples=max_examples,
            deadline=None,
            database=KeyedDatabase(self.database, key) if key else self.database,
            phases=phases,
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=True,
            verbosity=Verbosity.quiet,
            print_blob=False,
            derandomize=False,
            **extra,
        )

    def _hypothesis(self, session: Session, name: str, strategy: Any, body: Callable[[Session, Any], None],
                    max_examples: int) -> None:
        allowance = self._allowance(session, max_examples)
        memo = WireMemo()
        auth = ("none", "wrong") if body is self._send_unauthenticated else ("valid",)

        @given(request=strategy)
        def test(request: Any) -> None:
            allowance.before_example()
            session.new_example()
            memo.run([wire_key(request, kind) for kind in auth], lambda: body(session, request))

        # @settings above @seed: reproducible from the run's seed, and the example database (which
        # @seed alone switches off) still replays earlier failures first; distinct keys per phase
        self._execute(self._settings(max_examples, key=name)(hypothesis.seed(self.seed)(test)))
        with self._lock:
            self.deduplicated += memo.saved

    def _allowance(self, session: Session, max_examples: int) -> ShrinkAllowance:
        return ShrinkAllowance(lambda: session.target.sent, lambda: session.failures, max_examples,
                               share=self.config.shrink_share)

    def _execute(self, test: Callable[[], None]) -> None:
        try:
            test()
        except BaseException as exc:  # noqa: BLE001 - sorted below
            _reraise_foreign(exc)
            # Swallowed -- but a test that ran into the budget, the circuit breaker or a lost target
            # may come back from Hypothesis as merely "flaky" (its replay stopped drawing earlier):
            # the run ends all the same, saying why.
            refusal = self.target.limits.refusal()
            if refusal is not None:
                raise refusal from None
            if self.target.unreachable:
                raise TargetGone(self.target.unreachable[0]) from None


def _reraise_foreign(exc: BaseException) -> None:
    """Swallow what the checks raised (already recorded); re-raise anything else."""
    # UnsatisfiedAssumption: a spent shrink allowance rejected Hypothesis' final replay of a failure
    if isinstance(exc, (CheckFailed, OperationDead, Flaky, UnsatisfiedAssumption)) and not isinstance(exc, BaseExceptionGroup):
        return
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            _reraise_foreign(inner)
        return
    raise exc


def _database(value: ExampleDatabase | str | None) -> ExampleDatabase:
    if isinstance(value, ExampleDatabase):
        return value
    if value is None or value in ("", "none", ":memory:"):
        return InMemoryExampleDatabase()
    return DirectoryBasedExampleDatabase(value)


def _enum(operation: Any, name: str) -> list[Any]:
    return list((operation.form_fields.get(name) or {}).get("enum") or [])


def _documented_values(operation: Any) -> dict[str, list[Any]]:
    """Per form field with an enum, the pins that send every documented value: each scalar value
    on its own, a list field's values all together."""
    out: dict[str, list[Any]] = {}
    for name, schema in operation.form_fields.items():
        if schema.get("enum"):
            out[name] = list(schema["enum"])
        elif schema.get("type") == "array" and (schema.get("items") or {}).get("enum"):
            out[name] = [list(schema["items"]["enum"])]
    return out


def _draw_one(strategy: Any, seed: int) -> Any:
    """One example from a strategy, deterministically (for set-up requests, not tests)."""
    drawn: list[Any] = []

    @hypothesis_settings(max_examples=1, database=None, phases=[Phase.generate], deadline=None,
                         suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet)
    @given(value=strategy)
    def pick(value: Any) -> None:
        drawn.append(value)

    hypothesis.seed(seed)(pick)
    pick()
    return drawn[0]

