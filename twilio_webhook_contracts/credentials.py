"""Credentials, and the one redaction layer every output of the toolkit goes through.

Why one layer, and why process-wide: a secret can come back from a hostile (or
merely careless) target in any form a client ever sent it in -- plain, URL-encoded,
JSON-escaped, base64 inside the ``Authorization`` header it echoes -- and it can
surface anywhere: a response excerpt, a header quoted in a violation, the text of
an exception that reaches stderr. The code that cuts an excerpt or prints an
exception does not know the run's credentials, so the credentials register
themselves here the moment they exist, and :func:`redact` scrubs every form of
every secret this process knows.

Redaction happens *before* any truncation: a secret cut in half by an excerpt
limit is no longer the secret and would slip past a plain ``replace``. As a second
line of defence :func:`redact` also removes any run of 8 or more characters taken
from a secret form (a fragment a target or a log cut out), so a partial copy
never survives either.
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
from dataclasses import dataclass, field
from typing import Iterable, Mapping
from urllib.parse import quote, quote_plus

__all__ = ["Credentials", "REDACTED", "credentials_from_environment", "excerpt", "forget_secrets", "redact",
           "register_secrets", "secret_forms"]

#: What a redacted secret is replaced with.
REDACTED = "***"
#: The shortest fragment of a secret form that is redacted on its own: long enough that a
#: random 8-character run of hex or base64 in a body is essentially never one (16^-8 per position).
FRAGMENT = 8
#: Secrets shorter than this are not redacted at all (they would blank out ordinary words).
_SHORTEST_SECRET = 4


@dataclass(frozen=True)
class Credentials:
    """HTTP Basic credentials: an Account SID and auth token, or an API key and secret.

    ``account_sid`` is always the account the run acts on (what ``account_sid`` in
    responses must equal); ``username`` is the account SID or the ``SK…`` key SID.
    Creating one registers its secret with :func:`redact`.
    """

    account_sid: str
    secret: str = field(repr=False)
    username: str = ""

    def __post_init__(self) -> None:
        if not self.username:
            object.__setattr__(self, "username", self.account_sid)
        register_secrets(secret_forms(self))

    @property
    def is_api_key(self) -> bool:
        return self.username != self.account_sid

    @property
    def secret_variable(self) -> str:
        """The environment variable a reproduction line refers to instead of the secret."""
        return "TWILIO_API_SECRET" if self.is_api_key else "TWILIO_AUTH_TOKEN"

    @property
    def username_for_curl(self) -> str:
        return "$TWILIO_API_KEY" if self.is_api_key else self.account_sid

    def secrets(self) -> tuple[str, ...]:
        """Values that must never be written anywhere (used by redaction)."""
        return (self.secret,) if self.secret else ()

    def __repr__(self) -> str:
        return f"Credentials(account_sid={self.account_sid!r}, username={self.username!r}, secret=<redacted>)"

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> "Credentials | None":
        """See :func:`credentials_from_environment`."""
        return credentials_from_environment(environ)


#: Environment variables that hold a secret (their values are redacted wherever they show up).
SECRET_VARIABLES = ("TWILIO_AUTH_TOKEN", "TWILIO_API_SECRET")


def credentials_from_environment(environ: Mapping[str, str] | None = None) -> Credentials | None:
    """Credentials from ``TWILIO_ACCOUNT_SID`` with ``TWILIO_API_KEY`` + ``TWILIO_API_SECRET``
    (preferred when both are set), or with ``TWILIO_AUTH_TOKEN``; None when they are not set.

    The one place the toolkit reads credentials from the environment, so that every
    entry point agrees on which variables win."""
    env = os.environ if environ is None else environ
    account = env.get("TWILIO_ACCOUNT_SID", "")
    if not account:
        return None
    if env.get("TWILIO_API_KEY") and env.get("TWILIO_API_SECRET"):
        return Credentials(account, env["TWILIO_API_SECRET"], env["TWILIO_API_KEY"])
    if env.get("TWILIO_AUTH_TOKEN"):
        return Credentials(account, env["TWILIO_AUTH_TOKEN"])
    return None


def secret_forms(credentials: Credentials | None = None, *, secrets: Iterable[str] = (),
                 username: str | None = None) -> tuple[str, ...]:
    """Every form in which the secret of *credentials* (and any of *secrets*) can appear.

    The secret itself; URL-encoded (``quote`` and ``quote_plus``, as a form or a
    query would carry it); JSON-escaped; base64 of ``USERNAME:SECRET`` (the Basic
    credentials, with the Account SID or the ``SK…`` key as username); and the
    whole ``Basic …`` header value.
    """
    pairs: list[tuple[str | None, str]] = [(username, secret) for secret in secrets]
    if credentials is not None:
        pairs += [(credentials.username, secret) for secret in credentials.secrets()]
        if credentials.is_api_key:  # the same secret under the account sid (a confused client)
            pairs += [(credentials.account_sid, secret) for secret in credentials.secrets()]
    forms: list[str] = []
    for user, secret in pairs:
        if not secret:
            continue
        forms += [secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1],
                  json.dumps(secret, ensure_ascii=False)[1:-1]]
        if user:
            pair = f"{user}:{secret}"
            for encoding in ("latin-1", "utf-8"):  # requests and http.client send latin-1 where they can
                try:
                    basic = base64.b64encode(pair.encode(encoding)).decode("ascii")
                except UnicodeEncodeError:
                    continue
                forms += [basic, f"Basic {basic}", quote(basic, safe="")]
    return tuple(dict.fromkeys(form for form in forms if len(form) >= _SHORTEST_SECRET))


# -- the process-wide layer ------------------------------------------------------

_lock = threading.Lock()
_known: dict[str, None] = {}
_compiled: tuple[frozenset[str], "re.Pattern[str] | None", "re.Pattern[str] | None"] = (frozenset(), None, None)


def register_secrets(forms: Iterable[str]) -> None:
    """Make :func:`redact` remove these (already expanded) forms from now on."""
    with _lock:
        for form in forms:
            if form and len(form) >= _SHORTEST_SECRET:
                _known[form] = None


def forget_secrets() -> None:
    """Drop every registered secret (tests that check redaction start from a clean slate)."""
    with _lock:
        _known.clear()


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """*text* without any registered secret form, any of *secrets*, or any 8+-character piece of one.

    Every maximal run of *text* covered by secret material is replaced by one
    ``***``. *secrets* are expanded like :func:`secret_forms` (plain values only).
    """
    if not text:
        return text
    extra = tuple(s for s in secrets if s and len(s) >= _SHORTEST_SECRET)
    if extra:
        register_secrets(form for s in extra for form in secret_forms(secrets=(s,)))
    whole, pieces = _patterns()
    if whole is None:
        return text
    spans: list[tuple[int, int]] = [match.span() for match in whole.finditer(text)]
    if pieces is not None:
        spans += [(match.start(), match.start() + FRAGMENT) for match in pieces.finditer(text)]
    if not spans:
        return text
    spans.sort()
    out: list[str] = []
    position = 0
    start, end = spans[0]
    for span_start, span_end in spans[1:]:
        if span_start <= end:
            end = max(end, span_end)
            continue
        out += [text[position:start], REDACTED]
        position, (start, end) = end, (span_start, span_end)
    out += [text[position:start], REDACTED, text[end:]]
    return "".join(out)


def excerpt(text: str, limit: int) -> str:
    """The first *limit* characters of ``redact(text)`` (``...`` marks a cut), without redacting all of a huge text.

    Redacting first and cutting second is what keeps a secret that straddles the
    cut out of the excerpt. Only a window is redacted: once the redacted window is
    longer than *limit* by the longest secret form, every occurrence that could reach
    into the excerpt lay wholly inside the window, so the excerpt is exact.
    """
    whole, _ = _patterns()
    longest = max((len(form) for form in _known_forms()), default=0)
    window = 2 * limit + 2 * longest + 64
    while True:
        part = text[:window]
        redacted = redact(part) if whole is not None else part
        if window >= len(text) or len(redacted) >= limit + longest:
            break
        window *= 4
    if window >= len(text) and len(redacted) <= limit:
        return redacted
    return redacted[: max(0, limit - 3)] + "..."


def _known_forms() -> list[str]:
    with _lock:
        return list(_known)


def _patterns() -> tuple["re.Pattern[str] | None", "re.Pattern[str] | None"]:
    """(whole forms, every 8-character window of a form), compiled once per set of secrets."""
    global _compiled
    with _lock:
        known = frozenset(_known)
        if _compiled[0] == known:
            return _compiled[1], _compiled[2]
        # "Basic <base64>" is redacted as "Basic ***" (its base64 is a form of its own): the reader
        # still sees that a header was echoed
        plain = [form for form in known if not form.startswith("Basic ")]
        whole = _trie_pattern(plain) if plain else None
        # the "Basic …" header value's pieces are the base64 form's (and "Basic " is no secret)
        grams = {form[i:i + FRAGMENT] for form in known if len(form) >= FRAGMENT and not form.startswith("Basic ")
                 for i in range(len(form) - FRAGMENT + 1)}
        pieces = re.compile(f"(?=(?:{_trie(grams)}))") if grams else None
        _compiled = (known, whole, pieces)
        return whole, pieces


def _trie_pattern(words: list[str]) -> "re.Pattern[str]":
    return re.compile(_trie(set(words)))


def _trie(words: set[str]) -> str:
    """A regex matching exactly *words*, factored by common prefixes (a flat alternation of a few
    hundred literals is tried one by one at every position; a trie is one step per character)."""
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    return _node(trie)


def _node(node: dict[str, dict]) -> str:
    ends = "" in node
    branches = [re.escape(char) + _node(child) for char, child in sorted(node.items()) if char]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 and not ends else "(?:" + "|".join(branches) + ")"
    return body + ("?" if ends else "")
