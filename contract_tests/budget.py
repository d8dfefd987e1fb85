"""Spending a run's requests well: bounded shrinking, wire-level deduplication, keyed example databases.

Hypothesis' shrinker is unbounded in requests: against a server that fails a check
in every step it replays whole sequences for minutes, and a CI job records the run
as a hang, not as a caught break. Every Hypothesis test of the suite therefore gets
a :class:`ShrinkAllowance`: once it has found a failure, it may spend at most about
as many more requests as the test would send passing (its share), and after that
every further example is rejected before it sends anything (``hypothesis.reject``,
a public API), so Hypothesis ends the test with the smallest failure seen so far
already recorded. A failing run thus sends at most about twice the requests of a
passing one.

Only public Hypothesis APIs are used here: ``reject``, the example-database
interface, and (in the runner) ``settings``, ``seed`` and ``given``.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from hypothesis import reject
from hypothesis.database import ExampleDatabase

from twilio_webhook_contracts.request import Request

__all__ = ["KeyedDatabase", "ShrinkAllowance", "WireMemo", "wire_key"]


class ShrinkAllowance:
    """The requests one Hypothesis test may still send once it has failed.

    *sent* reads this worker's request counter and *failures* its count of recorded
    failures, so that workers never spend each other's allowance. Before each
    example :meth:`before_example` notices a first failure and, once the share is
    spent, rejects the example before it sends anything.
    """

    def __init__(self, sent: Callable[[], int], failures: Callable[[], int], max_examples: int,
                 share: float = 1.0, minimum: int = 20):
        self._sent = sent
        self._failures = failures
        self.max_examples = max(1, max_examples)
        self.share = share
        self.minimum = minimum
        self.started = sent()
        self.failures_before = failures()
        self.examples = 0
        self.failed_at: int | None = None  # request count when the first failure was noticed
        self.allowance: int | None = None
        self.rejected = 0

    def before_example(self) -> None:
        if self.failed_at is None and self._failures() > self.failures_before:
            self.failed_at = self._sent()
            per_example = (self.failed_at - self.started) / max(1, self.examples)
            self.allowance = max(self.minimum, int(self.share * per_example * self.max_examples))
        if self.spent:
            self.rejected += 1
            reject()  # nothing is sent: the test winds down with what it has recorded
        self.examples += 1

    @property
    def spent(self) -> bool:
        return self.failed_at is not None and self.allowance is not None and \
            self._sent() - self.failed_at >= self.allowance


def wire_key(request: Request, auth: str = "valid") -> tuple[Any, ...]:
    """What the server sees of *request* (method, path, query, body, credentials kind): two
    requests with the same key are the same request on the wire."""
    return (auth, request.method, request.path, request.query, request.body)


class WireMemo:
    """The outcome of each distinct wire request within one phase.

    Hypothesis often draws a request already sent in the same phase (small
    strategies, the shrinker's replays); against a server that answers the same
    request the same way -- which the suite holds every server to -- sending it
    again can only repeat the verdict. A repeat re-raises the failure it had
    (so shrinking still sees it) without a request.
    """

    def __init__(self, limit: int = 4096):
        self._seen: dict[tuple[Any, ...], BaseException | None] = {}
        self.limit = limit
        self.saved = 0

    def run(self, keys: Iterable[tuple[Any, ...]], send: Callable[[], None]) -> None:
        key = tuple(keys)
        if key in self._seen:
            self.saved += 1
            failure = self._seen[key]
            if failure is not None:
                raise failure  # the same object: Hypothesis sees the same bug (type and origin), not a new one
            return
        try:
            send()
        except AssertionError as exc:  # a check failed: remember it (CheckFailed is an AssertionError)
            self._remember(key, exc)
            raise
        self._remember(key, None)

    def _remember(self, key: tuple[Any, ...], outcome: BaseException | None) -> None:
        if len(self._seen) < self.limit:
            self._seen[key] = outcome


class KeyedDatabase(ExampleDatabase):
    """An example database seen through a key prefix: one per phase.

    The runner builds every phase's test from the same inner function, so
    Hypothesis would give them all one database key; the prefix keeps each phase's
    failing examples apart (what ``_hypothesis_internal_add_digest`` did, privately).
    """

    def __init__(self, inner: ExampleDatabase, prefix: str):
        super().__init__()
        self.inner = inner
        self.prefix = prefix.encode() + b"/"

    def save(self, key: bytes, value: bytes) -> None:
        self.inner.save(self.prefix + key, value)

    def fetch(self, key: bytes) -> Iterable[bytes]:
        return self.inner.fetch(self.prefix + key)

    def delete(self, key: bytes, value: bytes) -> None:
        self.inner.delete(self.prefix + key, value)

    def move(self, src: bytes, dest: bytes, value: bytes) -> None:
        self.inner.move(self.prefix + src, self.prefix + dest, value)

    def __repr__(self) -> str:
        return f"KeyedDatabase({self.inner!r}, {self.prefix.decode()[:-1]!r})"


class OutcomeCoverage:
    """The (operation, status) pairs one state-machine run saw: what ``hypothesis.target`` maximises,
    so that the stateful suite prefers sequences reaching outcomes a short run misses.

    A :class:`~twilio_webhook_contracts.target.Target` observer; clones share their observers,
    so it counts only the responses of the thread that created it (its own worker).
    """

    def __init__(self) -> None:
        import threading

        self._owner = threading.get_ident()
        self._get_ident = threading.get_ident
        self.pairs: set[tuple[str, int]] = set()

    def after_response(self, response: Any) -> None:
        if self._get_ident() == self._owner:
            self.pairs.add((response.request.operation_id, response.status))
