"""``webhook-contracts mock`` as a user runs it, the ``twilio_mock`` fixture in someone
else's project, and the wheel shipping the mock."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import tomllib
from pathlib import Path

import pytest
import requests

from test_mock_support import ACCOUNT_PATH, assert_documented
from twilio_webhook_contracts.cli import main

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-c", "import sys; from twilio_webhook_contracts.cli import main; sys.exit(main())"]
ACCOUNT = "AC" + "5" * 32
TOKEN = "a-token-that-must-never-be-printed"


class Running:
    """The mock command in a subprocess, its stdout read line by line (with a bound)."""

    def __init__(self, *args: str, env: dict[str, str] | None = None):
        environment = {k: v for k, v in os.environ.items() if k not in ("TWILIO_AUTH_TOKEN", "TWILIO_API_SECRET")}
        self.process = subprocess.Popen([*CLI, "mock", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, cwd=ROOT, env={**environment, **(env or {})})
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.banner = self._until("listening on")
        self.url = self.banner[0].split("listening on ")[1].split()[0]

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def _until(self, text: str) -> list[str]:
        seen: list[str] = []
        for _ in range(50):  # bounded
            line = self.lines.get(timeout=60)
            if line is None:
                raise AssertionError(f"the mock exited: {seen} {self.process.stderr.read()}")
            seen.append(line)
            if text in line:
                return seen[-1:] + self._drain()
        raise AssertionError(f"no {text!r} in {seen}")

    def _drain(self) -> list[str]:
        rest = []
        while True:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                return rest
            if line is None:
                return rest
            rest.append(line)

    def stop(self, signum: int) -> tuple[int, str, str]:
        self.process.send_signal(signum)
        code = self.process.wait(timeout=60)
        rest = "".join(line for line in iter(lambda: self.lines.get(timeout=60), None))
        return code, rest, self.process.stderr.read()


def test_the_command_serves_until_sigterm_and_never_prints_the_token(tmp_path):
    log = tmp_path / "requests.jsonl"
    running = Running("--port", "0", "--account-sid", ACCOUNT, "--auth-token", TOKEN, "--request-log", str(log))
    banner = "".join(running.banner)
    assert ACCOUNT in banner and TOKEN not in banner and "127.0.0.1" in running.url
    ok = requests.get(running.url + ACCOUNT_PATH, auth=(ACCOUNT, TOKEN), timeout=30)
    assert ok.status_code == 200 and ok.json()["account_sid"] == ACCOUNT
    assert_documented("GET", ACCOUNT_PATH, ok.status_code, ok.headers, ok.content)
    refused = requests.get(running.url + ACCOUNT_PATH, auth=("AC" + "0" * 32, "mock-auth-token"), timeout=30)
    assert refused.status_code == 401  # the defaults are off once credentials are given
    code, rest, errors = running.stop(signal.SIGTERM)
    assert code == 0 and "stopped" in rest and errors == ""
    assert TOKEN not in rest + errors
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(e["status"], e["username"]) for e in entries] == [(200, ACCOUNT), (401, "AC" + "0" * 32)]
    assert TOKEN not in log.read_text()


def test_the_default_credentials_are_printed_and_ctrl_c_stops_it():
    running = Running("--port", "0", "--rate-limit-every", "2", "--seed", "1")
    banner = "".join(running.banner)
    assert "AC00000000000000000000000000000000" in banner and "mock-auth-token" in banner
    assert "SK00000000000000000000000000000000" in banner and "429 every 2 requests" in banner
    auth = ("AC00000000000000000000000000000000", "mock-auth-token")
    statuses = [requests.get(running.url + ACCOUNT_PATH, auth=auth, timeout=30).status_code for _ in range(4)]
    assert statuses == [200, 429, 200, 429]
    code, rest, errors = running.stop(signal.SIGINT)
    assert code == 0 and "stopped" in rest and "Traceback" not in errors


@pytest.mark.parametrize("args,message", [
    (["--port", "70000"], "port must be between 0 and 65535"),
    (["--port", "http"], "not a port number"),
    (["--account-sid", ACCOUNT], "--account-sid and --auth-token go together"),
    (["--account-sid", "AC123", "--auth-token", TOKEN], "--account-sid must be AC followed by 32 hexadecimal digits"),
    (["--api-key-sid", "SK1", "--api-key-secret", "s"], "--api-key-sid must be SK followed by 32"),
    (["--api-key-secret", "s"], "--api-key-sid and --api-key-secret go together"),
    (["--account-sid", ACCOUNT, "--auth-token", ""], "--auth-token must not be empty"),
    (["--latency", "-2"], "must be a finite number >= 0"),
    (["--error-rate", "1.5"], "must be between 0 and 1"),
    (["--rate-limit-every", "x"], "not a whole number"),
    (["--error-status", "502"], "invalid choice"),
    (["--request-log", "/nonexistent-dir/log.jsonl"], "cannot open request log"),
    (["--policy", "parents=maybe"], "policy parents: 'maybe' is not one of implicit, declared"),
    (["--policy", "nonsense=1"], "unknown policy 'nonsense' (known: parents, unique_names"),
    (["--policy", "gzip"], "expected NAME=VALUE"),
    (["--resource", "IS" + "a" * 32], "--resource declares what exists under --policy parents=declared"),
    (["--policy", "parents=declared", "--resource", "ISxyz"], "expected IS followed by 32 hex digits"),
])
def test_bad_input_is_one_clear_line(capsys, monkeypatch, args, message):
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    monkeypatch.delenv("TWILIO_API_SECRET", raising=False)
    assert main(["mock", *args]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("webhook-contracts: error: ") and message in err
    assert TOKEN not in err


def test_a_taken_port_is_one_clear_line(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        assert main(["mock", "--port", str(taken.getsockname()[1])]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot listen on 127.0.0.1:" in err


def test_help_stays_fast_by_not_importing_the_mock():
    probe = ("import sys; from twilio_webhook_contracts.cli import build_parser; build_parser(); "
             "print(sorted(m for m in sys.modules if m.startswith(('twilio_webhook_contracts.mock', 'werkzeug', 'http.server'))))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.strip() == "[]"


def test_the_wheel_lists_every_package_of_the_project():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(init.parent.relative_to(ROOT).parts) for init in ROOT.glob("twilio_webhook_contracts/**/__init__.py")}
    assert found - {"twilio_webhook_contracts.openapi"} <= listed  # openapi/ is mapped via package-dir
    assert {"twilio_webhook_contracts.mock", "twilio_webhook_contracts.commands"} <= listed


PROJECT_TEST = '''
import requests

def test_plain():
    assert True

def test_with_the_mock(twilio_mock):
    response = requests.get(twilio_mock.url + "/v1/Configuration/Webhooks", auth=(twilio_mock.account_sid, twilio_mock.auth_token))
    assert response.json()["target"] == "webhook"
    assert [entry.is_write for entry in twilio_mock.requests] == [False]
'''


def test_the_fixture_works_in_another_project_and_the_plugin_stays_silent(tmp_path):
    (tmp_path / "test_project.py").write_text(PROJECT_TEST)
    environ = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error", "-rw"],
                            cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout and "warning" not in result.stdout.lower() and result.stderr == ""


def test_the_auth_token_can_come_from_the_environment_and_stays_out_of_argv():
    running = Running("--port", "0", "--account-sid", ACCOUNT, env={"TWILIO_AUTH_TOKEN": TOKEN})
    banner = "".join(running.banner)
    assert TOKEN not in banner and "$TWILIO_AUTH_TOKEN" in banner
    assert TOKEN not in " ".join(running.process.args)  # not in `ps`
    assert requests.get(running.url + ACCOUNT_PATH, auth=(ACCOUNT, TOKEN), timeout=30).status_code == 200
    assert requests.get(running.url + ACCOUNT_PATH, auth=(ACCOUNT, "other"), timeout=30).status_code == 401
    code, rest, errors = running.stop(signal.SIGTERM)
    assert code == 0 and TOKEN not in rest + errors


def test_policies_and_resources_from_the_command_line():
    service, other = "IS" + "a" * 32, "IS" + "b" * 32
    running = Running("--port", "0", "--policy", "parents=declared", "--resource", f"{service}/my-room",
                      "--policy", "charset=on")
    banner = "".join(running.banner)
    assert "policies: parents=declared, charset=on" in banner and f"{service}/my-room" in banner
    auth = ("AC00000000000000000000000000000000", "mock-auth-token")
    known = requests.get(f"{running.url}/v2/Services/{service}/Channels/my-room/Webhooks", auth=auth, timeout=30)
    assert known.status_code == 200 and known.headers["Content-Type"] == "application/json; charset=utf-8"
    unknown = requests.get(f"{running.url}/v1/Services/{other}/Configuration/Webhooks", auth=auth, timeout=30)
    assert unknown.status_code == 404 and unknown.json()["code"] == 20404
    code, _, errors = running.stop(signal.SIGTERM)
    assert code == 0 and errors == ""
