"""What a target chose at every open point, found with as few requests as possible.

The open-point catalogue (:mod:`.open_points`) lists where a correct server may
choose; the suite holds a server to its *own* choice there. A fingerprint
records those choices for one target -- live Twilio, say -- so that a mock can
be set to the same choices (``mock --fingerprint``) and held to them
(``verify --fingerprint``). Each point's entry carries the choice (one of the
point's ``choices``, or ``unknown`` with why) and the evidence: the exchanges it
was read from, secrets redacted.

The probes share requests where one answer tells several things (one list read
gives ``parents`` and ``default_page_size``). Read-only probes run first; the
few that write (``empty_value``, ``type_fields``, ``triggers_key``, ``filter_order``, ``channel_limit``) run only
when *writes* is true, inside the live :class:`~.live.Guard` (snapshot before,
created webhooks deleted and configurations written back after), so the target
is left as it was found -- mock or live account alike.

A point can only be seen where the server shows it: ``validation_order`` needs a
parent the server calls absent, ``unique_names`` one that creates channels on
demand. Where the target gives no such chance, the point is ``unknown`` and the
reason says what would show it (``--service-sid``/``--channel-sid``).
"""

from __future__ import annotations

import datetime
import secrets as _random
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence
from urllib.parse import urlsplit

from .open_points import OPEN_POINTS
from .request import Request
from .spec import Spec
from .target import Response, Target

__all__ = ["FORMAT", "UNKNOWN", "FingerprintError", "load", "policy_pairs", "take", "compare"]

#: The ``format`` field of a fingerprint file.
FORMAT = "webhook-contracts-fingerprint/1"
UNKNOWN = "unknown"
#: A channel unique name outside ``[A-Za-z0-9_.-]{1,64}`` (space, ``!``, non-ASCII): restricted servers know none.
ODD_NAME = "fp odd name!\u00e9"
#: Twilio's canonical hosts, as the ``url`` fields of live Twilio (or a server behind a proxy) name them.
TWILIO_HOSTS = ("conversations.twilio.com", "chat.twilio.com")
#: Evidence bodies are cut to this many characters (a page of webhooks can be long).
_BODY_LIMIT = 1500


#: The points only a write shows (run inside the guard, and only with writes allowed).
_WRITING_POINTS = ("empty_value", "type_fields", "triggers_key", "filter_order", "channel_limit")


class FingerprintError(ValueError):
    """A fingerprint file that cannot be used (the message is one line)."""


@dataclass
class _Point:
    choice: str = UNKNOWN
    why: str = "not probed"
    evidence: list[dict[str, Any]] = field(default_factory=list)


class _Prober:
    """Sends the probes and keeps the exchanges each point was read from."""

    def __init__(self, target: Target, spec: Spec, secrets: Sequence[str]):
        self.target = target
        self.spec = spec
        self.secrets = tuple(secrets)
        self.points = {point.name: _Point() for point in OPEN_POINTS}
        self.requests = 0
        self.per_point: dict[str, int] = {point.name: 0 for point in OPEN_POINTS}
        self.first_error: Response | None = None

    def send(self, points: Sequence[str], operation_id: str, params: Mapping[str, str] | None = None, *,
             query: Sequence[tuple[str, str]] = (), form: Sequence[tuple[str, str]] | None = None,
             description: str = "") -> Response:
        """One probe exchange, counted once against the first point it serves (shared answers are free)."""
        operation = self.spec.operation(operation_id)
        params = dict(params or {})
        request = Request.build(operation_id, operation.method, operation.render_path(params), path_params=params,
                                query=query, form=form if form is not None or operation.method != "POST" else (),
                                description=description)
        before = self.target.sent
        response = self.target.send(request)
        spent = max(self.target.sent - before, 1)
        self.requests += spent
        self.per_point[points[0]] += spent
        record = self.exchange(response)
        for name in points:
            self.points[name].evidence.append(record)
        if response.status >= 400 and response.status not in (429, 503) and self.first_error is None:
            self.first_error = response
        return response

    def exchange(self, response: Response) -> dict[str, Any]:
        from .report import _redact_all

        request = response.request
        body = response.json()
        if body is None:
            body = response.excerpt(_BODY_LIMIT)
        record = {
            "request": {"method": request.method, "path": request.target(), "form": [list(p) for p in request.form],
                        "description": request.description},
            "curl": self.target.curl(request),
            "response": {"status": response.status, "content_type": response.headers.get("Content-Type", ""),
                         "body": _cut(body)},
        }
        return _redact_all(record, self.secrets)

    def decide(self, name: str, choice: str, why: str) -> None:
        point = self.points[name]
        point.choice, point.why = choice, why


def take(target: Target, spec: Spec | None = None, *, service_sid: str | None = None,
         channel_sid: str | None = None, writes: bool = True, secrets: Sequence[str] = (),
         guard_factory: Callable[[list[str], list[tuple[str, str]]], Any] | None = None,
         log: Callable[[str], None] | None = None) -> dict[str, Any]:  # noqa: ARG001 - log kept for callers
    """Probe *target* at every open point; the fingerprint as a JSON-ready dict.

    *service_sid*/*channel_sid* name resources known to exist (live: required
    for the points that need a parent). With *writes*, the writing probes run
    after the read-only ones; *guard_factory(services, channels)* returns a
    started :class:`~.live.Guard` (snapshot taken) or None, and its ``restore()``
    is called however the probes end -- the caller adds the problems to the file.
    """
    from . import __version__

    spec = spec or target.spec
    log = log or (lambda line: None)
    probe = _Prober(target, spec, secrets)
    unknown_service = "IS" + _random.token_hex(16)
    unknown_channel = "CH" + _random.token_hex(16)
    snapshot = 0
    service, channel = _read_only(probe, service_sid, channel_sid, unknown_service, unknown_channel, writes)
    if not writes:
        for name in _WRITING_POINTS:
            probe.decide(name, UNKNOWN, "a writing probe; not run without --allow-writes")
    else:
        if guard_factory is not None:
            before = target.sent
            snapshot = 0
            guard_factory([service] if service else [], [(service, channel)] if service and channel else [])
            snapshot = target.sent - before
        _writes(probe, service, channel)
    return {
        "format": FORMAT,
        "tool": "twilio-webhook-contracts",
        "version": __version__,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "target": {"conversations_url": target.conversations_url, "chat_url": target.chat_url,
                   "service_sid": service_sid, "channel_sid": channel_sid},
        "writes": writes,
        "requests": {"probes": probe.requests, "snapshot": snapshot, "restore": 0,
                     "per_point": dict(probe.per_point)},
        "restore_problems": [],
        "points": {name: {"choice": p.choice, "why": p.why, "evidence": p.evidence}
                   for name, p in probe.points.items()},
    }


def _read_only(probe: _Prober, service_sid: str | None, channel_sid: str | None,
               unknown_service: str, unknown_channel: str, writes: bool) -> tuple[str | None, str | None]:
    """The read-only probes (and, with *writes*, the one rejected POST to a parent the server called
    absent); returns the (service, channel) the writing probes may use."""
    _probe_account(probe)
    listed, implicit, service, channel, page_params = _probe_parents(
        probe, service_sid, channel_sid, unknown_service, unknown_channel)
    _probe_initial(probe, unknown_service if implicit else service_sid)
    odd_parent = _probe_unique_names(probe, implicit, unknown_service)
    _probe_page_size_max(probe, page_params)
    absent = {"ServiceSid": unknown_service, "ChannelSid": unknown_channel} if listed.status == 404 else odd_parent
    _probe_validation_order(probe, absent, writes)
    _probe_error_messages(probe, page_params or {"ServiceSid": unknown_service, "ChannelSid": unknown_channel})
    return service, channel


def _probe_account(probe: _Prober) -> None:
    """Account configuration: legacy filters and the host in url fields (no parent needed)."""
    account = probe.send(["legacy_filters", "url_host"], "FetchConfigurationWebhook",
                         description="account configuration: filters as found, host of url")
    data = _object(account)
    if data is None:
        probe.decide("legacy_filters", UNKNOWN, f"the account configuration read answered {account.status}")
        probe.decide("url_host", UNKNOWN, f"the account configuration read answered {account.status}")
    else:
        filters = data.get("filters")
        if isinstance(filters, list) and "onMessageSend" in filters:
            probe.decide("legacy_filters", "on", "the account reports the legacy filter onMessageSend")
        else:
            probe.decide("legacy_filters", "off", f"the account's filters are {filters!r}: no legacy name")
        probe.decide("url_host", *_url_host(data.get("url"), probe.target.conversations_url))


def _probe_parents(probe: _Prober, service_sid: str | None, channel_sid: str | None, unknown_service: str,
                   unknown_channel: str) -> tuple[Any, bool, str | None, str | None, dict[str, str] | None]:
    """A channel of a random service: does an unknown parent exist? what page size without PageSize?"""
    unknown = {"ServiceSid": unknown_service, "ChannelSid": unknown_channel}
    listed = probe.send(["parents", "default_page_size"], "ListChannelWebhook", unknown,
                        description="list on a random service and channel: does an unknown parent exist?")
    implicit = listed.status == 200
    if listed.status == 404:
        probe.decide("parents", "declared", "a random service's channel is 404: unknown parents do not exist")
    elif implicit:
        probe.decide("parents", "implicit", "a random service's channel answered 200: every parent exists")
    else:
        probe.decide("parents", UNKNOWN, f"a random service's channel answered {listed.status}")
    service = service_sid or (unknown_service if implicit else None)
    channel = channel_sid or (unknown_channel if implicit else None)
    page_params = {"ServiceSid": service, "ChannelSid": channel} if service and channel else None
    page = listed
    if not implicit and page_params is not None:
        page = probe.send(["default_page_size"], "ListChannelWebhook", page_params,
                          description="list on the given channel: the page size without PageSize")
    meta = (_object(page) or {}).get("meta") if page.status == 200 else None
    size = meta.get("page_size") if isinstance(meta, dict) else None
    if isinstance(size, int) and not isinstance(size, bool):
        probe.decide("default_page_size", str(size), f"a list without PageSize reports meta.page_size {size}")
    else:
        probe.decide("default_page_size", UNKNOWN, "no channel answered a list" if page_params is None
                     else f"the list answered {page.status} without meta.page_size")
    return listed, implicit, service, channel, page_params


def _probe_initial(probe: _Prober, config_service: str | None) -> None:
    """A never-configured service: initial filters and method."""
    if config_service is None:
        for name in ("initial_filters", "initial_method"):
            probe.decide(name, UNKNOWN, "unknown services do not exist here: pass --service-sid of a service")
    else:
        fresh = probe.send(["initial_filters", "initial_method"], "FetchServiceWebhookConfiguration",
                           {"ChatServiceSid": config_service},
                           description="a service configuration: filters and method as found")
        data = _object(fresh)
        if fresh.status != 200 or data is None:
            for name in ("initial_filters", "initial_method"):
                probe.decide(name, UNKNOWN, f"the service configuration read answered {fresh.status}")
        else:
            configured = any(data.get(key) for key in ("pre_webhook_url", "post_webhook_url"))
            note = " (this service has webhook URLs set: it may have been configured)" if configured else ""
            filters, method = data.get("filters"), data.get("method")
            probe.decide("initial_filters", "null" if filters is None else "empty" if filters == [] else UNKNOWN,
                         f"a service configuration reads filters {filters!r}{note}")
            probe.decide("initial_method", "null" if method is None else "POST" if method == "POST" else UNKNOWN,
                         f"a service configuration reads method {method!r}{note}")


def _probe_unique_names(probe: _Prober, implicit: bool, unknown_service: str) -> dict[str, str] | None:
    """Unique names: only a server that creates channels on demand shows which names it knows."""
    odd_parent: dict[str, str] | None = None
    if implicit:
        odd = probe.send(["unique_names"], "ListChannelWebhook",
                         {"ServiceSid": unknown_service, "ChannelSid": ODD_NAME},
                         description="list on a channel named outside [A-Za-z0-9_.-]")
        if odd.status == 404:
            probe.decide("unique_names", "restricted", f"a channel named {ODD_NAME!r} is 404 where any sid exists")
            odd_parent = {"ServiceSid": unknown_service, "ChannelSid": ODD_NAME}
        elif odd.status == 200:
            probe.decide("unique_names", "any", f"a channel named {ODD_NAME!r} answered 200")
        else:
            probe.decide("unique_names", UNKNOWN, f"a channel named {ODD_NAME!r} answered {odd.status}")
    else:
        probe.decide("unique_names", UNKNOWN, "unknown channels do not exist here, so no name shows the alphabet")
    return odd_parent


def _probe_page_size_max(probe: _Prober, page_params: dict[str, str] | None) -> None:
    """The largest PageSize: 6 (above the spec's 5), then 1001 and 1000 (around Twilio's 1000)."""
    if page_params is None:
        probe.decide("page_size_max", UNKNOWN, "no channel answered a list: pass --service-sid and --channel-sid")
    else:
        six = probe.send(["page_size_max"], "ListChannelWebhook", page_params, query=[("PageSize", "6")],
                         description="PageSize=6, above the spec's maximum of 5")
        if 400 <= six.status < 500:
            probe.decide("page_size_max", "5", f"PageSize=6 answered {six.status}")
        elif six.status != 200:
            probe.decide("page_size_max", UNKNOWN, f"PageSize=6 answered {six.status}")
        else:
            over = probe.send(["page_size_max"], "ListChannelWebhook", page_params, query=[("PageSize", "1001")],
                              description="PageSize=1001, above Twilio's general limit")
            if over.status == 200:
                probe.decide("page_size_max", UNKNOWN, "PageSize=1001 was served: the limit is above 1000")
            else:
                top = probe.send(["page_size_max"], "ListChannelWebhook", page_params, query=[("PageSize", "1000")],
                                 description="PageSize=1000, Twilio's general limit")
                probe.decide("page_size_max", "1000" if top.status == 200 else UNKNOWN,
                             f"PageSize=6 served, 1001 answered {over.status}, 1000 answered {top.status}")


def _probe_validation_order(probe: _Prober, absent: dict[str, str] | None, writes: bool) -> None:
    """Validation order: an invalid body to a parent the server has called absent (nothing can change)."""
    if absent is None:
        probe.decide("validation_order", UNKNOWN, "no parent is absent here, so no request can have both a bad "
                                                  "path and a bad body")
    elif not writes:
        probe.decide("validation_order", UNKNOWN, "its probe is a POST (invalid, to an absent parent); not sent "
                                                  "without --allow-writes")
    else:
        both = probe.send(["validation_order"], "CreateChannelWebhook", absent, form=[("Type", "fp-not-a-type")],
                          description="an invalid Type, to a channel the server called absent")
        probe.decide("validation_order", "path-first" if both.status == 404 else "body-first"
                     if both.status == 400 else UNKNOWN,
                     f"an invalid body to an absent channel answered {both.status}")


def _probe_error_messages(probe: _Prober, params: dict[str, str]) -> None:
    """Error wording: from the first error any probe got (codes are documented, words are not)."""
    error = probe.first_error
    if error is None:
        error = probe.send(["error_messages"], "ListChannelWebhook", params,
                           query=[("PageSize", "0")], description="PageSize=0, below the documented minimum")
    else:
        probe.points["error_messages"].evidence.append(probe.exchange(error))
    message = (_object(error) or {}).get("message")
    if not isinstance(message, str):
        probe.decide("error_messages", UNKNOWN, f"the error ({error.status}) has no message")
    else:
        twilio_like = message.startswith(("Invalid parameter", "Missing required parameter", "The requested resource"))
        probe.decide("error_messages", "twilio" if twilio_like else "terse",
                     f"a {error.status} error reads {message[:120]!r}")


def _writes(probe: _Prober, service: str | None, channel: str | None) -> None:
    """The writing probes (run inside the guard)."""
    # empty value: clears to null, or rejected
    empty = probe.send(["empty_value"], "UpdateConfigurationWebhook", form=[("PostWebhookUrl", "")],
                       description="PostWebhookUrl= (an empty value)")
    data = _object(empty)
    if 400 <= empty.status < 500:
        probe.decide("empty_value", "rejected", f"an empty PostWebhookUrl answered {empty.status}")
    elif empty.status == 200 and data is not None and data.get("post_webhook_url") is None:
        probe.decide("empty_value", "clears", "an empty PostWebhookUrl answered 200 with post_webhook_url null")
    else:
        probe.decide("empty_value", UNKNOWN, f"an empty PostWebhookUrl answered {empty.status}")

    # channel limit (and filter order, from the first create): fill the channel to five, then one more.
    # Filter order is read from a webhook the probes create because the guard can delete it; an account's
    # filters written over could not be put back to [] or null through the form.
    channel_points = ("type_fields", "triggers_key", "filter_order", "channel_limit")
    if not (service and channel):
        for name in channel_points:
            probe.decide(name, UNKNOWN, "no channel to write to: pass --service-sid and --channel-sid")
        return
    params = {"ServiceSid": service, "ChannelSid": channel}
    listed = probe.send(["channel_limit"], "ListChannelWebhook", params, query=[("PageSize", "5")],
                        description="webhooks already on the channel")
    hooks = (_object(listed) or {}).get("webhooks")
    if listed.status != 200 or not isinstance(hooks, list):
        for name in channel_points:
            probe.decide(name, UNKNOWN, f"the channel's list answered {listed.status}")
        return
    _type_probes(probe, params, room=len(hooks) < 5)
    sent = ["onMessageUpdated", "onMessageSent"]
    probe.decide("filter_order", UNKNOWN, "the channel is full: no webhook could be created")
    for index in range(max(0, 5 - len(hooks)) + 1):
        form = [("Type", "webhook"), ("Configuration.Url", f"https://fingerprint.invalid/{index}")]
        first = index == 0
        if first:
            form += [("Configuration.Filters", name) for name in sent]
        created = probe.send(["filter_order", "channel_limit"] if first else ["channel_limit"], "CreateChannelWebhook",
                             params, form=form, description="a webhook, towards the sixth on the channel"
                             + (" (filters sent out of alphabetical order)" if first else ""))
        if first and created.status == 201:
            filters = ((_object(created) or {}).get("configuration") or {}).get("filters")
            if filters == sent:
                probe.decide("filter_order", "sent", f"filters read back as sent: {filters}")
            elif filters == sorted(sent):
                probe.decide("filter_order", "sorted", f"filters read back sorted: {filters}")
            else:
                probe.decide("filter_order", UNKNOWN, f"filters read back as {filters!r}")
        if created.status >= 400:
            if created.status in (400, 409):
                probe.decide("channel_limit", str(created.status),
                             f"webhook {len(hooks) + index + 1} on the channel answered {created.status}")
            else:
                probe.decide("channel_limit", UNKNOWN, f"webhook {len(hooks) + index + 1} answered {created.status}")
            return
    probe.decide("channel_limit", UNKNOWN, "a sixth webhook on the channel was accepted")


def _type_probes(probe: _Prober, params: Mapping[str, str], *, room: bool) -> None:
    """``type_fields`` and ``triggers_key``: one webhook each, deleted at once (the channel's five
    slots are the channel-limit probe's to fill; the guard deletes them too if a delete fails)."""
    if not room:
        for name in ("type_fields", "triggers_key"):
            probe.decide(name, UNKNOWN, "the channel is full: no webhook could be created")
        return
    flow = "FW" + "0" * 32
    created = probe.send(["type_fields"], "CreateChannelWebhook", params,
                         form=[("Type", "webhook"), ("Configuration.Url", "https://fingerprint.invalid/type"),
                               ("Configuration.FlowSid", flow)],
                         description="a webhook-type webhook with a studio-only Configuration.FlowSid")
    if created.status == 201:
        probe.decide("type_fields", "accepted", "Configuration.FlowSid on a webhook-type webhook answered 201")
    elif 400 <= created.status < 500 and created.status not in (401, 403, 429):
        probe.decide("type_fields", "rejected", f"Configuration.FlowSid on a webhook-type webhook answered {created.status}")
    else:
        probe.decide("type_fields", UNKNOWN, f"the create answered {created.status}")
    _delete_created(probe, "type_fields", params, created)
    trigger = probe.send(["triggers_key"], "CreateChannelWebhook", params,
                         form=[("Type", "trigger"), ("Configuration.Url", "https://fingerprint.invalid/trigger"),
                               ("Configuration.Triggers", "fingerprint")],
                         description="a trigger webhook with one trigger")
    configuration = (_object(trigger) or {}).get("configuration") if trigger.status == 201 else None
    if isinstance(configuration, dict) and configuration.get("triggers") == ["fingerprint"]:
        probe.decide("triggers_key", "triggers", "the trigger read back under configuration.triggers")
    elif isinstance(configuration, dict) and configuration.get("filters") == ["fingerprint"]:
        probe.decide("triggers_key", "filters", "the trigger read back under configuration.filters")
    else:
        probe.decide("triggers_key", UNKNOWN, f"the trigger webhook's create answered {trigger.status}"
                     + (f" with configuration {configuration!r}" if configuration is not None else ""))
    _delete_created(probe, "triggers_key", params, trigger)


def _delete_created(probe: _Prober, point: str, params: Mapping[str, str], created: Response) -> None:
    sid = (_object(created) or {}).get("sid") if created.status == 201 else None
    if isinstance(sid, str):
        probe.send([point], "DeleteChannelWebhook", {**params, "Sid": sid},
                   description="the probe's webhook, deleted again")


def _url_host(url: Any, addressed: str) -> tuple[str, str]:
    if not isinstance(url, str):
        return UNKNOWN, f"the url field is {url!r}"
    host = (urlsplit(url).hostname or "").lower()
    if host in TWILIO_HOSTS:
        return "twilio", f"url names Twilio's host {host}"
    if host == (urlsplit(addressed).hostname or "").lower():
        return "request", f"url names the host the client addressed ({host})"
    return UNKNOWN, f"url names {host!r}, neither the addressed host nor Twilio's"


def _object(response: Response) -> dict[str, Any] | None:
    data = response.json()
    return data if isinstance(data, dict) else None


def _cut(body: Any) -> Any:
    if isinstance(body, str) and len(body) > _BODY_LIMIT:
        return body[: _BODY_LIMIT - 3] + "..."
    return body


# -- using a recording -----------------------------------------------------------


def load(path: str) -> dict[str, Any]:
    """A fingerprint file, checked; :class:`FingerprintError` with one line otherwise."""
    import json

    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as exc:
        raise FingerprintError(f"--fingerprint {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise FingerprintError(f"--fingerprint {path}: not JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("points"), dict):
        raise FingerprintError(f"--fingerprint {path}: not a fingerprint file (expected format {FORMAT})")
    for name, entry in data["points"].items():
        if not isinstance(entry, dict) or not isinstance(entry.get("choice"), str):
            raise FingerprintError(f"--fingerprint {path}: point {str(name)[:40]!r} has no choice")
    return data


def policy_pairs(recording: Mapping[str, Any]) -> list[str]:
    """``NAME=VALUE`` for every recorded choice the mock has a policy for (``unknown`` ones are left alone)."""
    from .mock.policies import CATALOGUE

    names = {policy.name for policy in CATALOGUE}
    return [f"{name}={entry['choice']}" for name, entry in recording["points"].items()
            if name in names and entry.get("choice") != UNKNOWN]


def compare(recording: Mapping[str, Any], observed: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per open point both fingerprints decided, and decided differently."""
    rows = []
    for name, entry in recording["points"].items():
        seen = observed["points"].get(name)
        if not seen or UNKNOWN in (entry.get("choice"), seen.get("choice")):
            continue
        if entry["choice"] != seen["choice"]:
            rows.append({"point": name, "recorded": entry["choice"], "recorded_why": entry.get("why", ""),
                         "observed": seen["choice"], "observed_why": seen.get("why", "")})
    return rows
