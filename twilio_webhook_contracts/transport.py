"""How one HTTP exchange goes over the wire: a small protocol and its two implementations.

:class:`~twilio_webhook_contracts.target.Target` decides *what* is sent (URL, credentials, retries,
budgets); a transport only carries one request and its answer, under a whole-exchange deadline and a
body cap, and says in one of three exceptions why there was no answer. Two transports exist because
their figures differ: ``requests`` (every origin; TLS, proxies, ``.netrc``, cookies) and a plain
``http.client`` path for plain-HTTP origins that saves about a millisecond of Python per request --
a third of a run against a mock on loopback (README, "Performance").
"""

from __future__ import annotations

import base64
import http.client
import select
import socket
import threading
import time
from contextlib import nullcontext
from typing import Any, Callable, ContextManager, Mapping, NamedTuple, Protocol
from urllib.parse import urlsplit

import requests
import requests.adapters
import urllib3
import urllib3.connection
from requests.structures import CaseInsensitiveDict

from .wire import DEFAULT_MAX_RESPONSE_BYTES, Body, read_body, watchdog

__all__ = ["Exchange", "NoAnswer", "NotHTTP", "PlainTransport", "RequestsTransport", "Transport", "Unreachable"]


class NoAnswer(Exception):
    """No complete answer within the deadline (connecting, waiting, or reading)."""


class Unreachable(Exception):
    """The connection could not be made or was dropped unanswered; the message is the short cause."""


class NotHTTP(Exception):
    """The server answered, but not in HTTP; ``cause`` is the parse error."""

    def __init__(self, cause: BaseException):
        super().__init__(str(cause))
        self.cause = cause


class Exchange(NamedTuple):
    status: int
    headers: CaseInsensitiveDict
    body: Body


class Transport(Protocol):
    """One exchange at a time. *sending* is entered around writing the request (the target counts
    and rate-limits there); *auth* is a ``requests`` auth object or None; the whole exchange ends
    within *timeout* and reads at most *cap* body bytes."""

    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, auth: Any,
             timeout: float, sending: Callable[[], ContextManager[Any]], cap: int) -> Exchange: ...

    def close(self) -> None: ...


class RequestsTransport:
    """Every origin, through a ``requests`` session whose connections put the socket under the
    watchdog before the status line (``requests`` has no hook between connecting and reading)."""

    def __init__(self, session: requests.Session):
        self.session = session
        for prefix in ("http://", "https://"):  # the whole-answer deadline covers the status line and headers too
            session.mount(prefix, _DeadlineAdapter())

    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, auth: Any,
             timeout: float, sending: Callable[[], ContextManager[Any]] = nullcontext,
             cap: int = DEFAULT_MAX_RESPONSE_BYTES) -> Exchange:
        with sending():  # requests writes and reads in one call: only the count is covered
            pass
        deadline = time.monotonic() + timeout
        _exchange.deadline, _exchange.ticket = deadline, None
        try:
            answer = self.session.request(method, url, data=body, headers=dict(headers), auth=auth, timeout=timeout,
                                          allow_redirects=False, stream=True)
        except requests.exceptions.Timeout:
            _disarm_exchange()
            raise NoAnswer() from None
        except requests.exceptions.RequestException as exc:
            if _disarm_exchange():
                raise NoAnswer() from None
            malformed = _malformed_http(exc)
            if malformed is not None:
                raise NotHTTP(malformed) from None
            raise Unreachable(_reason(exc)) from None
        # the body is read here, under a whole-response deadline and the size cap (headers: per read)
        with answer:
            ticket, _exchange.ticket = _exchange.ticket, None  # armed by _DeadlineConnection.getresponse
            try:
                data = read_body(lambda n: answer.raw.read1(n, decode_content=False),
                                 answer.headers.get("Content-Encoding", ""), cap,
                                 lambda: time.monotonic() >= deadline)
            except requests.exceptions.RequestException:  # urllib3 wraps a broken-off read
                data = Body(b"", "the connection broke off in the middle of the body",
                            timed_out=time.monotonic() >= deadline)
            finally:
                cut = watchdog.disarm(ticket) if ticket is not None else False
            if cut or data.timed_out:
                raise NoAnswer()
        return Exchange(answer.status_code, CaseInsensitiveDict(answer.headers), data)

    def close(self) -> None:
        self.session.close()


#: The deadline of the exchange this thread is in (``requests`` path), and the watchdog ticket its
#: connection armed: ``requests`` offers no hook between connecting and reading the status line.
_exchange = threading.local()


def _disarm_exchange() -> bool:
    """Disarm this thread's exchange; True when the watchdog had cut it."""
    ticket, _exchange.ticket = getattr(_exchange, "ticket", None), None
    return watchdog.disarm(ticket) if ticket is not None else False


class _DeadlineMixin:
    """An urllib3 connection that puts its socket under the watchdog before it waits for the status
    line, so a server trickling its headers is cut at the deadline like one trickling its body."""

    def getresponse(self):  # type: ignore[no-untyped-def]
        deadline = getattr(_exchange, "deadline", None)
        sock = getattr(self, "sock", None)
        if deadline is not None and sock is not None:
            _exchange.ticket = watchdog.arm(sock, deadline)
        return super().getresponse()  # type: ignore[misc]


class _DeadlineHTTPConnection(_DeadlineMixin, urllib3.connection.HTTPConnection):
    pass


class _DeadlineHTTPSConnection(_DeadlineMixin, urllib3.connection.HTTPSConnection):
    pass


class _DeadlineHTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _DeadlineHTTPConnection


class _DeadlineHTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _DeadlineHTTPSConnection


class _DeadlineAdapter(requests.adapters.HTTPAdapter):
    """``requests``' adapter with the connection classes above (proxied requests keep urllib3's own)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _DeadlineHTTPPool, "https": _DeadlineHTTPSPool}


def _reason(exc: Exception) -> str:
    """A short cause for a connection failure, without requests' nested reprs."""
    text = str(exc)
    for marker, reason in (
        ("Connection refused", "connection refused"),
        ("Name or service not known", "unknown host"),
        ("nodename nor servname", "unknown host"),
        ("Temporary failure in name resolution", "unknown host"),
        ("CERTIFICATE_VERIFY_FAILED", "TLS certificate verification failed"),
        ("Connection reset", "connection reset"),
        ("RemoteDisconnected", "the server closed the connection without answering"),
    ):
        if marker in text:
            return reason
    return type(exc).__name__


def _malformed_http(exc: BaseException) -> BaseException | None:
    """The ``http.client`` parse error inside a ``requests`` error, when the server answered something
    that is not HTTP (a bad status line, an over-long header); None for a connection that failed."""
    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        item = stack.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, http.client.HTTPException) and not isinstance(item, http.client.RemoteDisconnected):
            return item
        stack += [*item.args, item.__cause__, item.__context__]
    return None


def _plain_reason(exc: BaseException) -> str:
    """:func:`_reason` for the errors of :class:`PlainTransport`, worded as for ``requests``' errors."""
    if isinstance(exc, http.client.RemoteDisconnected):
        return "the server closed the connection without answering"
    reason = _reason(exc)  # type: ignore[arg-type]
    return "ConnectionError" if reason == type(exc).__name__ else reason


class PlainTransport:
    """Keep-alive exchanges with plain ``http://`` origins over ``http.client``, byte for byte as ``requests``.

    ``requests`` spends about a millisecond of Python on each request
    (environment and proxy look-ups, preparing, merging settings, hooks,
    adapters): against a mock on loopback that is more than the mock's own time,
    and a third of a contract run. This path is used only where it changes
    nothing a server or a check can see -- ``http://`` origins (TLS, and so live
    Twilio, always goes through ``requests``) with no proxy and no ``.netrc``
    entry in the environment, while the session holds no cookies -- and it sends
    what ``requests`` sends: the session's headers (User-Agent, Accept-Encoding,
    Accept, Connection), the request's, HTTP Basic, ``Content-Length`` (0 for a
    body-less POST or DELETE), the re-quoted URL; it decodes gzip and deflate
    bodies, joins repeated response headers with ", ", and applies the timeout to
    connecting and to each read. A pooled connection that the server has closed
    is replaced before a request is sent on it, as urllib3 does, so nothing is
    ever sent twice. A response that sets a cookie is stored in the session, and
    from then on ``requests`` sends everything (with the cookie).
    """

    def __init__(self, session: requests.Session):
        self._session = session
        self._origins: dict[str, tuple[str, int] | None] = {}
        codings = {token.strip().lower() for token in str(session.headers.get("Accept-Encoding", "")).split(",")}
        #: only codings decoded here may be offered (brotli or zstd, when installed, go through requests)
        self._decodable = codings <= {"", "identity", "gzip", "x-gzip", "deflate"}
        self._connections: dict[tuple[str, int], http.client.HTTPConnection] = {}

    def usable(self, url: str) -> tuple[str, int] | None:
        """(host, port) when *url* may go this way, else None."""
        if not url.startswith("http://") or self._session.cookies or not self._decodable:
            return None
        end = url.find("/", 7)
        origin = url if end < 0 else url[:end]
        if origin not in self._origins:
            parts = urlsplit(origin)
            plain = not requests.utils.get_environ_proxies(url) and requests.utils.get_netrc_auth(url) is None
            self._origins[origin] = (parts.hostname or "", parts.port or 80) if plain and parts.hostname else None
        return self._origins[origin]

    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, auth: Any,
             timeout: float, sending: Callable[[], ContextManager[Any]] = nullcontext,
             cap: int = DEFAULT_MAX_RESPONSE_BYTES) -> Exchange:
        """One exchange to an origin :meth:`usable` accepted.

        The whole exchange -- connecting, writing, status line, headers, body -- ends
        within *timeout* (:class:`~.wire.Watchdog`), and at most *cap* bytes of body
        are read and inflated (:func:`~.wire.read_body`).
        """
        where = self.usable(url)
        assert where is not None, "PlainTransport.send on an origin it does not take"
        basic = None if auth is None else (auth.username, auth.password)
        try:
            return self._send(where, method, url, headers, body, basic, timeout, sending, cap)
        except TimeoutError:  # socket.timeout, or the whole-response deadline: connecting or waiting
            raise NoAnswer() from None
        except http.client.HTTPException as exc:
            if isinstance(exc, http.client.RemoteDisconnected):
                raise Unreachable(_plain_reason(exc)) from None
            raise NotHTTP(exc) from None
        except OSError as exc:
            raise Unreachable(_plain_reason(exc)) from None

    def _send(self, where: tuple[str, int], method: str, url: str, headers: Mapping[str, str], body: bytes | None,
              basic: tuple[str, str] | None, timeout: float, sending: Callable[[], ContextManager[Any]],
              cap: int) -> Exchange:
        split = urlsplit(requests.utils.requote_uri(url))
        path = (split.path or "/") + (f"?{split.query}" if split.query else "")
        lines = CaseInsensitiveDict(self._session.headers)
        lines.update(headers)
        if basic is not None:
            token = base64.b64encode(f"{basic[0]}:{basic[1]}".encode("latin1")).decode("ascii")
            lines["Authorization"] = f"Basic {token}"
        if body is not None:
            lines["Content-Length"] = str(len(body))
        elif method not in ("GET", "HEAD"):
            lines["Content-Length"] = "0"
        with sending():  # the rate-limit wait is over: the deadline starts now
            deadline = time.monotonic() + timeout
            connection = self._connection(where, timeout)
            ticket = watchdog.arm(connection.sock, deadline)
            try:
                connection.putrequest(method, path, skip_accept_encoding=True)
                for name, value in lines.items():
                    connection.putheader(name, value)
                connection.endheaders(body)
            except BaseException:
                watchdog.disarm(ticket)
                self._drop(where)
                raise
        try:
            answer = connection.getresponse()
            data = read_body(answer.read1, answer.getheader("Content-Encoding") or "", cap,
                             lambda: watchdog.expired(ticket))
        except BaseException:
            cut = watchdog.disarm(ticket)
            self._drop(where)
            if cut:
                raise TimeoutError(f"no complete answer within {timeout:g} s") from None
            raise
        if watchdog.disarm(ticket) or data.timed_out:
            self._drop(where)
            raise TimeoutError(f"no complete answer within {timeout:g} s")
        if not answer.isclosed() and not answer.chunked and answer.length == 0:
            # every byte Content-Length promised was read; http.client only notices on the next read,
            # and until the response is closed the connection takes no new request
            answer.close()
        if answer.will_close or data.problem is not None or not answer.isclosed():
            self._drop(where)
        merged: dict[str, str] = {}
        for name, value in answer.getheaders():
            merged[name] = f"{merged[name]}, {value}" if name in merged else value
        received = CaseInsensitiveDict(merged)
        if "Set-Cookie" in received:
            prepared = requests.Request(method, url).prepare()
            requests.cookies.extract_cookies_to_jar(self._session.cookies, prepared, _CookieSource(answer))
        return Exchange(answer.status, received, data)

    def _connection(self, where: tuple[str, int], timeout: float) -> http.client.HTTPConnection:
        connection = self._connections.get(where)
        if connection is not None and connection.sock is not None:
            readable, _, _ = select.select([connection.sock], [], [], 0)
            if readable:  # closed by the server (or it sent something unasked): start afresh
                self._drop(where)
                connection = None
        if connection is None or connection.sock is None:
            connection = http.client.HTTPConnection(where[0], where[1], timeout=timeout)
            connection.connect()
            connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._connections[where] = connection
        elif connection.timeout != timeout:
            connection.timeout = timeout
            connection.sock.settimeout(timeout)
        return connection

    def _drop(self, where: tuple[str, int]) -> None:
        connection = self._connections.pop(where, None)
        if connection is not None:
            connection.close()

    def close(self) -> None:
        for where in list(self._connections):
            self._drop(where)


class _CookieSource:
    """What ``requests.cookies.extract_cookies_to_jar`` reads of a response."""

    def __init__(self, answer: http.client.HTTPResponse):
        self._original_response = answer
