"""An independent, Twilio-faithful server for the nine webhook-configuration operations.

Why it exists: the contract suite was tuned against this project's own mock, so the
mock's free choices risked becoming "the contract". This server was written from
Twilio's documentation and OpenAPI description only (``/work/shared/seeds``,
``/work/shared/reference/twilio-oai``), never from ``twilio_webhook_contracts.mock``,
and it makes the choices a correct server is free to make *differently*: only the
declared services and channels exist, the path is checked before the body, empty
values are rejected, ``url`` fields name Twilio's canonical hosts, a never-configured
service reports ``method: null`` (twilio-oai's ``fetchEmpty`` example), and so on.
Each choice is a constructor option, so a test can flip one at a time.

Standard library only; it listens on 127.0.0.1 and nowhere else.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

ACCOUNT_FILTERS = (  # conversations_v1 configuration_webhook.filters description (seed 001/002)
    "onMessageAdded onMessageUpdated onMessageRemoved onMessageAdd onMessageUpdate onMessageRemove "
    "onConversationUpdated onConversationRemoved onConversationAdd onConversationAdded onConversationRemove "
    "onConversationUpdate onConversationStateUpdated onParticipantAdded onParticipantUpdated onParticipantRemoved "
    "onParticipantAdd onParticipantRemove onParticipantUpdate onDeliveryUpdated onUserAdded onUserUpdate "
    "onUserUpdated").split()
SERVICE_FILTERS = (  # service_webhook_configuration.filters description (seed 003)
    "onParticipantAdd onParticipantAdded onDeliveryUpdated onConversationUpdated onConversationRemove "
    "onParticipantRemove onConversationUpdate onMessageAdd onMessageRemoved onParticipantUpdated "
    "onConversationAdded onMessageAdded onConversationAdd onConversationRemoved onParticipantUpdate "
    "onMessageRemove onMessageUpdated onParticipantRemoved onMessageUpdate onConversationStateUpdated").split()
#: Chat "Webhook Event Triggers" (pre- and post-event names); the spec only links to that page.
CHAT_FILTERS = (
    "onMessageSend onMessageUpdate onMessageRemove onMediaMessageSend onChannelAdd onChannelUpdate "
    "onChannelDestroy onMemberAdd onMemberUpdate onMemberRemove onUserUpdate onMessageSent onMessageUpdated "
    "onMessageRemoved onMediaMessageSent onChannelAdded onChannelUpdated onChannelDestroyed onMemberAdded "
    "onMemberUpdated onMemberRemoved onUserAdded onUserUpdated").split()
METHODS = ("GET", "POST")
TARGETS = ("webhook", "flex")
TYPES = ("webhook", "trigger", "studio")
MAX_WEBHOOKS_PER_CHANNEL = 5
MAX_TRIGGERS = 5
SID = {p: re.compile(r"^%s[0-9a-fA-F]{32}$" % p) for p in ("AC", "IS", "CH", "WH", "FW", "SK")}
CONVERSATIONS_HOST = "https://conversations.twilio.com"
CHAT_HOST = "https://chat.twilio.com"
ROUTES = [
    ("account", re.compile(r"^/v1/Configuration/Webhooks$"), ("GET", "POST")),
    ("service", re.compile(r"^/v1/Services/([^/]+)/Configuration/Webhooks$"), ("GET", "POST")),
    ("webhooks", re.compile(r"^/v2/Services/([^/]+)/Channels/([^/]+)/Webhooks$"), ("GET", "POST")),
    ("webhook", re.compile(r"^/v2/Services/([^/]+)/Channels/([^/]+)/Webhooks/([^/]+)$"), ("GET", "POST", "DELETE")),
]


class ApiError(Exception):
    """A Twilio error answer: ``{code, message, more_info, status}``."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Form:
    """A form body or query string: repeated keys kept in order (``Filters=a&Filters=b``)."""

    def __init__(self, raw: str) -> None:
        self.values: dict[str, list[str]] = {}
        for key, value in parse_qsl(raw, keep_blank_values=True, strict_parsing=False, errors="strict"):
            self.values.setdefault(key, []).append(value)

    def has(self, key: str) -> bool:
        return key in self.values

    def one(self, key: str) -> str | None:
        """The first value of a scalar parameter (as a servlet's ``getParameter``), or None."""
        values = self.values.get(key)
        return values[0] if values else None

    def many(self, key: str) -> list[str] | None:
        return list(self.values[key]) if key in self.values else None


class IndependentApp:
    """The HTTP-free logic: ``handle(method, path, query, headers, body) -> (status, headers, body)``.

    Broken copies subclass this and override one small method each.
    """

    def __init__(self, account_sid: str, auth_token: str, *, api_keys: dict[str, str] | None = None,
                 services: dict[str, dict[str, str | None]] | None = None, parents: str = "declared",
                 validation_order: str = "path-first", empty_value: str = "rejected",
                 default_page_size: int = 50, page_size_max: int = 1000, url_host: str = "twilio",
                 initial_method: str | None = None, initial_filters: list[str] | None = None,
                 channel_limit: int = 409, triggers_as_filters: bool = True, require_config: bool = True,
                 error_messages: str = "own", sid_salt: str = "independent") -> None:
        self.account_sid, self.auth_token = account_sid, auth_token
        self.api_keys = dict(api_keys or {})  # SK sid -> secret, all belonging to account_sid
        #: service sid -> {channel sid: unique name or None}
        self.services = {s: dict(c) for s, c in (services or {}).items()}
        self.parents, self.validation_order, self.empty_value = parents, validation_order, empty_value
        self.default_page_size, self.page_size_max, self.url_host = default_page_size, page_size_max, url_host
        self.initial_method, self.initial_filters = initial_method, initial_filters
        self.channel_limit, self.triggers_as_filters = channel_limit, triggers_as_filters
        self.require_config, self.error_messages = require_config, error_messages
        self.lock = threading.RLock()
        self.sid_salt, self.sid_count = sid_salt, 0
        self.max_webhooks = MAX_WEBHOOKS_PER_CHANNEL  # documented; broken copies may change it
        self.account_config: dict[str, Any] = {"method": "POST", "filters": initial_filters, "pre_webhook_url": None,
                                               "post_webhook_url": None, "target": "webhook"}
        self.service_configs: dict[str, dict[str, Any]] = {}
        self.webhooks: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}  # (IS, CH) -> {WH: record}

    # ---- entry point ------------------------------------------------------------------------
    def handle(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes,
               host: str) -> tuple[int, dict[str, Any] | None]:
        """Authenticate, route, validate, act. Returns (status, JSON document or None for 204)."""
        try:
            self.authenticate(headers.get("authorization", ""))
            for name, pattern, methods in ROUTES:
                match = pattern.match(path)
                if match:
                    break
            else:
                raise ApiError(404, 20404, f"The requested resource {path} was not found")
            if method not in methods:
                raise ApiError(405, 20004, f"Method {method} not allowed on {path}")
            params = [unquote(p) for p in match.groups()]
            try:
                form = Form(body.decode("utf-8") if method == "POST" else query)
            except (UnicodeDecodeError, ValueError):
                raise ApiError(400, 20001, "The request body is not valid UTF-8 form data") from None
            with self.lock:
                return getattr(self, f"op_{name}")(method, params, form, host)
        except ApiError as error:
            return error.status, self.error_body(error)

    def error_body(self, error: ApiError) -> dict[str, Any]:
        return {"code": error.code, "message": error.message,
                "more_info": f"https://www.twilio.com/docs/errors/{error.code}", "status": error.status}

    def authenticate(self, header: str) -> None:
        """HTTP Basic with the account SID + auth token, or an API key SK + its secret."""
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                user, password = "", ""
            secret = self.auth_token if user == self.account_sid else self.api_keys.get(user)
            if secret is not None and hmac.compare_digest(password.encode(), secret.encode()):
                return
        raise ApiError(401, 20003, "Authenticate")

    # ---- helpers ----------------------------------------------------------------------------
    def host_for(self, canonical: str, host: str) -> str:
        return canonical if self.url_host == "twilio" else host

    def invalid(self, name: str, why: str) -> ApiError:
        if self.error_messages == "twilio":
            return ApiError(400, 20001, f"Invalid parameter {name}")
        return ApiError(400, 20001, f"{name}: {why}")

    def check_empty(self, form: Form, names: list[str]) -> None:
        for name in names:
            if name in form.values and any(v == "" for v in form.values[name]) and self.empty_value == "rejected":
                raise self.invalid(name, "an empty value is not accepted")

    def valid_url(self, value: str) -> bool:
        """An absolute http(s) URL with a host, no whitespace or control characters."""
        if not value or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value):
            return False
        try:
            parts = urlsplit(value)
            parts.port  # raises ValueError for a bad port
        except ValueError:
            return False
        return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)

    def url_param(self, form: Form, name: str) -> str | None | type[Ellipsis]:
        """Ellipsis when absent; None when an allowed empty value clears it; else the validated URL."""
        if not form.has(name):
            return ...
        value = form.one(name) or ""
        if value == "" and self.empty_value != "rejected":
            return None
        if not self.valid_url(value):
            raise self.invalid(name, "must be an absolute http or https URL")
        return value

    def enum_param(self, form: Form, name: str, allowed: tuple[str, ...]) -> str | type[Ellipsis]:
        if not form.has(name):
            return ...
        value = form.one(name) or ""
        if value not in allowed:
            raise self.invalid(name, f"must be one of {', '.join(allowed)}")
        return value

    def list_param(self, form: Form, name: str, allowed: list[str] | None) -> list[str] | None | type[Ellipsis]:
        if not form.has(name):
            return ...
        values = [v for v in form.many(name) or []]
        if values == [""] and self.empty_value != "rejected":
            return []
        for value in values:
            if value == "" or (allowed is not None and value not in allowed):
                raise self.invalid(name, f"unknown value {value!r}")
        return values

    # ---- parents ------------------------------------------------------------------------------
    def service_exists(self, service: str) -> bool:
        if not SID["IS"].match(service):
            return False
        return self.parents == "implicit" or service in self.services

    def resolve_channel(self, service: str, channel: str) -> str:
        """The channel's CH sid for a sid or unique name under a declared service, or a 404."""
        if self.service_exists(service):
            channels = self.services.get(service, {})
            if channel in channels:
                return channel
            for sid, unique_name in channels.items():
                if unique_name is not None and unique_name == channel:
                    return sid
            if self.parents == "implicit":
                if SID["CH"].match(channel):
                    return channel
                if re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", channel):  # a unique name: a stable CH sid for it
                    return "CH" + hashlib.sha256(f"{service}/{channel}".encode()).hexdigest()[:32]
        raise ApiError(404, 20404, f"The requested resource /Services/{service}/Channels/{channel} was not found")

    def parent_first(self, check_parent, check_body):
        """Path-first (our default) or body-first: which error wins when both are wrong."""
        if self.validation_order == "path-first":
            return check_parent(), check_body()
        body = check_body()
        return check_parent(), body

    # ---- Conversations: account configuration ----------------------------------------------------
    def render_account(self, host: str) -> dict[str, Any]:
        cfg = self.account_config
        return {"account_sid": self.account_sid, "method": cfg["method"], "filters": cfg["filters"],
                "pre_webhook_url": cfg["pre_webhook_url"], "post_webhook_url": cfg["post_webhook_url"],
                "target": cfg["target"], "url": self.host_for(CONVERSATIONS_HOST, host) + "/v1/Configuration/Webhooks"}

    def op_account(self, method: str, params: list[str], form: Form, host: str):
        if method == "POST":
            self.check_empty(form, ["Method", "Filters", "PreWebhookUrl", "PostWebhookUrl", "Target"])
            changes = {"method": self.enum_param(form, "Method", METHODS),
                       "filters": self.list_param(form, "Filters", ACCOUNT_FILTERS),
                       "pre_webhook_url": self.url_param(form, "PreWebhookUrl"),
                       "post_webhook_url": self.url_param(form, "PostWebhookUrl"),
                       "target": self.enum_param(form, "Target", TARGETS)}
            self.apply_account(changes)
        return 200, self.render_account(host)

    def apply_account(self, changes: dict[str, Any]) -> None:
        self.account_config.update({k: v for k, v in changes.items() if v is not ...})

    # ---- Conversations: per-service configuration ------------------------------------------------
    def service_config(self, service: str) -> dict[str, Any]:
        return self.service_configs.setdefault(service, {
            "method": self.initial_method, "filters": self.initial_filters,
            "pre_webhook_url": None, "post_webhook_url": None})

    def render_service(self, service: str, host: str) -> dict[str, Any]:
        cfg = self.service_config(service)
        return {"account_sid": self.account_sid, "chat_service_sid": service,
                "pre_webhook_url": cfg["pre_webhook_url"], "post_webhook_url": cfg["post_webhook_url"],
                "filters": cfg["filters"], "method": cfg["method"],
                "url": self.host_for(CONVERSATIONS_HOST, host) + f"/v1/Services/{service}/Configuration/Webhooks"}

    def op_service(self, method: str, params: list[str], form: Form, host: str):
        service = params[0]

        def parent():
            if not self.service_exists(service):
                raise ApiError(404, 20404, f"The requested resource /Services/{service} was not found")

        def body():
            if method != "POST":
                return None
            self.check_empty(form, ["Method", "Filters", "PreWebhookUrl", "PostWebhookUrl"])
            return {"method": self.enum_param(form, "Method", METHODS),
                    "filters": self.list_param(form, "Filters", SERVICE_FILTERS),
                    "pre_webhook_url": self.url_param(form, "PreWebhookUrl"),
                    "post_webhook_url": self.url_param(form, "PostWebhookUrl")}

        _, changes = self.parent_first(parent, body)
        if changes is not None:
            self.service_config(service).update({k: v for k, v in changes.items() if v is not ...})
        return 200, self.render_service(service, host)

    # ---- Chat v2: channel webhooks ---------------------------------------------------------------
    def render_webhook(self, record: dict[str, Any], host: str) -> dict[str, Any]:
        key = (record["service_sid"], record["channel_sid"], record["sid"])
        return {"sid": record["sid"], "account_sid": self.account_sid, "service_sid": key[0],
                "channel_sid": key[1], "type": record["type"], "configuration": dict(record["configuration"]),
                "date_created": record["date_created"], "date_updated": record["date_updated"],
                "url": self.host_for(CHAT_HOST, host) + "/v2/Services/%s/Channels/%s/Webhooks/%s" % key}

    def channel_configuration(self, form: Form, kind: str, current: dict[str, Any] | None,
                              kind_unknown: bool = False) -> dict[str, Any]:
        """Validate ``Configuration.*`` for a webhook of ``kind``; return the new configuration.

        ``kind_unknown``: body-first validation of an update whose webhook does not exist, where only the
        given values can be judged (the 404 follows).
        """
        names = ["Configuration.Url", "Configuration.Method", "Configuration.Filters", "Configuration.Triggers",
                 "Configuration.FlowSid", "Configuration.RetryCount"]
        self.check_empty(form, names)
        cfg = dict(current) if current is not None else {
            "url": None, "method": None if kind == "studio" else "POST", "filters": None, "flow_sid": None,
            "retry_count": 0}
        if not self.triggers_as_filters and current is None:
            cfg["triggers"] = None
        url = self.url_param(form, "Configuration.Url")
        method = self.enum_param(form, "Configuration.Method", METHODS)
        filters = self.list_param(form, "Configuration.Filters", CHAT_FILTERS)
        triggers = self.list_param(form, "Configuration.Triggers", None)
        if isinstance(triggers, list) and len(triggers) > MAX_TRIGGERS:
            raise self.invalid("Configuration.Triggers", f"at most {MAX_TRIGGERS} triggers")
        flow = form.one("Configuration.FlowSid") if form.has("Configuration.FlowSid") else ...
        if flow is not ... and not SID["FW"].match(flow or ""):
            raise self.invalid("Configuration.FlowSid", "must be a Flow SID (FW...)")
        retry: Any = ...
        if form.has("Configuration.RetryCount"):
            raw = form.one("Configuration.RetryCount") or ""
            if not re.fullmatch(r"[0-9]{1,3}", raw) or not 0 <= int(raw) <= 3:
                raise self.invalid("Configuration.RetryCount", "must be an integer from 0 to 3")
            retry = int(raw)
        if self.triggers_as_filters:
            # Twilio's examples report a trigger webhook's Triggers as configuration.filters.
            if kind == "trigger" and filters is not ...:
                raise self.invalid("Configuration.Filters", "a trigger webhook takes Configuration.Triggers")
            if kind != "trigger" and triggers is not ...:
                raise self.invalid("Configuration.Triggers", "used only when Type is trigger")
            if kind == "trigger":
                filters = triggers
        elif triggers is not ...:
            cfg["triggers"] = triggers
        for key, value in (("url", url), ("method", method), ("filters", filters), ("flow_sid", flow),
                           ("retry_count", retry)):
            if value is not ...:
                cfg[key] = value
        if self.require_config and not (current is None and kind_unknown):
            if kind in ("webhook", "trigger") and not cfg["url"]:
                raise self.invalid("Configuration.Url", f"required for a {kind} webhook")
            if kind == "studio" and not cfg["flow_sid"]:
                raise self.invalid("Configuration.FlowSid", "required for a studio webhook")
        return cfg

    def channel_webhooks(self, service: str, channel: str) -> dict[str, dict[str, Any]]:
        return self.webhooks.setdefault((service, channel), {})

    def op_webhooks(self, method: str, params: list[str], form: Form, host: str):
        service, channel_ref = params
        if method == "GET":
            channel = self.resolve_channel(service, channel_ref)
            return 200, self.list_page(service, channel, form, host)

        def body():
            self.check_empty(form, ["Type"])
            kind = self.enum_param(form, "Type", TYPES)
            if kind is ...:
                raise ApiError(400, 20001, "Missing required parameter Type")
            return kind, self.channel_configuration(form, kind, None)

        channel, (kind, cfg) = self.parent_first(lambda: self.resolve_channel(service, channel_ref), body)
        return self.create_webhook(service, channel, kind, cfg, host)

    def create_webhook(self, service: str, channel: str, kind: str, cfg: dict[str, Any], host: str):
        hooks = self.channel_webhooks(service, channel)
        if len(hooks) >= self.max_webhooks:
            raise ApiError(self.channel_limit, 50500 if self.channel_limit == 409 else 20001,
                           f"A channel can have at most {self.max_webhooks} webhooks")
        stamp = now()
        record = {"sid": self.new_sid("WH"), "service_sid": service, "channel_sid": channel,
                  "type": kind, "configuration": cfg, "date_created": stamp, "date_updated": stamp}
        hooks[record["sid"]] = record
        return 201, self.render_webhook(record, host)

    def new_sid(self, prefix: str) -> str:
        """Unpredictable-looking but reproducible sids (a run with one --seed replays exactly)."""
        self.sid_count += 1
        return prefix + hashlib.sha256(f"{self.sid_salt}/{self.sid_count}".encode()).hexdigest()[:32]

    def list_page(self, service: str, channel: str, form: Form, host: str) -> dict[str, Any]:
        """Twilio paging: PageSize (default 50, max 1000), Page (client state), PageToken (ours: PT<offset>)."""
        size = self.int_query(form, "PageSize", self.default_page_size, 1, self.page_size_max)
        page = self.int_query(form, "Page", 0, 0, 2 ** 63 - 1)  # no documented maximum
        token = form.one("PageToken")
        if token is not None:
            if not re.fullmatch(r"PT[0-9]{1,9}", token):
                raise self.invalid("PageToken", "not a token this API gave out")
            offset = int(token[2:])
        else:
            offset = page * size
        items = list(self.channel_webhooks(service, channel).values())
        chosen = items[offset:offset + size]
        base = self.host_for(CHAT_HOST, host) + f"/v2/Services/{service}/Channels/{channel}/Webhooks"

        def link(p: int, off: int | None) -> str:
            query = {"PageSize": size, "Page": p}
            if off is not None:
                query["PageToken"] = f"PT{off}"
            return base + "?" + urlencode(query)

        more = offset + size < len(items)
        return {"webhooks": [self.render_webhook(r, host) for r in chosen],
                "meta": {"page": page, "page_size": size, "first_page_url": link(0, None),
                         "previous_page_url": link(page - 1, max(0, offset - size)) if page > 0 else None,
                         "url": link(page, offset if token is not None else None),
                         "next_page_url": link(page + 1, offset + size) if more else None, "key": "webhooks"}}

    def int_query(self, form: Form, name: str, default: int, low: int, high: int) -> int:
        raw = form.one(name)
        if raw is None:
            return default
        if not re.fullmatch(r"[0-9]{1,19}", raw) or not low <= int(raw) <= high:
            raise self.invalid(name, f"must be an integer from {low} to {high}")
        return int(raw)

    def find_webhook(self, service: str, channel: str, sid: str) -> dict[str, Any]:
        record = self.channel_webhooks(service, channel).get(sid) if SID["WH"].match(sid) else None
        if record is None:
            raise ApiError(404, 20404, f"The requested resource /Webhooks/{sid} was not found")
        return record

    def op_webhook(self, method: str, params: list[str], form: Form, host: str):
        service, channel_ref, sid = params
        if method == "GET":
            record = self.find_webhook(service, self.resolve_channel(service, channel_ref), sid)
            return 200, self.render_webhook(record, host)
        if method == "DELETE":
            channel = self.resolve_channel(service, channel_ref)
            self.delete_webhook(service, channel, self.find_webhook(service, channel, sid))
            return 204, None

        def parent():
            channel = self.resolve_channel(service, channel_ref)
            return self.find_webhook(service, channel, sid)

        if self.validation_order == "path-first":
            record = parent()
            cfg = self.channel_configuration(form, record["type"], record["configuration"])
        else:  # body-first needs the type; validate against the stored one when it exists
            record = self.channel_webhooks(*self.safe_key(service, channel_ref)).get(sid)
            cfg = self.channel_configuration(form, record["type"] if record else "webhook",
                                             record["configuration"] if record else None, record is None)
            record = parent()
        self.update_webhook(record, cfg)
        return 200, self.render_webhook(record, host)

    def safe_key(self, service: str, channel_ref: str) -> tuple[str, str]:
        try:
            return service, self.resolve_channel(service, channel_ref)
        except ApiError:
            return service, channel_ref

    def update_webhook(self, record: dict[str, Any], cfg: dict[str, Any]) -> None:
        record["configuration"] = cfg
        record["date_updated"] = now()

    def delete_webhook(self, service: str, channel: str, record: dict[str, Any]) -> None:
        del self.channel_webhooks(record["service_sid"], record["channel_sid"])[record["sid"]]


class _Handler(BaseHTTPRequestHandler):
    """Wire format: JSON answers, optional charset/gzip/chunked/extras/close, 429s and latency."""

    protocol_version = "HTTP/1.1"
    #: Headers and body leave in one write (flushed after each request): no Nagle/delayed-ACK stalls.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True
    server: "IndependentServer"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _serve(self) -> None:
        srv = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        if srv.latency_ms:
            time.sleep(srv.latency_ms / 1000)
        path, _, query = self.path.partition("?")
        with srv.counter_lock:
            srv.request_count += 1
            limited = srv.rate_limit_every and srv.request_count % srv.rate_limit_every == 0
        host = "http://" + (self.headers.get("Host") or "%s:%d" % self.server.server_address[:2])
        if limited:
            status, doc = 429, srv.app.error_body(ApiError(429, 20429, "Too Many Requests"))
        else:
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                status, doc = srv.app.handle(self.command, path, query, headers, body, host)
            except Exception:  # a bug (or a broken copy's defect) is a Twilio 500, not a dropped connection
                status, doc = 500, srv.app.error_body(ApiError(500, 20500, "Internal Server Error"))
        self._send(srv, status, doc, limited)

    def _send(self, srv: "IndependentServer", status: int, doc: dict[str, Any] | None, limited: bool) -> None:
        if doc is not None and srv.extra and status < 400:
            doc = {**doc, "links": {}, **({"date_created": None} if "date_created" not in doc else {})}
        payload = b"" if doc is None else json.dumps(doc).encode()
        self.send_response(status)
        if doc is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8" if srv.charset else "application/json")
        if limited:
            self.send_header("Retry-After", "1")
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="Twilio API"')
        if srv.extra:
            self.send_header("Twilio-Request-Id", "RQ" + secrets.token_hex(16))
            self.send_header("Twilio-Concurrent-Requests", "1")
        if payload and srv.gzip and "gzip" in (self.headers.get("Accept-Encoding") or "").lower():
            payload = gzip.compress(payload)
            self.send_header("Content-Encoding", "gzip")
        if srv.connection == "close":
            self.send_header("Connection", "close")
            self.close_connection = True
        if srv.chunked and payload:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(payload), 64):
                part = payload[start:start + 64]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = do_HEAD = do_OPTIONS = _serve


class IndependentServer:
    """Serves an :class:`IndependentApp` on 127.0.0.1 in a background thread (a context manager)."""

    def __init__(self, app: IndependentApp, *, latency_ms: int = 0, rate_limit_every: int = 0,
                 connection: str = "keep-alive", chunked: bool = False, gzip: bool = False,
                 charset: bool = False, extra: bool = False) -> None:
        self.app, self.latency_ms, self.rate_limit_every = app, latency_ms, rate_limit_every
        self.connection, self.chunked, self.gzip, self.charset, self.extra = connection, chunked, gzip, charset, extra
        self.request_count, self.counter_lock = 0, threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return "http://127.0.0.1:%d" % self.httpd.server_address[1]

    def __enter__(self) -> "IndependentServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)
