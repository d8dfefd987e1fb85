"""Mock policies: one setting per point where a correct Twilio server is free to choose.

The suite was once run only against this mock, so the mock's choices became
"the contract" and correct servers that chose otherwise failed. Each policy here
names one such open point (see the project's open-point catalogue); its first
value is the mock's default, every other value is what another *correct* server
could do. Under every policy the mock still keeps everything Twilio documents.

Select them with ``webhook-contracts mock --policy NAME=VALUE`` (repeatable),
``MockApp(policies=...)``, ``serve_mock(policies=...)`` or the
``twilio_mock_policies`` fixture::

    Policies.from_pairs(["parents=declared", "rate_limit_every=20"])

:data:`CATALOGUE` lists every policy with its values and the reason it is open;
:meth:`Policies.alternatives` gives every non-default value at once.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Iterable, Mapping, Union

__all__ = ["CATALOGUE", "SUITE_EMBEDDED_POLICIES", "Policies", "Policy", "PolicyError", "Resources"]


class PolicyError(ValueError):
    """A policy name or value that is not in the catalogue (the message is one line)."""


@dataclass(frozen=True)
class Policy:
    """One open point: its name, its values (default first) and why the server may choose.

    A *numeric* policy takes any whole number from *minimum* up; its ``values``
    are the settings the catalogue names (the default and the usual alternative).
    """

    name: str
    values: tuple[str, ...]
    doc: str
    numeric: bool = False
    minimum: int = 0

    @property
    def default(self) -> str:
        return self.values[0]

    @property
    def alternative(self) -> str:
        """The catalogue's other setting (a correct server's other choice)."""
        return self.values[1]

    def coerce(self, value: Union[str, int]) -> Union[str, int]:
        """The typed value, or a :class:`PolicyError` naming the accepted values."""
        if self.numeric:
            text = str(value).strip()
            if not (text.isdigit() and len(text) <= 9) or int(text) < self.minimum:
                raise PolicyError(f"policy {self.name}: {str(value)[:40]!r} is not a whole number >= {self.minimum} "
                                  f"(for example {' or '.join(self.values)})")
            return int(text)
        if isinstance(value, str) and value in self.values:
            return value
        raise PolicyError(f"policy {self.name}: {str(value)[:40]!r} is not one of {', '.join(self.values)}")


def _policy(name: str, values: str, doc: str, *, numeric: bool = False, minimum: int = 0) -> Policy:
    return Policy(name, tuple(values.split("|")), " ".join(doc.split()), numeric, minimum)


#: Every policy, in the catalogue's order.
CATALOGUE: tuple[Policy, ...] = (
    _policy("parents", "implicit|declared", """
        Whether services and channels exist without being declared. `implicit`: every well-formed
        service and channel exists (a test double's convenience). `declared`: only the resources given
        with --resource exist; any other is a Twilio 404 20404 for list, create, fetch, update, delete
        and the per-service configuration. Open because the API cannot create services or channels and
        a real account has only its own."""),
    _policy("unique_names", "any|restricted", """
        Which channel unique names exist. `any`: every name the fragment allows. `restricted`: names
        outside [A-Za-z0-9_.-]{1,64} are 404 (the Chat docs limit a unique name to 64 characters and
        document no alphabet). Open because Twilio does not document the alphabet."""),
    _policy("validation_order", "body-first|path-first", """
        Which error wins when the parent is unknown and the body is invalid too. `body-first`: 400
        before 404. `path-first`: the unknown parent's 404 before the body's 400. Twilio documents no
        order."""),
    _policy("empty_value", "clears|rejected", """
        What an empty form value (`PreWebhookUrl=`, `Configuration.Url=`) does. `clears`: it clears
        the field to null. `rejected`: 400 20001 and nothing changes. The docs say nothing about
        clearing, so either is legitimate."""),
    _policy("page_size_max", "1000|5", """
        The largest PageSize accepted. `1000`: Twilio's general paging limit, and what the official
        clients send (twilio-python sends PageSize=limit). `5`: the spec's "the maximum is 5". Docs and
        spec disagree.""", numeric=True, minimum=1),
    _policy("default_page_size", "50|5", """
        The page size without PageSize. `50`: Twilio's usual default. `5`: the spec's "The default is
        5".""", numeric=True, minimum=1),
    _policy("initial_filters", "empty|null", """
        What `filters` reads on a never-configured account or service: `empty` ([]) or `null`. Twilio
        documents neither."""),
    _policy("initial_method", "POST|null", """
        What `method` reads on a never-configured service: `POST` (the documented default of the
        webhook method) or `null` (Twilio's own fetchEmpty example)."""),
    _policy("legacy_filters", "off|on", """
        Whether a never-configured account reports the legacy filter name `onMessageSend` too, as older
        accounts do. `on` adds it to the initial filters; it is not a value a form can send back."""),
    _policy("url_host", "request|twilio", """
        The host in every `url` field (and paging link): `request` (the host the client addressed) or
        `twilio` (https://conversations.twilio.com, https://chat.twilio.com, as a server behind a proxy
        or live Twilio answers)."""),
    _policy("filter_order", "sent|sorted", """
        The order in which stored filters read back: as `sent`, or `sorted`. Twilio documents no
        order; the set is what matters."""),
    _policy("error_messages", "twilio|terse", """
        The wording of error messages: Twilio-style (`Invalid parameter: X`) or `terse` (other words,
        the same status and code). Only codes are documented."""),
    _policy("channel_limit", "400|409", """
        The status of the 6th webhook on a channel (the Chat reference allows "up to five unique webhook
        targets for each channel" but does not say which error comes after): 400 20001 or 409
        20409."""),
    _policy("latency_ms", "0|50", """
        Milliseconds added before every answer, as a server that far away.""", numeric=True),
    _policy("rate_limit_every", "0|20", """
        Every Nth request (0: never) is answered 429 with `Retry-After: 1` and a Twilio error body
        (20429), before it is processed, as Twilio's rate limiting does.""", numeric=True),
    _policy("unavailable_every", "0|50", """
        Every Nth request (0: never) is answered 503 with `Retry-After: 1` and a Twilio error body,
        before it is processed: an occasional outage at the front door.""", numeric=True),
    _policy("connection", "keep-alive|close", """
        `close` answers every request with `Connection: close` and closes the connection, as some
        proxies do; HTTP/1.1 lets a server close after any response."""),
    _policy("chunked", "off|on", """
        `on` sends every body with `Transfer-Encoding: chunked` instead of Content-Length (HTTP/1.1
        clients must accept both)."""),
    _policy("gzip", "off|on", """
        `on` gzips a body when the request's Accept-Encoding allows gzip (`Content-Encoding: gzip`,
        `Vary: Accept-Encoding`)."""),
    _policy("charset", "off|on", """
        `on` labels JSON `application/json; charset=utf-8` (a parameter that does not change the
        media type)."""),
    _policy("extra", "off|on", """
        `on` adds undocumented fields to every resource and page, and extra response headers
        (`Twilio-Request-Id`, `X-Shenanigans`, ...): additive changes are not breaking."""),
)

_BY_NAME: Mapping[str, Policy] = {policy.name: policy for policy in CATALOGUE}


@dataclass(frozen=True)
class Policies:
    """The mock's choice at every open point; the defaults are the catalogue's first values.

    Frozen and hashable; derive a variant with :meth:`with_` or :meth:`from_pairs`.
    """

    parents: str = "implicit"
    unique_names: str = "any"
    validation_order: str = "body-first"
    empty_value: str = "clears"
    page_size_max: int = 1000
    default_page_size: int = 50
    initial_filters: str = "empty"
    initial_method: str = "POST"
    legacy_filters: str = "off"
    url_host: str = "request"
    filter_order: str = "sent"
    error_messages: str = "twilio"
    channel_limit: str = "400"
    latency_ms: int = 0
    rate_limit_every: int = 0
    unavailable_every: int = 0
    connection: str = "keep-alive"
    chunked: str = "off"
    gzip: str = "off"
    charset: str = "off"
    extra: str = "off"

    def __post_init__(self) -> None:
        for policy in CATALOGUE:
            object.__setattr__(self, policy.name, policy.coerce(getattr(self, policy.name)))

    @classmethod
    def parse(cls, text: str) -> "Policies":
        """The defaults with one ``NAME=VALUE`` setting."""
        return cls.from_pairs([text])

    @classmethod
    def from_pairs(cls, pairs: Iterable[Union[str, tuple[str, object]]], base: "Policies | None" = None) -> "Policies":
        """*base* (default: the defaults) with each ``"NAME=VALUE"`` or ``(name, value)`` applied in order."""
        changes: dict[str, object] = {}
        for pair in pairs:
            if isinstance(pair, str):
                name, equals, value = pair.partition("=")
                if not equals:
                    raise PolicyError(f"policy {pair[:60]!r}: expected NAME=VALUE (known names: {', '.join(_BY_NAME)})")
            else:
                name, value = pair
            name = name.strip().replace("-", "_")
            policy = _BY_NAME.get(name)
            if policy is None:
                raise PolicyError(f"unknown policy {name[:40]!r} (known: {', '.join(_BY_NAME)})")
            changes[name] = policy.coerce(value.strip() if isinstance(value, str) else value)  # type: ignore[arg-type]
        return dataclasses.replace(base or cls(), **changes)

    def with_(self, **changes: object) -> "Policies":
        """A copy with these settings (names as keywords), checked like :meth:`from_pairs`."""
        return self.from_pairs(changes.items(), base=self)

    @classmethod
    def alternatives(cls) -> "Policies":
        """Every policy at its catalogue alternative at once (the "all alternatives together" setting)."""
        return cls.from_pairs((policy.name, policy.alternative) for policy in CATALOGUE)

    def changed(self) -> dict[str, object]:
        """The settings that differ from the defaults, in catalogue order."""
        default = Policies()
        return {p.name: getattr(self, p.name) for p in CATALOGUE if getattr(self, p.name) != getattr(default, p.name)}

    def describe(self) -> str:
        """``parents=declared, gzip=on`` (or ``defaults``): for start-up lines and reports."""
        return ", ".join(f"{name}={value}" for name, value in self.changed().items()) or "defaults"


_SERVICE = re.compile(r"IS[0-9a-fA-F]{32}\Z")


@dataclass(frozen=True)
class Resources:
    """The services and channels that exist under ``parents=declared``.

    A channel is named by its ``CH`` sid or by its unique name (``IS.../my-room``);
    declaring a channel declares its service.
    """

    services: frozenset[str] = frozenset()
    channels: frozenset[tuple[str, str]] = frozenset()

    @classmethod
    def parse(cls, specs: Iterable[str]) -> "Resources":
        """From ``IS...`` and ``IS.../CH...`` (or ``IS.../unique-name``) strings; one-line errors."""
        services: set[str] = set()
        channels: set[tuple[str, str]] = set()
        for spec in specs:
            service, slash, channel = spec.partition("/")
            if not _SERVICE.match(service):
                raise PolicyError(f"resource {spec[:80]!r}: expected IS followed by 32 hex digits, "
                                  f"optionally /CH... or /unique-name")
            services.add(service)
            if slash:
                if not channel or "/" in channel or len(channel) > 256:
                    raise PolicyError(f"resource {spec[:80]!r}: the channel must be a CH sid or a unique name "
                                      f"(1-256 characters, no '/')")
                channels.add((service, channel))
        return cls(frozenset(services), frozenset(channels))

    def __bool__(self) -> bool:
        return bool(self.services)


#: What the suite's own embedded mock (``run`` and ``verify`` without a target, the
#: ``contract_target`` fixture) runs with: the spec's PageSize cap, because the suite's
#: strategies still call PageSize 6..1000 invalid. One place to change (to ``Policies()``)
#: once the suite treats Twilio's paging limit as open (issue 16).
SUITE_EMBEDDED_POLICIES = Policies(page_size_max=5)
