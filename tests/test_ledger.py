"""Issue 13: one ledger of the webhooks a run created, used by the sessions, the state machine and the guard."""

from __future__ import annotations

from twilio_webhook_contracts.contract_tests.checks import CHECKS, Context
from twilio_webhook_contracts.contract_tests.results import Results
from twilio_webhook_contracts.contract_tests.runner import Suite, SuiteConfig
from twilio_webhook_contracts.contract_tests.session import Session
from twilio_webhook_contracts.contract_tests.stateful import fixed_request
from twilio_webhook_contracts.ledger import ledger_of
from twilio_webhook_contracts.live import Guard
from twilio_webhook_contracts.mock import MockApp, serve_mock
from twilio_webhook_contracts.request import Request
from twilio_webhook_contracts.target import Credentials, Target

ACCOUNT, TOKEN = "AC" + "7" * 32, "ledger-token"
SERVICE, CHANNEL = "IS" + "1" * 32, "CH" + "1" * 32


def _create(target: Target, auth: str = "valid"):
    spec = target.spec
    operation = spec.operation("CreateChannelWebhook")
    params = {"ServiceSid": SERVICE, "ChannelSid": CHANNEL}
    path = operation.path.replace("{ServiceSid}", SERVICE).replace("{ChannelSid}", CHANNEL)
    request = Request.build("CreateChannelWebhook", operation.method, path, path_params=params,
                            form=[("Type", "webhook"), ("Configuration.Url", "https://hooks.example.com/l")])
    return target.send(request, auth=auth)


def test_every_sender_and_every_clone_writes_into_one_ledger():
    with serve_mock(MockApp(accounts={ACCOUNT: TOKEN})) as mock:
        with Target(mock.url, credentials=Credentials(ACCOUNT, TOKEN)) as target:
            session = Session(target, Context(spec=target.spec, account_sid=ACCOUNT), Results(), dict(CHECKS))
            guard = Guard(target, target.spec)
            clone = target.clone()
            assert session.created is ledger_of(target) is ledger_of(clone) is guard.created
            first = _create(target).json()["sid"]  # sent by nobody in particular: the ledger still sees it
            second = _create(clone).json()["sid"]  # another worker's connection
            assert sorted(session.created) == sorted([first, second])
            assert session.created[first] == (SERVICE, CHANNEL)
            suite = Suite(target, SuiteConfig(database="none"))
            suite.cleanup(session)  # the runner's clean-up goes through the ledger ...
            assert len(session.created) == 0 and len(guard.created) == 0
            assert not any(mock.state.snapshot()["webhooks"].values())  # ... and the webhooks are gone at the target


def test_a_create_without_an_answer_below_500_stays_unconfirmed():
    with serve_mock(MockApp(accounts={ACCOUNT: TOKEN})) as mock:
        with Target(mock.url, credentials=Credentials(ACCOUNT, TOKEN)) as target:
            ledger = ledger_of(target)
            ledger.before_send(fixed_request(target.spec, "CreateChannelWebhook", {"ServiceSid": SERVICE, "ChannelSid": CHANNEL}))
            assert ledger.unconfirmed_creates == {(SERVICE, CHANNEL): 1}  # an answer that never came
            _create(target)
            assert ledger.unconfirmed_creates == {(SERVICE, CHANNEL): 1} and len(ledger) == 1
            assert ledger.take_unconfirmed((SERVICE, CHANNEL)) and not ledger.take_unconfirmed((SERVICE, CHANNEL))
