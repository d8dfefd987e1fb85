"""Issue 19, items 3-5: a live account is put back even when the run cannot do it itself.

* values a form cannot write back (``filters: []``, a legacy filter, nulls) are never written, and the
  account is restored exactly;
* one odd answer during the restore (a 429 with an unparsable ``Retry-After``) does not end it;
* a SIGKILL mid-run leaves a journal (snapshot + created webhooks, no secret); ``webhook-contracts
  restore`` or the next live run finds it, says so, restores from it and deletes the piled-up webhooks.

The mock, served by this process on 127.0.0.1, stands in for live Twilio.
"""

from __future__ import annotations

import json
import signal
import stat

import pytest

from twilio_webhook_contracts.journal import default_directory
from twilio_webhook_contracts.live import Guard
from twilio_webhook_contracts.mock import MockApp, MockResponse, serve_mock
from twilio_webhook_contracts.target import Credentials, Target

from live_helpers import (ACCOUNT, CHANNEL, SERVICE, TOKEN, TOKEN_ENV, Kill, SignalsClient, Spawned, cli, live_args,
                          report_args, seed_state)

ACCOUNTS = {ACCOUNT: TOKEN}


def _secret_forms() -> tuple[str, ...]:
    from twilio_webhook_contracts.credentials import secret_forms

    return secret_forms(Credentials(ACCOUNT, TOKEN))


def _journals() -> list:
    directory = default_directory()
    return sorted(directory.glob("journal-*.json")) if directory.exists() else []


@pytest.fixture(autouse=True)
def no_leftover_journal():
    for path in _journals():
        path.unlink()
    yield
    for path in _journals():
        path.unlink()


# ---------------------------------------------------------------------------
# values a form cannot write back


def test_values_a_form_cannot_write_back_are_pinned_and_the_account_restored_exactly(tmp_path):
    with serve_mock(MockApp(accounts=ACCOUNTS)) as mock:
        seed_state(mock)
        # the service's filters are [] and the account holds a legacy filter: no form writes either back
        mock.state.update_account_config(ACCOUNT, {"filters": ["onMessageSend", "onMessageAdded"], "method": None})
        mock.state.update_service_config(ACCOUNT, SERVICE, {"filters": []})
        initial = mock.state.snapshot()
        outcome = cli([*live_args(mock.url, "--seed", "5"), *report_args(tmp_path, history=False)], tmp_path, TOKEN_ENV,
                      quick_restore=True)
        state = mock.state.snapshot()
        log = mock.requests
    assert outcome.code in (0, 1), outcome.stdout + outcome.stderr
    assert "LIVE RESTORE FAILED" not in outcome.stderr
    assert state == initial
    assert "UpdateConfigurationWebhook           never writes Method, Filters" in outcome.stdout, outcome.stdout
    assert "UpdateServiceWebhookConfiguration    never writes Filters" in outcome.stdout
    from urllib.parse import parse_qs

    updates = [entry for entry in log if entry.status == 200 and entry.operation_id in (
        "UpdateConfigurationWebhook", "UpdateServiceWebhookConfiguration")]
    assert updates, "the run did write the configurations (the other fields)"
    for entry in updates:  # not one accepted request, the restore's included, wrote a pinned field
        assert "Filters" not in parse_qs(entry.body), entry.body
        if entry.operation_id == "UpdateConfigurationWebhook":
            assert "Method" not in parse_qs(entry.body), entry.body


class OddRetryAfterOnce(MockApp):
    """Once armed, answers the first write 429 with a Retry-After no parser can read (and never again)."""

    armed = False

    def handle(self, request):
        if self.armed and request.method == "POST":
            self.armed = False
            body = json.dumps({"code": 20429, "message": "Too Many Requests", "more_info": "", "status": 429}).encode()
            return MockResponse(429, [("Content-Type", "application/json"), ("Retry-After", "Mon, not a date"),
                                      ("Content-Length", str(len(body)))], body)
        return super().handle(request)


def test_one_odd_answer_does_not_abort_the_restore():
    app = OddRetryAfterOnce(accounts=ACCOUNTS)
    with serve_mock(app) as mock:
        seed_state(mock)
        initial = mock.state.snapshot()
        with Target(mock.url, credentials=Credentials(ACCOUNT, TOKEN)) as target:
            guard = Guard(target, target.spec, services=[SERVICE], sleep=lambda seconds: None)
            guard.take_snapshot()
            mock.state.update_account_config(ACCOUNT, {"pre_webhook_url": "https://changed.example.com", "target": "flex"})
            mock.state.update_service_config(ACCOUNT, SERVICE, {"post_webhook_url": "https://changed.example.com/x"})
            app.armed = True
            problems = guard.restore()
        state = mock.state.snapshot()
    assert problems == []
    assert not app.armed, "the odd answer was given"
    assert state == initial  # both the account and the service configuration


# ---------------------------------------------------------------------------
# SIGKILL: the journal


def _killed_run(mock, app, directory, *extra):
    """A live run with writes, killed with SIGKILL by the mock as it answers the 2nd accepted create."""
    spawned = Spawned([*live_args(mock.url, "--seed", "9", *extra)], directory, TOKEN_ENV)
    app.pid = spawned.pid
    outcome = spawned.wait()
    return outcome


@pytest.fixture
def killed(tmp_path):
    app = SignalsClient([Kill("create", 2, signal.SIGKILL)], accounts=ACCOUNTS)
    with serve_mock(app) as mock:
        initial = seed_state(mock)
        outcome = _killed_run(mock, app, tmp_path / "killed")
        yield mock, app, initial, outcome


def test_a_sigkilled_run_leaves_a_durable_journal_without_secrets(killed):
    mock, app, initial, outcome = killed
    assert outcome.code == -signal.SIGKILL, outcome.stdout + outcome.stderr
    assert mock.state.snapshot() != initial, "the run was killed with the account changed"
    journals = _journals()
    assert len(journals) == 1
    assert stat.S_IMODE(journals[0].stat().st_mode) == 0o600
    text = journals[0].read_text()
    data = json.loads(text)
    assert data["account"]["pre_webhook_url"] == "https://hooks.example.com/pre?a=1"  # the original, not the run's
    assert data["created"] or data["unconfirmed_creates"]
    for form in _secret_forms():
        assert form not in text


def test_restore_finds_the_journal_and_puts_everything_back(killed, tmp_path):
    mock, app, initial, outcome = killed
    changed = mock.state.snapshot()
    ours = sum(len(hooks) for hooks in changed["webhooks"].values()) - sum(len(h) for h in initial["webhooks"].values())
    assert ours >= 1, "webhooks of the killed run are on the channel"
    restored = cli(["--target", mock.url], tmp_path / "restore", TOKEN_ENV, quick_restore=True, command="restore")
    assert restored.code == 0, restored.stdout + restored.stderr
    assert "found the journal of a live run" in restored.stdout
    assert mock.state.snapshot() == initial
    assert _journals() == []
    again = cli(["--target", mock.url], tmp_path / "again", TOKEN_ENV, command="restore")
    assert again.code == 0 and "nothing to restore" in again.stdout


def test_the_next_run_restores_from_the_journal_first(killed, tmp_path):
    mock, app, initial, outcome = killed
    # a second kill on top: without the journal the webhooks would pile up and the changed state be adopted
    app.plan = [Kill("create", 4, signal.SIGKILL)]
    app._counts["create"] = 0
    second = _killed_run(mock, app, tmp_path / "second")
    assert second.code == -signal.SIGKILL
    assert "an earlier run" in second.stdout and "restoring from" in second.stdout
    following = cli([*live_args(mock.url, "--seed", "10"), *report_args(tmp_path / "next", history=False)],
                    tmp_path / "next", TOKEN_ENV, quick_restore=True)
    assert following.code in (0, 1), following.stdout + following.stderr
    assert "an earlier run" in following.stdout and "undone (verified)" in following.stdout
    assert mock.state.snapshot() == initial  # configurations as before the first run; no webhook of any run left
    assert _journals() == []
