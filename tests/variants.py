"""Broken variants of the reference mock: each one has exactly one realistic defect.

``tests/test_broken_variants.py`` runs the contract suite against each of them and
requires that the suite names the right check. Every variant is a subclass of
:class:`~twilio_webhook_contracts.mock.MockApp` that overrides one extension point
(a handler, a ``render_*`` method, ``changes``, ``channel_sid``, ...), so the rest of
its behaviour is the reference mock's, which passes the suite with no violation.

Each class says in its docstring what a real server would be getting wrong; the
defects are the kind a real implementation of these endpoints could ship, not
inventions the checks happen to look for.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from typing import Any, Mapping
from urllib.parse import parse_qsl

from twilio_webhook_contracts.mock import MockApp, MockError, MockRequest, MockResponse, MockState
from twilio_webhook_contracts.mock.app import Call, Reply
from twilio_webhook_contracts.mock.errors import invalid_parameter
from twilio_webhook_contracts.mock.state import WebhookPage, _clone, _merge, rfc3339
from twilio_webhook_contracts.request import encode_form

OTHER_ACCOUNT_SID = "AC" + "f" * 32
DEFAULT_SERVICE_SID = "IS" + "0" * 32


def _with_header(response: MockResponse, name: str, value: str) -> MockResponse:
    headers = [(k, v) for k, v in response.headers if k.lower() != name.lower()]
    return dataclasses.replace(response, headers=[*headers, (name, value)])


# ---------------------------------------------------------------------------
# response family


class UpdateAnswers202(MockApp):
    """The account update answers ``202 Accepted`` (queued for later) instead of the documented 200."""

    def update_configuration_webhook(self, call: Call) -> Reply:
        reply = super().update_configuration_webhook(call)
        reply.status = 202
        return reply


class CrashesOnUrlQuery(MockApp):
    """Creating a webhook whose URL has a query string crashes the server (500)."""

    def create_channel_webhook(self, call: Call) -> Reply:
        if "?" in (call.form.get("Configuration.Url") or ""):
            raise MockError(500, 20500, "Internal Server Error")
        return super().create_channel_webhook(call)


class ServiceConfigAsTextPlain(MockApp):
    """The per-service fetch answers its JSON as ``text/plain`` (a framework default)."""

    def handle(self, request: MockRequest) -> MockResponse:
        response = super().handle(request)
        if (request.method == "GET" and request.path.startswith("/v1/Services/")
                and response.status == 200):
            return _with_header(response, "Content-Type", "text/plain; charset=utf-8")
        return response


class DropsDateUpdated(MockApp):
    """Channel webhooks come without ``date_updated`` (a serializer that skips a column)."""

    def render_channel_webhook(self, call: Call, record: Mapping[str, Any]) -> dict[str, Any]:
        body = super().render_channel_webhook(call, record)
        del body["date_updated"]
        return body


class DatesInRfc2822(MockApp):
    """Channel webhook dates in RFC 2822 (``Tue, 24 Mar 2016 21:05:50 +0000``), Twilio's
    2010 API style, instead of the RFC 3339 the Chat v2 API documents."""

    def render_channel_webhook(self, call: Call, record: Mapping[str, Any]) -> dict[str, Any]:
        body = super().render_channel_webhook(call, record)
        for key in ("date_created", "date_updated"):
            if isinstance(body[key], str):
                year, month, rest = body[key].split("-", 2)
                day, time = rest.rstrip("Z").split("T")
                months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
                body[key] = f"{day} {months[int(month) - 1]} {year} {time} +0000"
        return body


class ErrorsWithoutMoreInfo(MockApp):
    """Error bodies carry ``code``, ``message`` and ``status`` but no ``more_info`` link."""

    def encode_error(self, error: MockError) -> MockResponse:
        body = error.body()
        del body["more_info"]
        return self.encode(Reply(error.status, body, error.headers))


class NotFoundSaysStatus400(MockApp):
    """404 answers whose error body says ``"status": 400`` (a generic error template)."""

    def encode_error(self, error: MockError) -> MockResponse:
        body = error.body()
        if error.status == 404:
            body["status"] = 400
        return self.encode(Reply(error.status, body, error.headers))


class RateLimitWithoutRetryAfter(MockApp):
    """Rate limits (every few requests) are answered 429 without the ``Retry-After`` header."""

    def fault_error(self, fault: Any) -> MockError:
        error = super().fault_error(fault)
        error.headers.pop("Retry-After", None)
        return error


# ---------------------------------------------------------------------------
# identity family


class WrongAccountSid(MockApp):
    """The account configuration reports another account's ``account_sid`` (a cached tenant)."""

    def render_account_config(self, call: Call, stored: Mapping[str, Any]) -> dict[str, Any]:
        body = super().render_account_config(call, stored)
        body["account_sid"] = OTHER_ACCOUNT_SID
        return body


class ServiceSidFromDefaultService(MockApp):
    """``chat_service_sid`` is the account's default service, not the service in the path."""

    def render_service_config(self, call: Call, stored: Mapping[str, Any]) -> dict[str, Any]:
        body = super().render_service_config(call, stored)
        body["chat_service_sid"] = DEFAULT_SERVICE_SID
        return body


class UniqueNameEchoed(MockApp):
    """A channel addressed by its unique name is answered with the name in ``channel_sid``,
    not the channel's ``CH`` sid (the path value copied into the response)."""

    def render_channel_webhook(self, call: Call, record: Mapping[str, Any]) -> dict[str, Any]:
        body = super().render_channel_webhook(call, record)
        body["channel_sid"] = call.params["ChannelSid"]
        return body


class UnstableUniqueNameSid(MockApp):
    """A unique name resolves to a different ``CH`` sid on every request (a lookup that
    mints a sid instead of finding the channel's). Webhooks are still stored per channel."""

    def channel_scope(self, call: Call) -> tuple[str, str, str]:
        return (call.account_sid, call.params["ServiceSid"], MockApp.channel_sid(self, call))

    def channel_sid(self, call: Call) -> str:
        stable = super().channel_sid(call)
        if stable == call.params["ChannelSid"]:
            return stable
        return "CH" + hashlib.sha256(f"{stable}:{id(call.request)}".encode()).hexdigest()[:32]


class ServiceUrlIsAccountUrl(MockApp):
    """The per-service configuration's ``url`` is the account configuration's URL."""

    def render_service_config(self, call: Call, stored: Mapping[str, Any]) -> dict[str, Any]:
        body = super().render_service_config(call, stored)
        body["url"] = call.base_url + "/v1/Configuration/Webhooks"
        return body


# ---------------------------------------------------------------------------
# input family


def _without_fields(body: bytes, names: set[str]) -> bytes:
    pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    return encode_form([(key, value) for key, value in pairs if key not in names])


class IgnoresUnknownEnumValues(MockApp):
    """An account update with a ``Method`` or ``Target`` outside its enum is accepted (200):
    the unknown value is ignored and the rest of the update applied."""

    _LENIENT = ("Method", "Target")

    def parse(self, operation, raw_values, request: MockRequest, account_sid: str) -> Call:
        for _ in self._LENIENT:
            try:
                return super().parse(operation, raw_values, request, account_sid)
            except MockError as error:
                bad = [name for name in self._LENIENT if f"Invalid parameter: {name} " in error.message]
                if operation.operation_id != "UpdateConfigurationWebhook" or not bad:
                    raise
                request = dataclasses.replace(request, body=_without_fields(request.body, set(bad)))
        return super().parse(operation, raw_values, request, account_sid)


class MalformedSidIs400(MockApp):
    """A malformed sid in the path is answered ``400 Invalid parameter`` instead of 404."""

    def parse(self, operation, raw_values, request: MockRequest, account_sid: str) -> Call:
        violations = self._validators[operation.operation_id].path_violations(raw_values) if raw_values else []
        if violations:
            raise invalid_parameter(violations[0].field, "malformed sid")
        return super().parse(operation, raw_values, request, account_sid)


class AnonymousRequestsAllowed(MockApp):
    """Requests without any ``Authorization`` header act for the default account."""

    def authenticate(self, credentials: tuple[str, str] | None) -> str:
        if credentials is None:
            return next(iter(self.credentials.accounts))
        return super().authenticate(credentials)


class AuthTokenNotChecked(MockApp):
    """Only the username is checked: a known account SID with any secret is let in."""

    def authenticate(self, credentials: tuple[str, str] | None) -> str:
        if credentials is not None and credentials[0] in self.credentials.accounts:
            return credentials[0]
        return super().authenticate(credentials)


class RejectsInternationalUrls(MockApp):
    """Webhook URLs with percent-encoded (non-ASCII) characters are refused with 400,
    although they are valid absolute URLs (an ASCII-only URL validator)."""

    def dispatch(self, call: Call) -> Reply:
        for name, value in call.form.items():
            if name.endswith("Url") and isinstance(value, str) and "%" in value:
                raise invalid_parameter(name, "not a valid URL")
        return super().dispatch(call)


# ---------------------------------------------------------------------------
# state family


class ServiceUpdateIgnoresPostWebhookUrl(MockApp):
    """A service update never stores ``PostWebhookUrl`` (a column missing from the UPDATE)."""

    def changes(self, call: Call) -> dict[str, Any]:
        out = super().changes(call)
        if call.operation.operation_id == "UpdateServiceWebhookConfiguration":
            out.pop("post_webhook_url", None)
        return out


class ServiceUpdateReplacesAll(MockApp):
    """A service update replaces the whole configuration (PUT semantics): every field the
    request leaves out is reset to null."""

    def changes(self, call: Call) -> dict[str, Any]:
        out = super().changes(call)
        if call.operation.operation_id == "UpdateServiceWebhookConfiguration":
            return {key: out.get(key) for key in ("method", "filters", "pre_webhook_url", "post_webhook_url")}
        return out


class MutateThenValidate(MockApp):
    """Configuration updates store each field that is valid before validating the whole
    request: a request rejected with 400 has already changed the configuration."""

    _STORES = {"UpdateConfigurationWebhook": "update_account_config",
               "UpdateServiceWebhookConfiguration": "update_service_config"}

    def parse(self, operation, raw_values, request: MockRequest, account_sid: str) -> Call:
        try:
            return super().parse(operation, raw_values, request, account_sid)
        except MockError as error:
            if error.status == 400 and operation.operation_id in self._STORES:
                self._store_valid_fields(operation, raw_values, request, account_sid)
            raise

    def _store_valid_fields(self, operation, raw_values, request: MockRequest, account_sid: str) -> None:
        validator = self._validators[operation.operation_id]
        try:
            pairs = parse_qsl(request.body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            return
        names = dict.fromkeys(key for key, _ in pairs)
        kept = []
        for name in names:
            mine = [(key, value) for key, value in pairs if key == name]
            if name in operation.form_fields and not validator.form_violations(encode_form(mine)):
                kept += mine
        if not kept:
            return
        call = Call(operation, account_sid, {k: v for k, v in raw_values.items()}, {},
                    validator.typed_form(encode_form(kept)), request.base_url, request)
        if operation.operation_id == "UpdateConfigurationWebhook":
            self.state.update_account_config(account_sid, self.changes(call))
        else:
            self.state.update_service_config(account_sid, raw_values["ChatServiceSid"], self.changes(call))


class ServicesShareOneConfiguration(MockApp):
    """Every service of an account reads and writes one shared configuration."""

    def fetch_service_webhook_configuration(self, call: Call) -> Reply:
        stored = self.state.service_config(call.account_sid, DEFAULT_SERVICE_SID)
        return self.ok(call, self.render_service_config(call, stored))

    def update_service_webhook_configuration(self, call: Call) -> Reply:
        stored = self.state.update_service_config(call.account_sid, DEFAULT_SERVICE_SID, self.changes(call))
        return self.ok(call, self.render_service_config(call, stored))


class ServiceConfigIsAccountConfig(MockApp):
    """The per-service endpoints read and write the account-wide configuration."""

    def fetch_service_webhook_configuration(self, call: Call) -> Reply:
        return self.ok(call, self.render_service_config(call, self.state.account_config(call.account_sid)))

    def update_service_webhook_configuration(self, call: Call) -> Reply:
        stored = self.state.update_account_config(call.account_sid, self.changes(call))
        return self.ok(call, self.render_service_config(call, stored))


class CountingSidState(MockState):
    """Webhook sids numbered per channel from the number of webhooks it holds (``count + 1``)."""

    def create_webhook(self, scope, fields: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            stored = self._webhooks.setdefault(scope, {})
            sid = f"WH{len(stored) + 1:032x}"
            now = rfc3339(self._clock())
            record: dict[str, Any] = {"sid": sid, "configuration": {}}
            _merge(record, fields)
            record["date_created"] = record["date_updated"] = now
            stored.pop(sid, None)
            stored[sid] = record
            return _clone(record)


class CreateReusesSids(MockApp):
    """New webhooks get ``count + 1`` as their sid: the same sid on every channel's first
    webhook, and an existing webhook's sid after a deletion."""

    def __init__(self, **options: Any):
        super().__init__(CountingSidState(), **options)


class DeleteIsNoOp(MockApp):
    """Delete answers 204 but the webhook stays (the delete is queued and never runs)."""

    def delete_channel_webhook(self, call: Call) -> Reply:
        if self.state.webhook(self.channel_scope(call), call.params["Sid"]) is None:
            return super().delete_channel_webhook(call)
        return self.ok(call)


class ListShowsDeleted(MockApp):
    """Deleted webhooks are soft-deleted: fetch answers 404, but the list still shows them."""

    def __init__(self, **options: Any):
        super().__init__(**options)
        self._tombstones: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = {}
        self._tomb_lock = threading.Lock()

    def delete_channel_webhook(self, call: Call) -> Reply:
        record = self.state.webhook(self.channel_scope(call), call.params["Sid"])
        reply = super().delete_channel_webhook(call)
        if record is not None:
            with self._tomb_lock:
                self._tombstones.setdefault(self.channel_scope(call), {})[record["sid"]] = record
        return reply

    def list_channel_webhook(self, call: Call) -> Reply:
        reply = super().list_channel_webhook(call)
        if not call.query.get("PageToken"):
            with self._tomb_lock:
                dead = list(self._tombstones.get(self.channel_scope(call), {}).values())
            reply.body["webhooks"] += [self.render_channel_webhook(call, record) for record in dead]
        return reply


class FiltersDuplicatedOnReplace(MockApp):
    """An account update replaces the stored filters by deleting those not sent and
    inserting every one sent, so a filter that was already stored is stored twice: the
    events read back are the ones sent, but repeating the update grows the list."""

    def changes(self, call: Call) -> dict[str, Any]:
        out = super().changes(call)
        if call.operation.operation_id == "UpdateConfigurationWebhook" and out.get("filters"):
            stored = self.state.account_config(call.account_sid).get("filters") or []
            out["filters"] = [f for f in stored if f in out["filters"]] + out["filters"]
        return out


class PagingSkipsOne(MockApp):
    """Offset paging with an off-by-one: each page after the first starts one webhook late,
    so one webhook per page boundary is never listed."""

    def list_channel_webhook(self, call: Call) -> Reply:
        size = call.query.get("PageSize", self._default_page_size)
        number = call.query.get("Page", 0)
        everything = self.state.webhook_page(self.channel_scope(call), 10_000).records
        start = number * size + (1 if number else 0)
        records = everything[start:start + size]
        page = WebhookPage(records, start > 0, start + size < len(everything))
        return self.ok(call, self.render_webhook_page(call, page, size=size, number=number,
                                                      token=call.query.get("PageToken")))


# ---------------------------------------------------------------------------
# liveness family


class NeverAnswers(MockApp):
    """One operation never answers: its handler waits until the server stops.

    ``calls`` counts the requests that reached it (the request log only records a
    request once it is answered).
    """

    def __init__(self, operation_id: str, **options: Any):
        super().__init__(**options)
        self.silent_operation = operation_id
        self.calls = 0
        self._calls_lock = threading.Lock()

    def dispatch(self, call: Call) -> Reply:
        if call.operation.operation_id == self.silent_operation:
            with self._calls_lock:
                self.calls += 1
            self._wake.wait(60.0)  # woken by close() when the server stops
            raise MockError(503, 20503, "Service Unavailable")
        return super().dispatch(call)


# ---------------------------------------------------------------------------
# inconsistent with their own choice on an open point: each makes a choice a
# correct server may make, then goes back on it


class ListDeniesNamedChannels(MockApp):
    """Lists of a channel addressed by unique name answer 404 (no such channel: the
    server's call to make), yet a create on the same name is accepted."""

    def list_channel_webhook(self, call: Call) -> Reply:
        if not self._is_channel_sid(call.params["ChannelSid"]):
            raise MockError(404, 20404, f"The requested resource {call.request.path} was not found")
        return super().list_channel_webhook(call)


class EmptyValueAnsweredNullKeptOld(MockApp):
    """An empty URL is accepted and answered as null, but the stored value is kept:
    the server's own answer does not read back."""

    def update_configuration_webhook(self, call: Call) -> Reply:
        emptied = [name for name, value in call.form.items() if value == ""]
        before = self.state.account_config(call.account_sid)
        kept = {key: before.get(key) for key in (_snake(name) for name in emptied)}
        reply = super().update_configuration_webhook(call)
        if kept:
            self.state.update_account_config(call.account_sid, kept)
        return reply


class EmptyValueSometimesRejected(MockApp):
    """Every other update with an empty value is rejected: whether the server
    accepts an empty value is its choice, but it flips between the two."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._empties = 0
        self._lock = threading.Lock()

    def update_configuration_webhook(self, call: Call) -> Reply:
        return self._maybe_reject(call) or super().update_configuration_webhook(call)

    def update_service_webhook_configuration(self, call: Call) -> Reply:
        return self._maybe_reject(call) or super().update_service_webhook_configuration(call)

    def update_channel_webhook(self, call: Call) -> Reply:
        return self._maybe_reject(call) or super().update_channel_webhook(call)

    def _maybe_reject(self, call: Call) -> Reply | None:
        if "" not in call.form.values():
            return None
        with self._lock:
            self._empties += 1
            odd = self._empties % 2 == 0
        if odd:
            raise invalid_parameter(next(n for n, v in call.form.items() if v == ""), "must not be empty")
        return None


def _snake(name: str) -> str:
    import re

    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.rpartition(".")[2]).lower()


# ---------------------------------------------------------------------------
# paging, parents and lifecycle (detection depth)


class IgnoresPageSize(MockApp):
    """Every list page holds the whole channel, whatever PageSize asked (echoed all the same)."""

    def list_channel_webhook(self, call: Call) -> Reply:
        size = call.query.get("PageSize", self._default_page_size)
        everything = self.state.webhook_page(self.channel_scope(call), 10_000).records
        return self.ok(call, self.render_webhook_page(call, WebhookPage(everything, False, False), size=size,
                                                      number=call.query.get("Page", 0), token=call.query.get("PageToken")))


class NoPreviousPageUrl(MockApp):
    """Pages after the first carry ``previous_page_url: null``: a client cannot page back."""

    def render_webhook_page(self, call: Call, page: WebhookPage, **kwargs: Any) -> dict[str, Any]:
        body = super().render_webhook_page(call, page, **kwargs)
        body["meta"]["previous_page_url"] = None
        return body


class EndlessPaging(MockApp):
    """The last page's ``next_page_url`` points back at the first page: a client following it never ends."""

    def render_webhook_page(self, call: Call, page: WebhookPage, **kwargs: Any) -> dict[str, Any]:
        body = super().render_webhook_page(call, page, **kwargs)
        if body["meta"]["next_page_url"] is None and (call.query.get("PageToken") or body["webhooks"]):
            body["meta"]["next_page_url"] = body["meta"]["first_page_url"]
        return body


class WebhookFoundThroughAnyChannel(MockApp):
    """A webhook is looked up by its sid alone: through any channel's path it answers, and is changed."""

    def _owner(self, call: Call) -> tuple[str, str, str]:
        sid = call.params["Sid"]
        with self.state._lock:
            for scope, records in self.state._webhooks.items():
                if sid in records and scope[0] == call.account_sid:
                    return scope
        return self.channel_scope(call)

    def fetch_channel_webhook(self, call: Call) -> Reply:
        record = self.state.webhook(self._owner(call), call.params["Sid"])
        if record is None:
            raise MockError(404, 20404, f"The requested resource {call.request.path} was not found")
        return self.ok(call, self.render_channel_webhook(call, record))

    def update_channel_webhook(self, call: Call) -> Reply:
        record = self.state.update_webhook(self._owner(call), call.params["Sid"], self.changes(call))
        if record is None:
            raise MockError(404, 20404, f"The requested resource {call.request.path} was not found")
        return self.ok(call, self.render_channel_webhook(call, record))


class UpdateOfUnknownSidCreates(MockApp):
    """An update of a webhook sid that does not exist creates it (an upsert) and answers 200."""

    def update_channel_webhook(self, call: Call) -> Reply:
        scope = self.channel_scope(call)
        if self.state.webhook(scope, call.params["Sid"]) is None:
            record = self.state.create_webhook(scope, {"type": "webhook", **self.changes(call)})
            return self.ok(call, self.render_channel_webhook(call, record))
        return super().update_channel_webhook(call)


class ServiceAcceptsAccountFilters(MockApp):
    """The per-service configuration validates its filters against the account's list, so the
    account-only user events (``onUserAdded`` ...) are accepted for a service."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        service, account = self._validators["UpdateServiceWebhookConfiguration"], self._validators["UpdateConfigurationWebhook"]

        class Lenient:
            def __getattr__(self, name: str) -> Any:
                return getattr(service, name)

            def read_form(self, body: bytes) -> Any:
                return account.read_form(body)

        self._validators["UpdateServiceWebhookConfiguration"] = Lenient()


# ---------------------------------------------------------------------------
# a documented value or field refused (found whatever the seed: the suite sends
# every documented enum value, and every field each Type uses, once per run)


class RefusesFlexTarget(MockApp):
    """``Target=flex`` -- one of the two documented values -- is refused with 400."""

    def update_configuration_webhook(self, call: Call) -> Reply:
        if call.form.get("Target") == "flex":
            raise invalid_parameter("Target", "must be webhook")
        return super().update_configuration_webhook(call)


class RefusesFlowSidOnUpdate(MockApp):
    """A studio webhook's ``Configuration.FlowSid`` can be set on create, but an update that sends it is 400."""

    def update_channel_webhook(self, call: Call) -> Reply:
        if "Configuration.FlowSid" in call.form:
            raise invalid_parameter("Configuration.FlowSid", "cannot be changed")
        return super().update_channel_webhook(call)


# ---------------------------------------------------------------------------
# a server that goes back on its own choice at one open point


class GoesBackOnItsChoice(MockApp):
    """At open point *point*, half of the requests are answered under the other choice.

    Either choice alone is correct (tests/test_policies.py); flipping between them is not: the same
    request in the same state gets a different kind of answer, or an answer does not read back.
    """

    _INITIAL = ("initial_filters", "initial_method", "legacy_filters")

    def __init__(self, point: str, *args: Any, **kwargs: Any) -> None:
        self.point = point
        self._local = threading.local()
        self._flips = 0
        self._flip_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    @property  # type: ignore[override]
    def policies(self) -> Any:
        return getattr(self._local, "policies", None) or self._chosen

    @policies.setter
    def policies(self, value: Any) -> None:
        self._chosen = value

    def handle(self, request: MockRequest) -> MockResponse:
        from twilio_webhook_contracts.mock.policies import CATALOGUE

        with self._flip_lock:
            self._flips += 1
            # not strict alternation: a suite that always sends a write then a read would see
            # every write under one choice; a fixed pseudo-random half of the requests instead
            flipped = hashlib.sha256(str(self._flips).encode()).digest()[0] & 1 == 1
            if flipped:
                values = next(policy.values for policy in CATALOGUE if policy.name == self.point)
                current = str(getattr(self._chosen, self.point))
                other = next(value for value in values if value != current)
                self._local.policies = self._chosen.with_(**{self.point: other})
            if self.point in self._INITIAL:
                self.set_initial_state(self.policies)
        try:
            return super().handle(request)
        finally:
            self._local.policies = None
