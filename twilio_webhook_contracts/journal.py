"""The live guard's crash-safe journal: what a killed run needs to be undone by the next one.

A SIGKILL (an OOM killer, a CI runner's hard timeout, a power cut) ends a live
run with no chance to restore. So before the first write the guard writes the
snapshot -- and from then on its ledger of created webhooks, and every create it
has sent but not seen answered -- to a journal file, fsynced (file and folder);
only a verified restore removes it. The next live run against the same account
and hosts, or ``webhook-contracts restore``, finds it, says so, and restores
from it before doing anything else.

Where: ``--journal PATH``, else ``$WEBHOOK_CONTRACTS_JOURNAL``, else
``$XDG_STATE_HOME/webhook-contracts/`` (default ``~/.local/state/webhook-contracts/``),
one file per account and pair of hosts. The journal holds no secret: the account
SID, the base URLs (which never carry credentials) and the account's webhook
configuration -- nothing a request's ``Authorization`` carries. It is written
with mode 0600 all the same.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .live import LiveError

__all__ = ["ENVIRONMENT_VARIABLE", "Journal", "JournalError", "default_directory"]

ENVIRONMENT_VARIABLE = "WEBHOOK_CONTRACTS_JOURNAL"
_VERSION = 1


class JournalError(LiveError):
    """The journal cannot be written or read (a live run then refuses to start)."""


def default_directory() -> Path:
    """``$XDG_STATE_HOME/webhook-contracts`` (default ``~/.local/state/webhook-contracts``)."""
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(state) / "webhook-contracts"


class Journal:
    """One journal file: :meth:`write` (durable), :meth:`read`, :meth:`clear`."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)

    @classmethod
    def for_urls(cls, account_sid: str, conversations_url: str, chat_url: str, path: str | None = None) -> "Journal":
        """The journal of one account at one pair of hosts (*path*, or the environment's, or the default)."""
        chosen = path or os.environ.get(ENVIRONMENT_VARIABLE)
        if chosen:
            return cls(chosen)
        digest = hashlib.sha256(f"{conversations_url.rstrip('/')} {chat_url.rstrip('/')}".encode()).hexdigest()[:12]
        return cls(default_directory() / f"journal-{account_sid}-{digest}.json")

    @classmethod
    def for_target(cls, target: Any, path: str | None = None) -> "Journal":
        return cls.for_urls(target.credentials.account_sid, target.conversations_url, target.chat_url, path)

    def write(self, data: dict[str, Any]) -> None:
        """Replace the journal atomically and durably: a crash leaves the old or the new one, never half."""
        body = json.dumps({"version": _VERSION, **data}, indent=1, sort_keys=True).encode()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(prefix=".journal-", dir=str(self.path.parent))
            try:
                os.fchmod(fd, 0o600)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(body)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temporary, self.path)
            except BaseException:
                if os.path.exists(temporary):
                    os.unlink(temporary)
                raise
            _sync_directory(self.path.parent)
        except OSError as exc:
            raise JournalError(f"cannot write the live journal {self.path}: {exc.strerror or exc}") from None

    def read(self) -> dict[str, Any] | None:
        """The journal's content; None when there is none."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise JournalError(f"cannot read the live journal {self.path}: {exc.strerror or exc}") from None
        try:
            data = json.loads(text)
        except ValueError:
            raise JournalError(f"the live journal {self.path} is not readable JSON; restore by hand "
                               "and remove it") from None
        if not isinstance(data, dict) or data.get("version") != _VERSION:
            raise JournalError(f"the live journal {self.path} has an unknown format; restore by hand and remove it")
        return data

    def clear(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            return
        except OSError as exc:
            raise JournalError(f"cannot remove the live journal {self.path}: {exc.strerror or exc}") from None
        _sync_directory(self.path.parent)


def _sync_directory(directory: Path) -> None:
    """fsync a folder, so that a rename or unlink in it survives a crash (where the OS allows it)."""
    try:
        fd = os.open(str(directory), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
