"""Requests per second of the embedded mock over keep-alive on loopback, and of Prism.

    .venv/bin/python benchmarks/bench_mock.py [--requests 5000] [--connections 1,4] [--repeat 3] [--no-prism]

The mock runs in this process (a real server thread per connection); the
client runs in a *separate process*, so the two do not share a GIL and the
figure is the server's, not the client's. On Linux with two or more CPUs the
server is pinned to CPU 0 and the client to CPU 1, so the server figure is
"one core". Every response is checked for the expected status; a run with
errors says so. Each line is measured ``--repeat`` times and shows the best and
the median run: on a shared machine the best is the server's, the median the
machine's.

With one connection the figure is a round trip's latency (client, loopback and
server in turn; each side mostly waits for the other); with four, the server's core is
kept busy, so that line is its throughput on one core.

Prism (``@stoplight/prism-cli``) serving our exported fragments (``webhook-contracts spec``)
is measured the same way -- same client, same workloads, pinned to the same CPU -- when it
is installed where ``examples/verify-prism.sh`` puts it (``$PRISM_HOME``, default
``~/.cache/twilio-webhook-contracts/prism-5.16.0``); this script never installs it, and
skips it cleanly when it is not there. Prism answers from the documents' examples and
keeps no state, so the list workload is the same request for both but not the same work.
Each Prism serves one document, so Conversations and Chat run as two processes, on the
same CPU, started and stopped by this script.

The targets (issue 8): at least 2,000 GET requests/s on one core; at least twice Prism's
requests per second.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

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
            if response.status != expected and not (args.any_2xx and 200 <= response.status < 300):
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
    parser.add_argument("--no-prism", dest="prism", action="store_false", help="do not measure Prism even if installed")
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--workload", help=argparse.SUPPRESS)
    parser.add_argument("--host", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--username", help=argparse.SUPPRESS)
    parser.add_argument("--password", help=argparse.SUPPRESS)
    parser.add_argument("--warmup", type=int, default=50, help=argparse.SUPPRESS)
    parser.add_argument("--any-2xx", action="store_true", help=argparse.SUPPRESS)
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
    results: dict[tuple[str, str, int], float] = {}
    with serve_mock() as mock:
        # five webhooks for the list workload
        for i in range(5):
            mock.app.state.create_webhook(
                (mock.account_sid, SERVICE, _channel_sid(mock)), {"type": "webhook", "configuration": {"url": f"https://example.com/{i}"}})
        servers = {"conversations": (mock.server.host, mock.server.port), "chat": (mock.server.host, mock.server.port)}
        if measure("mock", servers, mock.account_sid, mock.auth_token, connection_counts, args, results):
            return 1
        if mock.app.internal_errors:
            print(f"mock internal errors: {mock.app.internal_errors}")
    if args.prism:
        prism = find_prism()
        if prism is None:
            print("\nprism: not installed (examples/verify-prism.sh installs it); skipped")
        else:
            with run_prism(prism, pinned) as servers:
                if servers is None:
                    print("prism: did not start; skipped")
                else:
                    print(f"\nprism {prism_version(prism)} serving our exported fragments (two processes"
                          f"{', pinned to CPU 0' if pinned else ''}):")
                    if measure("prism", servers, "AC" + "0" * 32, "prism-does-not-check", connection_counts, args,
                               results, prism=True):
                        return 1
            print()
            for name in WORKLOADS:
                for connections in connection_counts:
                    ours, theirs = results.get(("mock", name, connections)), results.get(("prism", name, connections))
                    if ours and theirs:
                        print(f"ratio mock/prism  {name:36} {connections} connection{'s' if connections > 1 else ' '}: "
                              f"{ours / theirs:5.1f}x")
    return 0


def measure(label: str, servers: dict[str, tuple[str, int]], username: str, password: str, connection_counts,
            args: argparse.Namespace, results: dict, prism: bool = False) -> int:
    for name, (method, path, body, expected) in WORKLOADS.items():
        host, port = servers["chat" if path.startswith("/v2/") else "conversations"]
        for connections in connection_counts:
            command = [sys.executable, __file__, "--client", "--workload", name, "--host", host,
                       "--port", str(port), "--username", username,
                       "--password", password, "--requests", str(args.requests),
                       "--connections", str(connections)]
            if prism:
                command.append("--any-2xx")
            if not args.pin:
                command.append("--no-pin")
            rates, errors = [], 0
            for _ in range(max(1, args.repeat)):
                result = subprocess.run(command, capture_output=True, text=True, timeout=600)
                if result.returncode != 0:
                    print(f"{label} {name}: client failed: {result.stderr.strip().splitlines()[-1:]}")
                    return 1
                figures = json.loads(result.stdout)
                rates.append(figures["requests"] / figures["seconds"])
                errors += figures["errors"]
            results[(label, name, connections)] = max(rates)
            flag = f"  ({errors} unexpected statuses!)" if errors else ""
            print(f"{label:6} {name:36} {connections} connection{'s' if connections > 1 else ' '}: "
                  f"{max(rates):6.0f} requests/s best, {statistics.median(rates):6.0f} median{flag}")
    return 0


# -- Prism ------------------------------------------------------------------------------


def find_prism() -> Path | None:
    version = os.environ.get("PRISM_VERSION", "5.16.0")
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    home = Path(os.environ.get("PRISM_HOME", cache / "twilio-webhook-contracts" / f"prism-{version}"))
    prism = home / "node_modules" / ".bin" / "prism"
    return prism if prism.exists() else None


def prism_version(prism: Path) -> str:
    try:
        return subprocess.run([str(prism), "--version"], capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"


class run_prism:
    """Two Prism mocks (Conversations, Chat) on free 127.0.0.1 ports; always stopped on exit."""

    def __init__(self, prism: Path, pinned: bool):
        self.prism = prism
        self.pinned = pinned
        self.processes: list[subprocess.Popen] = []
        self.scratch = tempfile.TemporaryDirectory()

    def __enter__(self) -> dict[str, tuple[str, int]] | None:
        directory = Path(self.scratch.name)
        cli = str(Path(sys.executable).with_name("webhook-contracts"))
        subprocess.run([cli, "spec", "--output", str(directory)], check=True, capture_output=True)
        servers = {}
        for api, document in (("conversations", "conversations_v1.yaml"), ("chat", "chat_v2.yaml")):
            port = _free_port()
            log = open(directory / f"{api}.log", "w")
            self.processes.append(subprocess.Popen(
                [str(self.prism), "mock", "--host", "127.0.0.1", "--port", str(port), str(directory / document)],
                stdout=log, stderr=subprocess.STDOUT, preexec_fn=(lambda: _pin(0)) if self.pinned else None))
            servers[api] = ("127.0.0.1", port)
        deadline = time.monotonic() + 120
        for host, port in servers.values():
            while True:
                try:
                    socket.create_connection((host, port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or any(p.poll() is not None for p in self.processes):
                        return None
                    time.sleep(0.25)
        return servers

    def __exit__(self, *exc: object) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        self.scratch.cleanup()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _channel_sid(mock) -> str:
    """The sid the mock resolves the benchmark's unique name to (via its own rule)."""
    from twilio_webhook_contracts.mock.app import Call

    spec_op = mock.app.spec.operation("ListChannelWebhook")
    call = Call(spec_op, mock.account_sid, {"ServiceSid": SERVICE, "ChannelSid": "bench-room"}, {}, {}, "", None)
    return mock.app.channel_sid(call)


if __name__ == "__main__":
    sys.exit(main())
