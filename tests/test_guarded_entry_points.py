"""Issue 13: live safety does not depend on the entry point.

``webhook-contracts run`` (tests/test_live.py), ``webhook-contracts verify`` and
the pytest plugin's bundled suite all go through one guarded engine. Here the
mock, served by this process on 127.0.0.1, stands in for live Twilio: each entry
point is told ``https://conversations.twilio.com`` / ``https://chat.twilio.com``,
and the transport is redirected to the mock (the URL the user gave is what
switches live mode on). Without the explicit opt-in no write reaches the mock;
with it the account is snapshot and restored: the whole stored state afterwards
equals the state before, and no webhook the run created is left.
"""

from __future__ import annotations

import textwrap

import pytest

from twilio_webhook_contracts import target as target_module
from twilio_webhook_contracts.contract_tests.engine import Engine
from twilio_webhook_contracts.contract_tests.runner import SuiteConfig
from twilio_webhook_contracts.mock import MockApp, serve_mock
from twilio_webhook_contracts.target import Credentials, Target

from live_helpers import ACCOUNT, CHANNEL, SERVICE, TOKEN, TOKEN_ENV, cli, seed_state

pytest_plugins = ["pytester"]

TWILIO = ("https://conversations.twilio.com", "https://chat.twilio.com")
ACCOUNTS = {ACCOUNT: TOKEN}
QUICK = ["--rate-limit", "100000", "--max-examples", "3", "--seed", "11"]


def writes(log) -> list:
    return [entry for entry in log if entry.is_write]


@pytest.fixture
def redirected(monkeypatch):
    """A mock standing in for Twilio: every Target built for a twilio.com URL talks to it."""
    with serve_mock(MockApp(accounts=ACCOUNTS)) as mock:
        initial = seed_state(mock)
        real = Target

        class Redirected(real):
            def __init__(self, conversations_url, chat_url=None, **options):
                assert conversations_url in TWILIO and chat_url in TWILIO, "only the Twilio URLs are redirected here"
                super().__init__(mock.url, mock.url, **options)

        monkeypatch.setattr(target_module, "Target", Redirected)
        yield mock, initial


# ---------------------------------------------------------------------------
# the engine itself: a Twilio host is live whoever built the configuration


def test_the_engine_puts_a_twilio_host_in_live_mode_whatever_the_configuration_says():
    target = Target(*TWILIO, credentials=Credentials(ACCOUNT, TOKEN))  # no request is sent here
    config = SuiteConfig(allow_writes=True, shrink=True, generate_resources=True)
    engine = Engine(target, config)
    assert engine.live and not engine.writes_allowed
    assert (config.allow_writes, config.shrink, config.generate_resources) == (False, False, False)
    assert target.limits.max_requests == 1500 and target.limits.rate_limit == 5.0 and target.limits.time_budget == 900
    allowed = Engine(Target(*TWILIO, credentials=Credentials(ACCOUNT, TOKEN)), SuiteConfig(), allow_writes=True)
    assert allowed.live and allowed.writes_allowed


def test_the_engine_leaves_other_hosts_alone():
    engine = Engine(Target("http://127.0.0.1:9", credentials=Credentials(ACCOUNT, TOKEN)), SuiteConfig())
    assert not engine.live and engine.writes_allowed and engine.target.limits.max_requests is None


# ---------------------------------------------------------------------------
# verify


def _verify(tmp_path, *extra: str):
    return cli([",".join(TWILIO), *QUICK, "--service-sid", SERVICE, "--channel-sid", CHANNEL, *extra], tmp_path,
               TOKEN_ENV, quick_restore=True, command="verify")


def test_verify_never_writes_to_a_twilio_host_without_allow_writes(tmp_path, redirected):
    mock, initial = redirected
    outcome = _verify(tmp_path)
    assert "(live mode, read-only)" in outcome.stdout, outcome.stdout + outcome.stderr
    assert mock.requests, "the suite did run against the stand-in"
    assert writes(mock.requests) == []
    assert mock.state.snapshot() == initial
    assert outcome.code == 0, outcome.stdout + outcome.stderr


def test_verify_with_allow_writes_snapshots_and_restores_a_twilio_host(tmp_path, redirected):
    mock, initial = redirected
    outcome = _verify(tmp_path, "--allow-writes")
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert "(live mode, writes allowed)" in outcome.stdout
    assert any(entry.operation_id == "CreateChannelWebhook" and entry.status == 201 for entry in mock.requests)
    assert writes(mock.requests), "writes were allowed, and made"
    assert "live restore: done, verified" in outcome.stdout
    assert mock.state.snapshot() == initial  # configurations as before, the foreign webhook kept, none of ours left


def test_verify_counts_equal_runs_for_the_same_target(tmp_path):
    """One engine: the same seed and options give the same requests and counts in run and verify."""
    import json

    counts = {}
    for command in ("run", "verify"):
        with serve_mock(MockApp(accounts=ACCOUNTS)) as mock:
            target = ["--target", mock.url] if command == "run" else [mock.url]
            outcome = cli([*target, *QUICK, "--no-shrink", "--report-json", str(tmp_path / f"{command}.json")],
                          tmp_path / command, TOKEN_ENV, command=command)
            assert outcome.code == 0, outcome.stdout + outcome.stderr
            report = json.loads((tmp_path / f"{command}.json").read_text())
            counts[command] = len(mock.requests), report
    run_sent, run_report = counts["run"]
    verify_sent, verify_report = counts["verify"]
    verified = verify_report["targets"][0]["report"]
    assert run_sent == verify_sent == run_report["counts"]["requests_sent"] == verified["counts"]["requests_sent"]
    assert run_report["counts"] == verified["counts"]
    assert run_report["checks"] == verified["checks"]


# ---------------------------------------------------------------------------
# the pytest plugin (a subprocess: a user's pytest, with the transport redirected by a plugin module)


REDIRECT = textwrap.dedent('''
    """Redirect the contract target's twilio.com URLs to the mock this test serves (REDIRECT_TO)."""
    import os

    from twilio_webhook_contracts import target as target_module

    _Real = target_module.Target


    class Redirected(_Real):
        def __init__(self, conversations_url, chat_url=None, **options):
            assert "twilio.com" in conversations_url and "twilio.com" in chat_url
            super().__init__(os.environ["REDIRECT_TO"], os.environ["REDIRECT_TO"], **options)


    target_module.Target = Redirected
''')


def _bundled(pytester, mock, monkeypatch, *extra: str):
    pytester.makepyfile(redirect_to_mock=REDIRECT)
    for name, value in TOKEN_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("REDIRECT_TO", mock.url)
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    return pytester.runpytest_subprocess(
        "-p", "redirect_to_mock", "-p", "no:cacheprovider", "--pyargs", "twilio_webhook_contracts.contract_tests",
        "--contract-conversations-url", TWILIO[0], "--contract-chat-url", TWILIO[1],
        "--contract-service-sid", SERVICE, "--contract-channel-sid", CHANNEL,
        "--contract-max-examples", "2", "--contract-rate-limit", "100000", "--contract-seed", "3", *extra)


def test_the_plugin_never_writes_to_a_twilio_host_without_allow_writes(pytester, redirected, monkeypatch):
    mock, initial = redirected
    result = _bundled(pytester, mock, monkeypatch)
    output = "\n".join(result.outlines + result.errlines)
    assert mock.requests, output
    assert writes(mock.requests) == [], output
    assert mock.state.snapshot() == initial
    assert result.ret == 0, output
    assert "live run without --allow-writes" in output or result.parseoutcomes().get("skipped", 0) > 0


def test_the_plugin_with_allow_writes_snapshots_and_restores_a_twilio_host(pytester, redirected, monkeypatch):
    mock, initial = redirected
    result = _bundled(pytester, mock, monkeypatch, "--contract-allow-writes")
    output = "\n".join(result.outlines + result.errlines)
    assert result.ret == 0, output
    assert any(entry.operation_id == "CreateChannelWebhook" and entry.status == 201 for entry in mock.requests), output
    assert writes(mock.requests)
    assert mock.state.snapshot() == initial  # restored at session end, our webhooks deleted


def test_a_live_plugin_run_refuses_xdist(pytester, redirected, monkeypatch):
    pytest.importorskip("xdist")
    mock, initial = redirected
    result = _bundled(pytester, mock, monkeypatch, "--contract-allow-writes", "-n", "2")
    output = "\n".join(result.outlines + result.errlines)
    assert "cannot be spread over pytest-xdist workers" in output
    assert writes(mock.requests) == []
