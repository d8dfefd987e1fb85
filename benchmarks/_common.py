"""Shared pieces of the benchmark scripts: the machine line, a counting mock, subprocess timing.

Not a benchmark itself; each ``bench_*.py`` is run on its own (see ``benchmarks/README.md``).
"""

from __future__ import annotations

import os
import platform
import re
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: The mock's account for every benchmark (any well-formed sid and token would do).
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "benchmark-token-0123456789abcdef"
#: Where the CLI lives next to the interpreter running the benchmark.
CLI = str(Path(sys.executable).with_name("webhook-contracts"))


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_line() -> str:
    """``nproc``, CPU model and Python version: what every figure was measured on."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"machine: {cpus} CPUs ({cpu_model()}), Python {platform.python_version()}, {platform.system()} {platform.release()}"


def package_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


class CountingLog:
    """A request log for the mock that only counts (server-side), so that every tool is counted alike."""

    def __init__(self) -> None:
        from twilio_webhook_contracts.mock.log import RequestLog

        class _Log(RequestLog):
            def __init__(self) -> None:
                super().__init__(maxlen=1)
                self.count = 0
                self.count_lock = threading.Lock()

            def record(self, entry) -> None:  # noqa: ANN001
                with self.count_lock:
                    self.count += 1

        self.log = _Log()

    @property
    def count(self) -> int:
        return self.log.count


@dataclass
class Timed:
    returncode: int
    seconds: float
    stdout: str
    stderr: str
    maxrss_kib: int | None = None


def run_measured(command: list[str], *, env: dict[str, str] | None = None, timeout: float = 3600.0,
                 cwd: str | Path | None = None) -> Timed:
    """Run *command*: exit status, wall time, output, and the child's own peak RSS from ``wait4`` (KiB on Linux)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd)
    out: dict[str, bytes] = {}

    def drain(name: str, stream) -> None:  # noqa: ANN001
        out[name] = stream.read()

    readers = [threading.Thread(target=drain, args=(n, s)) for n, s in (("out", process.stdout), ("err", process.stderr))]
    for reader in readers:
        reader.start()
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            process.kill()
            pid, status, usage = os.wait4(process.pid, 0)
            break
        time.sleep(0.01)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    for reader in readers:
        reader.join()
    return Timed(process.returncode, seconds, out.get("out", b"").decode(errors="replace"),
                 out.get("err", b"").decode(errors="replace"), usage.ru_maxrss)


_SUMMARY = re.compile(r"in (?P<requests>\d+) requests, (?P<seconds>[0-9.]+) s")


def run_summary(stdout: str) -> tuple[int, float] | None:
    """(requests, seconds) from the closing line of ``webhook-contracts run``."""
    match = _SUMMARY.search(stdout)
    return (int(match["requests"]), float(match["seconds"])) if match else None


@contextmanager
def mock_process(*options: str, wait: float = 20.0) -> Iterator[int]:
    """``webhook-contracts mock`` in its own process on a free loopback port (as a user's mock would
    run), yielded once it accepts connections; always stopped. Exits the benchmark if it never starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mock = subprocess.Popen([CLI, "mock", "--port", str(port), *options],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or mock.poll() is not None:
                    raise SystemExit("the mock did not start") from None
                time.sleep(0.05)
        yield port
    finally:
        mock.terminate()
        mock.wait(10)
