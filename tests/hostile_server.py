"""A hostile target for the transport: answers that are slow, huge, malformed or nosy, on demand.

The contract suite must survive any server it is pointed at: report what the
server did wrong, write its reports, keep its secrets and finish on time. This
server does, per request, one of the things a broken or malicious server does.
It binds loopback only and speaks raw bytes (so it can also send what no HTTP
library would let it: a five-digit status, a 200 KB header line).

The mode is chosen per server (``HostileServer("trickle")``) or per request, by
a path prefix: a base URL ``http://127.0.0.1:PORT/_mode/deep`` sends every
request of the suite under it to ``deep``. ``every=N`` makes only every Nth
request hostile; the others get an ordinary Twilio 404 error.

Modes:

``echo``      the request's credentials back in the body (plain, URL-encoded, JSON-escaped,
              base64, at offsets that straddle every excerpt limit), in headers, and every
              other request a 429 whose ``Retry-After`` is ``Mon, <Authorization>``
``trickle``   the whole answer one byte per ``trickle_interval`` seconds (0.5)
``huge``      a 100 MB body (``huge_bytes``), streamed
``bomb``      a gzip body that inflates to 1 GB (``bomb_bytes``), streamed; about 1 MB on the wire
``deep``      a 200 JSON body nested 100,000 levels deep
``badgzip``   ``Content-Encoding: gzip`` on bytes that are not gzip
``baddeflate`` ``Content-Encoding: deflate`` on bytes that are not deflate
``badretry``  429 with ``Retry-After: Mon, 99 Foo 2020 25:61:61 XYZ`` (not a date, not seconds)
``status``    ``HTTP/1.1 99999 Weird`` (a status no HTTP parser accepts)
``longheader`` a 200 KB header line
``reset``     read the request, then reset the connection (RST) without a byte
"""

from __future__ import annotations

import base64
import json
import socket
import socketserver
import struct
import threading
import time
import zlib
from urllib.parse import quote, quote_plus, unquote

MODES = ("echo", "trickle", "huge", "bomb", "deep", "badgzip", "baddeflate", "badretry", "status",
         "longheader", "reset")

_NOT_FOUND = json.dumps({"code": 20404, "message": "The requested resource was not found",
                         "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404}).encode()


class HostileServer:
    """``with HostileServer("deep") as server: server.url`` -- a thread per connection, loopback only."""

    def __init__(self, mode: str = "echo", *, every: int = 1, trickle_interval: float = 0.5,
                 huge_bytes: int = 100 * 1024 * 1024, bomb_bytes: int = 1024 ** 3):
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; one of {', '.join(MODES)}")
        self.mode = mode
        self.every = max(1, every)
        self.trickle_interval = trickle_interval
        self.huge_bytes = huge_bytes
        self.bomb_bytes = bomb_bytes
        self.requests = 0
        self.modes_served: list[str] = []
        self._lock = threading.Lock()
        self._server: socketserver.ThreadingTCPServer | None = None
        self._thread: threading.Thread | None = None
        self._bomb_cache: bytes | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def mode_url(self, mode: str) -> str:
        """A base URL whose requests are all answered in *mode* (whatever the server's own mode)."""
        return f"{self.url}/_mode/{mode}"

    def __enter__(self) -> "HostileServer":
        owner = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                owner._handle(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

            def handle_error(self, request, client_address) -> None:  # a client hanging up is routine here
                pass

        self._server = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="hostile-server", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # -- one connection ------------------------------------------------------------

    def _handle(self, sock: socket.socket) -> None:
        sock.settimeout(30)
        request = _read_request(sock)
        if request is None:
            return
        method, path, headers = request
        mode = self.mode
        if path.startswith("/_mode/"):
            mode = path.split("/")[2]
        with self._lock:
            self.requests += 1
            hostile = self.requests % self.every == 0
            self.modes_served.append(mode if hostile else "404")
        try:
            if not hostile:
                _send(sock, _response(404, _NOT_FOUND))
            else:
                getattr(self, "_" + mode)(sock, headers)
        except OSError:
            pass  # the client gave up (a deadline, a size cap): exactly what some tests want

    def _echo(self, sock: socket.socket, headers: dict[str, str]) -> None:
        authorization = headers.get("authorization", "")
        basic = authorization.partition(" ")[2]
        try:
            user, _, secret = base64.b64decode(basic).decode("utf-8").partition(":")
        except ValueError:
            user, secret = "", ""
        if self.requests % 2:
            _send(sock, _response(429, json.dumps({"code": 20429, "message": f"Too many: {authorization}",
                                                   "more_info": secret, "status": 429}).encode(),
                                  [("Retry-After", f"Mon, {authorization}"), ("X-Echo", authorization)]))
            return
        pieces = []
        for offset, form in zip((0, 97, 181, 282, 295, 400),
                                (secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1],
                                 basic, authorization)):
            pieces.append("x" * max(0, offset - sum(len(p) for p in pieces)) + form)
        message = "".join(pieces)
        body = json.dumps({"code": 20001, "message": message, "more_info": f"user {user} secret {secret}",
                           "status": 400, "echo": {"authorization": authorization, "secret": secret}}).encode()
        _send(sock, _response(400, body, [("X-Echo", authorization), ("X-Secret", secret),
                                          ("WWW-Authenticate", f'Basic realm="{secret}"')]))

    def _trickle(self, sock: socket.socket, headers: dict[str, str]) -> None:
        for byte in _response(404, _NOT_FOUND):
            sock.sendall(bytes((byte,)))
            time.sleep(self.trickle_interval)

    def _huge(self, sock: socket.socket, headers: dict[str, str]) -> None:
        _send(sock, _head(200, self.huge_bytes))
        chunk = b"[" + b"0," * 32767 + b"0"
        left = self.huge_bytes
        while left > 0:
            piece = chunk[:left]
            sock.sendall(piece)
            left -= len(piece)

    def _bomb(self, sock: socket.socket, headers: dict[str, str]) -> None:
        body = self._bomb_body()
        _send(sock, _head(200, len(body), [("Content-Encoding", "gzip")]))
        for start in range(0, len(body), 65536):
            sock.sendall(body[start:start + 65536])

    def _bomb_body(self) -> bytes:
        """gzip of ``bomb_bytes`` zeros, compressed once per server, chunk by chunk (never 1 GB in memory)."""
        with self._lock:
            if self._bomb_cache is None:
                packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
                zeros = bytes(1024 * 1024)
                parts = [packer.compress(zeros) for _ in range(self.bomb_bytes // len(zeros))]
                parts.append(packer.compress(bytes(self.bomb_bytes % len(zeros))))
                parts.append(packer.flush())
                self._bomb_cache = b"".join(parts)
            return self._bomb_cache

    def _deep(self, sock: socket.socket, headers: dict[str, str]) -> None:
        _send(sock, _response(200, b"[" * 100_000 + b"]" * 100_000))

    def _badgzip(self, sock: socket.socket, headers: dict[str, str]) -> None:
        body = b"\x1f\x8b\x08\x00" + b"this is not gzip at all" * 10
        _send(sock, _response(200, body, [("Content-Encoding", "gzip")]))

    def _baddeflate(self, sock: socket.socket, headers: dict[str, str]) -> None:
        _send(sock, _response(200, b"\xff\xfe not deflate either" * 10, [("Content-Encoding", "deflate")]))

    def _badretry(self, sock: socket.socket, headers: dict[str, str]) -> None:
        body = json.dumps({"code": 20429, "message": "Too Many Requests",
                           "more_info": "https://www.twilio.com/docs/errors/20429", "status": 429}).encode()
        _send(sock, _response(429, body, [("Retry-After", "Mon, 99 Foo 2020 25:61:61 XYZ")]))

    def _status(self, sock: socket.socket, headers: dict[str, str]) -> None:
        _send(sock, b"HTTP/1.1 99999 Weird\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
                    b"Connection: close\r\n\r\n{}")

    def _longheader(self, sock: socket.socket, headers: dict[str, str]) -> None:
        _send(sock, b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 200_000 + b"\r\nContent-Length: 2\r\n"
                    b"Connection: close\r\n\r\n{}")

    def _reset(self, sock: socket.socket, headers: dict[str, str]) -> None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()


def _read_request(sock: socket.socket) -> tuple[str, str, dict[str, str]] | None:
    data = b""
    while b"\r\n\r\n" not in data:
        try:
            chunk = sock.recv(65536)
        except OSError:
            return None
        if not chunk:
            return None
        data += chunk
        if len(data) > 1_000_000:
            return None
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = (lines[0].split(" ") + ["", ""])[:3]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return method, unquote(path.split("?")[0]), headers


def _head(status: int, length: int, extra: list[tuple[str, str]] = ()) -> bytes:
    lines = [f"HTTP/1.1 {status} Hostile", "Content-Type: application/json", f"Content-Length: {length}",
             "Connection: close", *(f"{name}: {value}" for name, value in extra)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _response(status: int, body: bytes, extra: list[tuple[str, str]] = ()) -> bytes:
    return _head(status, len(body), extra) + body


def _send(sock: socket.socket, data: bytes) -> None:
    sock.sendall(data)
