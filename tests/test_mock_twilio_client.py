"""The official twilio-python client works against the mock with nothing changed but its
HTTP client (which rewrites scheme and host), and reads back what it sent.

These tests use the ``twilio_mock`` fixture of our pytest plugin, as users will.
"""

from __future__ import annotations

import datetime

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from test_mock_support import SERVICE, RedirectingHttpClient

FLOW = "FW" + "f" * 32


def client_for(mock, username=None, password=None, account_sid=None) -> Client:
    return Client(username or mock.account_sid, password or mock.auth_token, account_sid,
                  http_client=RedirectingHttpClient(mock.url))


def test_account_configuration_fetch_and_update(twilio_mock):
    webhooks = client_for(twilio_mock).conversations.v1.configuration.webhooks()

    initial = webhooks.fetch()
    assert (initial.account_sid, initial.method, initial.target) == (twilio_mock.account_sid, "POST", "webhook")
    assert (initial.filters, initial.pre_webhook_url, initial.post_webhook_url) == ([], None, None)
    assert initial.url == f"{twilio_mock.url}/v1/Configuration/Webhooks"

    updated = webhooks.update(method="GET", filters=["onMessageAdded", "onUserAdded"],
                              pre_webhook_url="https://example.com/pre", post_webhook_url="https://example.com/post",
                              target="flex")
    fetched = webhooks.fetch()
    for instance in (updated, fetched):
        assert instance.method == "GET" and instance.target == "flex"
        assert instance.filters == ["onMessageAdded", "onUserAdded"]
        assert (instance.pre_webhook_url, instance.post_webhook_url) == ("https://example.com/pre", "https://example.com/post")

    cleared = webhooks.update(pre_webhook_url="")
    assert cleared.pre_webhook_url is None and cleared.post_webhook_url == "https://example.com/post"
    assert cleared.method == "GET" and cleared.filters == ["onMessageAdded", "onUserAdded"]


def test_service_configuration_fetch_and_update(twilio_mock):
    service = client_for(twilio_mock).conversations.v1.services(SERVICE).configuration.webhooks()

    initial = service.fetch()
    assert (initial.chat_service_sid, initial.account_sid) == (SERVICE, twilio_mock.account_sid)
    assert (initial.method, initial.filters, initial.pre_webhook_url, initial.post_webhook_url) == ("POST", [], None, None)

    service.update(method="POST", filters=["onParticipantAdded"], post_webhook_url="https://example.com/svc")
    fetched = service.fetch()
    assert (fetched.method, fetched.filters, fetched.post_webhook_url) == (
        "POST", ["onParticipantAdded"], "https://example.com/svc")
    assert fetched.pre_webhook_url is None
    assert fetched.url == f"{twilio_mock.url}/v1/Services/{SERVICE}/Configuration/Webhooks"
    # the account configuration is independent of the service's
    assert client_for(twilio_mock).conversations.v1.configuration.webhooks().fetch().filters == []


def test_channel_webhooks_create_fetch_list_update_delete(twilio_mock):
    channel = client_for(twilio_mock).chat.v2.services(SERVICE).channels("support-room")

    created = channel.webhooks.create(type="webhook", configuration_url="https://example.com/hook",
                                      configuration_method="GET", configuration_filters=["onMessageSent"],
                                      configuration_retry_count=2)
    assert created.sid.startswith("WH") and created.type == "webhook"
    assert created.configuration == {"url": "https://example.com/hook", "method": "GET",
                                     "filters": ["onMessageSent"], "retry_count": 2}
    assert created.channel_sid.startswith("CH") and created.channel_sid != "support-room"
    assert (created.service_sid, created.account_sid) == (SERVICE, twilio_mock.account_sid)
    assert isinstance(created.date_created, datetime.datetime)  # twilio-python parsed our date

    studio = channel.webhooks.create(type="studio", configuration_flow_sid=FLOW)
    trigger = channel.webhooks.create(type="trigger", configuration_url="https://example.com/t",
                                      configuration_triggers=["help", "urgent"])
    assert studio.configuration == {"flow_sid": FLOW}
    assert trigger.configuration == {"url": "https://example.com/t", "triggers": ["help", "urgent"]}

    assert channel.webhooks(created.sid).fetch().configuration == created.configuration
    # the unique name and the resolved sid address the same channel
    by_sid = client_for(twilio_mock).chat.v2.services(SERVICE).channels(created.channel_sid)
    assert [w.sid for w in by_sid.webhooks.list()] == [created.sid, studio.sid, trigger.sid]

    updated = channel.webhooks(created.sid).update(configuration_url="", configuration_retry_count=3)
    assert updated.configuration == {"url": None, "method": "GET", "filters": ["onMessageSent"], "retry_count": 3}
    assert channel.webhooks(created.sid).fetch().configuration == updated.configuration

    assert channel.webhooks(studio.sid).delete() is True
    with pytest.raises(TwilioRestException) as gone:
        channel.webhooks(studio.sid).fetch()
    assert (gone.value.status, gone.value.code) == (404, 20404)
    assert [w.sid for w in channel.webhooks.list()] == [created.sid, trigger.sid]


def test_list_iterates_every_page(twilio_mock):
    http = RedirectingHttpClient(twilio_mock.url)
    webhooks = Client(twilio_mock.account_sid, twilio_mock.auth_token, http_client=http).chat.v2.services(
        SERVICE).channels("paging-room").webhooks
    sids = [webhooks.create(type="webhook", configuration_url=f"https://example.com/{i}").sid for i in range(5)]
    assert len(set(sids)) == 5

    assert [w.sid for w in webhooks.list()] == sids  # the default page size holds them all
    before = len(http.sent)
    assert [w.sid for w in webhooks.stream(page_size=2)] == sids
    assert len(http.sent) - before == 3  # three pages of two, each fetched once
    # twilio-python's default call sends PageSize=limit (20 here): Twilio's paging limit, not the spec's 5
    first_twenty = webhooks.list(limit=20)
    assert [w.configuration["url"] for w in first_twenty] == [f"https://example.com/{i}" for i in range(5)]
    assert "PageSize=20" in twilio_mock.requests[-1].query
    first_three = webhooks.list(limit=3)
    assert [w.sid for w in first_three] == sids[:3]


def test_a_sixth_webhook_on_a_channel_is_refused(twilio_mock):
    channel = client_for(twilio_mock).chat.v2.services(SERVICE).channels("full-room")
    for i in range(5):
        channel.webhooks.create(type="trigger", configuration_url=f"https://example.com/{i}",
                                configuration_triggers=[f"t{n}" for n in range(5)])
    with pytest.raises(TwilioRestException) as refused:
        channel.webhooks.create(type="webhook", configuration_url="https://example.com/6")
    assert refused.value.status == 400 and refused.value.code == 20001
    assert len(channel.webhooks.list()) == 5


def test_api_key_authenticates_for_its_account(twilio_mock):
    client = client_for(twilio_mock, twilio_mock.api_key_sid, twilio_mock.api_key_secret, twilio_mock.account_sid)
    assert client.conversations.v1.configuration.webhooks().fetch().account_sid == twilio_mock.account_sid
    created = client.chat.v2.services(SERVICE).channels("keyed").webhooks.create(
        type="webhook", configuration_url="https://example.com/k")
    assert created.account_sid == twilio_mock.account_sid
    assert [entry.username for entry in twilio_mock.requests] == [twilio_mock.api_key_sid] * 2


def test_wrong_credentials_are_a_twilio_401(twilio_mock):
    client = client_for(twilio_mock, twilio_mock.account_sid, "not-the-token")
    with pytest.raises(TwilioRestException) as refused:
        client.conversations.v1.configuration.webhooks().fetch()
    assert (refused.value.status, refused.value.code) == (401, 20003)


def test_invalid_parameter_is_a_twilio_400_naming_it(twilio_mock):
    channel = client_for(twilio_mock).chat.v2.services(SERVICE).channels("strict")
    with pytest.raises(TwilioRestException) as refused:
        channel.webhooks.create(type="webhook", configuration_url="https://example.com", configuration_retry_count=9)
    assert (refused.value.status, refused.value.code) == (400, 20001)
    assert "Configuration.RetryCount" in refused.value.msg
    assert channel.webhooks.list() == []
