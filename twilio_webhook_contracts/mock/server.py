"""A small threaded HTTP/1.1 server for the mock, and :func:`serve_mock` to embed it.

Why not ``wsgiref`` or werkzeug's development server: wsgiref closes the
connection after every request (no keep-alive); werkzeug's server exits the
process when the port is taken and logs every request. This one is
``http.server`` with the few things a test double needs:

* keep-alive, one thread per connection (daemon threads), Nagle off, and each
  response written with a single ``send``;
* every protocol error (bad request line, bad ``Content-Length``, unknown
  method, oversized body) answered with Twilio's JSON error body and a 4xx -- the
  server itself never answers 5xx;
* a bounded, prompt stop: open keep-alive connections are shut down and handler
  threads are given a deadline, not waited for forever.
"""

from __future__ import annotations

import contextlib
import email.utils
import http.server
import logging
import re
import socket
import socketserver
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import unquote_to_bytes

from .app import MAX_BODY_BYTES, MockApp
from .errors import error_body
from .log import LoggedRequest
from .policies import Policies
from .state import MockState

__all__ = ["EmbeddedMock", "MockServer", "serve_mock"]

logger = logging.getLogger("twilio_webhook_contracts.mock")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_MAX_LINE = 65536
_MAX_HEADERS = 100
_LINGER_SECONDS = 1.0
_LINGER_READS = 64  # at most 4 MiB drained


class _BadRequest(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class _Handler(http.server.BaseHTTPRequestHandler):
    """One connection: requests in a loop until the client closes or asks to."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: "_Server"

    def setup(self) -> None:
        self.timeout = self.server.idle_timeout
        super().setup()
        self.server.track(self)

    def finish(self) -> None:
        try:
            super().finish()
            self.linger()
        except OSError:
            pass
        finally:
            self.server.untrack(self)

    def linger(self) -> None:
        """Half-close, then drain what the client still sends, for a bounded time.

        Closing a socket with unread input makes the kernel send a reset, which
        can destroy the error response the client has not read yet (a 413 sent
        before the body arrived, a 400 for a bad header). Servers such as nginx
        and Apache "linger" for the same reason.
        """
        self.connection.shutdown(socket.SHUT_WR)
        self.connection.settimeout(_LINGER_SECONDS)
        for _ in range(_LINGER_READS):
            if not self.connection.recv(65536):
                return

    def handle_one_request(self) -> None:
        # http.server's own version answers unknown methods 501; every method
        # goes to the app here, which answers 405 or 404 as Twilio does.
        try:
            self.raw_requestline = self.rfile.readline(_MAX_LINE + 1)
            if not self.raw_requestline:
                self.close_connection = True
                return
            if len(self.raw_requestline) > _MAX_LINE:
                self.command, self.request_version = "", "HTTP/1.1"
                self.send_error(414)
                return
            if not self.parse_request():  # it has answered (or the line was blank)
                return
            self.run_app()
        except (TimeoutError, ConnectionError):
            self.close_connection = True
        except OSError:  # the socket was shut down by stop(), or similar
            self.close_connection = True

    def parse_request(self) -> bool:
        """Request line and headers; False (after answering 400/431, or on a blank line) to stop.

        Replaces http.server's version, which parses headers with the ``email``
        package (a third of the server's time per request) and answers an
        unsupported HTTP version with 505.
        """
        self.command, self.request_version, self.close_connection = None, "HTTP/1.0", True
        self.requestline = line = self.raw_requestline.decode("iso-8859-1").rstrip("\r\n")
        words = line.split()
        if not words:
            return False
        if len(words) != 3 or not words[2].startswith("HTTP/"):
            self.send_error(400, "Bad request syntax")
            return False
        command, path, version = words
        major, dot, minor = version[5:].partition(".")
        if not (dot and major.isdigit() and minor.isdigit() and len(major) < 3 and len(minor) < 3):
            self.send_error(400, "Bad request version")
            return False
        if major != "1":
            self.send_error(400, f"Unsupported HTTP version {version[:16]}")
            return False
        self.command, self.path, self.request_version = command, path, version
        headers = _Headers()
        for _ in range(_MAX_HEADERS + 1):
            raw = self.rfile.readline(_MAX_LINE + 1)
            if len(raw) > _MAX_LINE:
                self.send_error(431, "Header line too long")
                return False
            if raw in (b"\r\n", b"\n", b""):
                break
            name, colon, value = raw.decode("iso-8859-1").rstrip("\r\n").partition(":")
            if not colon or not name or name != name.strip() or " " in name:
                self.send_error(400, "Invalid header line")
                return False
            headers.add(name, value.strip())
        else:
            self.send_error(431, "Too many headers")
            return False
        absolute = _ABSOLUTE_FORM.match(path)
        if absolute is not None:
            # RFC 9112 3.2.2: "a server MUST accept the absolute-form in requests" (proxies send
            # it), and the host in it replaces the Host header.
            authority, rest = absolute.groups()
            self.path = rest if rest.startswith("/") else "/" + rest
            headers.replace("Host", authority.rpartition("@")[2])
        self.headers = headers  # type: ignore[assignment]
        connection = headers.get("Connection", "").lower()
        self.close_connection = "close" in connection or (minor == "0" and "keep-alive" not in connection)
        if minor != "0" and headers.get("Expect", "").lower() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        return True

    def run_app(self) -> None:
        try:
            body = self.read_body()
        except _BadRequest as problem:
            self.send_error(problem.status, problem.message)
            return
        except (TimeoutError, ConnectionError, OSError):
            self.close_connection = True
            return
        status, headers, payload = self.call_app(self.make_environ(body))
        self.write_response(status, headers, payload)

    def read_body(self) -> bytes:
        limit = self.server.max_body_bytes
        encoding = self.headers.get("Transfer-Encoding")
        if encoding is not None:
            if encoding.strip().lower() != "chunked":
                raise _BadRequest(400, f"Unsupported Transfer-Encoding {encoding[:40]!r}")
            return self.read_chunked(limit)
        lengths = self.headers.get_all("Content-Length") or []
        if not lengths:
            return b""
        # (a length of thousands of digits would make int() raise: it is refused first)
        if len(set(lengths)) != 1 or not lengths[0].strip().isdigit() or len(lengths[0].strip()) > 18:
            raise _BadRequest(400, "Invalid Content-Length")
        length = int(lengths[0])
        if length > limit:
            raise _BadRequest(413, f"Request body larger than {limit} bytes")
        body = self.rfile.read(length)
        if len(body) != length:
            raise ConnectionError("body cut short")
        return body

    def read_chunked(self, limit: int) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _BadRequest(400, "Invalid chunked body") from None
            if size < 0:
                raise _BadRequest(400, "Invalid chunked body")
            if size == 0:
                for _ in range(100):  # trailers, up to the blank line
                    if self.rfile.readline(_MAX_LINE) in (b"\r\n", b"\n", b""):
                        return b"".join(chunks)
                raise _BadRequest(400, "Too many trailers")
            total += size
            if total > limit:
                raise _BadRequest(413, f"Request body larger than {limit} bytes")
            chunks.append(self.rfile.read(size))
            if self.rfile.read(2) != b"\r\n":
                raise _BadRequest(400, "Invalid chunked body")

    def make_environ(self, body: bytes) -> dict[str, Any]:
        """A PEP 3333 environ; ``RAW_URI`` keeps the path as sent (``%2F`` stays ``%2F``)."""
        path, _, query = self.path.partition("?")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote_to_bytes(path.encode("latin-1")).decode("latin-1"),
            "QUERY_STRING": query,
            "RAW_URI": self.path,
            "REQUEST_URI": self.path,
            "SERVER_NAME": self.server.host,
            "SERVER_PORT": str(self.server.port),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0] if self.client_address else "",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": _BytesReader(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in self.headers.items():
            key = name.upper().replace("-", "_")
            if key == "CONTENT_TYPE":
                environ["CONTENT_TYPE"] = value
            elif key not in ("CONTENT_LENGTH", "TRANSFER_ENCODING"):
                key = "HTTP_" + key
                environ[key] = f"{environ[key]},{value}" if key in environ else value
        return environ

    def call_app(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            started[:] = [status, headers]
            return lambda data: None  # the legacy write() callable; the mock does not use it

        try:
            result = self.server.app(environ, start_response)
            try:
                payload = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            status, headers = started
        except Exception:  # noqa: BLE001 - a broken app must not take the server down
            logger.exception("mock server: the application failed on %s %s", self.command, self.path[:200])
            return "500 Internal Server Error", [("Content-Type", "application/json")], error_body(
                500, 20500, "Internal Server Error")
        return status, headers, payload

    def write_response(self, status: str, headers: list[tuple[str, str]], payload: bytes) -> None:
        policies = getattr(self.server.app, "policies", None)
        if policies is not None and policies.connection == "close":
            self.close_connection = True
        chunked = (policies is not None and policies.chunked == "on" and payload and self.command != "HEAD"
                   and self.request_version != "HTTP/1.0")
        lines = [f"HTTP/1.1 {status}"]
        has_length = False
        for name, value in headers:
            if chunked and name.lower() == "content-length":
                continue
            lines.append(f"{name}: {value}")
            has_length = has_length or name.lower() == "content-length"
        if chunked:
            lines.append("Transfer-Encoding: chunked")
            payload = _chunks(payload)
        elif not has_length:
            lines.append(f"Content-Length: {len(payload)}")
        lines.append("Date: " + self.server.date_header())
        if self.close_connection:
            lines.append("Connection: close")
        elif self.request_version == "HTTP/1.0":
            lines.append("Connection: keep-alive")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        self.wfile.write(head if self.command == "HEAD" else head + payload)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol errors as Twilio-style JSON; 505 and friends become 400 (the client's fault)."""
        status = int(code) if code < 500 else 400
        reason = http.server.BaseHTTPRequestHandler.responses.get(status, ("Bad Request",))[0]
        self.close_connection = True
        payload = error_body(status, 20000 + status, message or reason)
        try:
            self.write_response(f"{status} {reason}", [("Content-Type", "application/json")], payload)
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        logger.debug("mock server: " + format, *args)


_ABSOLUTE_FORM = re.compile(r"(?i)https?://([^/?#]*)(.*)\Z", re.S)


def _chunks(payload: bytes, size: int = 1024) -> bytes:
    """*payload* in chunked transfer coding (several chunks when it is long), with the last chunk."""
    parts = [b"%x\r\n%s\r\n" % (len(piece), piece) for piece in
             (payload[start:start + size] for start in range(0, len(payload), size))]
    return b"".join(parts) + b"0\r\n\r\n"


class _Headers:
    """Request headers: case-insensitive, repeatable, in the order sent."""

    __slots__ = ("_items", "_index")

    def __init__(self) -> None:
        self._items: list[tuple[str, str]] = []
        self._index: dict[str, list[str]] = {}

    def add(self, name: str, value: str) -> None:
        self._items.append((name, value))
        self._index.setdefault(name.lower(), []).append(value)

    def replace(self, name: str, value: str) -> None:
        """Set *name* to the one *value* (dropping any values sent)."""
        self._items = [(key, item) for key, item in self._items if key.lower() != name.lower()] + [(name, value)]
        self._index[name.lower()] = [value]

    def get(self, name: str, default: Any = None) -> Any:
        values = self._index.get(name.lower())
        return values[0] if values else default

    def get_all(self, name: str) -> list[str]:
        return list(self._index.get(name.lower(), ()))

    def items(self) -> list[tuple[str, str]]:
        return list(self._items)

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._index


class _BytesReader:
    """``wsgi.input`` over bytes already read (the body is read before the app runs)."""

    __slots__ = ("_data", "_pos")

    def __init__(self, data: bytes):
        self._data = data
        self._pos = 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._data) if size is None or size < 0 else min(len(self._data), self._pos + size)
        chunk = self._data[self._pos:end]
        self._pos = end
        return chunk

    def readline(self, size: int = -1) -> bytes:
        end = self._data.find(b"\n", self._pos)
        end = len(self._data) if end < 0 else end + 1
        if size is not None and size >= 0:
            end = min(end, self._pos + size)
        chunk = self._data[self._pos:end]
        self._pos = end
        return chunk

    def readlines(self, hint: int = -1) -> list[bytes]:
        lines = []
        while line := self.readline():
            lines.append(line)
        return lines

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.readlines())


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, host: str, port: int, app: WSGIApp, max_body_bytes: int, idle_timeout: float):
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.idle_timeout = idle_timeout
        self._handlers: dict[_Handler, threading.Thread] = {}
        self._handlers_lock = threading.Lock()
        self._date = (0, "")
        super().__init__((host, port), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host name (socket.getfqdn), which can
        # wait on DNS; the mock only needs the address it is bound to.
        socketserver.TCPServer.server_bind(self)
        self.host, self.port = self.server_address[:2]

    def track(self, handler: _Handler) -> None:
        with self._handlers_lock:
            self._handlers[handler] = threading.current_thread()

    def untrack(self, handler: _Handler) -> None:
        with self._handlers_lock:
            self._handlers.pop(handler, None)

    def close_connections(self) -> list[threading.Thread]:
        """Shut every open connection (wakes threads blocked reading); their threads, to join."""
        with self._handlers_lock:
            handlers = list(self._handlers.items())
        for handler, _ in handlers:
            with contextlib.suppress(OSError):
                handler.connection.shutdown(socket.SHUT_RDWR)
        return [thread for _, thread in handlers]

    def date_header(self) -> str:
        now = int(time.time())
        if self._date[0] != now:  # formatted once a second, not once a request
            self._date = (now, email.utils.formatdate(now, usegmt=True))
        return self._date[1]

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("mock server: connection error from %s", client_address, exc_info=True)


class MockServer:
    """A WSGI app (normally a :class:`MockApp`) on a threaded HTTP/1.1 server.

    The socket is bound in the constructor, so ``port=0`` gives a free port at
    once (``.port``, ``.url``) and a taken port fails here with ``OSError``.
    """

    def __init__(self, app: WSGIApp, host: str = "127.0.0.1", port: int = 0, *,
                 max_body_bytes: int = MAX_BODY_BYTES, idle_timeout: float = 60.0):
        self.app = app
        self._server = _Server(host, port, app, max_body_bytes, idle_timeout)
        self._thread: threading.Thread | None = None
        self._serving = threading.Event()
        self._stopped = False

    @property
    def host(self) -> str:
        return self._server.host

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> "MockServer":
        """Serve in a background (daemon) thread; returns self."""
        if self._thread is None:
            self._thread = threading.Thread(target=self.serve_forever, name=f"mock-server-{self.port}", daemon=True)
            self._thread.start()
            self._serving.wait(5.0)
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until :meth:`stop` is called from another."""
        self._serving.set()
        try:
            self._server.serve_forever(poll_interval=0.05)
        finally:
            self._serving.clear()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop accepting, close open connections, give handlers until *timeout* to finish.

        Handler threads are daemons: one still busy at the deadline cannot keep
        the process alive. Idempotent.
        """
        if self._stopped:
            return
        self._stopped = True
        deadline = time.monotonic() + timeout
        close = getattr(self.app, "close", None)
        if callable(close):
            close()  # wake handlers sleeping for injected latency
        if self._serving.is_set():
            self._server.shutdown()
        self._server.server_close()
        for thread in self._server.close_connections():
            thread.join(max(0.0, deadline - time.monotonic()))
        if self._thread is not None:
            self._thread.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> "MockServer":
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()


@dataclass
class EmbeddedMock:
    """A running mock, as :func:`serve_mock` yields it."""

    server: MockServer
    app: MockApp

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``: the base URL, for both APIs."""
        return self.server.url

    @property
    def account_sid(self) -> str:
        """The first configured account (the default test account unless others were given)."""
        return next(iter(self.app.credentials.accounts))

    @property
    def auth_token(self) -> str:
        return self.app.credentials.accounts[self.account_sid]

    @property
    def api_key_sid(self) -> str | None:
        return next(iter(self.app.credentials.api_keys), None)

    @property
    def api_key_secret(self) -> str | None:
        key = self.api_key_sid
        return self.app.credentials.api_keys[key][0] if key else None

    @property
    def auth(self) -> tuple[str, str]:
        """(account SID, auth token), ready for ``requests``' ``auth=``."""
        return self.account_sid, self.auth_token

    @property
    def state(self) -> MockState:
        return self.app.state

    @property
    def requests(self) -> list[LoggedRequest]:
        """The request log so far, oldest first."""
        return self.app.request_log.entries()

    def reset(self) -> None:
        """Initial state, empty request log, fault sequence from the start (policies are kept)."""
        self.app.reset()

    def configure(self, policies: "Policies | None" = None, resources: Any = None) -> None:
        """Switch the mock's policies and/or declared resources (see :meth:`MockApp.configure`)."""
        self.app.configure(policies, resources)

    @property
    def policies(self) -> "Policies":
        return self.app.policies


@contextlib.contextmanager
def serve_mock(app: MockApp | None = None, *, host: str = "127.0.0.1", port: int = 0,
               idle_timeout: float = 60.0, **app_options: Any) -> Iterator[EmbeddedMock]:
    """Run a mock in a background thread for the duration of a ``with`` block.

    Pass a ready *app* (for example a subclass of :class:`MockApp`), or
    options for a new one (``accounts=``, ``api_keys=``, ``faults=``,
    ``request_log=``, ``state=``, ...). Binds *port* 0 (a free port) unless told otherwise, and
    stops promptly on exit, even if a handler is still sleeping.
    """
    if app is not None and app_options:
        raise TypeError("pass either an app or options for a new one, not both")
    owns_app = app is None
    app = app if app is not None else MockApp(**app_options)
    server = MockServer(app, host, port, max_body_bytes=app.max_body_bytes, idle_timeout=idle_timeout)
    try:
        server.start()
        yield EmbeddedMock(server, app)
    finally:
        server.stop()
        if owns_app:
            app.request_log.close()
