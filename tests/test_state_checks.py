"""The state checks on their own: each function judges (what the model expects, what was
observed) without a server, and says what differs in the words the reports have always used."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from twilio_webhook_contracts.contract_tests import state_checks as sc
from twilio_webhook_contracts.contract_tests.checks import CHECKS, checks_in
from twilio_webhook_contracts.contract_tests.stateful import ContractMachine, Pools, build_machine
from twilio_webhook_contracts.spec import default_spec

WH1, WH2, WH3 = ("WH" + str(n) * 32 for n in (1, 2, 3))


def test_every_state_check_has_its_function_and_no_response_check_has_one():
    state = checks_in("state")
    assert len(state) == 12
    for check in state:
        assert check.state_function is getattr(sc, check.name) and check.function is None
        assert not check.is_response_check
        assert check.name in sc.__all__
    for check in CHECKS.values():
        if check.family != "state":
            assert check.state_function is None


def test_write_read_back_judges_what_was_written_and_absent_fields_the_rest():
    expected = {"url": "https://a.example", "method": "POST", "filters": ["onMessageSent", "onMessageUpdated"]}
    actual = {"url": "https://b.example", "method": "GET", "filters": ["onMessageUpdated", "onMessageSent"]}
    assert sc.write_read_back(expected, actual, {"url", "filters"}) == [
        "url: expected 'https://a.example', found 'https://b.example'"]
    assert sc.absent_fields_unchanged(expected, actual, {"url", "filters"}) == ["method: expected 'POST', found 'GET'"]
    assert sc.write_read_back(expected, expected, set(expected)) == []


def test_a_webhook_read_back_names_its_configuration_and_its_type():
    assert sc.write_read_back({"url": "u", "method": "GET"}, {"url": "u"}, {"method"}, within="configuration",
                              expected_type="webhook", actual_type="studio") == [
        "type: expected 'webhook', found 'studio'", "configuration.method: expected 'GET', found '<absent>'"]
    assert sc.write_read_back({}, {}, set(), expected_type=None, actual_type="studio") == []  # type unknown: open
    assert sc.absent_fields_unchanged({"url": "u"}, {"url": None}, set(), within="configuration") == [
        "configuration.url: expected 'u', found None"]


def test_update_idempotent_counts_items():
    first = {"filters": ["onMessageSent"], "method": "GET"}
    second = {"filters": ["onMessageSent", "onMessageSent"], "method": "GET"}
    assert sc.update_idempotent(first, second, ["filters", "method"]) == [
        "repeating the update changed filters: expected ['onMessageSent'], found ['onMessageSent', 'onMessageSent']"]
    assert sc.update_idempotent(first, dict(first), ["filters", "method"]) == []


def test_rejected_write_changes_nothing_in_a_configuration_or_a_channel():
    after = "after a rejected request (bad_enum in Method) "
    assert sc.rejected_write_changes_nothing({"method": "GET"}, {"method": "POST"}, keys=["method"], after=after) == [
        "after a rejected request (bad_enum in Method) method: expected 'GET', found 'POST'"]
    assert sc.rejected_write_changes_nothing({"url": "u"}, {"url": "v"}, within="configuration",
                                             after="after a rejected update with an empty value, ") == [
        "after a rejected update with an empty value, configuration.url: expected 'u', found 'v'"]
    assert sc.rejected_write_changes_nothing({WH1}, {WH1, WH2}, after="after a rejected create (x in y) ") == [
        f"after a rejected create (x in y) the channel lists ['{WH2}'] differently"]
    assert sc.rejected_write_changes_nothing({WH1}, {WH1}, after="-") == []


def test_scopes_isolated_names_the_scope_and_the_write():
    assert sc.scopes_isolated({"method": "GET"}, {"method": "POST"}, ["method"], scope="service IS1",
                              by="UpdateConfigurationWebhook") == [
        "service IS1 changed by UpdateConfigurationWebhook: method: expected 'GET', found 'POST'"]


def test_create_returns_new_webhook():
    body = {"sid": WH1, "type": "webhook"}
    assert sc.create_returns_new_webhook("webhook", {"url": "u"}, body, {"url": "u"}, set()) == []
    assert sc.create_returns_new_webhook("webhook", {"url": "u"}, body, {"url": "v"}, {WH1}) == [
        f"create answered sid {WH1}, which an earlier create already answered",
        "configuration.url: expected 'u', found 'v'"]
    assert sc.create_returns_new_webhook("studio", {}, {"sid": "CH1", "type": "webhook"}, {}, set()) == [
        "create answered sid 'CH1', not a WH sid", "type: sent 'studio', answered 'webhook'"]


def test_deleted_webhook_gone_by_its_answers_and_by_the_list():
    answers = [("FetchChannelWebhook", f"deleted webhook {WH1}", 200), ("UpdateChannelWebhook", "x", 404),
               ("DeleteChannelWebhook", "x", 429)]
    assert sc.deleted_webhook_gone(answers) == [f"FetchChannelWebhook of deleted webhook {WH1} answered 200, expected 404"]
    assert sc.deleted_webhook_gone(channel="CH9", listed={WH1, WH2}, deleted={WH2, WH3}) == [
        f"list of CH9 still has deleted ['{WH2}']"]


def test_list_reflects_webhooks_leaves_out_the_deleted_ones():
    assert sc.list_reflects_webhooks({WH1, WH2}, {WH2, WH3}, channel="CH9", deleted={WH3}) == [
        f"list of CH9 omits ['{WH1}']"]
    assert sc.list_reflects_webhooks({WH1}, {WH1, WH3}, channel="CH9") == [f"list of CH9 has unexpected ['{WH3}']"]


def _page(*sids: str, previous: str | None = "prev") -> dict:
    return {"webhooks": [{"sid": sid} for sid in sids], "meta": {"previous_page_url": previous}}


def test_paging_links_honest():
    assert sc.paging_links_honest("CH9", [_page(WH1, previous=None), _page(WH2)], ended=True, most_pages=7) == []
    assert sc.paging_links_honest("CH9", [_page(WH1), _page(WH1, previous=None)], ended=False, most_pages=7) == [
        "page 2 of CH9, reached by next_page_url, has no previous_page_url",
        f"{WH1} is listed twice while paging through CH9",
        "following next_page_url through CH9 did not end after 7 pages (it holds at most 5 webhooks)"]


def test_webhook_scoped_to_channel_through_others_and_through_its_own():
    answers = [("FetchChannelWebhook", f"{WH1} through /Services/IS2/Channels/CH2", 200)]
    assert sc.webhook_scoped_to_channel(answers) == [
        f"FetchChannelWebhook of {WH1} through /Services/IS2/Channels/CH2 answered 200, expected 404"]
    assert sc.webhook_scoped_to_channel(sid=WH1, own_status=404, expected={"url": "u"}, actual={}) == [
        f"{WH1} answered 404 through its own channel after requests through others"]
    assert sc.webhook_scoped_to_channel(sid=WH1, own_status=200, expected={"url": "u"}, actual={"url": "v"}) == [
        "after requests through other parents, configuration.url: expected 'u', found 'v'"]


def test_unknown_webhook_absent():
    answers = [("UpdateChannelWebhook", f"never-created {WH1}", 200)]
    assert sc.unknown_webhook_absent(answers, sid=WH1, channel="CH9", listed={WH1}) == [
        f"UpdateChannelWebhook of never-created {WH1} answered 200, expected 404",
        f"list of CH9 has never-created {WH1} after an update of it"]
    assert sc.unknown_webhook_absent([], sid=WH1, channel="CH9", listed=None) == []


def test_open_choice_consistent():
    assert sc.open_choice_consistent("empty_value", "POST /x", "accepted", None) == []
    assert sc.open_choice_consistent("empty_value", "POST /x", "accepted", ("rejected", "POST /y")) == [
        "empty_value: POST /x was accepted, but the same kind of request was rejected earlier (POST /y)"]


@pytest.mark.parametrize("writes", [True, False])
def test_the_machine_is_one_class_bound_per_session(writes):
    session = SimpleNamespace(context=SimpleNamespace(spec=default_spec()))
    pools = Pools(services=("IS1",), channels=(), allow_writes=writes)
    machine = build_machine(session, pools)  # type: ignore[arg-type]
    other = ContractMachine.bound(session, pools)  # type: ignore[arg-type]
    assert issubclass(machine, ContractMachine) and machine is not other and machine.__name__ == "ContractMachine"
    assert machine.session is session and machine.pools is pools and machine.writes is writes
    assert ("UpdateChannelWebhook" in machine.webhook_ops) is writes
    assert machine._strategies is not other._strategies  # each binding caches its own strategies
