"""Fixtures shared by the test files.

* every test starts with no registered secret (redaction is process-wide);
* every test session keeps live journals in a folder of its own (never the
  user's ``~/.local/state``), for this process and the subprocesses it starts.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def journal_home(tmp_path_factory):
    """``$XDG_STATE_HOME`` for the whole session: where live runs keep their journals by default."""
    patch = pytest.MonkeyPatch()
    home = tmp_path_factory.mktemp("xdg-state")
    patch.setenv("XDG_STATE_HOME", str(home))
    patch.delenv("WEBHOOK_CONTRACTS_JOURNAL", raising=False)
    yield home
    patch.undo()


@pytest.fixture(autouse=True)
def no_secrets_from_other_tests():
    """Redaction registers secrets process-wide (what a run saw must never be printed later in it);
    between tests that would redact one test's output with another's secrets."""
    from twilio_webhook_contracts.credentials import forget_secrets

    forget_secrets()
    yield
    forget_secrets()
