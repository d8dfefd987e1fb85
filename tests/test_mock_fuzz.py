"""No input makes the mock answer 5xx or change state unless it is a valid request.

Two sources of input:

* raw garbage written straight onto a socket (odd methods, paths and versions,
  invalid UTF-8 and percent-encoding, broken framing, huge bodies, wrong content
  types, missing and garbled credentials), from a seeded generator;
* :func:`strategies.invalid_requests` -- exactly one defect per request, each of
  which must be refused (404 for a malformed path segment, 400 otherwise), and
  :func:`strategies.valid_requests`, each of which the mock must accept.
"""

from __future__ import annotations

import base64
import json
import random
import socket
from typing import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from twilio_webhook_contracts.strategies import defects_for, invalid_requests, valid_requests
from test_mock_support import (
    ACCOUNT_PATH, CHANNEL, SERVICE, SERVICE_PATH, CheckedSession, assert_documented, assert_twilio_error, webhooks_path,
)
from twilio_webhook_contracts.mock import EmbeddedMock, Policies, serve_mock
from twilio_webhook_contracts.spec import default_spec

RAW_REQUESTS = 2500
SEED = 20261125


@pytest.fixture(scope="module")
def shared_mock() -> Iterator[EmbeddedMock]:
    # page_size_max=5: the fragment's own cap, which the strategies call the boundary of PageSize
    with serve_mock(policies=Policies(page_size_max=5)) as running:
        yield running
    assert running.app.internal_errors == 0


@pytest.fixture(autouse=True)
def _fresh_state(shared_mock: EmbeddedMock) -> None:
    """Each test starts from the initial state (a channel holds at most 5 webhooks)."""
    shared_mock.state.reset()


# -- raw garbage ------------------------------------------------------------------------


def _basic(raw: bytes) -> bytes:
    return b"Basic " + base64.b64encode(raw)


class Garbage:
    """Builds one raw request from seeded choices; ``may_go_unanswered`` when the framing promises more than it sends."""

    def __init__(self, rng: random.Random, mock: EmbeddedMock, webhook_sid: str):
        self.rng = rng
        self.good_auth = _basic(f"{mock.account_sid}:{mock.auth_token}".encode())
        self.key_auth = _basic(f"{mock.api_key_sid}:{mock.api_key_secret}".encode())
        self.webhook_sids = [webhook_sid]  # grows with every 201, so deletes and updates find webhooks
        self.may_go_unanswered = False

    def pick(self, *options, weights=None):
        return self.rng.choices(options, weights=weights)[0]

    def segment(self, good: str) -> bytes:
        if self.rng.random() < 0.85:
            return good.encode()
        return self.pick(
            good[:-1].encode(), good.upper().encode(), b"", b"%FF%FE", b"%C3%28", b"\xff\xfe", b"a%2Fb", b"..", b"%00",
            b"n" * 300, b"%", b"%zz", b"room%20%C3%A9", b"*", "é".encode(), b"ISxyz", b"CH" + b"0" * 33,
        )

    def path(self) -> bytes:
        s, c, w = self.segment(SERVICE), self.segment(CHANNEL), self.segment(self.rng.choice(self.webhook_sids[-20:]))
        return self.pick(
            ACCOUNT_PATH.encode(), b"/v1/Services/" + s + b"/Configuration/Webhooks",
            b"/v2/Services/" + s + b"/Channels/" + c + b"/Webhooks",
            b"/v2/Services/" + s + b"/Channels/" + c + b"/Webhooks/" + w,
            b"*", b"/", b"//", b"", b"http://example.com" + ACCOUNT_PATH.encode(), ACCOUNT_PATH.encode() + b"/../x",
            ACCOUNT_PATH.encode() + b";x", b"/" + b"x" * 70_000, b"/v1/Configuration/Webhooks/",
            weights=[6, 6, 8, 8, 1, 1, 1, 1, 1, 1, 1, 1, 1],
        )

    def query(self) -> bytes:
        return self.pick(
            b"", b"", b"", b"PageSize=" + self.pick(b"0", b"6", b"-1", b"abc", b"5", b"2", b"9" * 30, b"%FF", b""),
            b"Page=" + self.pick(b"-3", b"1", b"x"), b"PageToken=" + self.pick(b"PA", b"PAzz", b"PB" + b"f" * 40, b"%FF"),
            b"&&&", b"=", b"a=%ZZ", bytes(self.rng.randrange(33, 127) for _ in range(20)).replace(b" ", b"+"),
        )

    def body(self) -> bytes:
        if self.rng.random() < 0.4:  # valid for some operation
            return self.pick(b"Method=GET&Filters=onMessageAdded&Target=flex", b"PreWebhookUrl=", b"",
                             b"Type=webhook&Configuration.Url=https%3A%2F%2Fexample.com&Configuration.RetryCount=1",
                             b"Type=trigger&Configuration.Triggers=a", b"Configuration.Method=GET")
        return self.pick(
            b"", b"Method=GET", b"Method=PUT", b"Method=GET&Filters=onMessageAdded&Target=flex", b"PreWebhookUrl=",
            b"Type=webhook&Configuration.Url=https%3A%2F%2Fexample.com", b"Type=sms", b"Configuration.RetryCount=9",
            b"Configuration.Url=dummy", b"Type=studio&Configuration.FlowSid=FW1", b"Method=G%FFT", b"%FF=1",
            bytes(self.rng.randrange(256) for _ in range(self.rng.randrange(1, 200))),
            b"Filters=" + b"onMessageAdded&Filters=" * 500 + b"x", b"Bogus=" + b"v" * 100_000, b'{"Method": "GET"}',
            b"Method=GET&Method=PUT", b"Type=webhook&Type=sms",
        )

    def headers(self, body: bytes) -> list[bytes]:
        lines = [b"Host: " + self.pick(b"127.0.0.1", b"localhost:1", b"bad host/x", b"", b"\xff")]
        auth = self.pick(self.good_auth, self.key_auth, None, b"", b"Basic", b"Basic %%%", b"Bearer abc",
                         _basic(b"\xff:\xfe"), _basic(b"nocolon"), _basic(b"AC00000000000000000000000000000000:x"),
                         b"Basic " + b"A" * 5000, weights=[30, 3, 2, 1, 1, 1, 1, 1, 1, 1, 1])
        if auth is not None:
            lines.append(b"Authorization: " + auth)
        content_type = self.pick(b"application/x-www-form-urlencoded", b"application/x-www-form-urlencoded; charset=utf-8",
                                 None, b"application/json", b"multipart/form-data; boundary=x", b"text/plain", b"\xff\xfe",
                                 weights=[16, 2, 2, 1, 1, 1, 1])
        if content_type is not None:
            lines.append(b"Content-Type: " + content_type)
        framing = self.pick("length", "none", "short", "long", "negative", "text", "twice", "chunked", "bad-chunked",
                            "both", weights=[40, 1, 1, 1, 1, 1, 1, 3, 1, 1])
        length = str(len(body)).encode()
        if framing == "length":
            lines.append(b"Content-Length: " + length)
        elif framing == "short":
            lines.append(b"Content-Length: " + str(max(0, len(body) - 3)).encode())
        elif framing == "long":
            lines.append(b"Content-Length: " + str(len(body) + 10).encode())
            self.may_go_unanswered = True  # the server waits for bytes that never come, then gives up
        elif framing == "negative":
            lines.append(b"Content-Length: -1")
        elif framing == "text":
            lines.append(b"Content-Length: ten")
        elif framing == "twice":
            lines += [b"Content-Length: " + length, b"Content-Length: 1"]
        elif framing in ("chunked", "bad-chunked", "both"):
            lines.append(b"Transfer-Encoding: chunked")
            if framing == "both":
                lines.append(b"Content-Length: " + length)
        if self.rng.random() < 0.01:
            lines += [b"X-Many: %d" % i for i in range(150)]  # more than the server reads: 431
        for _ in range(self.pick(0, 0, 0, 0, 1, 2)):
            lines.append(self.pick(b"X-Junk: \xff\xfe", b"X-Empty:", b"Bad Header Line", b": no-name", b"X-Ok: 1",
                                   b" folded: continuation"))
        return lines

    def request(self) -> tuple[bytes, bool]:
        self.may_go_unanswered = False
        method = self.pick(b"GET", b"POST", b"DELETE", b"PUT", b"PATCH", b"HEAD", b"OPTIONS", b"get", b"TRACE", b"FOO",
                           b"\xff", b"A" * 200, weights=[10, 12, 4, 1, 1, 1, 1, 1, 1, 1, 1, 1])
        target = self.path()
        query = self.query()
        if query:
            target += b"?" + query
        version = self.pick(b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2.0", b"HTTP/9", b"HTTX/1.1", b"", weights=[60, 3, 1, 1, 1, 1])
        body = self.body()
        if self.rng.random() < 0.004:
            body = b"Method=GET&Bogus=" + b"x" * (2 * 1024 * 1024)  # over the 1 MiB limit: 413
        lines = self.headers(body)
        if b"Transfer-Encoding: chunked" in lines:
            if self.rng.random() < 0.5:
                body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body) if body else b"0\r\n\r\n"
            else:
                body = self.pick(b"zz\r\n", b"5\r\nab\r\n", b"-1\r\n", b"3\r\nabcXY")
        request_line = b" ".join(part for part in (method, target, version) if part)
        return request_line + b"\r\n" + b"".join(line + b"\r\n" for line in lines) + b"\r\n" + body, self.may_go_unanswered


def _exchange(address: tuple[str, int], data: bytes) -> bytes:
    """Send *data*, half-close, read everything until the server closes."""
    received = bytearray()
    with socket.create_connection(address, timeout=30) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may answer (and close) before reading it all
        for _ in range(10_000):  # bounded read loop
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
    return bytes(received)


def _responses(raw: bytes, head: bool = False) -> list[tuple[int, dict[str, str], bytes]]:
    """Split what came back into (status, headers, body) answers (several if requests were pipelined).

    *head*: the first request was a HEAD, so its answer has a Content-Length but no body.
    """
    out = []
    while raw:
        head_bytes, separator, rest = raw.partition(b"\r\n\r\n")
        assert separator, f"truncated response: {raw[:200]!r}"
        status_line, *header_lines = head_bytes.decode("latin-1").split("\r\n")
        assert status_line.startswith("HTTP/1.1 "), status_line
        headers = dict(line.split(": ", 1) for line in header_lines)
        length = 0 if head and not out else int(headers["Content-Length"])
        out.append((int(status_line.split()[1]), headers, rest[:length]))
        raw = rest[length:]
    return out


def test_raw_garbage_never_gets_a_5xx_and_never_changes_state(shared_mock):
    mock = shared_mock
    with CheckedSession(mock) as http:
        hook = http.post(webhooks_path(), data={"Type": "webhook"}).json()
    generator = Garbage(random.Random(SEED), mock, hook["sid"])
    address = (mock.server.host, mock.server.port)
    baseline = mock.state.snapshot()
    statuses: dict[int, int] = {}
    for _ in range(RAW_REQUESTS):
        data, may_go_unanswered = generator.request()
        line = data.split(b"\r\n", 1)[0]
        words = line.split(b" ")  # a HEAD the server could parse is answered without a body
        is_head = len(words) == 3 and words[0] == b"HEAD" and words[2] in (b"HTTP/1.1", b"HTTP/1.0") and len(line) < 65536
        answers = _responses(_exchange(address, data), head=is_head)
        assert answers or may_go_unanswered, f"no answer to {data[:300]!r}"
        for index, (status, headers, body) in enumerate(answers):
            statuses[status] = statuses.get(status, 0) + 1
            assert status < 500, f"{status} for {data[:300]!r}: {body[:300]!r}"
            if status >= 400 and not (is_head and index == 0):
                assert_twilio_error(status, headers, body)
        generator.webhook_sids += [json.loads(body)["sid"] for status, _, body in answers if status == 201]
        if any(200 <= status < 300 for status, _, _ in answers):
            baseline = mock.state.snapshot()  # a valid request may change state
        else:
            assert mock.state.snapshot() == baseline, f"state changed by a refused request: {data[:300]!r}"
    # the garbage reached every layer: routing, auth, validation, framing, success
    assert {200, 201, 204, 400, 401, 404, 405, 413, 431} <= set(statuses), statuses
    assert mock.app.internal_errors == 0
    with CheckedSession(mock) as http:  # still serving, and what it serves is what it holds
        assert http.get(ACCOUNT_PATH).json()["method"] == mock.state.account_config(mock.account_sid)["method"]
        assert http.get(SERVICE_PATH).json()["filters"] == mock.state.service_config(mock.account_sid, SERVICE)["filters"]


def test_an_oversized_body_is_refused_before_it_is_read(shared_mock):
    mock = shared_mock
    auth = _basic(f"{mock.account_sid}:{mock.auth_token}".encode())
    head = (b"POST " + ACCOUNT_PATH.encode() + b" HTTP/1.1\r\nHost: x\r\nAuthorization: " + auth +
            b"\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 5000000\r\n\r\n")
    [(status, headers, body)] = _responses(_exchange((mock.server.host, mock.server.port), head))
    assert status == 413 and headers["Connection"] == "close"
    assert assert_twilio_error(status, headers, body)["code"] == 20413


def test_keep_alive_serves_many_requests_on_one_connection(shared_mock):
    mock = shared_mock
    auth = _basic(f"{mock.account_sid}:{mock.auth_token}".encode())
    one = b"GET " + ACCOUNT_PATH.encode() + b" HTTP/1.1\r\nHost: x\r\nAuthorization: " + auth + b"\r\n\r\n"
    answers = _responses(_exchange((mock.server.host, mock.server.port), one * 20))
    assert [status for status, _, _ in answers] == [200] * 20
    for status, headers, body in answers:
        assert_documented("GET", ACCOUNT_PATH, status, headers, body)


# -- strategies: one defect per request ------------------------------------------------------

SPEC = default_spec()
WITH_DEFECTS = [op.operation_id for op in SPEC if defects_for(op.operation_id)]


def _pins(operation_id: str, webhook_sid: str) -> dict[str, str]:
    values = {"ChatServiceSid": SERVICE, "ServiceSid": SERVICE, "ChannelSid": "fuzz-room", "Sid": webhook_sid}
    return {p.name: values[p.name] for p in SPEC.operation(operation_id).path_parameters}


def _send(http: CheckedSession, request) -> object:
    return http.request(request.method, request.target(), data=request.body, headers=dict(request.headers))


@pytest.mark.parametrize("operation_id", WITH_DEFECTS)
def test_every_invalid_request_is_refused_and_changes_nothing(shared_mock, operation_id):
    with CheckedSession(shared_mock) as http:
        hook = http.post(webhooks_path(channel="fuzz-room"), data={"Type": "webhook"}).json()

        @given(invalid_requests(operation_id, **_pins(operation_id, hook["sid"])))
        def refused(request):
            before = shared_mock.state.snapshot()
            response = _send(http, request)
            expected = 404 if request.defect == "bad_path_param" else 400
            assert response.status_code == expected, f"{request} ({request.description}): {response.text}"
            assert shared_mock.state.snapshot() == before

        refused()


@pytest.mark.parametrize("operation_id", [op.operation_id for op in SPEC])
def test_every_valid_request_is_accepted(shared_mock, operation_id):
    operation = SPEC.operation(operation_id)
    with CheckedSession(shared_mock) as http:

        @given(st.data())
        def accepted(data):
            shared_mock.state.reset()  # at most 5 webhooks per channel
            hook = http.post(webhooks_path(channel="fuzz-room"), data={"Type": "webhook"}).json()  # fresh: delete too
            request = data.draw(valid_requests(operation_id, **_pins(operation_id, hook["sid"])))
            response = _send(http, request)
            assert response.status_code == operation.success_status, f"{request}: {response.text}"

        accepted()
