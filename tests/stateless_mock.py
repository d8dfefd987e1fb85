"""A stateless variant of the reference mock, and stateful ones with exactly one state bug.

:class:`ForgetfulState` is what Prism-like mocks do: every read answers the
initial state, every write answers the request echoed onto that state, and
nothing is ever stored. It is a :class:`MockState` subclass, so the mock's
behaviour -- authentication, routing, validation, rendering -- is untouched.
"""

from __future__ import annotations

from typing import Any, Mapping

from twilio_webhook_contracts.mock import MockApp, MockState
from twilio_webhook_contracts.mock.app import Call, Reply
from twilio_webhook_contracts.mock.state import (
    INITIAL_ACCOUNT_CONFIG,
    INITIAL_SERVICE_CONFIG,
    Record,
    WebhookPage,
    _clone,
    _merge,
)

#: What every channel webhook reads as (there is no stored one to read).
CANNED_WEBHOOK = {
    "type": "webhook",
    "configuration": {"url": "https://example.com/initial", "method": "POST", "filters": ["onMessageSent"]},
    "date_created": "2026-01-01T00:00:00Z",
    "date_updated": "2026-01-01T00:00:00Z",
}


class ForgetfulState(MockState):
    """Answers reads with the initial state and writes with an echo; stores nothing."""

    def update_account_config(self, account_sid: str, changes: Mapping[str, Any]) -> Record:
        record = dict(_clone(INITIAL_ACCOUNT_CONFIG))
        _merge(record, changes)
        return record

    def update_service_config(self, account_sid: str, service_sid: str, changes: Mapping[str, Any]) -> Record:
        record = dict(_clone(INITIAL_SERVICE_CONFIG))
        _merge(record, changes)
        return record

    def create_webhook(self, scope, fields: Mapping[str, Any]) -> Record:
        record = super().create_webhook(scope, fields)  # a fresh sid and dates ...
        super().delete_webhook(scope, record["sid"])  # ... and forgotten at once
        return record

    def webhook(self, scope, sid: str) -> Record | None:
        return {"sid": sid, **_clone(CANNED_WEBHOOK)}  # any well-formed sid "exists", as with Prism

    def update_webhook(self, scope, sid: str, changes: Mapping[str, Any]) -> Record | None:
        record = {"sid": sid, **_clone(CANNED_WEBHOOK)}
        _merge(record, changes)
        return record

    def delete_webhook(self, scope, sid: str) -> bool:
        return True

    def webhook_page(self, scope, size: int, *, after: str | None = None, before: str | None = None) -> WebhookPage:
        return WebhookPage([], False, False)


def stateless_mock(**options: Any) -> MockApp:
    return MockApp(state=ForgetfulState(), **options)


# ---------------------------------------------------------------------------
# stateful mocks with one state bug each: never to be called stateless


class DropsFilters(MockApp):
    """Configuration updates never store ``Filters`` (a column missing from the UPDATE)."""

    def changes(self, call: Call) -> dict[str, Any]:
        out = super().changes(call)
        if call.operation.operation_id in ("UpdateConfigurationWebhook", "UpdateServiceWebhookConfiguration"):
            out.pop("filters", None)
        return out


class DeleteKeepsWebhook(MockApp):
    """Delete answers 204, but the webhook stays."""

    def delete_channel_webhook(self, call: Call) -> Reply:
        if self.state.webhook(self.channel_scope(call), call.params["Sid"]) is None:
            return super().delete_channel_webhook(call)
        return self.ok(call)


class ServicesShareAccountConfig(MockApp):
    """The per-service endpoints read and write the account-wide configuration (a scope leak)."""

    def fetch_service_webhook_configuration(self, call: Call) -> Reply:
        stored = self.state.account_config(call.account_sid)
        stored.pop("target", None)
        return self.ok(call, self.render_service_config(call, stored))

    def update_service_webhook_configuration(self, call: Call) -> Reply:
        stored = self.state.update_account_config(call.account_sid, self.changes(call))
        stored.pop("target", None)
        return self.ok(call, self.render_service_config(call, stored))


class AccountConfigNeverStored(MockApp):
    """Account configuration updates answer as if stored, but nothing is (one kind of resource
    without state; services and webhooks keep theirs)."""

    def update_configuration_webhook(self, call: Call) -> Reply:
        stored = self.state.account_config(call.account_sid)
        stored.update(self.changes(call))
        return self.ok(call, self.render_account_config(call, stored))
