"""The official twilio-node client works against the mock and reads back what it wrote (issue 16).

The same bar as tests/test_mock_twilio_client.py sets for twilio-python: fetch and
update of both configurations; create, list (``limit: 20``, Twilio's default
call), fetch, update and delete of channel webhooks of all three types; API-key
auth; ``autoRetry`` through 429s. twilio-node is installed at a pinned version
into a temporary folder once per session (``node_modules`` is not committed);
without node or npm the test fails with a clear message, it does not skip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from twilio_webhook_contracts.mock import Policies

TWILIO_NODE_VERSION = "5.13.1"  # pinned: supports node >= 14
SCRIPT = Path(__file__).parent / "node" / "drive_mock.js"
SERVICE = "IS" + "a" * 32
FLOW = "FW" + "f" * 32


@pytest.fixture(scope="session")
def twilio_node(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``node_modules`` holding twilio-node at the pinned version (npm install, once per session)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail(f"the twilio-node client test needs node and npm on PATH (found node={node}, npm={npm}); "
                    f"install Node.js >= 14", pytrace=False)
    folder = tmp_path_factory.mktemp("twilio-node")
    done = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--no-save", "--silent",
                           f"twilio@{TWILIO_NODE_VERSION}"], cwd=folder, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        pytest.fail(f"npm install twilio@{TWILIO_NODE_VERSION} failed: {done.stderr.strip()[-800:]}", pytrace=False)
    return folder / "node_modules"


def drive(node_modules: Path, mock, phase: str) -> dict:
    config = {"base": mock.url, "accountSid": mock.account_sid, "authToken": mock.auth_token,
              "apiKeySid": mock.api_key_sid, "apiKeySecret": mock.api_key_secret, "service": SERVICE}
    env = {**os.environ, "NODE_PATH": str(node_modules)}
    env.pop("HTTP_PROXY", None)
    done = subprocess.run([shutil.which("node") or "node", str(SCRIPT), phase], input=json.dumps(config),
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_twilio_node_reads_back_what_it_wrote(twilio_node, twilio_mock):
    out = drive(twilio_node, twilio_mock, "crud")

    assert out["account_initial"]["accountSid"] == twilio_mock.account_sid
    assert out["account_initial"]["url"] == f"{twilio_mock.url}/v1/Configuration/Webhooks"
    for name in ("account_updated", "account_fetched"):
        assert {key: out[name][key] for key in out["account_written"]} == out["account_written"], name
    for name in ("service_updated", "service_fetched"):
        assert {key: out[name][key] for key in out["service_written"]} == out["service_written"], name
        assert out[name]["chatServiceSid"] == SERVICE and out[name]["preWebhookUrl"] is None

    created, fetched, written = out["channel_created"], out["channel_fetched"], out["channel_written"]
    expected = {
        "webhook": {"url": "https://example.com/hook", "method": "GET", "filters": ["onMessageSent"], "retry_count": 2},
        "studio": {"flow_sid": FLOW},
        "trigger": {"url": "https://example.com/t", "triggers": ["help", "urgent"]},
    }
    assert set(written) == set(expected)
    for kind, configuration in expected.items():
        assert created[kind]["type"] == kind and created[kind]["configuration"] == configuration, kind
        assert fetched[kind] == created[kind], kind
        assert created[kind]["serviceSid"] == SERVICE and created[kind]["channelSid"].startswith("CH")
    sids = [created[kind]["sid"] for kind in expected]
    assert [w["sid"] for w in out["channel_listed"]] == sids  # list({limit: 20}) sends PageSize=20
    assert out["channel_listed"] == [created[kind] for kind in expected]
    assert [w["sid"] for w in out["channel_page_size_20"]] == sids
    assert out["channel_updated"]["configuration"] == {**expected["webhook"], "url": "https://example.com/changed",
                                                       "retry_count": 3}
    assert out["channel_refetched"] == out["channel_updated"]
    assert out["channel_removed"] is True and out["channel_gone"] == {"status": 404, "code": 20404}
    assert out["channel_listed_after"] == [created["webhook"]["sid"], created["trigger"]["sid"]]

    assert out["api_key_fetch"]["accountSid"] == twilio_mock.account_sid
    assert twilio_mock.requests[-1].username == twilio_mock.api_key_sid
    assert any("PageSize=20" in entry.query for entry in twilio_mock.requests)
    assert twilio_mock.app.internal_errors == 0


def test_twilio_node_auto_retry_gets_through_429s(twilio_node, twilio_mock):
    twilio_mock.configure(policies=Policies(rate_limit_every=3))
    out = drive(twilio_node, twilio_mock, "retry")
    assert out["retried"] == ["webhook", "flex", "webhook", "flex", "webhook"] and out["final"] == "webhook"
    limited = [entry for entry in twilio_mock.requests if entry.status == 429]
    assert len(limited) >= 2  # autoRetry met 429s and went through them
    assert {"status": 429, "code": 20429} in out["without_retry"]  # without autoRetry, the 429 surfaces
