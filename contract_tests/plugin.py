"""The pytest plugin of twilio-webhook-contracts (a ``pytest11`` entry point).

pytest loads this module in every project where the package is installed, so it
must stay silent and cheap there: nothing heavy is imported until a fixture is
actually requested.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

import pytest

if TYPE_CHECKING:
    from twilio_webhook_contracts.mock import EmbeddedMock


@pytest.fixture
def twilio_mock() -> Iterator["EmbeddedMock"]:
    """A fresh, stateful reference mock of Twilio's webhook-configuration APIs.

    Runs on a free port of 127.0.0.1 for the duration of one test, in its initial
    state, and accepts the well-known test credentials. Point a Twilio client at
    ``twilio_mock.url`` (rewrite the scheme and host of its requests) and
    authenticate with ``twilio_mock.account_sid`` / ``twilio_mock.auth_token``
    (or ``api_key_sid`` / ``api_key_secret``). ``twilio_mock.requests`` is the
    request log, ``twilio_mock.state`` the stored state, ``twilio_mock.reset()``
    starts over. For faults or other credentials, use
    ``twilio_webhook_contracts.mock.serve_mock(...)`` directly.
    """
    from twilio_webhook_contracts.mock import serve_mock

    with serve_mock() as mock:
        yield mock


# ---------------------------------------------------------------------------
# the contract suite: options, target, and the bundled tests' machinery


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("twilio-webhook-contracts", "Twilio webhook contract suite (pytest --pyargs contract_tests)")
    group.addoption("--contract-target", metavar="URL", default=None,
                    help="base URL serving every endpoint; default: an embedded mock")
    group.addoption("--contract-conversations-url", metavar="URL", default=None, help="base URL of the Conversations API")
    group.addoption("--contract-chat-url", metavar="URL", default=None, help="base URL of the Chat API")
    group.addoption("--contract-max-examples", metavar="N", type=int, default=None,
                    help="generated requests per operation and kind (default: 25)")
    group.addoption("--contract-seed", metavar="N", type=int, default=None, help="seed, to replay a run")
    group.addoption("--contract-checks", metavar="a,b", default=None, help="run only these checks or families")
    group.addoption("--contract-exclude-checks", metavar="a,b", default=None, help="skip these checks or families")
    group.addoption("--contract-service-sid", metavar="IS…", default=None, help="real service to use (live)")
    group.addoption("--contract-channel-sid", metavar="CH…", default=None, help="real channel to use (live)")
    group.addoption("--contract-request-timeout", metavar="S", type=float, default=10.0,
                    help="seconds to wait for each answer (default 10)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "contract: a test of the bundled Twilio webhook contract suite")


@pytest.fixture(scope="session")
def contract_target(pytestconfig: pytest.Config):
    """A :class:`~twilio_webhook_contracts.target.Target` for the contract target.

    From ``--contract-target`` (or ``--contract-conversations-url`` and
    ``--contract-chat-url``) with credentials from ``TWILIO_ACCOUNT_SID`` and
    ``TWILIO_AUTH_TOKEN`` (or ``TWILIO_API_KEY``/``TWILIO_API_SECRET``); without
    a target, an embedded mock runs for the whole session. ``target.send(request)``
    returns a response to pass to :func:`contract_tests.assert_conforms`.
    """
    from twilio_webhook_contracts.target import Credentials, Target, TargetError

    option = pytestconfig.getoption
    conversations = option("--contract-conversations-url") or option("--contract-target")
    chat = option("--contract-chat-url") or option("--contract-target")
    timeout = option("--contract-request-timeout")
    if not conversations and not chat:
        import secrets

        from twilio_webhook_contracts.mock import serve_mock

        account, token = "AC" + secrets.token_hex(16), secrets.token_hex(16)
        with serve_mock(accounts={account: token}) as mock:
            with Target(mock.url, mock.url, credentials=Credentials(account, token), timeout=timeout) as target:
                yield target
        return
    if not conversations or not chat:
        raise pytest.UsageError("name a contract target: --contract-target URL, or both "
                                "--contract-conversations-url and --contract-chat-url")
    credentials = Credentials.from_environment()
    if credentials is None:
        raise pytest.UsageError("no credentials for the contract target: set TWILIO_ACCOUNT_SID and "
                                "TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and TWILIO_API_SECRET)")
    try:
        target = Target(conversations, chat, credentials=credentials, timeout=timeout)
    except TargetError as exc:
        raise pytest.UsageError(str(exc)) from None
    with target:
        yield target


@pytest.fixture(scope="session")
def contract_suite(contract_target, pytestconfig: pytest.Config):
    """The configured suite (seed, checks, pinned sids) the bundled tests run phases of."""
    from contract_tests.checks import select_checks
    from contract_tests.runner import Suite, SuiteConfig

    option = pytestconfig.getoption
    names = lambda value: [n for n in (value or "").split(",") if n.strip()]  # noqa: E731
    try:
        checks = select_checks(names(option("--contract-checks")), names(option("--contract-exclude-checks")))
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    config = SuiteConfig(
        max_examples=option("--contract-max-examples") or 25,
        seed=option("--contract-seed"),
        checks=checks,
        service_sid=option("--contract-service-sid"),
        channel_sid=option("--contract-channel-sid"),
        database=None,
    )
    suite = Suite(contract_target, config)
    from twilio_webhook_contracts.target import TargetUnreachable

    try:
        suite.probe(suite.session())
    except TargetUnreachable as exc:
        pytest.exit(f"twilio-webhook-contracts: {exc}", returncode=3)
    pytestconfig.stash[_SEED] = suite.seed
    yield suite


_SEED = pytest.StashKey[int]()


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    seed = config.stash.get(_SEED, None)
    if seed is not None:
        terminalreporter.write_line(f"twilio-webhook-contracts: seed {seed} (replay with --contract-seed {seed})")


def xdist_worker(config: pytest.Config) -> tuple[int, int]:
    """(index, count) of this pytest-xdist worker; (0, 1) without xdist."""
    workerinput = getattr(config, "workerinput", None)
    if not workerinput:
        return 0, 1
    return int(workerinput.get("workerid", "gw0").lstrip("gw") or 0), int(workerinput.get("workercount", 1))



def pytest_report_header(config: pytest.Config) -> list[str] | None:
    if not _bundled_suite_requested(config):
        return None
    target = config.getoption("--contract-target") or config.getoption("--contract-conversations-url") or "embedded mock"
    return [f"twilio-webhook-contracts: target {target}"]


def _bundled_suite_requested(config: pytest.Config) -> bool:
    return any("contract_tests" in str(arg) for arg in config.args)
