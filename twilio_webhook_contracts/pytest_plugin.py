"""The pytest plugin of twilio-webhook-contracts (a ``pytest11`` entry point).

pytest loads this module in every project where the package is installed, so it
must stay silent and cheap there: nothing heavy is imported until a fixture is
actually requested.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

import pytest

if TYPE_CHECKING:
    from twilio_webhook_contracts.mock import EmbeddedMock, Policies


@pytest.fixture(scope="session")
def twilio_mock_server() -> Iterator["EmbeddedMock"]:
    """The session's reference mock server (one per session, as pytest-httpserver does).

    Use ``twilio_mock`` in tests: it hands this server over in its initial state and
    with the test's policies, and checks it afterwards.
    """
    from twilio_webhook_contracts.mock import serve_mock

    with serve_mock() as mock:
        yield mock


@pytest.fixture
def twilio_mock_policies() -> "Policies":
    """The policies ``twilio_mock`` runs with (default: the mock's defaults).

    Override it in a conftest, module or class to test against another correct
    server, e.g. ``return Policies.from_pairs(["parents=declared", "rate_limit_every=20"])``.
    """
    from twilio_webhook_contracts.mock import Policies

    return Policies()


@pytest.fixture
def twilio_mock_resources() -> "tuple[str, ...]":
    """What exists under ``parents=declared`` (``IS...``, ``IS.../CH...``, ``IS.../unique-name``); override it."""
    return ()


@pytest.fixture
def twilio_mock(twilio_mock_server: "EmbeddedMock", twilio_mock_policies: "Policies",
                twilio_mock_resources: "tuple[str, ...]") -> Iterator["EmbeddedMock"]:
    """The stateful reference mock of Twilio's webhook-configuration APIs, fresh for this test.

    One server runs on a free port of 127.0.0.1 for the session; each test gets it
    in its initial state, with an empty request log and with
    ``twilio_mock_policies`` / ``twilio_mock_resources`` (override those fixtures to
    choose, or call ``twilio_mock.configure(policies=..., resources=...)`` inside a
    test; the next test starts from its own fixtures again). It accepts the
    well-known test credentials. Point a Twilio client at ``twilio_mock.url``
    (rewrite the scheme and host of its requests) and authenticate with
    ``twilio_mock.account_sid`` / ``twilio_mock.auth_token`` (or ``api_key_sid`` /
    ``api_key_secret``). ``twilio_mock.requests`` is the request log,
    ``twilio_mock.state`` the stored state, ``twilio_mock.reset()`` starts over.

    At teardown, an internal error of the mock (an answer from its last line of
    defence, always a bug) fails the test. For faults or other credentials, use
    ``twilio_webhook_contracts.mock.serve_mock(...)`` directly.
    """
    mock = twilio_mock_server
    mock.configure(policies=twilio_mock_policies, resources=twilio_mock_resources)
    mock.reset()
    errors_before = mock.app.internal_errors
    yield mock
    errors = mock.app.internal_errors - errors_before
    mock.configure(policies=twilio_mock_policies.__class__(), resources=())
    mock.reset()
    if errors:
        raise AssertionError(f"twilio_mock: {errors} request(s) hit an internal error of the mock "
                             f"(logged as 'mock: unexpected error'); this is a bug in the mock")


# ---------------------------------------------------------------------------
# the contract suite: options, target, and the bundled tests' machinery


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("twilio-webhook-contracts", "Twilio webhook contract suite (pytest --pyargs twilio_webhook_contracts.contract_tests)")
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


_OPTIONS = ("--contract-target", "--contract-conversations-url", "--contract-chat-url", "--contract-max-examples",
            "--contract-seed", "--contract-checks", "--contract-exclude-checks", "--contract-service-sid",
            "--contract-channel-sid")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "contract: a test of the bundled Twilio webhook contract suite")
    # A mistake in the contract options is a usage error now, once, not an error in every test later.
    # Nothing is checked (and nothing heavy imported) unless one of them was given.
    if any(config.getoption(name) is not None for name in _OPTIONS) or config.getoption("--contract-request-timeout") != 10.0:
        _check_options(config)


def _check_options(config: pytest.Config) -> None:
    import math
    import re

    option = config.getoption
    examples = option("--contract-max-examples")
    if examples is not None and examples < 1:
        raise pytest.UsageError("--contract-max-examples must be at least 1")
    seed = option("--contract-seed")
    if seed is not None and seed < 0:
        raise pytest.UsageError("--contract-seed must be a non-negative integer")
    timeout = option("--contract-request-timeout")
    if not (math.isfinite(timeout) and timeout > 0):
        raise pytest.UsageError("--contract-request-timeout must be a positive number of seconds")
    service = option("--contract-service-sid")
    if service is not None and not re.fullmatch(r"IS[0-9a-fA-F]{32}", service):
        raise pytest.UsageError(f"--contract-service-sid must be IS followed by 32 hex digits, got {service!r}")
    channel = option("--contract-channel-sid")
    if channel is not None and (not channel or "/" in channel or len(channel) > 256):
        raise pytest.UsageError("--contract-channel-sid must be a CH sid or a channel unique name (1-256 characters, no '/')")
    if option("--contract-checks") is not None or option("--contract-exclude-checks") is not None:
        from twilio_webhook_contracts.contract_tests.checks import select_checks

        try:
            selected = select_checks(_names(option("--contract-checks")), _names(option("--contract-exclude-checks")))
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from None
        if not selected:
            raise pytest.UsageError("--contract-checks/--contract-exclude-checks leave no check to run")
    urls = {name: option(name) for name in ("--contract-target", "--contract-conversations-url", "--contract-chat-url")}
    for name, url in urls.items():
        if url is not None:
            _check_url(name, url)
    conversations = urls["--contract-conversations-url"] or urls["--contract-target"]
    chat = urls["--contract-chat-url"] or urls["--contract-target"]
    if bool(conversations) != bool(chat):
        raise pytest.UsageError("name a contract target: --contract-target URL, or both "
                                "--contract-conversations-url and --contract-chat-url")
    if conversations:
        _environment_credentials()


def _names(value: str | None) -> list[str]:
    return [name for name in (value or "").split(",") if name.strip()]


def _check_url(option: str, url: str) -> None:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise pytest.UsageError(f"{option}: not a valid URL (expected e.g. http://127.0.0.1:4010)") from None
    if parts.username is not None or parts.password is not None:
        raise pytest.UsageError(f"{option}: the URL must not carry credentials; set TWILIO_ACCOUNT_SID and "
                                f"TWILIO_AUTH_TOKEN instead")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise pytest.UsageError(f"{option}: expected an absolute http(s) URL such as https://conversations.twilio.com, "
                                f"got {url!r}")
    if parts.query or parts.fragment:
        raise pytest.UsageError(f"{option}: a base URL takes no query or fragment, got {url!r}")


def _environment_credentials():
    """Credentials for a named target, from the environment; a usage error when they are missing or malformed."""
    import os
    import re

    from twilio_webhook_contracts.target import Credentials

    account = os.environ.get("TWILIO_ACCOUNT_SID", "")
    key, secret = os.environ.get("TWILIO_API_KEY", ""), os.environ.get("TWILIO_API_SECRET", "")
    if not account or not (os.environ.get("TWILIO_AUTH_TOKEN") or (key and secret)):
        raise pytest.UsageError("no credentials for the contract target: set TWILIO_ACCOUNT_SID and "
                                "TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and TWILIO_API_SECRET)")
    if not re.fullmatch(r"AC[0-9a-fA-F]{32}", account):
        raise pytest.UsageError("TWILIO_ACCOUNT_SID must be AC followed by 32 hex digits")
    if (key or secret) and not (key and secret):
        raise pytest.UsageError("TWILIO_API_KEY and TWILIO_API_SECRET must be set together")
    if key and not re.fullmatch(r"SK[0-9a-fA-F]{32}", key):
        raise pytest.UsageError("TWILIO_API_KEY must be SK followed by 32 hex digits")
    credentials = Credentials.from_environment()
    assert credentials is not None  # checked above
    return credentials


@pytest.fixture(scope="session")
def contract_target(pytestconfig: pytest.Config):
    """A :class:`~twilio_webhook_contracts.target.Target` for the contract target.

    From ``--contract-target`` (or ``--contract-conversations-url`` and
    ``--contract-chat-url``) with credentials from ``TWILIO_ACCOUNT_SID`` and
    ``TWILIO_AUTH_TOKEN`` (or ``TWILIO_API_KEY``/``TWILIO_API_SECRET``); without
    a target, an embedded mock runs for the whole session. ``target.send(request)``
    returns a response to pass to :func:`twilio_webhook_contracts.contract_tests.assert_conforms`.
    """
    from twilio_webhook_contracts.target import Credentials, Target, TargetError

    option = pytestconfig.getoption
    conversations = option("--contract-conversations-url") or option("--contract-target")
    chat = option("--contract-chat-url") or option("--contract-target")
    timeout = option("--contract-request-timeout")
    if not conversations and not chat:
        import secrets

        from twilio_webhook_contracts.mock import SUITE_EMBEDDED_POLICIES, serve_mock

        account, token = "AC" + secrets.token_hex(16), secrets.token_hex(16)
        _remember_secrets(pytestconfig, Credentials(account, token))
        with serve_mock(accounts={account: token}, policies=SUITE_EMBEDDED_POLICIES) as mock:
            with Target(mock.url, mock.url, credentials=Credentials(account, token), timeout=timeout) as target:
                yield target
        return
    if not conversations or not chat:
        raise pytest.UsageError("name a contract target: --contract-target URL, or both "
                                "--contract-conversations-url and --contract-chat-url")
    credentials = _environment_credentials()
    _remember_secrets(pytestconfig, credentials)
    try:
        target = Target(conversations, chat, credentials=credentials, timeout=timeout)
    except TargetError as exc:
        raise pytest.UsageError(str(exc)) from None
    with target:
        yield target


@pytest.fixture(scope="session")
def contract_suite(contract_target, pytestconfig: pytest.Config):
    """The configured suite (seed, checks, pinned sids) the bundled tests run phases of."""
    from twilio_webhook_contracts.contract_tests.checks import select_checks
    from twilio_webhook_contracts.contract_tests.runner import Suite, SuiteConfig

    option = pytestconfig.getoption
    try:
        checks = select_checks(_names(option("--contract-checks")), _names(option("--contract-exclude-checks")))
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    config = SuiteConfig(
        max_examples=option("--contract-max-examples") or 25,
        seed=_seed(pytestconfig),
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
_SECRETS = pytest.StashKey["tuple[str, ...]"]()


def _remember_secrets(config: pytest.Config, credentials) -> None:
    import base64
    import json
    from urllib.parse import quote, quote_plus

    forms = []
    for secret in credentials.secrets():
        forms += [secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1],
                  base64.b64encode(f"{credentials.username}:{secret}".encode()).decode()]
    known = config.stash.get(_SECRETS, ())
    config.stash[_SECRETS] = tuple(dict.fromkeys([*known, *(form for form in forms if len(form) >= 4)]))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    """Keep the target's secret out of failure reports (``--showlocals`` shows the transport's locals).

    A no-op until ``contract_target`` has been set up in this session.
    """
    outcome = yield
    secrets = item.config.stash.get(_SECRETS, ())
    if not secrets:
        return
    report = outcome.get_result()
    if report.longrepr is not None:
        text = str(report.longrepr)
        if any(secret in text for secret in secrets):
            report.longrepr = _redact(text, secrets)
    report.sections = [(title, _redact(content, secrets)) for title, content in report.sections]


def _redact(text: str, secrets) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def _seed(config: pytest.Config) -> int | None:
    """``--contract-seed``; under pytest-xdist without it, one seed all workers derive from the run's id
    (so that every worker tests with the same seed, which each failure names)."""
    seed = config.getoption("--contract-seed")
    if seed is not None:
        return seed
    workerinput = getattr(config, "workerinput", None)
    if workerinput and workerinput.get("testrunuid"):
        import hashlib

        return int.from_bytes(hashlib.sha256(str(workerinput["testrunuid"]).encode()).digest()[:4], "big")
    return None


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
