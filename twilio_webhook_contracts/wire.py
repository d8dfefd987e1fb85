"""Reading an answer from a server that may be hostile: deadlines, size caps, careful decoding.

The transport (:mod:`.target`) must come back from *every* exchange within the
request timeout and with a bounded amount of memory, whatever the server sends:
one byte every half second, a 100 MB body, a megabyte of gzip that inflates to a
gigabyte, a corrupt ``Content-Encoding``, a ``Retry-After`` that is no date.
Each of those is the server's fault, so it comes back as a *problem* attached to
the answer (reported as a violation), never as an exception that ends the run.

* :class:`Watchdog` -- a whole-exchange deadline. A socket timeout only bounds
  each ``recv``; a trickling server resets it with every byte. The watchdog shuts
  the socket down when the deadline passes, wherever the exchange is blocked
  (status line, headers or body), and the reader then reports a timeout.
* :func:`read_body` -- reads at most ``cap`` bytes off the wire and inflates gzip
  or deflate with ``max_length``, so neither the compressed nor the decompressed
  body can grow past ``cap``.
* :func:`retry_after_seconds` -- ``Retry-After`` as seconds, or None for anything
  unparsable (the caller waits its default instead of raising).
"""

from __future__ import annotations

import email.utils
import heapq
import itertools
import math
import socket
import threading
import time
import zlib
from typing import Callable

__all__ = ["DEFAULT_MAX_RESPONSE_BYTES", "Body", "Watchdog", "read_body", "retry_after_seconds", "watchdog"]

#: The default cap on a response body, on the wire and decompressed. Twilio's webhook configuration
#: answers are a few KB (a full page of 1000 channel webhooks is about 1 MB).
DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024

_CHUNK = 65536
#: What is kept of a body that has a problem (cut at the cap, undecodable): enough for the
#: report's excerpt. Not the whole cap: exchanges linger in reference cycles (Hypothesis'
#: frames and tracebacks) until the garbage collector runs, and 40 bodies of 8 MB each
#: are 320 MB -- measured against a target that answers every request with 100 MB.
KEPT_OF_A_BROKEN_BODY = 65536


class Body:
    """A body read off the wire: the bytes kept, and what was wrong with it (None when nothing).

    A body with a problem keeps only its first :data:`KEPT_OF_A_BROKEN_BODY` bytes."""

    __slots__ = ("data", "problem", "timed_out")

    def __init__(self, data: bytes, problem: str | None = None, timed_out: bool = False):
        self.data = data if problem is None else data[:KEPT_OF_A_BROKEN_BODY]
        self.problem = problem
        self.timed_out = timed_out


def read_body(read: Callable[[int], bytes], encoding: str, cap: int, expired: Callable[[], bool]) -> Body:
    """Read a body with *read* (``read1``-like: up to n bytes, one ``recv``) and decode it.

    At most *cap* bytes are read off the wire, and gzip/deflate output stops at
    *cap* bytes too; a body cut at either cap keeps what was read and says so.
    An undecodable body keeps its raw bytes and says so. *expired* is asked
    between reads: once the exchange's deadline has passed, reading stops.
    """
    coding = encoding.strip().lower()
    decoder = _Decoder(coding, cap) if coding in ("gzip", "x-gzip", "deflate") else None
    raw: list[bytes] = []
    wire = 0
    problem: str | None = None
    while True:
        try:
            chunk = read(_CHUNK)
        except (OSError, ValueError) as exc:  # the watchdog shut the socket, or the server hung up mid-body
            if expired():
                return Body(b"".join(raw), timed_out=True)
            problem = f"the connection broke off in the middle of the body ({type(exc).__name__})"
            break
        if not chunk:
            if expired():
                return Body(b"".join(raw), timed_out=True)
            break
        wire += len(chunk)
        if wire > cap:
            problem = f"the body is larger than the {cap:,}-byte response cap (--max-response-bytes); it was cut there"
            raw.append(chunk[: len(chunk) - (wire - cap)])
            break
        raw.append(chunk)
        if decoder is not None and decoder.problem is None:
            decoder.feed(chunk)
            if decoder.problem is not None and decoder.over_cap:
                problem = decoder.problem
                break
    data = b"".join(raw)
    if decoder is None:
        return Body(data, problem)
    if decoder.problem is None and problem is None:
        decoder.finish()
    if decoder.problem is not None:  # corrupt or too big when inflated: the raw bytes are the evidence
        return Body(decoder.output() if decoder.over_cap else data, problem or decoder.problem)
    return Body(decoder.output(), problem)


class _Decoder:
    """Incremental gzip/deflate with a cap on the output (``zlib``'s ``max_length``)."""

    def __init__(self, coding: str, cap: int):
        self.coding = "gzip" if coding in ("gzip", "x-gzip") else "deflate"
        self.cap = cap
        self.problem: str | None = None
        self.over_cap = False
        self._parts: list[bytes] = []
        self._size = 0
        self._started = False
        self._pending = b""  # deflate: the first bytes, kept until we know zlib-wrapped or raw
        self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS if self.coding == "gzip" else zlib.MAX_WBITS)

    def feed(self, chunk: bytes) -> None:
        if self.coding == "deflate" and not self._started:
            self._pending += chunk
            try:
                self._inflate(chunk)
            except zlib.error:  # servers send raw deflate as "deflate" as often as the zlib format
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                self._parts, self._size = [], 0
                self._guard(self._pending)
            self._started = True
            return
        self._started = True
        self._guard(chunk)

    def _guard(self, chunk: bytes) -> None:
        try:
            self._inflate(chunk)
        except zlib.error as exc:
            self.problem = f"the body is not valid {self.coding} (Content-Encoding: {self.coding}): {exc}"

    def _inflate(self, data: bytes) -> None:
        while data and not self.over_cap:
            if self._zlib.eof:
                return  # trailing garbage after the stream: ignored, as urllib3 does
            room = self.cap - self._size + 1
            out = self._zlib.decompress(data, room)
            self._parts.append(out)
            self._size += len(out)
            if self._size > self.cap:
                self.over_cap = True
                self.problem = (f"the body inflates ({self.coding}) to more than the {self.cap:,}-byte response cap "
                                f"(--max-response-bytes); it was cut there")
                return
            data = self._zlib.unconsumed_tail

    def finish(self) -> None:
        if self.coding == "deflate" and not self._started:
            return  # no body at all
        try:
            tail = self._zlib.flush()
        except zlib.error as exc:
            self.problem = f"the body is not valid {self.coding}: {exc}"
            return
        self._parts.append(tail)
        self._size += len(tail)
        if not self._zlib.eof:
            self.problem = f"the {self.coding} body ends before its stream does (truncated, or not {self.coding})"

    def output(self) -> bytes:
        data = b"".join(self._parts)
        return data[: self.cap]


def retry_after_seconds(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """``Retry-After`` (RFC 9110: delay-seconds or an HTTP-date) in seconds; None when absent or unparsable.

    Never raises: a target may send anything in this header (even, as an
    adversarial review showed, the request's own ``Authorization`` header), and a
    header the suite cannot read must cost a default wait, not the run.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if math.isfinite(seconds):
        return max(0.0, seconds)
    try:
        parsed = email.utils.parsedate_to_datetime(text)
        delay = parsed.timestamp() - now()
    except (TypeError, ValueError, OverflowError, IndexError, OSError):
        return None
    return max(0.0, delay) if math.isfinite(delay) else None


class Watchdog:
    """One thread that shuts down the sockets of exchanges that outlive their deadline.

    :meth:`arm` before an exchange, :meth:`disarm` after it; :meth:`expired`
    tells whether the watchdog cut it. Cheap per exchange: a heap push, and the
    thread is woken only when a new deadline is earlier than every armed one.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[float, int]] = []
        self._armed: dict[int, socket.socket] = {}
        self._fired: set[int] = set()
        self._ids = itertools.count()
        self._condition = threading.Condition()
        self._thread: threading.Thread | None = None

    def arm(self, sock: socket.socket, deadline: float) -> int:
        """Watch *sock* until *deadline* (``time.monotonic()``); returns the ticket for :meth:`disarm`."""
        with self._condition:
            ticket = next(self._ids)
            self._armed[ticket] = sock
            earliest = self._heap[0][0] if self._heap else math.inf
            heapq.heappush(self._heap, (deadline, ticket))
            if self._thread is None:
                self._thread = threading.Thread(target=self._watch, name="webhook-contracts-deadlines", daemon=True)
                self._thread.start()
            elif deadline < earliest:
                self._condition.notify()
            return ticket

    def disarm(self, ticket: int) -> bool:
        """Stop watching; True when the deadline had already cut the exchange."""
        with self._condition:
            self._armed.pop(ticket, None)
            if ticket in self._fired:
                self._fired.discard(ticket)
                return True
            return False

    def expired(self, ticket: int) -> bool:
        with self._condition:
            return ticket in self._fired

    def _watch(self) -> None:
        with self._condition:
            while True:
                while self._heap and self._heap[0][1] not in self._armed:
                    heapq.heappop(self._heap)  # disarmed: lazily dropped
                if not self._heap:
                    self._condition.wait()
                    continue
                deadline, ticket = self._heap[0]
                wait = deadline - time.monotonic()
                if wait > 0:
                    self._condition.wait(wait)
                    continue
                heapq.heappop(self._heap)
                sock = self._armed.pop(ticket)
                self._fired.add(ticket)
                try:
                    sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked recv with EOF; the owner closes it
                except OSError:
                    pass


#: The process's watchdog (one thread, started on first use).
watchdog = Watchdog()
