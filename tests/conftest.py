"""Fixtures shared by the test files.

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
