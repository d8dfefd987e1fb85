"""Live mode: a run against real Twilio that leaves the account exactly as it found it.

Before the first write the :class:`Guard` reads the account configuration, every
service configuration the run will touch and the webhooks already on the run's
channel. Afterwards -- after success, failure, a dying target, Ctrl-C or SIGTERM
-- it deletes every webhook the run created, writes the configurations back and
reads them again to prove it. What it cannot restore it says, loudly, and the run
exits non-zero.

Two facts of Twilio's form API shape the guard:

* a field can be cleared back to ``null`` only if it is a URL (the empty string
  clears it); ``Filters`` or ``Method`` that were ``null`` before cannot be
  written back. :meth:`Guard.frozen_fields` names such fields so the run never
  writes them (its generated writes pin them absent);
* a request interrupted in flight may have created a webhook whose answer never
  arrived. The guard counts creates it has not seen answered, and afterwards
  deletes at most that many unknown webhooks from the run's own channel; any
  other stranger is reported, never deleted.

A field whose value the snapshot holds but a form cannot write back (``null``
where only a URL clears, ``filters: []``, a legacy filter such as
``onMessageSend`` that the request enum no longer admits) is *pinned*: the run
never writes it, and the restore writes back only the fields that differ, one
by one when a combined write is refused. One bad answer never aborts the
restore: every step runs whatever the others did.

SIGKILL leaves no chance to restore, so the snapshot, the created webhooks and
the unanswered creates go to a durable :class:`~twilio_webhook_contracts.journal.Journal`
before the first write; the next live run (or ``webhook-contracts restore``)
finds a leftover journal and restores from it first (:meth:`Guard.recover`).
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping, Sequence
from urllib.parse import parse_qsl, urlsplit

from .ledger import Ledger, ledger_of
from .request import Request, encode_path_segment, form_pairs
from .spec import Spec
from .target import Response, Target

__all__ = [
    "LIVE_DEFAULTS",
    "Guard",
    "LiveError",
    "SignalGuard",
    "Snapshot",
    "Terminated",
    "interruptible",
    "is_live_url",
    "signal_name",
]

#: Polite defaults for a run against live Twilio (each can be overridden).
LIVE_DEFAULTS: Mapping[str, float] = {
    "max_requests": 1500,
    "rate_limit": 5.0,  # requests per second
    "time_budget": 900.0,  # seconds
    "max_examples": 10,
    "max_server_errors": 10,  # circuit breaker: 5xx answers in a row before the run stops
}

#: Each restore request is tried this often (through 5xx, 429, timeouts and refused
#: connections), waiting _RESTORE_BACKOFF seconds between tries (or the server's
#: Retry-After, capped by the target's max_retry_wait, when that is longer).
_RESTORE_ATTEMPTS = 6
_RESTORE_BACKOFF = (0.5, 1.0, 2.0, 4.0, 8.0)
#: A restore that still has problems is run again, whole, up to this many times in
#: all: a target that recovers part-way through is finished off by the next pass.
_RESTORE_PASSES = 3


class LiveError(Exception):
    """The live run cannot start safely (e.g. the snapshot could not be read)."""


class Terminated(BaseException):
    """SIGTERM, turned into an exception so ``finally`` blocks restore the account.

    A ``BaseException`` like ``KeyboardInterrupt``, so no ``except Exception``
    on the way up swallows it.
    """


def is_live_url(url: str | None) -> bool:
    """True for Twilio's own hosts: live mode switches itself on for them."""
    if not url:
        return False
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    return host == "twilio.com" or host.endswith(".twilio.com")


class SignalGuard:
    """SIGINT and SIGTERM during a run that must clean up after itself.

    While armed, the first SIGINT raises ``KeyboardInterrupt`` and the first
    SIGTERM raises :class:`Terminated` in the main thread -- and the guard disarms
    itself as it raises, so that signals raise at most once per run. Once disarmed
    (by that, or by :meth:`disarm` before the clean-up starts), signals are only
    remembered in :attr:`received`: an impatient second Ctrl-C or a CI runner's
    follow-up SIGTERM cannot cut a restore short and leave an account half
    restored (SIGKILL still can; nothing can help that).

    Because one signal raises at most once, the caller can put the clean-up after
    a ``try`` whose ``finally`` disarms the guard: wherever the exception lands --
    in the suite, in its ``finally``, between the two -- it lands inside that
    ``try``, and the clean-up after it runs undisturbed.
    """

    def __init__(self) -> None:
        self.armed = True
        self.received: list[int] = []
        self._holding = 0
        self._pending: int | None = None
        self._closed = False  # disarm()ed: the clean-up has begun, nothing raises any more

    def handle(self, signum: int, frame: Any) -> None:
        self.received.append(signum)
        if self.armed:
            if self._holding:
                self._pending = signum  # raised when the held section ends
            else:
                self._raise(signum)

    def _raise(self, signum: int) -> None:
        self.armed = False
        raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()

    def unraisable(self, exc: BaseException) -> bool:
        """Our interruption raised where Python cannot raise (a garbage-collector callback,
        a ``__del__``): keep it pending, to interrupt as the next held section ends.
        True when *exc* was ours (and is not to be printed)."""
        if not isinstance(exc, (KeyboardInterrupt, Terminated)) or self.armed or self._closed or not self.received:
            return False
        self.armed = True
        self._pending = self.received[-1]
        return True

    @contextmanager
    def held(self) -> Iterator[None]:
        """A section a signal must not land inside (counting a request and writing it):
        a signal arriving within it interrupts as the section ends."""
        self._holding += 1
        try:
            yield
        finally:
            self._holding -= 1
            if not self._holding and self._pending is not None and self.armed:
                signum, self._pending = self._pending, None
                self._raise(signum)

    def disarm(self) -> None:
        self.armed = False
        self._closed = True

    @property
    def first(self) -> str | None:
        """``"SIGINT"`` or ``"SIGTERM"``: the first signal received, if any."""
        return signal_name(self.received[0]) if self.received else None


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


@contextmanager
def interruptible() -> Iterator[SignalGuard]:
    """Install a :class:`SignalGuard` for SIGINT and SIGTERM within the block (main thread only;
    elsewhere signals are not ours to handle, and the guard never fires)."""
    guard = SignalGuard()
    if threading.current_thread() is not threading.main_thread():
        yield guard
        return
    previous_hook = sys.unraisablehook

    def unraisable(report: Any) -> None:
        if not guard.unraisable(report.exc_value):
            previous_hook(report)

    previous = {sig: signal.signal(sig, guard.handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    sys.unraisablehook = unraisable
    try:
        yield guard
    finally:
        guard.disarm()
        sys.unraisablehook = previous_hook
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@dataclass
class Snapshot:
    """What the account looked like before the run wrote anything."""

    account: dict[str, Any] | None = None
    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    webhooks: dict[tuple[str, str], set[str]] = field(default_factory=dict)


class Guard:
    """Snapshot, track and restore the resources one live run touches."""

    def __init__(self, target: Target, spec: Spec, *, services: Sequence[str] = (),
                 channels: Sequence[tuple[str, str]] = (), log: Callable[[str], None] | None = None,
                 sleep: Callable[[float], None] = time.sleep, journal: Any = None):
        self.target = target
        self.spec = spec
        self.services = list(dict.fromkeys(services))
        self.channels = list(dict.fromkeys(channels))
        self.snapshot: Snapshot | None = None
        #: the run's one ledger of created webhooks (observed on the target; the sessions' and the machine's too)
        self.ledger = ledger_of(target)
        #: requests the last :meth:`restore` sent (every try; not counted against --max-requests)
        self.restore_requests = 0
        self._lock = threading.Lock()
        self._log = log or (lambda line: None)
        self._sleep = sleep
        #: a :class:`~twilio_webhook_contracts.journal.Journal` (None: no crash safety, e.g. in unit tests)
        self.journal = journal
        self._journal_started = time.time()
        self.ledger.listeners.append(self._journal)  # every change of the ledger reaches the journal

    # -- before ----------------------------------------------------------------

    def take_snapshot(self) -> Snapshot:
        """Read everything the run may change; refuse to go on if a read fails."""
        snapshot = Snapshot()
        snapshot.account = self._read_config("FetchConfigurationWebhook", {}, "UpdateConfigurationWebhook")
        for service in self.services:
            snapshot.services[service] = self._read_config(
                "FetchServiceWebhookConfiguration", {"ChatServiceSid": service}, "UpdateServiceWebhookConfiguration")
        for service, channel in self.channels:
            snapshot.webhooks[(service, channel)] = self._list_webhooks(service, channel)
        self.snapshot = snapshot
        self._journal()  # before the first write: a SIGKILL from now on loses nothing
        return snapshot

    def frozen_fields(self) -> dict[str, list[str]]:
        """Per update operation, the form fields the run must not write: a form cannot
        write their present value back (null where only a URL clears, ``[]``, a value
        the request schema no longer admits, such as a legacy filter)."""
        assert self.snapshot is not None, "take_snapshot() first"
        frozen: dict[str, list[str]] = {}
        pairs = [("UpdateConfigurationWebhook", self.snapshot.account)]
        pairs += [("UpdateServiceWebhookConfiguration", state) for state in self.snapshot.services.values()]
        for op, state in pairs:
            if state is None:
                continue
            for name, schema in self.spec.operation(op).form_fields.items():
                if not _writable(state.get(_key(name)), schema):
                    frozen.setdefault(op, [])
                    if name not in frozen[op]:
                        frozen[op].append(name)
        return frozen

    def describe_snapshot(self) -> str:
        """What the snapshot holds, in words (for a person restoring by hand)."""
        if self.snapshot is None:
            return "no snapshot was taken"
        parts = []
        if self.snapshot.account is not None:
            parts.append(f"account configuration {_describe(self.snapshot.account)}")
        parts += [f"service {sid} configuration {_describe(state)}" for sid, state in self.snapshot.services.items()]
        parts += [f"channel {channel} webhooks {sorted(sids)}" for (_, channel), sids in self.snapshot.webhooks.items()]
        return "; ".join(parts)

    # -- during ----------------------------------------------------------------

    @property
    def created(self) -> Ledger:
        """The webhooks the run created and has not deleted (the target's ledger)."""
        return self.ledger

    @property
    def unconfirmed_creates(self) -> dict[tuple[str, str], int]:
        """Per channel, creates sent whose answer (below 500) never arrived."""
        return self.ledger.unconfirmed_creates

    # -- after -----------------------------------------------------------------

    def restore(self) -> list[str]:
        """Delete what the run created, write the snapshot back, read it again.

        A pass that leaves problems is repeated (every step is idempotent), up to
        ``_RESTORE_PASSES`` passes. Returns what could not be restored (empty: the
        account is as it was); :attr:`restore_requests` counts the requests spent.
        """
        if self.snapshot is None:
            return []
        sent_before = self.target.limits.sent
        problems: list[str] = []
        try:
            for done in range(1, _RESTORE_PASSES + 1):
                problems = self._restore_once()
                if not problems:
                    break
                if done < _RESTORE_PASSES:
                    self._log(f"restore: {len(problems)} problem(s) left after pass {done}; trying again")
                    self._sleep(_RESTORE_BACKOFF[-1])
        finally:
            self.restore_requests = self.target.limits.sent - sent_before
        if self._journal in self.ledger.listeners:
            self.ledger.listeners.remove(self._journal)  # restored: this guard journals no more
        if not problems and self.journal is not None:
            self.journal.clear()  # verified: nothing is left for a later run to undo
        elif self.journal is not None:
            self.journal.write(self.journal_data())  # what is left, for `webhook-contracts restore` or the next run
            problems.append(f"the journal {self.journal.path} is kept: the next live run against this account, "
                            "or `webhook-contracts restore`, tries again")
        return problems

    def _restore_once(self) -> list[str]:
        """One pass over every step; a step that fails in any way is a problem, never the end of the pass."""
        assert self.snapshot is not None
        snapshot = self.snapshot
        steps: list[tuple[str, Callable[[], list[str]]]] = [("deleting the created webhooks", self._delete_created)]
        if snapshot.account is not None:
            steps.append(("the account configuration", lambda: self._restore_config(
                "UpdateConfigurationWebhook", {}, snapshot.account, "the account configuration")))  # type: ignore[arg-type]
        for service, state in snapshot.services.items():
            steps.append((f"service {service}'s configuration", lambda service=service, state=state: self._restore_config(
                "UpdateServiceWebhookConfiguration", {"ChatServiceSid": service}, state, f"service {service}'s configuration")))
        problems: list[str] = []
        for what, step in steps:
            try:
                problems += step()
            except Exception as exc:  # noqa: BLE001 - one bad answer must not cost the other steps
                problems.append(f"{what}: the restore step failed ({type(exc).__name__}: {exc})")
        return problems

    # -- the journal -----------------------------------------------------------

    def _journal(self) -> None:
        """Write the snapshot and the ledger to the journal (callers hold the lock, or run alone)."""
        if self.journal is None or self.snapshot is None:
            return
        self.journal.write(self.journal_data())

    def journal_data(self) -> dict[str, Any]:
        """What a later run needs to undo this one (no secret: sids, base URLs, configurations)."""
        assert self.snapshot is not None
        snapshot = self.snapshot
        return {
            "account_sid": self.target.credentials.account_sid,
            "conversations_url": self.target.conversations_url,
            "chat_url": self.target.chat_url,
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self._journal_started)),
            "account": snapshot.account,
            "services": snapshot.services,
            "channels": [{"service": s, "channel": c, "webhooks": sorted(sids)} for (s, c), sids in snapshot.webhooks.items()],
            "created": [{"sid": sid, "service": s, "channel": c} for sid, (s, c) in sorted(self.created.items())],
            "unconfirmed_creates": [{"service": s, "channel": c, "count": n}
                                    for (s, c), n in sorted(self.unconfirmed_creates.items()) if n > 0],
        }

    @classmethod
    def from_journal(cls, target: Target, spec: Spec, data: Mapping[str, Any], **options: Any) -> "Guard":
        """A guard holding a journal's snapshot and ledger, ready to :meth:`restore` it."""
        channels = [(item["service"], item["channel"]) for item in data.get("channels") or []]
        guard = cls(target, spec, services=list(data.get("services") or {}), channels=channels, **options)
        guard.snapshot = Snapshot(account=data.get("account"), services=dict(data.get("services") or {}),
                                  webhooks={(i["service"], i["channel"]): set(i["webhooks"]) for i in data.get("channels") or []})
        for item in data.get("created") or []:
            guard.ledger.record(item["sid"], item["service"], item["channel"])
        for item in data.get("unconfirmed_creates") or []:
            key = (item["service"], item["channel"])
            guard.ledger.unconfirmed_creates[key] = guard.ledger.unconfirmed_creates.get(key, 0) + int(item["count"])
        return guard

    def recover(self) -> bool:
        """Restore from a journal an earlier run left behind (killed before its restore); False if none.

        Raises :class:`LiveError` when that restore cannot be verified: a new run
        would take the changed state for the original one.
        """
        if self.journal is None:
            return False
        data = self.journal.read()
        if data is None:
            return False
        self._log(f"live journal: an earlier run (started {data.get('started', '?')}) ended without restoring; "
                  f"restoring from {self.journal.path} first")
        earlier = Guard.from_journal(self.target, self.spec, data, log=self._log, sleep=self._sleep, journal=self.journal)
        problems = earlier.restore()
        self.restore_requests += earlier.restore_requests
        if problems:
            raise LiveError("the restore from the journal of an earlier run failed: " + "; ".join(problems))
        self._log("live journal: the earlier run's changes are undone (verified); the journal is cleared")
        return True

    def _delete_created(self) -> list[str]:
        problems = []
        for sid, (service, channel) in list(self.created.items()):
            if self._delete(service, channel, sid):
                self.created.pop(sid, None)
            else:
                problems.append(f"webhook {sid} on channel {channel} (service {service}) could not be deleted")
        assert self.snapshot is not None
        for (service, channel), before in self.snapshot.webhooks.items():
            try:
                now = self._list_webhooks(service, channel)
            except LiveError as exc:
                problems.append(f"could not list channel {channel} to verify clean-up: {exc}")
                continue
            strangers = sorted(now - before)
            for sid in strangers:
                if self.unconfirmed_creates.get((service, channel), 0) > 0 and self._delete(service, channel, sid):
                    self.ledger.take_unconfirmed((service, channel))
                    self._log(f"deleted webhook {sid}: created by a request interrupted before its answer")
                else:
                    problems.append(f"webhook {sid} appeared on channel {channel} during the run and was left in place "
                                    "(not created by a tracked request of this run)")
        return problems

    def _restore_config(self, update_op: str, params: Mapping[str, str], state: Mapping[str, Any], what: str) -> list[str]:
        fetch_op = update_op.replace("Update", "Fetch")
        try:
            current = self._read_config(fetch_op, params, update_op)
        except LiveError:
            current = None
        if current is not None and all(_same(state[key], current.get(key)) for key in state):
            return []  # unchanged: nothing to write (and a read-only run never writes)
        operation = self.spec.operation(update_op)
        fields: dict[str, Any] = {}
        for name, schema in operation.form_fields.items():
            key = _key(name)
            if key not in state or not _writable(state[key], schema):
                continue  # pinned: never written by the run, so never written back
            if current is not None and _same(state[key], current.get(key)):
                continue  # unchanged: writing it could only go wrong
            fields[name] = "" if state[key] is None else state[key]
        status = self._write_config(update_op, operation, params, fields)
        if status is not None and status.startswith("answered 4") and len(fields) > 1:
            # refused, not failed: write field by field, so one value the server will not take keeps none of the others back
            statuses = {name: self._write_config(update_op, operation, params, {name: value}) for name, value in fields.items()}
            refused = {name: status for name, status in statuses.items() if status is not None}
            status = "; ".join(f"{name}: {status}" for name, status in refused.items()) if refused else None
        if status is not None:
            return [f"{what} could not be written back ({status}); it should be: {_describe(state)}"]
        try:
            seen = self._read_config(fetch_op, params, update_op)
        except LiveError as exc:
            return [f"{what} was written back but could not be read to verify: {exc}"]
        differences = [key for key in state if not _same(state[key], seen.get(key))]
        if differences:
            return [f"{what} still differs after restore in {', '.join(differences)}; it should be: {_describe(state)}"]
        return []

    def _write_config(self, update_op: str, operation: Any, params: Mapping[str, str], fields: Mapping[str, Any]) -> str | None:
        """One update with *fields*; None when accepted (or nothing to write), else what went wrong."""
        if not fields:
            return None
        request = Request.build(update_op, operation.method, _path(operation.path, params), path_params=params,
                                form=form_pairs(dict(fields)))
        response = self._send(request)
        if response is not None and response.status == 200:
            return None
        return "no answer" if response is None else f"answered {response.status}"

    # -- requests --------------------------------------------------------------

    def _read_config(self, fetch_op: str, params: Mapping[str, str], update_op: str) -> dict[str, Any]:
        operation = self.spec.operation(fetch_op)
        request = Request.build(fetch_op, operation.method, _path(operation.path, params), path_params=params)
        response = self._send(request)
        data = response.json() if response is not None else None
        if response is None or response.status != 200 or not isinstance(data, dict):
            status = "no answer" if response is None else f"{response.status}"
            raise LiveError(f"could not read {fetch_op} {params or ''} ({status})")
        return {_key(name): data.get(_key(name)) for name in self.spec.operation(update_op).form_fields}

    def _list_webhooks(self, service: str, channel: str) -> set[str]:
        operation = self.spec.operation("ListChannelWebhook")
        params = {"ServiceSid": service, "ChannelSid": channel}
        request = Request.build("ListChannelWebhook", operation.method, _path(operation.path, params), path_params=params)
        sids: set[str] = set()
        for _ in range(100):
            response = self._send(request)
            data = response.json() if response is not None else None
            if response is None or response.status != 200 or not isinstance(data, dict):
                raise LiveError(f"could not list the webhooks of channel {channel} "
                                f"({'no answer' if response is None else response.status})")
            sids.update(item["sid"] for item in data.get("webhooks") or [] if isinstance(item, dict) and isinstance(item.get("sid"), str))
            next_url = (data.get("meta") or {}).get("next_page_url") if isinstance(data.get("meta"), dict) else None
            if not next_url:
                break
            request = Request.build(request.operation_id, request.method, request.path, path_params=params,
                                    query=parse_qsl(urlsplit(next_url).query, keep_blank_values=True))
        return sids

    def _delete(self, service: str, channel: str, sid: str) -> bool:
        operation = self.spec.operation("DeleteChannelWebhook")
        params = {"ServiceSid": service, "ChannelSid": channel, "Sid": sid}
        request = Request.build("DeleteChannelWebhook", operation.method, _path(operation.path, params), path_params=params)
        response = self._send(request)
        return response is not None and response.status in (204, 404)

    def _send(self, request: Request) -> Response | None:
        """Send with patience: a restore is retried through 5xx, 429, timeouts and refused connections."""
        response: Response | None = None
        for attempt in range(_RESTORE_ATTEMPTS):
            try:
                response = self.target.send(request, budgeted=False)
            except Exception:  # noqa: BLE001 - an odd answer (e.g. an unparsable Retry-After) is a failed try
                response = None
            if response is not None and response.status < 500 and response.status != 429:
                return response
            if attempt < len(_RESTORE_BACKOFF):
                delay = _RESTORE_BACKOFF[attempt]
                if response is not None:
                    delay = max(delay, _retry_after(response, self.target.max_retry_wait))
                self._sleep(delay)
        return response


def _retry_after(response: Response, cap: float) -> float:
    """The server's ``Retry-After`` in seconds (0 when absent or not a number), at most *cap*."""
    value = str(response.headers.get("Retry-After", "")).strip()
    return min(float(value), cap) if value.isdigit() else 0.0


def _key(form_field: str) -> str:
    import re

    return re.sub(r"(?<!^)(?=[A-Z])", "_", form_field.split(".")[-1]).lower()


def _writable(value: Any, schema: Mapping[str, Any]) -> bool:
    """Whether a form can write *value* back: null only where an empty string clears, a list only
    non-empty with every item admitted, a scalar only when the request schema admits it."""
    import re

    if value is None:
        return _clearable(schema)
    if isinstance(value, list):
        items = schema.get("items") or {}
        return schema.get("type") == "array" and bool(value) and all(_writable(item, items) for item in value if item is not None) \
            and None not in value
    if isinstance(value, bool) or isinstance(value, (dict, float)):
        return False
    if "enum" in schema and value not in schema["enum"]:
        return False
    if isinstance(value, str):
        pattern = schema.get("pattern")
        return schema.get("type", "string") == "string" and (pattern is None or re.search(pattern, value) is not None)
    return schema.get("type") == "integer" and isinstance(value, int)


def _clearable(schema: Mapping[str, Any]) -> bool:
    """A field an empty string clears to null: a string whose schema admits ``""``."""
    import re

    pattern = schema.get("pattern")
    return schema.get("type") == "string" and "enum" not in schema and (pattern is None or re.search(pattern, "") is not None)


def _path(template: str, params: Mapping[str, str]) -> str:
    path = template
    for name, value in params.items():
        path = path.replace("{" + name + "}", encode_path_segment(value))
    return path


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return sorted(map(str, a)) == sorted(map(str, b))
    return a == b


def _describe(state: Mapping[str, Any]) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in state.items())
