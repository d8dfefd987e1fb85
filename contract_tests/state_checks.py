"""The state checks: one function per property the stateful suite holds a target to.

Each function takes what a Twilio-faithful server must hold (the model's
expectation) and what the target answered, and returns the explanations of every
difference: empty, the property holds. The state machine (:mod:`.stateful`)
decides what to send and when a property applies; these functions only judge, so
that each property can be read, and tested, on its own, as the response checks
in :mod:`.checks` are. They are registered there under their own names.

Values are compared the way Twilio documents them (:func:`same_values`): lists
as sets, and keys the model does not hold are left open.

Hypothesis draws the short string literals of the code under test as example
values, so a literal new to the package changes what a seeded run sends (and
the committed docs/prism-matrix.md with it): this module holds none that the
package did not hold already, which is why its messages are f-strings and its
``__all__`` names only the checks.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

__all__ = [
    "CHANNEL_CAPACITY",
    "absent_fields_unchanged",
    "create_returns_new_webhook",
    "deleted_webhook_gone",
    "list_reflects_webhooks",
    "open_choice_consistent",
    "paging_links_honest",
    "rejected_write_changes_nothing",
    "scopes_isolated",
    "unknown_webhook_absent",
    "update_idempotent",
    "webhook_scoped_to_channel",
    "write_read_back",
]

#: Twilio answers at most five webhooks per channel (hence the list's maximum page
#: size of 5): the state machine never asks a channel for a sixth.
CHANNEL_CAPACITY = 5
_WEBHOOK_SID = re.compile(r"WH[0-9a-fA-F]{32}\Z")

#: One answer to a request that must be 404: (operation, what it addressed, status).
Answer = tuple[str, str, int]


# ---------------------------------------------------------------------------
# comparison helpers


def same_values(expected: Any, actual: Any, *, keep_counts: bool = False) -> bool:
    """Equality for configuration values, with lists compared as sets.

    Twilio documents filters and triggers as lists of events; neither the docs nor
    the spec promise an order or that duplicates are kept, so neither do we. With
    *keep_counts* lists are compared as multisets (order still free): two answers
    of the same server to the same request may order a list differently, but one
    that holds an item more often than the other has changed.
    """
    if isinstance(expected, list) and isinstance(actual, list):
        try:
            if keep_counts:
                return Counter(expected) == Counter(actual)
            return set(expected) == set(actual)
        except TypeError:
            return expected == actual
    return expected == actual


def differences(expected: Mapping[str, Any], actual: Mapping[str, Any], keys: Iterable[str], *,
                keep_counts: bool = False) -> list[str]:
    """``key: expected X, found Y`` for each key whose values differ (see :func:`same_values`)."""
    out = []
    for key in keys:
        if not same_values(expected.get(key), actual.get(key), keep_counts=keep_counts):
            out.append(f"{key}: expected {expected.get(key)!r}, found {actual.get(key, '<absent>')!r}")
    return out


def is_webhook_sid(value: Any) -> bool:
    """Only a WH sid can address the webhook again: anything else the model cannot track."""
    return isinstance(value, str) and bool(_WEBHOOK_SID.match(value))


def page_meta(page: Mapping[str, Any]) -> Mapping[str, Any]:
    """A page's ``meta``; a page without one (the schema check reports it) links nowhere."""
    meta = page.get("meta")
    return meta if isinstance(meta, dict) else {}


def page_sids(page: Mapping[str, Any]) -> list[str]:
    """The sids a list page holds, in its order; items without one are the schema check's to report."""
    return [item["sid"] for item in page.get("webhooks") or []
            if isinstance(item, dict) and isinstance(item.get("sid"), str)]


def _within(name: str | None, found: list[str]) -> list[str]:
    """Differences of keys nested in the answer's *name* object are named by their path."""
    return [f"{name}.{d}" for d in found] if name else found


def _not_404(answers: Iterable[Answer]) -> list[str]:
    """A 404 is the only answer that says "no such webhook here"; a 429 says nothing either way."""
    return [f"{op} of {what} answered {status}, expected 404"
            for op, what, status in answers if status not in (404, 429)]


# ---------------------------------------------------------------------------
# writes


def write_read_back(expected: Mapping[str, Any], actual: Mapping[str, Any], written: Collection[str], *,
                    within: str | None = None, expected_type: str | None = None, actual_type: Any = None) -> list[str]:
    """An accepted write is worth nothing unless it sticks: the fields sent answer as sent.

    *expected* is the model after the write; only the keys in *written* are
    judged (the others are :func:`absent_fields_unchanged`'s). A webhook's
    ``type`` is judged when the model knows it (*expected_type*). *within* names
    the object of the answer that holds the keys (a webhook's ``configuration``).
    """
    problems = [] if expected_type is None or actual_type == expected_type else [
        f"type: expected {expected_type!r}, found {actual_type!r}"]
    return problems + _within(within, differences(expected, actual, [k for k in expected if k in written]))


def absent_fields_unchanged(expected: Mapping[str, Any], actual: Mapping[str, Any], written: Collection[str], *,
                            within: str | None = None) -> list[str]:
    """Twilio's updates are partial: a client that sends one field must not lose the others."""
    return _within(within, differences(expected, actual, [k for k in expected if k not in written]))


def update_idempotent(first: Mapping[str, Any], second: Mapping[str, Any], keys: Sequence[str]) -> list[str]:
    """Clients retry: the same update sent twice must answer the same, item counts included.

    Lists keep their counts here (a repeat that appends filters again has changed
    something), while their order stays free.
    """
    return [f"repeating the update changed {d}"
            for d in differences({k: first.get(k) for k in keys}, second, keys, keep_counts=True)]


def rejected_write_changes_nothing(expected: Mapping[str, Any] | AbstractSet[str],
                                   actual: Mapping[str, Any] | AbstractSet[str], *, after: str,
                                   keys: Iterable[str] | None = None, within: str | None = None) -> list[str]:
    """A rejection tells the client nothing happened; a change anyway is one it cannot know of.

    *expected* is the resource before the rejected write: a configuration
    (compared on *keys*, by default all the model holds; *within* as for
    :func:`write_read_back`) or the set of webhooks a channel lists. *after*
    opens every explanation (it says which rejection).
    """
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        found = differences(expected, actual, list(expected) if keys is None else keys)
        return [after + d for d in _within(within, found)]
    return [] if expected == actual else [f"{after}the channel lists {sorted(set(expected) ^ set(actual))} differently"]


def scopes_isolated(expected: Mapping[str, Any], actual: Mapping[str, Any], keys: Iterable[str], *,
                    scope: str, by: str) -> list[str]:
    """The account and each service hold separate configurations: a write to one that shows in
    another (*scope*, read after the write *by*) would reroute another scope's webhooks."""
    return [f"{scope} changed by {by}: {d}" for d in differences(expected, actual, keys)]


# ---------------------------------------------------------------------------
# channel webhooks


def create_returns_new_webhook(sent_type: str | None, sent: Mapping[str, Any], answered: Mapping[str, Any],
                               configuration: Mapping[str, Any], earlier: Collection[str]) -> list[str]:
    """A create's answer is the client's only handle on the webhook: a new WH sid, and what was sent.

    *answered* is the create's body and *configuration* its configuration as the
    server chose to write it; *earlier* are the sids earlier creates answered.
    """
    sid = answered.get("sid")
    problems = []
    if not is_webhook_sid(sid):
        problems.append(f"create answered sid {sid!r}, not a WH sid")
    elif sid in earlier:
        problems.append(f"create answered sid {sid}, which an earlier create already answered")
    if answered.get("type") != sent_type:
        problems.append(f"type: sent {sent_type!r}, answered {answered.get('type')!r}")
    return problems + [f"configuration.{d}" for d in differences(sent, configuration, list(sent))]


def deleted_webhook_gone(answers: Iterable[Answer] = (), *, channel: str = "",
                         listed: AbstractSet[str] = frozenset(), deleted: AbstractSet[str] = frozenset()) -> list[str]:
    """Delete is the only way to free one of a channel's five places: after its 204 the webhook
    answers 404 to every operation (*answers*) and no list of its channel shows it."""
    resurrected = listed & deleted
    return _not_404(answers) + ([f"list of {channel} still has deleted {sorted(resurrected)}"] if resurrected else [])


def list_reflects_webhooks(expected: AbstractSet[str], listed: AbstractSet[str], *, channel: str,
                           deleted: AbstractSet[str] = frozenset()) -> list[str]:
    """Listing is how a client finds its webhooks again: the list holds every one the channel has.

    A webhook the model never saw may be listed (another client's, say) unless it
    is one the run deleted: that is :func:`deleted_webhook_gone`'s.
    """
    missing, unexpected = expected - listed, listed - expected - deleted
    return (([f"list of {channel} omits {sorted(missing)}"] if missing else [])
            + ([f"list of {channel} has unexpected {sorted(unexpected)}"] if unexpected else []))


def paging_links_honest(channel: str, pages: Sequence[Mapping[str, Any]], *, ended: bool, most_pages: int) -> list[str]:
    """A client walks ``next_page_url`` to the end: the walk must lead back, never repeat, and end.

    *pages* are the bodies walked, first to last; *ended* says whether the last
    one linked no further, within *most_pages*.
    """
    problems: list[str] = []
    seen: set[str] = set()
    for number, page in enumerate(pages):
        if number and not page_meta(page).get("previous_page_url"):
            problems.append(f"page {number + 1} of {channel}, reached by next_page_url, has no previous_page_url")
        for sid in page_sids(page):
            if sid in seen:
                problems.append(f"{sid} is listed twice while paging through {channel}")
            seen.add(sid)
    if not ended:
        problems.append(f"following next_page_url through {channel} did not end after {most_pages} pages "
                        f"(it holds at most {CHANNEL_CAPACITY} webhooks)")
    return problems


def webhook_scoped_to_channel(answers: Iterable[Answer] = (), *, sid: str = "", own_status: int | None = None,
                              expected: Mapping[str, Any] | None = None,
                              actual: Mapping[str, Any] | None = None) -> list[str]:
    """A webhook belongs to one channel: a path through another parent must not reach it.

    *answers* are the requests through other parents (each must be 404); with
    *own_status* the webhook's fetch through its own channel afterwards, which
    must answer 200 with the configuration the model holds (*expected*).
    """
    problems = _not_404(answers)
    if own_status is None:
        return problems
    if own_status != 200:
        return problems + [f"{sid} answered {own_status} through its own channel after requests through others"]
    expected, actual = expected or {}, actual or {}
    return problems + [f"after requests through other parents, configuration.{d}"
                       for d in differences(expected, actual, list(expected))]


def unknown_webhook_absent(answers: Iterable[Answer], *, sid: str, channel: str,
                           listed: AbstractSet[str] | None) -> list[str]:
    """A sid nobody created is 404 for every operation, and an update of it creates nothing:
    an upsert would let a typo create a webhook (*listed*: the channel's list afterwards, if read)."""
    problems = _not_404(answers)
    if listed is not None and sid in listed:
        problems.append(f"list of {channel} has never-created {sid} after an update of it")
    return problems


# ---------------------------------------------------------------------------
# open points


def open_choice_consistent(point: str, request: str, kind: str, earlier: tuple[str, str] | None) -> list[str]:
    """Where Twilio is silent the target chooses, once: a client can only rely on a choice that holds.

    *kind* is this answer's ("accepted" or "rejected"); *earlier* the target's
    first, different answer to the same kind of request and that request (None:
    none differed).
    """
    if earlier is None:
        return []
    return [f"{point}: {request} was {kind}, but the same kind of request was {earlier[0]} earlier ({earlier[1]})"]
