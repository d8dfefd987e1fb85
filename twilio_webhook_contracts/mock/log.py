"""The request log: what the mock was asked and what it answered.

Kept so that a test can prove a negative ("no write request was ever sent",
"the client retried after the 429"), in memory (bounded: the newest entries win)
and optionally as JSON lines for a run outside Python. Credentials are never
logged: only the Basic username, so that a log can be shared.

Requests the HTTP server refuses before the application sees them (a malformed
request line or header, broken framing, a body over 1 MiB) are not logged: they
are not requests to any operation, and none of them can change state.
"""

from __future__ import annotations

import collections
import json
import threading
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Iterator

__all__ = ["LoggedRequest", "RequestLog"]

#: Bodies longer than this are cut in the log (the mock itself accepts up to 1 MiB).
MAX_LOGGED_BODY = 64 * 1024
_READ_ONLY = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the mock saw it.

    ``path`` is raw (percent-encoded), ``query`` the raw query string, ``body`` the
    body decoded as UTF-8 with replacement characters (cut at 64 KiB),
    ``username`` the Basic username sent (None without parseable credentials),
    ``operation_id`` the operation routed to (None for unknown paths and
    requests rejected before routing), ``fault`` the injected fault, if any.
    """

    timestamp: str
    method: str
    path: str
    query: str
    body: str
    status: int
    username: str | None
    operation_id: str | None
    fault: str | None = None

    @property
    def is_write(self) -> bool:
        """True for any method that could change state (everything but GET/HEAD/OPTIONS)."""
        return self.method not in _READ_ONLY

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))


def now_rfc3339_millis() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def body_text(body: bytes) -> str:
    return body[:MAX_LOGGED_BODY].decode("utf-8", "replace")


class RequestLog:
    """A bounded, thread-safe list of :class:`LoggedRequest`, mirrored to a JSONL file if asked.

    *path* is opened for appending at once, so a bad path fails at startup, not
    on the first request.
    """

    def __init__(self, maxlen: int = 10_000, path: str | Path | None = None):
        self._entries: collections.deque[LoggedRequest] = collections.deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self.path = Path(path) if path is not None else None
        self._file: IO[str] | None = (
            open(self.path, "a", encoding="utf-8", buffering=1) if self.path is not None else None
        )

    def record(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._entries.append(entry)
            if self._file is not None:
                self._file.write(entry.to_json() + "\n")

    def entries(self) -> list[LoggedRequest]:
        """A copy of the entries, oldest first."""
        with self._lock:
            return list(self._entries)

    def writes(self) -> list[LoggedRequest]:
        """The entries whose method could change state."""
        return [entry for entry in self.entries() if entry.is_write]

    def clear(self) -> None:
        """Forget the in-memory entries (the JSONL file keeps what it has)."""
        with self._lock:
            self._entries.clear()

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[LoggedRequest]:
        return iter(self.entries())
