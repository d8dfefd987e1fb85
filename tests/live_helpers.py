"""Helpers for ``tests/test_live.py``: the mock standing in for live Twilio, and ways to run the CLI against it.

Everything is served on 127.0.0.1 by the test process. Runs that receive signals are
real subprocesses of the console script; the others call ``main()`` in this process
(faster, and able to shorten the live restore's back-off).
"""

from __future__ import annotations

import io
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import pytest

from twilio_webhook_contracts import live
from twilio_webhook_contracts.cli import main
from twilio_webhook_contracts.mock import MockApp, MockError

ACCOUNT = "AC" + "5" * 32
#: Distinctive, and full of characters that change under URL, JSON, XML or shell encoding.
TOKEN = "L1veTok3n+With/Odd=Chars&<x>-0a9b8c7d6e5f"
API_KEY = "SK" + "4" * 32
API_SECRET = "L1veApiSecret+/=&<y>-9z8y7x6w5v"
SERVICE = "IS" + "3" * 32
CHANNEL = "CH" + "2" * 32
#: Small, quick runs: requests are never held back by the rate limit, few examples per operation.
FAST = ["--rate-limit", "100000", "--max-examples", "3"]
SECRET_VARIABLES = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_KEY", "TWILIO_API_SECRET")
TOKEN_ENV = {"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": TOKEN}
API_KEY_ENV = {"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_API_KEY": API_KEY, "TWILIO_API_SECRET": API_SECRET}

#: What an account looks like before a live run: everything set, so restoring it is real work.
ACCOUNT_CONFIG = {"method": "GET", "filters": ["onMessageAdded", "onConversationRemoved"],
                  "pre_webhook_url": "https://hooks.example.com/pre?a=1", "post_webhook_url": "https://hooks.example.com/post",
                  "target": "webhook"}
SERVICE_CONFIG = {"method": "POST", "filters": ["onMessageAdded", "onParticipantAdded"],
                  "pre_webhook_url": "https://hooks.example.com/service-pre", "post_webhook_url": "https://hooks.example.com/service-post"}
#: A webhook someone else put on the channel: it must survive every run untouched.
FOREIGN_WEBHOOK = {"type": "webhook", "configuration": {"url": "https://hooks.example.com/theirs", "method": "POST",
                                                       "filters": ["onMessageSent"], "retry_count": 2}}


def seed_state(mock: Any, service_config: dict[str, Any] | None = None) -> dict[str, Any]:
    """Give the mock's account a non-trivial configuration and one foreign webhook; return the full state."""
    state = mock.state
    state.update_account_config(ACCOUNT, ACCOUNT_CONFIG)
    state.update_service_config(ACCOUNT, SERVICE, SERVICE_CONFIG if service_config is None else service_config)
    state.create_webhook((ACCOUNT, SERVICE, CHANNEL), FOREIGN_WEBHOOK)
    return state.snapshot()


def live_args(url: str, *extra: str, writes: bool = True, resources: bool = True) -> list[str]:
    args = ["--target", url, "--live", *FAST]
    if writes:
        args.append("--allow-writes")
    if resources:
        args += ["--service-sid", SERVICE, "--channel-sid", CHANNEL]
    return [*args, *extra]


def report_args(directory: Path, history: bool = True) -> list[str]:
    args = ["--report-json", str(directory / "report.json"), "--junitxml", str(directory / "report.xml"),
            "--report-markdown", str(directory / "report.md")]
    return args + (["--history", str(directory / "history.sqlite")] if history else [])


@dataclass
class Outcome:
    """One CLI run: its exit status, what it printed, and the directory it wrote into."""

    code: int
    stdout: str
    stderr: str
    directory: Path
    extra: dict[str, Any] = field(default_factory=dict)

    def file(self, name: str) -> str:
        return (self.directory / name).read_text(encoding="utf-8")

    def report(self) -> dict[str, Any]:
        import json

        return json.loads(self.file("report.json"))

    def texts(self) -> dict[str, str]:
        """Everything the run wrote: both streams, every file in its directory (SQLite as its SQL dump)."""
        texts = {"stdout": self.stdout, "stderr": self.stderr}
        for path in sorted(self.directory.rglob("*")):
            if not path.is_file():
                continue
            if path.suffix == ".sqlite":
                texts[path.name] = dump_sqlite(path)
            else:
                texts[str(path.relative_to(self.directory))] = path.read_bytes().decode("utf-8", "replace")
        return texts


def dump_sqlite(path: Path) -> str:
    connection = sqlite3.connect(str(path))
    try:
        return "\n".join(connection.iterdump())
    finally:
        connection.close()


def cli(args: Sequence[str], directory: Path, env: dict[str, str] | None = None, *, quick_restore: bool = False,
        command: str = "run") -> Outcome:
    """``webhook-contracts <command> ARGS`` in this process, in *directory*, with *env* as the only TWILIO_ variables.

    *quick_restore* shortens the live guard's back-off between restore attempts
    (0.5 ... 8 s) to milliseconds: same attempts, same passes, no waiting.
    """
    directory.mkdir(parents=True, exist_ok=True)
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        for name in SECRET_VARIABLES:
            patch.delenv(name, raising=False)
        for name, value in (env or {}).items():
            patch.setenv(name, value)
        patch.chdir(directory)
        if quick_restore:
            patch.setattr(live, "_RESTORE_BACKOFF", (0.001,) * len(live._RESTORE_BACKOFF))
        with redirect_stdout(out), redirect_stderr(err):
            code = main([command, *args])
    return Outcome(code, out.getvalue(), err.getvalue(), directory)


def console_script() -> list[str]:
    script = Path(sys.executable).with_name("webhook-contracts")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from twilio_webhook_contracts.cli import main; sys.exit(main())"]


class Spawned:
    """``webhook-contracts run ...`` in a subprocess, its output in files of its directory."""

    def __init__(self, args: Sequence[str], directory: Path, env: dict[str, str]):
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        environ = {k: v for k, v in os.environ.items() if not k.startswith("TWILIO_")}
        environ.update(env)
        environ["PYTHONHASHSEED"] = "random"  # replays must not depend on the interpreter's hash seed
        self._out = open(directory / ".stdout", "w", encoding="utf-8")
        self._err = open(directory / ".stderr", "w", encoding="utf-8")
        self.process = subprocess.Popen([*console_script(), "run", *args], cwd=directory, env=environ,
                                        stdout=self._out, stderr=self._err, text=True)

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait(self, timeout: float = 180) -> Outcome:
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        finally:
            self._out.close()
            self._err.close()
        stdout = (self.directory / ".stdout").read_text(encoding="utf-8")
        stderr = (self.directory / ".stderr").read_text(encoding="utf-8")
        (self.directory / ".stdout").unlink()
        (self.directory / ".stderr").unlink()
        return Outcome(code, stdout, stderr, self.directory)


# ---------------------------------------------------------------------------
# mock variants (the mock itself is not changed)


@dataclass(frozen=True)
class Kill:
    """When to send which signal to the client.

    ``on``: ``"write"`` -- the k-th accepted write (a 2xx POST/DELETE); ``"create"``
    -- the k-th accepted create; ``"request"`` -- the k-th request of any kind;
    ``"after"`` -- the k-th request after the previous signal was sent.
    ``soon``: None sends the signal once the request has been processed and before
    it is answered (the client is waiting for that answer: the write is applied,
    the client never learns of it); a number of seconds sends it that long after
    the answer, from another thread -- wherever the client happens to be then.
    """

    on: str
    k: int
    signum: int
    soon: float | None = None


class SignalsClient(MockApp):
    """The reference mock, which also signals the client process at the planned moments."""

    def __init__(self, plan: Sequence[Kill], **options: Any):
        super().__init__(**options)
        self.plan = list(plan)
        self.pid: int | None = None
        self.fired: list[tuple[Kill, int]] = []  # (kill, index in the request log when sent)
        self.state_when_signalled: dict[str, Any] | None = None
        self._counts = {"write": 0, "create": 0, "request": 0, "after": 0}
        self._plan_lock = threading.Lock()
        self._timers: list[threading.Timer] = []

    def handle(self, request):
        response = super().handle(request)
        with self._plan_lock:
            accepted_write = request.method in ("POST", "DELETE") and response.status < 300
            self._counts["request"] += 1
            self._counts["after"] += 1
            self._counts["write"] += accepted_write
            self._counts["create"] += accepted_write and response.status == 201
            due = self.plan[0] if self.plan and self._counts[self.plan[0].on] == self.plan[0].k else None
            if due is not None and (due.on != "write" or accepted_write) and (due.on != "create" or response.status == 201):
                self.plan.pop(0)
                self._counts["after"] = 0
                self.fired.append((due, self._counts["request"]))
                if self.state_when_signalled is None:
                    self.state_when_signalled = self.state.snapshot()
                if due.soon is None:
                    self._send(due.signum)
                else:
                    timer = threading.Timer(due.soon, self._send, (due.signum,))
                    self._timers.append(timer)
                    timer.start()
        return response

    def _send(self, signum: int) -> None:
        if self.pid is not None:
            try:
                os.kill(self.pid, signum)
            except ProcessLookupError:  # already gone
                pass

    def join_timers(self) -> None:
        for timer in self._timers:
            timer.join(5)


class FailsAfter(MockApp):
    """Answers requests normally, then 500 to every request from number ``start + 1`` on
    (for ``burst`` requests, or for ever when ``burst`` is None): a target that starts
    failing halfway through a run."""

    def __init__(self, start: int, burst: int | None = None, **options: Any):
        super().__init__(**options)
        self.start, self.burst = start, burst
        self.count = 0
        self._count_lock = threading.Lock()

    def process(self, request, note):
        with self._count_lock:
            self.count += 1
            failing = self.count > self.start and (self.burst is None or self.count <= self.start + self.burst)
        if failing:
            note.fault = "test-500"
            raise MockError(500, 20500, "Internal Server Error")
        return super().process(request, note)


class DropsTarget(MockApp):
    """The account configuration lacks its documented ``target`` property (a contract break)."""

    def render_account_config(self, call, stored):
        body = super().render_account_config(call, stored)
        del body["target"]
        return body


class DropsTargetAndEchoesAuthorization(DropsTarget):
    """Also answers 400 and 404 with the Authorization header it was sent, and no ``more_info``: a leaky
    proxy; each such answer is a violation whose excerpt carries the credentials, which the reports must redact."""

    def handle(self, request):
        response = super().handle(request)
        if response.status in (400, 404) and request.headers.get("authorization"):
            import json

            body = json.dumps({"code": 20001, "message": "you sent " + request.headers["authorization"],
                               "status": response.status}).encode()
            headers = [(k, v) for k, v in response.headers if k.lower() != "content-length"]
            return type(response)(response.status, [*headers, ("Content-Length", str(len(body)))], body)
        return response


SIGINT, SIGTERM = signal.SIGINT, signal.SIGTERM
