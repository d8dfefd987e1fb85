"""The transports keep a keep-alive connection open between exchanges.

The plain path once reconnected on every request: http.client only marks a response closed on the
read *after* its last byte, so a fully read Content-Length body looked unfinished and the connection
was dropped. Nothing failed -- every answer was right -- but each exchange paid a TCP handshake and a
server thread, and a run against the loopback mock took twice as long. Counting the connections the
server accepts is what shows it.
"""

from __future__ import annotations

import http.server
import json
import threading

import pytest

from twilio_webhook_contracts.contract_tests.stateful import fixed_request
from twilio_webhook_contracts.spec import default_spec
from twilio_webhook_contracts.target import Credentials, Target

BODY = json.dumps({"account_sid": "AC" + "0" * 32, "filters": []}).encode()


class _Counting(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive unless the client says otherwise
    connections = 0
    chunked = False

    def setup(self) -> None:
        type(self).connections += 1
        super().setup()

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if self.chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            half = len(BODY) // 2
            for part in (BODY[:half], BODY[half:], b""):
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
        else:
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY)

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("path", ["plain", "requests"])
def test_consecutive_exchanges_share_one_connection(path, chunked):
    handler = type("Handler", (_Counting,), {"connections": 0, "chunked": chunked})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        request = fixed_request(default_spec(), "FetchConfigurationWebhook", {})
        with Target(f"http://127.0.0.1:{server.server_address[1]}", credentials=Credentials("AC" + "0" * 32, "t"),
                    timeout=5) as target:
            if path == "requests":
                target._plain.usable = lambda url: None  # every exchange through requests
            answers = [target.send(request, budgeted=False) for _ in range(20)]
        assert [a.status for a in answers] == [200] * 20
        assert all(a.body == BODY for a in answers)
        assert handler.connections == 1, f"{path}: {handler.connections} connections for 20 exchanges"
    finally:
        server.shutdown()
        server.server_close()
