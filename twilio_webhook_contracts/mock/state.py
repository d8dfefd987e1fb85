"""The mock's memory: one lock around plain dictionaries.

Every write is one read-modify-write under the lock, so concurrent requests are
applied one after the other in *some* order and a reader never sees half an
update; the HTTP layer validates a request completely before it gets here, which
is why a rejected request can never leave a trace.

Stored records use the response's snake_case names (``pre_webhook_url``,
``configuration.flow_sid``) and hold only what a request can set; identity fields
(``account_sid``, ``url``, ...) are added when a record is rendered.
"""

from __future__ import annotations

import bisect
import itertools
import threading
import uuid
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any, Callable, Mapping

__all__ = [
    "INITIAL_ACCOUNT_CONFIG",
    "INITIAL_SERVICE_CONFIG",
    "MockState",
    "Record",
    "WebhookPage",
    "rfc3339",
]

Record = dict[str, Any]
#: (account sid, service sid, resolved channel sid): where a channel webhook lives.
Scope = tuple[str, str, str]

#: What an account's Conversations configuration reads before any update, under the
#: default policies: POST to an ordinary webhook, no filters (``[]``), no URLs.
#: (``initial_filters=null`` and ``legacy_filters=on`` choose otherwise.)
INITIAL_ACCOUNT_CONFIG: Mapping[str, Any] = MappingProxyType(
    {"method": "POST", "filters": [], "pre_webhook_url": None, "post_webhook_url": None, "target": "webhook"}
)
#: What a service's configuration reads before any update, under the default
#: policies: the documented default method and no filters; ``initial_method=null``
#: and ``initial_filters=null`` give Twilio's own ``fetchEmpty`` example (all null).
INITIAL_SERVICE_CONFIG: Mapping[str, Any] = MappingProxyType(
    {"method": "POST", "filters": [], "pre_webhook_url": None, "post_webhook_url": None}
)


def rfc3339(moment: datetime) -> str:
    """``2026-11-25T12:00:00Z``: the form Twilio sends and twilio-python parses."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class WebhookPage:
    """One page of a channel's webhooks and whether there is more on either side."""

    __slots__ = ("records", "more_before", "more_after")

    def __init__(self, records: list[Record], more_before: bool, more_after: bool):
        self.records = records
        self.more_before = more_before
        self.more_after = more_after


def _clone(value: Any) -> Any:
    """A deep copy of a JSON-like value; several times faster than ``copy.deepcopy``."""
    kind = type(value)
    if kind is dict or kind is MappingProxyType:
        return {key: _clone(item) for key, item in value.items()}
    if kind is list:
        return [_clone(item) for item in value]
    return value


def _merge(record: Record, changes: Mapping[str, Any]) -> None:
    """Apply *changes*; a nested mapping (``configuration``) is merged key by key."""
    for key, value in changes.items():
        current = record.get(key)
        if isinstance(value, (dict, MappingProxyType)) and isinstance(current, dict):
            current.update(_clone(value))
        else:
            record[key] = _clone(value)


class MockState:
    """Account and service configurations, and channel webhooks, for any number of accounts.

    Every well-formed service and channel exists: a configuration that was never
    written reads as its initial value, a channel with no webhooks as an empty
    list. Reads return copies, so callers may change what they get.

    *clock* gives "now" for ``date_created``/``date_updated`` (inject one for
    reproducible dates).
    """

    def __init__(self, clock: Callable[[], datetime] | None = None):
        self._lock = threading.Lock()
        self._clock = clock or _utc_now
        # Webhook sids start with a counter that reset() does not rewind: sids are
        # unique for the life of the state, and their order is creation order,
        # which makes a sid a stable paging cursor even after deletions.
        self._sequence = itertools.count(1)
        self._accounts: dict[str, Record] = {}
        self._services: dict[tuple[str, str], Record] = {}
        self._webhooks: dict[Scope, dict[str, Record]] = {}
        #: What a never-written configuration reads as (the app sets these from its policies).
        self.initial_account: Mapping[str, Any] = INITIAL_ACCOUNT_CONFIG
        self.initial_service: Mapping[str, Any] = INITIAL_SERVICE_CONFIG

    def set_initial(self, account: Mapping[str, Any], service: Mapping[str, Any]) -> None:
        """What never-written configurations read as from now on (already written ones keep their values)."""
        with self._lock:
            self.initial_account = MappingProxyType(dict(account))
            self.initial_service = MappingProxyType(dict(service))

    def webhook_count(self, scope: Scope) -> int:
        with self._lock:
            return len(self._webhooks.get(scope, ()))

    def reset(self) -> None:
        """Forget everything: every resource reads as its initial state again."""
        with self._lock:
            self._accounts.clear()
            self._services.clear()
            self._webhooks.clear()

    def snapshot(self) -> dict[str, Any]:
        """A deep copy of everything stored (for tests that prove nothing changed)."""
        with self._lock:
            return _clone(
                {"accounts": self._accounts, "services": self._services, "webhooks": self._webhooks}
            )

    # -- configurations ------------------------------------------------------

    def account_config(self, account_sid: str) -> Record:
        with self._lock:
            return _clone(self._accounts.get(account_sid, self.initial_account))

    def update_account_config(self, account_sid: str, changes: Mapping[str, Any]) -> Record:
        """Apply *changes* (absent keys stay as they are); returns the new configuration."""
        with self._lock:
            stored = self._accounts.setdefault(account_sid, _clone(self.initial_account))
            _merge(stored, changes)
            return _clone(stored)

    def service_config(self, account_sid: str, service_sid: str) -> Record:
        with self._lock:
            return _clone(self._services.get((account_sid, service_sid), self.initial_service))

    def update_service_config(self, account_sid: str, service_sid: str, changes: Mapping[str, Any]) -> Record:
        with self._lock:
            stored = self._services.setdefault((account_sid, service_sid), _clone(self.initial_service))
            _merge(stored, changes)
            return _clone(stored)

    # -- channel webhooks ----------------------------------------------------

    def create_webhook(self, scope: Scope, fields: Mapping[str, Any]) -> Record:
        """Store a new webhook with a fresh ``WH`` sid and both dates set to now."""
        with self._lock:
            sid = f"WH{next(self._sequence):010x}{uuid.uuid4().hex[:22]}"
            now = rfc3339(self._clock())
            record: Record = {"sid": sid, "configuration": {}}
            _merge(record, fields)
            record["date_created"] = record["date_updated"] = now
            self._webhooks.setdefault(scope, {})[sid] = record
            return _clone(record)

    def webhook(self, scope: Scope, sid: str) -> Record | None:
        with self._lock:
            record = self._webhooks.get(scope, {}).get(sid)
            return _clone(record) if record is not None else None

    def update_webhook(self, scope: Scope, sid: str, changes: Mapping[str, Any]) -> Record | None:
        """Merge *changes* into the webhook and touch ``date_updated``; None if it does not exist."""
        with self._lock:
            record = self._webhooks.get(scope, {}).get(sid)
            if record is None:
                return None
            _merge(record, changes)
            record["date_updated"] = rfc3339(self._clock())
            return _clone(record)

    def delete_webhook(self, scope: Scope, sid: str) -> bool:
        with self._lock:
            return self._webhooks.get(scope, {}).pop(sid, None) is not None

    def webhook_page(
        self, scope: Scope, size: int, *, after: str | None = None, before: str | None = None
    ) -> WebhookPage:
        """Up to *size* webhooks in creation order, after (or before) the sid given.

        Keyset paging: the cursor is a sid, not an offset, so deleting or adding
        webhooks while a client walks the pages neither skips nor repeats one.
        """
        with self._lock:
            stored = self._webhooks.get(scope, {})
            sids = list(stored)  # insertion order, which is sid order
            if before is not None:
                end = bisect.bisect_left(sids, before)
                start = max(0, end - size)
            else:
                start = bisect.bisect_right(sids, after) if after is not None else 0
                end = start + size
            records = [_clone(stored[sid]) for sid in sids[start:end]]
            return WebhookPage(records, start > 0, end < len(sids))
