"""Targets that keep no state: recognise them, and say so in one line.

Many mocks -- Stoplight Prism among them -- answer every request from examples
and remember nothing. Against such a target every state check fails dozens of
times, and the report drowns in round-trip failures that all mean one thing.

This module handles both ways of running against one:

* **declared** (``--stateless``): the stateful suite is not run and the state
  checks are reported as skipped with :data:`DECLARED_REASON`;
* **detected**: a :class:`StateEvidence` watches every exchange of a normal run
  (it observes the target: ``Target.observers``) and :func:`conclude` post-processes
  the :class:`~contract_tests.results.Results`: when the evidence says the target
  keeps no state, the state-check failures are folded into one failure line,
  the other state checks are marked "target keeps no state", and
  ``results.target["keeps_state"]`` is set to ``False``.

The evidence rule (:meth:`StateEvidence.verdict`) is deliberately strict, so that
a stateful server with a real state bug is never excused:

    every successful write (2xx to a valid, authenticated request) to a resource
    that had been read before is judged by the next successful read of that
    resource. For each field the write set to a value different from what the
    previous read showed (and that no later write set again before that read),
    the new read shows the written value ("kept"), the previous value
    ("reverted") or something else. A webhook created and then missing from its
    channel's complete list (not deleted in between) counts as reverted too. The
    target is labelled stateless only when at least :data:`MIN_REVERTED` writes,
    on at least :data:`MIN_KINDS` kinds of resource (account configuration,
    service configuration, channel webhook), were read back with *every*
    changed field reverted, and *no* write was ever read back with even one
    field kept.

A stateful server with one state bug (one field not stored, one scope leaking
into another, deletes not deleting, even one kind of resource never stored)
still reads back the fields or the resources the bug does not touch, so it has
"kept" writes, or reverted ones on one kind only, and its failures are reported
as they are. Writes to a resource never read before them (a create) are no
evidence either way: a value that reads back equal may be the server's default.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from twilio_webhook_contracts.spec import Spec

from .checks import CHECKS, same_values

if TYPE_CHECKING:  # pragma: no cover
    from twilio_webhook_contracts.target import Response, Target

    from .results import Results

__all__ = [
    "DECLARED_REASON",
    "DETECTED_REASON",
    "MIN_REVERTED",
    "StateEvidence",
    "StatelessVerdict",
    "conclude",
    "keeps_no_state",
    "state_checks",
]

#: Writes that must have been read back reverted before a target is called stateless ...
MIN_REVERTED = 3
#: ... on at least this many kinds of resource (account configuration, service configuration, webhook).
MIN_KINDS = 2
DECLARED_REASON = "--stateless: the target is declared to keep no state; the stateful suite was not run"
DETECTED_REASON = "target keeps no state"

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_MISSING = object()


def state_checks() -> list[str]:
    """Names of the checks that need a target to keep state (the ``state`` family)."""
    return [name for name, check in CHECKS.items() if check.family == "state"]


def _field_path(form_name: str) -> tuple[str, ...]:
    """``Configuration.RetryCount`` -> ``("configuration", "retry_count")``."""
    return tuple(_CAMEL.sub("_", part).lower() for part in form_name.split("."))


def _value_at(body: Any, path: tuple[str, ...]) -> Any:
    node = body
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _same(a: Any, b: Any) -> bool:
    if a is _MISSING or b is _MISSING:
        return a is b
    return same_values(a, b)


@dataclass
class _Resource:
    """What has been seen of one resource: the last read, and the writes since then."""

    kind: str  # the resource's path template: account configuration, service configuration, webhook
    label: str
    last_read: Mapping[str, Any] | None = None
    writes: list[tuple[dict[tuple[str, ...], Any], Any]] = field(default_factory=list)  # (field -> value, request)


@dataclass(frozen=True)
class StatelessVerdict:
    """The evidence that a target keeps no state (see the module docstring for the rule)."""

    reverted: int
    kept: int
    other: int
    kinds: tuple[str, ...]  # kinds of resource with reverted writes
    resources: tuple[str, ...]

    @property
    def keeps_no_state(self) -> bool:
        return self.reverted >= MIN_REVERTED and len(self.kinds) >= MIN_KINDS and self.kept == 0

    def describe(self) -> str:
        where = ", ".join(self.resources[:3]) + (f" and {len(self.resources) - 3} more" if len(self.resources) > 3 else "")
        return (f"{self.reverted} successful writes were each read back with the previous value of every field "
                f"they changed ({where}), and no write was ever read back")

    def as_dict(self) -> dict[str, Any]:
        return {"writes_reverted": self.reverted, "writes_kept": self.kept, "writes_inconclusive": self.other,
                "kinds": list(self.kinds), "resources": list(self.resources), "keeps_no_state": self.keeps_no_state}


class StateEvidence:
    """Watches exchanges (a ``Target`` observer) for whether writes are ever read back."""

    def __init__(self, spec: Spec):
        self.spec = spec
        self._lock = threading.Lock()
        self._resources: dict[tuple, _Resource] = {}
        self._reverted: dict[tuple[str, str], int] = {}  # (kind, resource label) -> writes reverted
        self._kept = 0
        self._other = 0
        updates = {op.path for op in spec if op.method == "POST" and op.success_status == 200}
        #: GET operations that read one resource a POST on the same path updates
        self._reads = {op.operation_id for op in spec if op.method == "GET" and op.path in updates}
        self._updates = {op.operation_id for op in spec if op.method == "POST" and op.success_status == 200}
        self._creates: dict[str, str] = {}  # create op -> the instance path it creates under
        for op in spec:
            if op.method == "POST" and op.success_status == 201:
                instance = next((p for p in updates if p.startswith(op.path + "/{") and p.count("/") == op.path.count("/") + 1), None)
                if instance is not None:
                    self._creates[op.operation_id] = instance
        collections = {spec.operation(op_id).path for op_id in self._creates}
        #: GET operations listing a collection that creates add to, and DELETEs of its members
        self._lists = {op.operation_id for op in spec if op.method == "GET" and op.path in collections}
        self._deletes = {op.operation_id for op in spec if op.method == "DELETE" and op.path in self._creates.values()}
        #: (collection path, its path values) -> sids created there and not yet seen in a complete list
        self._unlisted: dict[tuple, set[str]] = {}
        self._creates_sent: dict[str, Any] = {}  # sid -> the create request that answered it
        #: one (write request, read request) pair that showed a write not kept: the reproduction
        self.example: tuple[Any, Any] | None = None
        self._curl: Callable[[Any], str] | None = None

    # -- wiring -------------------------------------------------------------

    def attach(self, target: "Target") -> "StateEvidence":
        """Observe every exchange of *target* (and of its clones)."""
        target.observers.append(self)
        self._curl = target.curl
        return self

    def curl(self, request: Any) -> str:
        """A reproduction line for *request* (the secret as a shell variable), if attached to a target."""
        return self._curl(request) if self._curl is not None and request is not None else ""

    def detach(self, target: "Target") -> None:
        if self in target.observers:
            target.observers.remove(self)

    def after_response(self, response: "Response") -> None:
        try:
            self.observe(response)
        except Exception:  # noqa: BLE001 - evidence is best effort; it must never break a run
            pass

    # -- observing ----------------------------------------------------------

    def observe(self, response: "Response") -> None:
        request = response.request
        if response.auth != "valid" or request.defect is not None:
            return
        op_id = request.operation_id
        if op_id in self._deletes:  # deleted (or never there): no longer expected in any list
            sid = request.path_params.get("Sid")
            with self._lock:
                for pending in self._unlisted.values():
                    pending.discard(sid)  # type: ignore[arg-type]
            return
        if not response.is_success:
            return
        body = response.json()
        if not isinstance(body, Mapping):
            return
        operation = self.spec.operation(op_id)
        params = dict(request.path_params)
        if op_id in self._lists:
            self._listed(operation.path, params, request, body)
            return
        if op_id not in self._reads and op_id not in self._updates and op_id not in self._creates:
            return
        path = operation.path
        if op_id in self._creates:
            sid = body.get("sid")
            if not isinstance(sid, str):
                return
            with self._lock:
                _bounded_put(self._unlisted, (operation.path, tuple(sorted(params.items()))), set()).add(sid)
                _bounded_put(self._creates_sent, sid, request)
            path = self._creates[op_id]
            params["Sid"] = sid
        key = (path, tuple(sorted(params.items())))
        with self._lock:
            resource = self._resources.get(key)
            if resource is None:
                resource = _bounded_put(self._resources, key, _Resource(path, _label(path, params)))
            if op_id in self._reads:
                self._read(resource, body, request)
            else:
                self._write(resource, request)

    def _listed(self, path: str, params: Mapping[str, str], request: Any, body: Mapping[str, Any]) -> None:
        """A complete list (one page, no cursor) must hold every webhook created there and not deleted.

        Only absence counts (as a reverted write); presence is no evidence of state, because an
        example-answering mock lists the very sid its create example answered.
        """
        meta = body.get("meta") if isinstance(body.get("meta"), Mapping) else {}
        if meta.get("next_page_url") or any(name == "PageToken" for name, _ in request.query):
            return
        items = next((value for value in body.values() if isinstance(value, list)), [])
        listed = {item.get("sid") for item in items if isinstance(item, Mapping)}
        key = (path, tuple(sorted(params.items())))
        with self._lock:
            pending = self._unlisted.pop(key, set())
            missing = sorted(pending - listed)
            if missing:
                label = f"webhooks of channel {params.get('ChannelSid', '?')}"
                self._reverted[(path, label)] = self._reverted.get((path, label), 0) + len(missing)
                self.example = self.example or (self._creates_sent.get(missing[0]), request)

    def _write(self, resource: _Resource, request: Any) -> None:
        from twilio_webhook_contracts.validation import validator_for

        typed = validator_for(request.operation_id, self.spec).typed_form(request.body or b"")
        fields = {_field_path(name): None if value == "" else value for name, value in typed.items()}
        resource.writes.append((fields, request))

    def _read(self, resource: _Resource, body: Mapping[str, Any], request: Any) -> None:
        """Judge each write since the last read against this read (the last read is "before")."""
        before_read = resource.last_read
        writes = resource.writes if before_read is not None else []
        for index, (written, write_request) in enumerate(writes):
            kept = reverted = other = 0
            later = {path for later_write, _ in writes[index + 1:] for path in later_write}
            for path, value in written.items():
                if path in later:
                    continue  # a later write set this field again: only the last write of a field is judged
                before = _value_at(before_read, path)
                if _same(value, before):
                    continue  # the write did not change this field: no evidence either way
                seen = _value_at(body, path)
                if _same(seen, value):
                    kept += 1
                elif _same(seen, before):
                    reverted += 1
                else:
                    other += 1
            if kept:
                self._kept += 1
            elif reverted and not other:
                self._reverted[(resource.kind, resource.label)] = self._reverted.get((resource.kind, resource.label), 0) + 1
                self.example = self.example or (write_request, request)
            elif reverted or other:
                self._other += 1
        # writes with no read before them (a create, or a resource first read after a write) say
        # nothing: a value that reads back equal may just be the server's default
        resource.writes.clear()
        resource.last_read = body

    # -- the verdict --------------------------------------------------------

    def verdict(self) -> StatelessVerdict:
        with self._lock:
            return StatelessVerdict(
                reverted=sum(self._reverted.values()), kept=self._kept, other=self._other,
                kinds=tuple(sorted({kind for kind, _ in self._reverted})),
                resources=tuple(sorted({label for _, label in self._reverted})),
            )


#: Resources (and channels, and created sids) tracked at once. A long run writes to
#: thousands of generated services that are never read back; their evidence is
#: dropped oldest first, so memory stays flat however many examples run. The
#: verdict needs a handful of read-backs, not all of them.
_MAX_TRACKED = 512


def _bounded_put(table: dict, key: Any, value: Any) -> Any:
    """``table.setdefault(key, value)``, forgetting the oldest entries beyond ``_MAX_TRACKED``."""
    if key in table:
        return table[key]
    while len(table) >= _MAX_TRACKED:
        del table[next(iter(table))]
    table[key] = value
    return value


def _label(path: str, params: Mapping[str, str]) -> str:
    if "Sid" in params:
        return f"webhook {params['Sid']}"
    if "ChatServiceSid" in params:
        return f"service {params['ChatServiceSid']}"
    if not params:
        return "account configuration"
    return path


# ---------------------------------------------------------------------------
# post-processing of Results


def keeps_no_state(results: "Results") -> str | None:
    """``"detected"`` or ``"declared"`` when the run found (or was told) the target keeps no state."""
    if results.target.get("keeps_state") is False:
        return str(results.target.get("stateless") or "detected")
    return None


def conclude(results: "Results", evidence: StateEvidence | None, *, declared: bool = False,
             checks: Iterable[str] | None = None) -> StatelessVerdict | None:
    """Post-process a finished run's results; returns the verdict when the target was found stateless.

    * *declared*: every state check is marked skipped with :data:`DECLARED_REASON`.
    * otherwise, when *evidence* shows the target keeps no state, the state-check
      failures become one failure of ``write_read_back`` (or, when it is not
      among the selected *checks*, of the first selected state check) that says
      so, with a two-request reproduction (a write, and a read showing the old
      value); the other state checks are skipped with :data:`DETECTED_REASON`.
      This happens whether or not the stateful suite got as far as a comparison:
      against a mock that fails earlier (Prism rejecting a request) the evidence
      of the example phase still shows it.

    ``results.target["state_evidence"]`` always holds the counts behind the verdict.
    """
    names = state_checks()
    if declared:
        for name in names:
            results.skipped[name] = DECLARED_REASON
        results.target["keeps_state"] = False
        results.target["stateless"] = "declared"
        return None
    if evidence is None:
        return None
    verdict = evidence.verdict()
    if verdict.reverted or verdict.kept or verdict.other:
        results.target["state_evidence"] = verdict.as_dict()
    if not verdict.keeps_no_state:
        return None
    selected = [name for name in names if checks is None or name in checks]
    failed = [name for name in names if results.check_failures[name]]
    results.target["keeps_state"] = False
    results.target["stateless"] = "detected"
    if not selected and not failed:
        results.note(f"{DETECTED_REASON}: {verdict.describe()}")
        return verdict
    representative = "write_read_back" if "write_read_back" in (selected or failed) else (failed or selected)[0]
    folded = sum(results.check_failures[name] for name in names)
    for key in [key for key in results.failures if key[0] in names]:
        del results.failures[key]
    for name in names:
        results.check_failures[name] = 0
        results.checks_run[name] = 0
        if name != representative:
            results.skipped[name] = DETECTED_REASON
        else:
            results.skipped.pop(name, None)
    if folded:
        tail = (f"{folded} state-check failures ({', '.join(failed)}) are folded into this line")
    else:
        tail = "the stateful suite never got as far as comparing a read with a write"
    line = (f"{DETECTED_REASON}: {verdict.describe()}; {tail}. Run with --stateless to check only "
            f"per-request behaviour.")
    results.ran(representative)
    write, read = evidence.example or (None, None)
    results.record(representative, write.operation_id if write is not None else "*", [line], request=write,
                   curl=evidence.curl(read) if read is not None else "",
                   steps=tuple(evidence.curl(r) for r in (write, read) if r is not None))
    return verdict
