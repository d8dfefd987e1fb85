"""Prism, for real: the findings of docs/prism-matrix.md still hold.

Runs only where Prism is already installed -- where ``examples/verify-prism.sh`` put it
(``$PRISM_HOME``, default ``~/.cache/twilio-webhook-contracts/prism-5.16.0``) -- and
Node.js is on the PATH; it never installs anything, so CI without Prism skips it.
Both Prism servers listen on 127.0.0.1 and are stopped whatever happens.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Iterator

import pytest
import requests

from helpers import DATA
from twilio_webhook_contracts.cli import main

PRISM_VERSION = os.environ.get("PRISM_VERSION", "5.16.0")
PRISM_HOME = Path(os.environ.get("PRISM_HOME") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
                  / "twilio-webhook-contracts" / f"prism-{PRISM_VERSION}")
PRISM = PRISM_HOME / "node_modules" / ".bin" / "prism"
ACCOUNT = "AC0123456789abcdef0123456789abcdef"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not PRISM.exists() or shutil.which("node") is None,
                       reason=f"Prism is not installed at {PRISM} (examples/verify-prism.sh installs it)"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def prism_twilio(tmp_path_factory) -> Iterator[tuple[str, str]]:
    """Prism serving Twilio's own description: one server for Conversations, one for Chat."""
    logs = tmp_path_factory.mktemp("prism")
    processes, urls = [], []
    try:
        for name in ("conversations_v1_webhooks.json", "chat_v2_channel_webhooks.json"):
            port = _free_port()
            log = open(logs / f"{name}.log", "wb")
            processes.append(subprocess.Popen(
                [str(PRISM), "mock", "--host", "127.0.0.1", "--port", str(port), str(DATA / "reference" / name)],
                stdout=log, stderr=subprocess.STDOUT))
            urls.append(f"http://127.0.0.1:{port}")
        for url, process in zip(urls, processes):
            _wait_until_listening(url, process)
        yield urls[0], urls[1]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_listening(url: str, process: subprocess.Popen) -> None:
    port = int(url.rsplit(":", 1)[1])
    for _ in range(240):  # Prism needs ~15 s to start; give up after two minutes
        if process.poll() is not None:
            pytest.fail(f"Prism exited with status {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"Prism did not start listening on {url}")


def test_prism_accepts_any_secret_and_rejects_repeated_form_keys(prism_twilio):
    conversations, _ = prism_twilio
    url = f"{conversations}/v1/Configuration/Webhooks"
    assert requests.get(url, timeout=10).status_code == 401
    assert requests.get(url, auth=(ACCOUNT, "wrong"), timeout=10).status_code == 200
    answer = requests.post(url, auth=(ACCOUNT, "x"), timeout=10,
                           data=[("Filters", "onMessageAdded"), ("Filters", "onUserAdded")])
    assert answer.status_code == 422 and "must be array" in answer.text


def test_the_matrix_finds_prisms_differences_and_its_statelessness(prism_twilio, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "prism-does-not-check-this-token")
    monkeypatch.chdir(tmp_path)
    conversations, chat = prism_twilio
    code = main(["verify", f"prism={conversations},{chat}", "--seed", "1", "-q", "--report-json", "m.json",
                 "--service-sid", "IS00000000000000000000000000000001",
                 "--channel-sid", "CH00000000000000000000000000000001"])
    capsys.readouterr()
    assert code == 1
    data = json.loads((tmp_path / "m.json").read_text())
    cells = {check["name"]: check["cells"]["prism"]["status"] for check in data["checks"]}
    for name in ("error_body_is_twilio", "content_type_is_json", "invalid_request_rejected", "path_sids_echoed",
                 "account_sid_matches", "valid_request_accepted"):
        assert cells[name] == "fail", name
    assert cells["response_schema_conforms"] == "pass"  # Twilio's examples satisfy the fragments
    assert data["targets"][0]["stateless"] == "detected"
    assert {cells[check["name"]] for check in data["checks"] if check["family"] == "state"} == {"no state"}
