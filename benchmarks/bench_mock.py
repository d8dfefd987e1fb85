"""Requests per second of the embedded mock over keep-alive on loopback.

    .venv/bin/python benchmarks/bench_mock.py [--requests 5000] [--connections 1,4] [--repeat 3]

The mock runs in this process (a real server thread per connection); the
client runs in a *separate process*, so the two do not share a GIL and the
figure is the server's, not the client's. On Linux with two or more CPUs the
server is pinned to CPU 0 and the client to CPU 1, so the server figure is
"one core". Every response is checked for the expected status; a run with
errors says so. Each line is measured ``--repeat`` times and shows the best and
the median run: on a shared machine the best is the server's, the median the
machine's.

The target (issue 8) is at least 2,000 GET requests/s on one core.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time

ACCOUNT_PATH = "/v1/Configuration/Webhooks"
SERVICE = "IS" + "b" * 32
LIST_PATH = f"/v2/Services/{SERVICE}/Channels/bench-room/Webhooks"
UPDATE_BODY = "Method=POST&Filters=onMessageAdded&Filters=onMessageUpdated&PreWebhookUrl=https%3A%2F%2Fexample.com%2Fpre"

#: name -> (method, path, body, expected status)
WORKLOADS = {
    "GET  FetchConfigurationWebhook": ("GET", ACCOUNT_PATH, None, 200),
    "POST UpdateConfigurationWebhook": ("POST", ACCOUNT_PATH, UPDATE_BODY, 200),
    "GET  ListChannelWebhook (5 items)": ("GET", LIST_PATH, None, 200),
}


def _pin(cpu: int) -> bool:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {cpu})
        return True
    return False


# -- client (a separate process) ------------------------------------------------


def run_client(args: argparse.Namespace) -> None:
    if args.pin:
        _pin(1)
    method, path, body, expected = WORKLOADS[args.workload]
    auth = "Basic " + base64.b64encode(f"{args.username}:{args.password}".encode()).decode()
    headers = {"Authorization": auth, "Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    per_connection = args.requests // args.connections
    errors = [0]
    start = threading.Barrier(args.connections + 1)

    def worker() -> None:
        connection = http.client.HTTPConnection(args.host, args.port)
        for _ in range(args.warmup):
            connection.request(method, path, body, headers)
            connection.getresponse().read()
        start.wait()
        for _ in range(per_connection):  # bounded
            connection.request(method, path, body, headers)
            response = connection.getresponse()
            response.read()
            if response.status != expected:
                errors[0] += 1
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(args.connections)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    print(json.dumps({"requests": per_connection * args.connections, "seconds": elapsed, "errors": errors[0]}))


# -- server (this process) --------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=5000, help="requests per measurement (default 5000)")
    parser.add_argument("--connections", default="1,4", help="client connections to try, comma-separated (default 1,4)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per line; best and median are shown (default 3)")
    parser.add_argument("--no-pin", dest="pin", action="store_false", help="do not pin server and client to CPUs")
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--workload", help=argparse.SUPPRESS)
    parser.add_argument("--host", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--username", help=argparse.SUPPRESS)
    parser.add_argument("--password", help=argparse.SUPPRESS)
    parser.add_argument("--warmup", type=int, default=50, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        args.connections = int(args.connections)
        run_client(args)
        return 0

    pinned = _pin(0) if args.pin else False  # before any thread starts: threads inherit it
    from twilio_webhook_contracts.mock import serve_mock

    connection_counts = [int(c) for c in args.connections.split(",")]
    print(f"mock server: this process{' pinned to CPU 0' if pinned else ''}; "
          f"client: a separate process{' pinned to CPU 1' if pinned else ''}, "
          f"http.client over keep-alive, {args.requests} requests per line")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    with serve_mock() as mock:
        # five webhooks for the list workload
        for i in range(5):
            mock.app.state.create_webhook(
                (mock.account_sid, SERVICE, _channel_sid(mock)), {"type": "webhook", "configuration": {"url": f"https://example.com/{i}"}})
        for name in WORKLOADS:
            for connections in connection_counts:
                command = [sys.executable, __file__, "--client", "--workload", name, "--host", mock.server.host,
                           "--port", str(mock.server.port), "--username", mock.account_sid,
                           "--password", mock.auth_token, "--requests", str(args.requests),
                           "--connections", str(connections)]
                if not args.pin:
                    command.append("--no-pin")
                rates, errors = [], 0
                for _ in range(max(1, args.repeat)):
                    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
                    if result.returncode != 0:
                        print(f"{name}: client failed: {result.stderr.strip().splitlines()[-1:]}")
                        return 1
                    figures = json.loads(result.stdout)
                    rates.append(figures["requests"] / figures["seconds"])
                    errors += figures["errors"]
                flag = f"  ({errors} unexpected statuses!)" if errors else ""
                print(f"{name:36} {connections} connection{'s' if connections > 1 else ' '}: "
                      f"{max(rates):6.0f} requests/s best, {statistics.median(rates):6.0f} median{flag}")
        if mock.app.internal_errors:
            print(f"mock internal errors: {mock.app.internal_errors}")
    return 0


def _channel_sid(mock) -> str:
    """The sid the mock resolves the benchmark's unique name to (via its own rule)."""
    from twilio_webhook_contracts.mock.app import Call

    spec_op = mock.app.spec.operation("ListChannelWebhook")
    call = Call(spec_op, mock.account_sid, {"ServiceSid": SERVICE, "ChannelSid": "bench-room"}, {}, {}, "", None)
    return mock.app.channel_sid(call)


if __name__ == "__main__":
    sys.exit(main())
