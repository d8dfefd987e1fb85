"""``webhook-contracts diff``: exactly the differences between the mock under two policy settings."""

from __future__ import annotations

import json
from contextlib import contextmanager

import pytest

from twilio_webhook_contracts import diff
from twilio_webhook_contracts.mock import Policies, serve_mock
from twilio_webhook_contracts.target import Credentials, Target

ACCOUNT, TOKEN = "AC" + "6" * 32, "diff-token-0123456789"
SERVICE, CHANNEL = "IS" + "3" * 32, "CH" + "2" * 32


@contextmanager
def two_mocks(b_pairs, base=(), resources=None):
    options = {"accounts": {ACCOUNT: TOKEN}, "resources": resources}
    with serve_mock(policies=Policies.from_pairs(base), **options) as a, \
            serve_mock(policies=Policies.from_pairs([*base, *b_pairs]), **options) as b:
        yield a, b


def run(a, b, **options):
    targets = [Target(m.url, credentials=Credentials(ACCOUNT, TOKEN)) for m in (a, b)]
    try:
        return diff.run_diff(*targets, seed=0, per_operation=3, **options)
    finally:
        for target in targets:
            target.close()


def kinds(result):
    return {(d.label, d.kind, d.where, json.dumps(d.a), json.dumps(d.b)) for d in result.differences}


def test_the_mock_and_itself_with_other_sids_do_not_differ():
    with two_mocks([]) as (a, b):
        for _ in range(7):  # B's sid counter runs ahead: every generated sid differs from A's
            b.state.create_webhook((ACCOUNT, "IS" + "9" * 32, "CH" + "9" * 32), {"type": "webhook"})
        result = run(a, b)
    assert result.steps > 50 and result.differences == []


def test_parents_declared_is_a_404_wherever_the_mock_created_a_parent():
    with two_mocks(["parents=declared"]) as (a, b):
        result = run(a, b)
    statuses = [d for d in result.differences if d.kind == "status"]
    assert statuses and all(d.b == 404 and 200 <= d.a < 300 or d.a == 400 and d.b == 404 for d in statuses)
    labels = {d.label for d in statuses}
    assert {"create a webhook", "list on a random service", "read a service configuration"} <= labels
    assert "read the account configuration" not in labels  # the account needs no parent
    # the one consequence that is not a status: A deleted the webhook it made, B never had one to delete
    others = [d for d in result.differences if d.kind != "status"]
    assert [d.label for d in others] == ["fetch the deleted webhook"]


def test_unique_names_restricted_refuses_only_the_odd_name():
    with two_mocks(["unique_names=restricted"]) as (a, b):
        result = run(a, b)
    assert kinds(result) == {("list on a channel named outside [A-Za-z0-9_.-]", "status", "", "200", "404")}


def test_validation_order_path_first_is_the_404_for_a_bad_body_to_an_absent_parent():
    with two_mocks(["validation_order=path-first"], base=["parents=declared"],
                   resources=[f"{SERVICE}/{CHANNEL}"]) as (a, b):
        result = run(a, b, service_sid=SERVICE, channel_sid=CHANNEL)
    assert kinds(result) == {("an invalid create on a random service", "status", "", "400", "404")}


def test_empty_value_rejected_is_the_refused_update_and_the_state_it_did_not_make():
    with two_mocks(["empty_value=rejected"]) as (a, b):
        result = run(a, b)
    first = result.differences[0]
    assert (first.label, first.kind, first.a, first.b) == ("update the account configuration", "status", 200, 400)
    rest = result.differences[1:]
    assert rest and all(d.where == "pre_webhook_url" and d.a == "https://diff.invalid/pre" and d.b is None
                        for d in rest)
    assert any(d.kind == "state after a sequence" for d in rest)


def test_page_size_max_5_refuses_page_size_20():
    with two_mocks(["page_size_max=5"]) as (a, b):
        result = run(a, b)
    assert kinds(result) == {("list with PageSize=20", "status", "", "200", "400")}


def test_default_page_size_5_shows_in_every_list_without_page_size():
    with two_mocks(["default_page_size=5"]) as (a, b):
        result = run(a, b)
    assert result.differences
    assert {d.where for d in result.differences} == {"meta.page_size", "meta.first_page_url", "meta.url"}
    assert all(d.a == 50 and d.b == 5 for d in result.differences if d.where == "meta.page_size")
    assert all("PageSize=50" in d.a and "PageSize=5&" in d.b for d in result.differences if d.where != "meta.page_size")


@pytest.mark.parametrize("pair,where,a_value,b_value", [
    ("initial_filters=null", "filters", [], None),
    ("initial_method=null", "method", "POST", None),
    ("legacy_filters=on", "filters", [], ["onMessageSend"]),
])
def test_initial_values_differ_only_where_never_written(pair, where, a_value, b_value):
    with two_mocks([pair]) as (a, b):
        result = run(a, b)
    assert result.differences
    assert {(d.where, json.dumps(d.a), json.dumps(d.b)) for d in result.differences} == {
        (where, json.dumps(a_value), json.dumps(b_value))}
    assert {d.label for d in result.differences if d.kind == "state after a sequence"}  # read back too


def test_url_host_twilio_names_twilio_in_every_url_field():
    with two_mocks(["url_host=twilio"]) as (a, b):
        result = run(a, b)
    assert len(result.differences) > 10
    for d in result.differences:
        assert d.where.split(".")[-1].endswith("url"), d.where
        assert d.a.startswith("<host>/") and d.b.startswith(("https://conversations.twilio.com/",
                                                              "https://chat.twilio.com/"))
        assert d.a.split("/", 1)[1] == d.b.split("/", 3)[3]  # the same path


def test_filter_order_is_open_and_not_a_difference():
    with two_mocks(["filter_order=sorted"]) as (a, b):
        result = run(a, b)
    assert result.differences == []


def test_error_messages_terse_differs_in_wording_only():
    with two_mocks(["error_messages=terse"]) as (a, b):
        result = run(a, b)
    assert len(result.differences) > 5
    assert {(d.kind, d.where) for d in result.differences} == {("error message", "message")}


def test_channel_limit_409_is_the_sixth_webhook():
    with two_mocks(["channel_limit=409"]) as (a, b):
        result = run(a, b)
    assert kinds(result) == {("webhook 6 on a channel (five allowed)", "status", "", "400", "409")}


def test_type_fields_rejected_is_the_refused_create_and_the_webhook_it_did_not_make():
    with two_mocks(["type_fields=rejected"]) as (a, b):
        result = run(a, b)
    assert kinds(result) == {
        ("create a webhook with a field its Type does not use", "status", "", "201", "400"),
        # A deletes the webhook it made; B made none, so its last webhook is already gone
        ("delete the webhook created last", "status", "", "204", "404"),
    }


def test_triggers_key_filters_moves_the_triggers_in_every_answer_that_shows_them():
    with two_mocks(["triggers_key=filters"]) as (a, b):
        result = run(a, b)
    triggers = json.dumps(["contracts", "diff"])
    assert kinds(result) == {
        (label, kind, where, *values)
        for label, kind in (("create a trigger webhook", "body field"),
                            ("fetch the trigger webhook", "state after a sequence"))
        for where, values in (("configuration.triggers", (triggers, '"<absent>"')),
                              ("configuration.filters", ('"<absent>"', triggers)))
    }


@pytest.mark.parametrize("pair", ["connection=close", "chunked=on", "gzip=on", "charset=on", "latency_ms=5",
                                  "rate_limit_every=20", "unavailable_every=50"])
def test_transport_policies_are_no_difference(pair):
    """How an answer travels (closed connections, chunks, gzip, a charset, latency, retried 429/503)
    is not what it says: diff compares what a client reads."""
    with two_mocks([pair]) as (a, b):
        result = run(a, b)
    assert result.steps > 50 and result.differences == []


def test_extra_fields_are_shown_as_what_only_one_side_answers():
    with two_mocks(["extra=on"]) as (a, b):
        result = run(a, b)
    assert result.differences
    assert {d.a for d in result.differences} == {"<absent>"}
    assert {d.kind for d in result.differences} <= {"body field", "state after a sequence"}
    assert {d.where.rpartition(".")[2] for d in result.differences} <= {"links", "x_twilio_edge", "total"}


def test_cli_outputs_and_exit_status(tmp_path, capsys, monkeypatch):
    from twilio_webhook_contracts.cli import main

    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    with two_mocks(["channel_limit=409"]) as (a, b):
        assert main(["diff", a.url, b.url]) == 1
        text = capsys.readouterr().out
        assert main(["diff", a.url, b.url, "--format", "json", "-o", str(tmp_path / "d.json")]) == 1
        assert main(["diff", a.url, b.url, "--format", "markdown", "-o", str(tmp_path / "d.md")]) == 1
        assert main(["diff", "--a-conversations-url", a.url, "--a-chat-url", a.url,
                     "--b-conversations-url", b.url, "--b-chat-url", b.url, "--format", "json"]) == 1
        assert main(["diff", a.url]) == 2
    capsys.readouterr()
    assert "1 difference(s)" in text and "step 28 (webhook 6 on a channel (five allowed)): status" in text
    assert text.count("curl -sS -X POST") == 2 and TOKEN not in text
    data = json.loads((tmp_path / "d.json").read_text())
    assert [(d["kind"], d["a"], d["b"]) for d in data["differences"]] == [("status", 400, 409)]
    assert "| 28 webhook 6" in (tmp_path / "d.md").read_text()


def test_live_diff_reads_only_without_writes_and_restores_both_sides_with_them(tmp_path):
    from live_helpers import ACCOUNT as LIVE_ACCOUNT, CHANNEL as LIVE_CHANNEL, SERVICE as LIVE_SERVICE
    from live_helpers import TOKEN as LIVE_TOKEN, TOKEN_ENV, cli, seed_state
    from test_fingerprint import observable, observable_of

    options = {"accounts": {LIVE_ACCOUNT: LIVE_TOKEN}}
    with serve_mock(**options) as a, serve_mock(policies=Policies.parse("channel_limit=409"), **options) as b:
        initial = [seed_state(mock) for mock in (a, b)]
        common = [a.url, b.url, "--live", "--rate-limit", "100000", "--service-sid", LIVE_SERVICE,
                  "--channel-sid", LIVE_CHANNEL]
        read_only = cli(common, tmp_path / "ro", TOKEN_ENV, command="diff")
        assert {entry.method for mock in (a, b) for entry in mock.requests} == {"GET"}
        assert read_only.code == 0, read_only.stdout + read_only.stderr
        writes = cli([*common, "--allow-writes"], tmp_path / "rw", TOKEN_ENV, quick_restore=True, command="diff")
        assert "POST" in {entry.method for entry in b.requests}
        for mock, before in zip((a, b), initial):
            assert observable(mock) == observable_of(before, mock)
    assert LIVE_TOKEN not in read_only.stdout + writes.stdout + writes.stderr
    assert writes.code == 1 and "webhook" in writes.stdout, writes.stderr
