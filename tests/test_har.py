"""HAR 1.2 cassettes (``run --report-har``) and ``webhook-contracts replay``: every exchange is in
the file, in HAR 1.2's shape, with no secret; replay re-sends the failing steps and re-checks them
(still failing against the broken server, passing against a fixed one)."""

from __future__ import annotations

import base64
import json
import socket

import pytest

from twilio_webhook_contracts.cli import main
from twilio_webhook_contracts.mock import MockApp, serve_mock

from live_helpers import DropsTarget

ACCOUNT = "AC" + "8" * 32
TOKEN = "har-Token+Distinctive/0f1e2d3c4b5a"


@pytest.fixture(autouse=True)
def hermetic(monkeypatch):
    for name in ("TWILIO_API_KEY", "TWILIO_API_SECRET", "GITHUB_ACTIONS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)


@pytest.fixture(scope="module")
def cassette(tmp_path_factory):
    folder = tmp_path_factory.mktemp("har")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT)
        patch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
        with serve_mock(DropsTarget(accounts={ACCOUNT: TOKEN})) as mock:
            code = main(["run", "--max-examples", "3", "--database", "none", "--seed", "21", "-q", "--no-stateful",
                         "--target", mock.url, "--report-har", str(folder / "run.har"),
                         "--report-json", str(folder / "run.json")])
    assert code == 1
    return folder


REQUEST_FIELDS = {"method", "url", "httpVersion", "cookies", "headers", "queryString", "headersSize", "bodySize"}
RESPONSE_FIELDS = {"status", "statusText", "httpVersion", "cookies", "headers", "content", "redirectURL", "headersSize",
                   "bodySize"}


def test_the_cassette_is_har_1_2_with_every_exchange_and_no_secret(cassette):
    text = (cassette / "run.har").read_text(encoding="utf-8")
    report = json.loads((cassette / "run.json").read_text(encoding="utf-8"))
    log = json.loads(text)["log"]
    assert log["version"] == "1.2" and log["creator"]["name"] == "twilio-webhook-contracts"
    entries = log["entries"]
    assert len(entries) == report["counts"]["requests_sent"] > 0  # every exchange
    for entry in entries:
        assert {"startedDateTime", "time", "request", "response", "cache", "timings"} <= set(entry)
        assert REQUEST_FIELDS <= set(entry["request"]) and RESPONSE_FIELDS <= set(entry["response"])
        assert {"size", "mimeType"} <= set(entry["response"]["content"])
        assert {"send", "wait", "receive"} <= set(entry["timings"]) and entry["time"] >= 0
        assert entry["startedDateTime"].endswith("Z") and entry["request"]["url"].startswith("http://127.0.0.1:")
        for header in entry["request"]["headers"]:
            if header["name"] == "Authorization":
                assert header["value"] == "Basic ***"
    assert [e["startedDateTime"] for e in entries] == sorted(e["startedDateTime"] for e in entries)
    assert TOKEN not in text and base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode() not in text
    assert {e["_auth"] for e in entries} == {"valid", "none", "wrong"}
    failing = {(check, e["_operationId"]) for e in entries for check in e["_failedChecks"]}
    assert failing == {(v["check"], v["operation"]) for v in report["violations"]}


def _replay(capsys, *args):
    code = main(["replay", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_replay_against_the_broken_server_still_fails(cassette, capsys):
    with serve_mock(DropsTarget(accounts={ACCOUNT: TOKEN})) as mock:
        code, out, err = _replay(capsys, str(cassette / "run.har"), "--target", mock.url)
        sent = [entry for entry in mock.requests]
    steps = [e for e in json.loads((cassette / "run.har").read_text())["log"]["entries"] if e["_failedChecks"]]
    assert code == 1 and err == ""
    assert len(sent) == len(steps)  # exactly the failing steps, nothing else
    assert out.count("still fails: ") == sum(len(e["_failedChecks"]) for e in steps)
    assert out.strip().splitlines()[-1] == f"{len(steps)} of {len(steps)} failing step(s) still fail against {mock.url}"
    assert TOKEN not in out


def test_replay_against_a_fixed_server_passes(cassette, capsys):
    with serve_mock(MockApp(accounts={ACCOUNT: TOKEN})) as mock:
        code, out, _ = _replay(capsys, str(cassette / "run.har"), "--target", mock.url)
    assert code == 0 and "still fails" not in out and "now passes" in out
    assert out.strip().splitlines()[-1].startswith("0 of ")


def test_replay_mistakes_are_one_line_and_an_unreachable_target_is_3(cassette, capsys, tmp_path):
    code, _, err = _replay(capsys, str(tmp_path / "missing.har"), "--target", "http://127.0.0.1:9")
    assert code == 2 and err.count("\n") == 1 and "cannot read" in err
    (tmp_path / "x.har").write_text('{"log": {"version": "1.1", "entries": []}}')
    code, _, err = _replay(capsys, str(tmp_path / "x.har"), "--target", "http://127.0.0.1:9")
    assert code == 2 and "expected 1.2" in err
    code, _, err = _replay(capsys, str(cassette / "run.har"))
    assert code == 2 and "--target" in err
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        code, out, _ = _replay(capsys, str(cassette / "run.har"), "--target", url)
    assert code == 3 and "cannot reach" in out


def test_replay_refuses_live_writes_without_allow_writes(cassette, capsys):
    code, _, err = _replay(capsys, str(cassette / "run.har"), "--target", "https://conversations.twilio.com")
    assert code == 2 and "--allow-writes" in err
