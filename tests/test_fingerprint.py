"""``webhook-contracts fingerprint``: each open point's probe records what the mock was set to choose."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from twilio_webhook_contracts import fingerprint
from twilio_webhook_contracts.mock import Policies, serve_mock
from twilio_webhook_contracts.open_points import OPEN_POINTS
from twilio_webhook_contracts.target import Credentials, Target

from live_helpers import ACCOUNT, CHANNEL, SERVICE, TOKEN, TOKEN_ENV, SignalsClient, Kill, cli, console_script, seed_state

#: Points that only show where a parent is absent: probed on a mock that declares its resources.
NEEDS_ABSENT_PARENT = {"validation_order"}
CASES = [(point.name, choice) for point in OPEN_POINTS for choice in point.choices]


def _take(mock, *, service=None, channel=None, writes=True):
    """The fingerprint of *mock* through the command's guarded path (snapshot, restore)."""
    from twilio_webhook_contracts.commands.fingerprint import guarded

    target = Target(mock.url, credentials=Credentials(*mock.auth))
    status, recording = guarded(target, lambda factory: fingerprint.take(
        target, service_sid=service, channel_sid=channel, writes=writes, guard_factory=factory), (), lambda line: None)
    assert status is None and recording["restore_problems"] == []
    return recording


def observable_of(snap: dict, mock) -> dict:
    state = mock.state
    return {
        "accounts": {k: v for k, v in snap["accounts"].items() if v != dict(state.initial_account)},
        "services": {k: v for k, v in snap["services"].items() if v != dict(state.initial_service)},
        "webhooks": {k: v for k, v in snap["webhooks"].items() if v},
    }


def observable(mock) -> dict:
    """The mock's state as a client can see it: a configuration written back to its initial values and a
    channel whose webhooks were all deleted read the same as never touched."""
    return observable_of(mock.state.snapshot(), mock)


@pytest.mark.parametrize("name,choice", CASES, ids=[f"{n}={c}" for n, c in CASES])
def test_fingerprint_records_each_policy_setting(name, choice):
    pairs = [f"{name}={choice}"]
    resources, service, channel = None, None, None
    if name in NEEDS_ABSENT_PARENT:
        pairs.append("parents=declared")
        resources, service, channel = [f"{SERVICE}/{CHANNEL}"], SERVICE, CHANNEL
    with serve_mock(policies=Policies.from_pairs(pairs), resources=resources) as mock:
        before = observable(mock)
        recording = _take(mock, service=service, channel=channel)
        assert observable(mock) == before  # the writing probes were undone
    assert recording["points"][name]["choice"] == choice, recording["points"][name]
    assert recording["points"][name]["evidence"], "a choice comes with the exchanges it was read from"


def test_default_mock_fingerprint_request_counts():
    with serve_mock() as mock:
        recording = _take(mock)
        sent = len(mock.requests)
    counts = recording["requests"]
    assert sum(counts["per_point"].values()) == counts["probes"]
    assert counts["probes"] + counts["snapshot"] + counts["restore"] == sent
    assert sent < 60
    decided = {n for n, p in recording["points"].items() if p["choice"] != fingerprint.UNKNOWN}
    assert decided == {p.name for p in OPEN_POINTS} - NEEDS_ABSENT_PARENT


def test_read_only_fingerprint_writes_nothing():
    with serve_mock() as mock:
        recording = _take(mock, writes=False)
        methods = {entry.method for entry in mock.requests}
    assert methods == {"GET"}
    for name in ("empty_value", "type_fields", "triggers_key", "filter_order", "channel_limit"):
        assert recording["points"][name]["choice"] == fingerprint.UNKNOWN


def test_cli_writes_a_redacted_file_with_version_and_date(tmp_path):
    with serve_mock(accounts={ACCOUNT: TOKEN}) as mock:
        outcome = cli(["--target", mock.url, "--allow-writes", "-o", "fp.json"], tmp_path, TOKEN_ENV,
                      command="fingerprint")
    assert outcome.code == 0, outcome.stderr
    text = outcome.file("fp.json")
    assert TOKEN not in text
    data = json.loads(text)
    assert data["format"] == fingerprint.FORMAT and data["version"] and data["date"].endswith("Z")
    assert data["points"]["channel_limit"]["evidence"][0]["curl"].endswith('-u "' + ACCOUNT + ':$TWILIO_AUTH_TOKEN"')


def test_an_interrupted_live_fingerprint_leaves_nothing_changed(tmp_path):
    """SIGINT while the writing probes run (after the 3rd accepted create): the guard undoes everything."""
    app = SignalsClient([Kill("create", 3, signal.SIGINT)], accounts={ACCOUNT: TOKEN})
    with serve_mock(app) as mock:
        initial = seed_state(mock)
        assert observable(mock) == observable_of(initial, mock)
        env = {k: v for k, v in os.environ.items() if not k.startswith("TWILIO_")} | TOKEN_ENV
        process = subprocess.Popen(
            [*console_script(), "fingerprint", "--target", mock.url, "--live", "--allow-writes", "--rate-limit",
             "100000", "--service-sid", SERVICE, "--channel-sid", CHANNEL, "-o", str(tmp_path / "fp.json")],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        app.pid = process.pid
        stdout, stderr = process.communicate(timeout=120)
        app.join_timers()
        assert app.fired, "the signal was sent"
        assert app.state_when_signalled != initial, "the probes had changed something when interrupted"
        assert process.returncode == 130, stderr
        assert observable(mock) == observable_of(initial, mock)
    assert "interrupted" in stderr and TOKEN not in stdout + stderr


#: A recording that differs from the mock's defaults wherever the mock can show it with parents=implicit.
RECORDED = ["unique_names=restricted", "empty_value=rejected", "page_size_max=5", "default_page_size=5",
            "initial_filters=null", "initial_method=null", "legacy_filters=on", "url_host=twilio",
            "filter_order=sorted", "error_messages=terse", "channel_limit=409"]


def test_mock_fingerprint_reproduces_the_recording(tmp_path):
    """Record a mock set away from every default, start `mock --fingerprint` on the file: fingerprinting that
    mock gives the same choices."""
    from test_mock_cli import Running

    with serve_mock(policies=Policies.from_pairs(RECORDED)) as mock:
        recording = _take(mock)
    path = tmp_path / "fp.json"
    path.write_text(json.dumps(recording), encoding="utf-8")
    assert fingerprint.policy_pairs(recording)  # something to set
    running = Running("--port", "0", "--fingerprint", str(path), "--account-sid", ACCOUNT, "--auth-token", TOKEN)
    try:
        assert "policies:" in "".join(running.banner)
        target = Target(running.url, credentials=Credentials(ACCOUNT, TOKEN))
        from twilio_webhook_contracts.commands.fingerprint import guarded

        _, again = guarded(target, lambda factory: fingerprint.take(target, guard_factory=factory), (),
                           lambda line: None)
    finally:
        running.stop(signal.SIGTERM)
    assert {n: p["choice"] for n, p in again["points"].items()} == {n: p["choice"] for n, p in recording["points"].items()}
    for pair in RECORDED:
        name, value = pair.split("=")
        assert again["points"][name]["choice"] == value


def test_mock_fingerprint_refuses_a_file_that_is_not_one(tmp_path, capsys):
    from twilio_webhook_contracts.cli import main

    bad = tmp_path / "bad.json"
    bad.write_text("{}", encoding="utf-8")
    assert main(["mock", "--port", "0", "--fingerprint", str(bad)]) == 2
    assert "not a fingerprint file" in capsys.readouterr().err


def test_verify_flags_a_mock_whose_policy_differs_from_the_recording(tmp_path, capsys, monkeypatch):
    from twilio_webhook_contracts.cli import main

    from twilio_webhook_contracts.mock import SUITE_EMBEDDED_POLICIES

    # verify's embedded mock runs with SUITE_EMBEDDED_POLICIES: the recording differs from it at two points
    recorded = SUITE_EMBEDDED_POLICIES.with_(initial_method="null", filter_order="sorted")
    with serve_mock(policies=recorded) as mock:
        path = tmp_path / "fp.json"
        path.write_text(json.dumps(_take(mock)), encoding="utf-8")
        fast = ["--max-examples", "2", "--no-stateful", "--seed", "1", "-q"]
        monkeypatch.setenv("TWILIO_ACCOUNT_SID", mock.account_sid)
        monkeypatch.setenv("TWILIO_AUTH_TOKEN", mock.auth_token)
        report = tmp_path / "report.json"
        # the recorded server itself decides as recorded
        assert main(["verify", f"same={mock.url}", "--fingerprint", str(path), "--fail-on-difference", *fast]) == 0
        same = capsys.readouterr().out
        assert "same: decides as recorded" in same and "differs from the recording" not in same
        # the default mock does not: one row per differing point, a status of its own
        assert main(["verify", "mock", "--fingerprint", str(path), "--report-json", str(report), *fast]) == 0
        out = capsys.readouterr().out
        assert main(["verify", "mock", "--fingerprint", str(path), "--fail-on-difference", *fast]) == 1
    rows = [line for line in out.splitlines() if "differs from the recording" in line]
    assert len(rows) == 2
    assert any("initial_method" in row and "recorded null" in row for row in rows)
    assert any("filter_order" in row and "recorded sorted" in row for row in rows)
    differences = json.loads(report.read_text())["recording"]["differences"]["mock"]
    assert {row["point"] for row in differences} == {"initial_method", "filter_order"}


def test_read_only_fingerprint_of_a_declared_mock_sends_no_post():
    """With an absent parent at hand, the validation_order probe (a POST) still waits for --allow-writes."""
    with serve_mock(policies=Policies.parse("parents=declared"), resources=[f"{SERVICE}/{CHANNEL}"]) as mock:
        recording = _take(mock, service=SERVICE, channel=CHANNEL, writes=False)
        methods = {entry.method for entry in mock.requests}
    assert methods == {"GET"}
    assert recording["points"]["validation_order"]["choice"] == fingerprint.UNKNOWN
    assert recording["points"]["parents"]["choice"] == "declared"
