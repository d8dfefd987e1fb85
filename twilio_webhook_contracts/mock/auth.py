"""Who may call the mock: accounts (SID + auth token) and API keys (``SK`` SID + secret).

Twilio accepts HTTP Basic with either pair; a key acts for the account it belongs
to. The defaults are well-known, documented test values so that the mock runs out
of the box and nothing real is ever needed (or printed).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

__all__ = [
    "DEFAULT_ACCOUNT_SID",
    "DEFAULT_API_KEY_SECRET",
    "DEFAULT_API_KEY_SID",
    "DEFAULT_AUTH_TOKEN",
    "Credentials",
    "basic_credentials",
]

DEFAULT_ACCOUNT_SID = "AC00000000000000000000000000000000"
DEFAULT_AUTH_TOKEN = "mock-auth-token"
DEFAULT_API_KEY_SID = "SK00000000000000000000000000000000"
DEFAULT_API_KEY_SECRET = "mock-api-key-secret"


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """(username, password) of an ``Authorization: Basic ...`` header; None when absent or malformed."""
    if not header:
        return None
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):  # UnicodeDecodeError is a ValueError
        return None
    username, colon, password = decoded.partition(":")
    return (username, password) if colon else None


@dataclass(frozen=True)
class Credentials:
    """The accounts and API keys the mock accepts.

    ``accounts`` maps account SID -> auth token; ``api_keys`` maps key SID ->
    (secret, account SID). Every key must belong to one of the accounts.
    """

    accounts: Mapping[str, str] = field(default_factory=lambda: {DEFAULT_ACCOUNT_SID: DEFAULT_AUTH_TOKEN})
    api_keys: Mapping[str, tuple[str, str]] = field(
        default_factory=lambda: {DEFAULT_API_KEY_SID: (DEFAULT_API_KEY_SECRET, DEFAULT_ACCOUNT_SID)}
    )

    def __post_init__(self) -> None:
        if not self.accounts:
            raise ValueError("the mock needs at least one account")
        orphans = sorted(sid for sid, (_, account) in self.api_keys.items() if account not in self.accounts)
        if orphans:
            raise ValueError(f"API key(s) {', '.join(orphans)} belong to no configured account")
        object.__setattr__(self, "accounts", MappingProxyType(dict(self.accounts)))
        object.__setattr__(self, "api_keys", MappingProxyType(dict(self.api_keys)))

    @classmethod
    def of(cls, accounts: Mapping[str, str] | None = None,
           api_keys: Mapping[str, tuple[str, str]] | None = None) -> "Credentials":
        """Explicit accounts and keys; the default key only comes with the default account."""
        if accounts is None and api_keys is None:
            return cls()
        return cls(accounts if accounts is not None else cls().accounts, api_keys or {})

    def account_for(self, username: str, password: str) -> str | None:
        """The account these credentials act for, or None.

        Compared in constant time, as a server holding real secrets must; the
        mock keeps the habit so that it can be copied safely.
        """
        token = self.accounts.get(username)
        if token is not None:
            return username if hmac.compare_digest(token.encode(), password.encode()) else None
        key = self.api_keys.get(username)
        if key is not None and hmac.compare_digest(key[0].encode(), password.encode()):
            return key[1]
        return None
