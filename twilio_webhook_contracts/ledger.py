"""One ledger of the channel webhooks a run created at its target.

The suite's sessions, the state machine's teardown and the live guard all need
to know which webhooks this run created and has not deleted -- to delete them
afterwards, and (live) to journal them. They used to keep three trackers; now
the ledger observes every exchange on the target (it is one of
``target.observers``, which a target's clones share), so whatever sent a
request, the ledger saw it:

* a create answered 2xx with a string ``sid`` is recorded (with any
  credentials: a server that wrongly accepted an unauthenticated create still
  created a webhook);
* a delete answered 204 or 404 removes the entry;
* a create is counted as *unconfirmed* from before it is sent until an answer
  below 500 arrives: its webhook may exist though nobody saw its sid (an
  interruption, a dropped connection). The live guard deletes at most that many
  unknown webhooks from the run's own channel.

Listeners (the live guard's journal) are told after every change.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Iterable, Iterator

__all__ = ["Ledger", "ledger_of"]

Key = tuple[str, str]  # (service, channel as addressed)


class Ledger:
    """sid -> (service, channel) of the webhooks created and not deleted; thread-safe."""

    def __init__(self) -> None:
        self._created: dict[str, Key] = {}
        self.unconfirmed_creates: dict[Key, int] = {}
        self._lock = threading.RLock()
        self.listeners: list[Callable[[], None]] = []

    # -- observing the target ------------------------------------------------

    def before_send(self, request: Any) -> None:
        if request.operation_id == "CreateChannelWebhook":
            with self._lock:
                key = _key(request)
                self.unconfirmed_creates[key] = self.unconfirmed_creates.get(key, 0) + 1
                self._changed()  # before it goes out: a SIGKILL now still knows a webhook may appear

    def after_response(self, response: Any) -> None:
        request = response.request
        if request.operation_id == "CreateChannelWebhook":
            key = _key(request)
            with self._lock:
                # a 5xx leaves it open whether the webhook was created: it stays unconfirmed
                if self.unconfirmed_creates.get(key) and response.status < 500:
                    self.unconfirmed_creates[key] -= 1
                data = response.json() if response.is_success else None
                if isinstance(data, dict) and isinstance(data.get("sid"), str):
                    self._created[data["sid"]] = key
                self._changed()
        elif request.operation_id == "DeleteChannelWebhook" and response.status in (204, 404):
            sid = request.path_params.get("Sid", "")
            with self._lock:
                # a 404 through another channel's path says nothing about the webhook on its own channel
                recorded = self._created.get(sid)
            if recorded is None or response.status == 204 or recorded == _key(request):
                self.pop(sid)

    # -- the mapping -----------------------------------------------------------

    def record(self, sid: str, service: str, channel: str) -> None:
        with self._lock:
            self._created[sid] = (service, channel)
            self._changed()

    def pop(self, sid: str, default: Any = None) -> Any:
        with self._lock:
            if sid not in self._created:
                return default
            value = self._created.pop(sid)
            self._changed()
            return value

    def items(self) -> list[tuple[str, Key]]:
        with self._lock:
            return list(self._created.items())

    def on(self, channels: Iterable[Key]) -> list[tuple[str, Key]]:
        """The entries on *channels* (one worker's own): what that worker's clean-up deletes."""
        wanted = set(channels)
        return [(sid, key) for sid, key in self.items() if key in wanted]

    def take_unconfirmed(self, key: Key) -> bool:
        """Use up one unconfirmed create of *key* (an unknown webhook there was deleted as ours)."""
        with self._lock:
            if self.unconfirmed_creates.get(key, 0) <= 0:
                return False
            self.unconfirmed_creates[key] -= 1
            self._changed()
            return True

    def __contains__(self, sid: object) -> bool:
        with self._lock:
            return sid in self._created

    def __getitem__(self, sid: str) -> Key:
        with self._lock:
            return self._created[sid]

    def __len__(self) -> int:
        with self._lock:
            return len(self._created)

    def __iter__(self) -> Iterator[str]:
        return iter([sid for sid, _ in self.items()])

    def __bool__(self) -> bool:
        return len(self) > 0

    def _changed(self) -> None:
        for listener in list(self.listeners):
            listener()


def _key(request: Any) -> Key:
    return (request.path_params.get("ServiceSid", ""), request.path_params.get("ChannelSid", ""))


_ATTACH_LOCK = threading.Lock()


def ledger_of(target: Any) -> Ledger:
    """The target's ledger, attached as an observer on first use (shared with the target's clones)."""
    with _ATTACH_LOCK:
        for observer in target.observers:
            if isinstance(observer, Ledger):
                return observer
        ledger = Ledger()
        target.observers.insert(0, ledger)  # first: later observers (the guard) see it up to date
        return ledger
