"""Concurrent requests are applied atomically: the result is always that of *some* sequential order."""

from __future__ import annotations

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor

from test_mock_support import ACCOUNT_PATH, SERVICE, CheckedSession, http, mock, webhooks_path
from twilio_webhook_contracts.mock import INITIAL_ACCOUNT_CONFIG

__all__ = ["http", "mock"]  # fixtures

#: Overlapping updates: each shares fields with others, so a torn or lost update
#: gives a state no sequential order can produce.
UPDATES = [
    {"Method": "GET", "PreWebhookUrl": "https://a.example/pre"},
    {"PreWebhookUrl": "https://b.example/pre", "PostWebhookUrl": "https://b.example/post"},
    {"PostWebhookUrl": "https://c.example/post", "Filters": ["onMessageAdded"]},
    {"Filters": ["onUserAdded", "onUserUpdated"], "Target": "flex"},
    {"Target": "webhook", "Method": "POST", "PreWebhookUrl": ""},
    {"Method": "GET", "Filters": ["onConversationAdded"], "PostWebhookUrl": ""},
]
ROUNDS = 25
TRIALS = 30


def _stored(form: dict) -> dict:
    """What one update stores, in response names (empty URL -> null)."""
    names = {"Method": "method", "PreWebhookUrl": "pre_webhook_url", "PostWebhookUrl": "post_webhook_url",
             "Filters": "filters", "Target": "target"}
    return {names[key]: (None if value == "" else value) for key, value in form.items()}


def _sequential_outcomes() -> list[dict]:
    """The final state of every order in which the updates can be applied one after the other."""
    outcomes = []
    for order in itertools.permutations(UPDATES):
        state = dict(INITIAL_ACCOUNT_CONFIG)
        for update in order:
            state.update(_stored(update))
        outcomes.append(state)
    return outcomes


def test_parallel_updates_end_in_a_state_some_sequential_order_gives(mock):
    """Each trial sends every update once, all at the same moment; a lost or torn update
    leaves a state that no order of the six produces (updates repeated within one trial
    would hide a lost one behind a later copy of itself)."""
    outcomes = _sequential_outcomes()
    sessions = [CheckedSession(mock) for _ in UPDATES]
    start = threading.Barrier(len(UPDATES))

    def send(session: CheckedSession, update: dict) -> dict:
        start.wait()
        return session.post(ACCOUNT_PATH, data=update).json()

    with ThreadPoolExecutor(len(UPDATES)) as pool:
        for _ in range(TRIALS):
            mock.state.reset()
            replies = list(pool.map(send, sessions, UPDATES))
            for update, reply in zip(UPDATES, replies):  # each answer shows its own update whole
                assert {k: reply[k] for k in _stored(update)} == _stored(update)
            final = sessions[0].get(ACCOUNT_PATH).json()
            assert {k: final[k] for k in INITIAL_ACCOUNT_CONFIG} in outcomes, final
    for session in sessions:
        session.close()
    assert len(mock.requests) == TRIALS * (len(UPDATES) + 1)


def test_parallel_creates_give_unique_sids_and_all_are_listed(mock):
    threads, channels, per_channel = 8, 4, 5  # a channel holds at most 5 webhooks

    def create_many(index: int) -> list[str]:
        with CheckedSession(mock) as http:
            return [http.post(webhooks_path(channel=f"par-{index}-{c}"),
                              data={"Type": "webhook", "Configuration.Url": f"https://e.example/{index}"}).json()["sid"]
                    for c in range(channels) for _ in range(per_channel)]

    with ThreadPoolExecutor(threads) as pool:
        created = [sid for sids in pool.map(create_many, range(threads)) for sid in sids]
    assert len(created) == len(set(created)) == threads * channels * per_channel

    listed: list[str] = []
    with CheckedSession(mock) as http:
        for index in range(threads):
            for c in range(channels):
                url = webhooks_path(channel=f"par-{index}-{c}")
                for _ in range(per_channel + 1):  # bounded walk over the pages
                    page = http.get(url, params={"PageSize": 2} if "?" not in url else None).json()
                    listed += [w["sid"] for w in page["webhooks"]]
                    url = page["meta"]["next_page_url"]
                    if url is None:
                        break
    assert sorted(listed) == sorted(created) and len(listed) == len(set(listed))


def test_parallel_creates_on_one_channel_stop_at_five(mock):
    def create_two(index: int) -> list[int]:
        with CheckedSession(mock) as http:
            return [http.post(webhooks_path(channel="crowded"), data={"Type": "webhook"}).status_code for _ in range(2)]

    with ThreadPoolExecutor(8) as pool:
        statuses = [status for pair in pool.map(create_two, range(8)) for status in pair]
    assert sorted(statuses) == [201] * 5 + [400] * 11
    with CheckedSession(mock) as http:
        assert len(http.get(webhooks_path(channel="crowded")).json()["webhooks"]) == 5


def test_parallel_updates_of_different_services_do_not_interfere(mock):
    services = ["IS" + f"{i:032x}" for i in range(6)]

    def configure(service: str) -> None:
        with CheckedSession(mock) as http:
            for round_ in range(ROUNDS):
                http.post(f"/v1/Services/{service}/Configuration/Webhooks",
                          data={"PostWebhookUrl": f"https://{service.lower()}.example/{round_}"})

    with ThreadPoolExecutor(len(services)) as pool:
        list(pool.map(configure, services))
    for service in services:
        stored = mock.state.service_config(mock.account_sid, service)
        assert stored["post_webhook_url"] == f"https://{service.lower()}.example/{ROUNDS - 1}"
    assert mock.state.service_config(mock.account_sid, SERVICE)["post_webhook_url"] is None
