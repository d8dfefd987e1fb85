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
    # live mode: automatic for twilio.com hosts, as in `webhook-contracts run` (the same engine and guard)
    group.addoption("--contract-live", action="store_true", default=False,
                    help="treat the contract target as live Twilio (automatic for twilio.com hosts)")
    group.addoption("--contract-allow-writes", action="store_true", default=False,
                    help="live: allow writes (snapshot, journal and restore); without it only read-only checks run")
    group.addoption("--contract-max-requests", metavar="N", type=int, default=None,
                    help="requests the whole session may send (default: 200 per example, at least 10000; "
                         "live 1500; 0: no limit); tests after it fail as not finished (budget)")
    group.addoption("--contract-time-budget", metavar="S", type=float, default=None,
                    help="seconds the session may send requests (default: 12 per example, at least 600; 0: no limit)")
    group.addoption("--contract-rate-limit", metavar="R", type=float, default=None,
                    help="at most R requests per second (live default 5)")
    group.addoption("--contract-journal", metavar="PATH", default=None,
                    help="live: the crash-safe journal (default as for `webhook-contracts run --journal`)")
    _add_ini_settings(parser, group)


def _add_ini_settings(parser: pytest.Parser, group) -> None:
    """An ini setting for every ``--contract-*`` option (``contract_target = …`` under
    ``[tool.pytest.ini_options]``, ``[pytest]``, …): the command line wins over the file.

    Taken from the group's options, so that an option added later gets its setting too.
    """
    for argument in group.options:
        name = next((n for n in argument.names() if n.startswith("--contract-")), None)
        if name is None:
            continue
        attrs = argument.attrs()
        _INI_OPTIONS[name] = (attrs.get("dest") or argument.dest, attrs.get("type"), attrs.get("action"),
                              attrs.get("default"))
        parser.addini(_ini_name(name), f"default for {name}: {attrs.get('help', '')}", default=None)


#: ``--contract-*`` option -> (dest, type, action), for the ini settings
_INI_OPTIONS: dict[str, tuple[str, object, object, object]] = {}


def _ini_name(option: str) -> str:
    return option.lstrip("-").replace("-", "_")


def _apply_ini_settings(config: pytest.Config) -> None:
    """Copy each ini setting onto its option unless the option was given: on the command line (an
    explicit value equal to the default still wins) or through ``addopts``/``PYTEST_ADDOPTS`` (the
    option no longer holds its default)."""
    given = [str(arg).split("=", 1)[0] for arg in config.invocation_params.args]
    if "--hypothesis-seed" in given:  # Hypothesis' seed on the command line beats a contract_seed in a file
        given.append("--contract-seed")
    for name, (dest, kind, action, default) in _INI_OPTIONS.items():
        if any(arg == name or (arg.startswith("--contract-") and name.startswith(arg)) for arg in given):
            continue
        if getattr(config.option, dest, default) != default:
            continue
        raw = config.getini(_ini_name(name))
        if raw is None or raw == "" or raw == []:
            continue
        raw = " ".join(raw) if isinstance(raw, list) else str(raw).strip()
        try:
            if action in ("store_true", "store_false"):
                if raw.lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                    raise ValueError(raw)
                value: object = raw.lower() in ("1", "true", "yes", "on")
            else:
                value = kind(raw) if callable(kind) else raw
        except ValueError:
            raise pytest.UsageError(f"ini setting {_ini_name(name)} = {raw!r}: not a valid value for {name}") from None
        setattr(config.option, dest, value)


_OPTIONS = ("--contract-target", "--contract-conversations-url", "--contract-chat-url", "--contract-max-examples",
            "--contract-seed", "--contract-checks", "--contract-exclude-checks", "--contract-service-sid",
            "--contract-channel-sid", "--contract-max-requests", "--contract-time-budget", "--contract-rate-limit",
            "--contract-journal")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "contract: a test of the bundled Twilio webhook contract suite")
    _apply_ini_settings(config)
    # A mistake in the contract options is a usage error now, once, not an error in every test later.
    # Nothing is checked (and nothing heavy imported) unless one of them was given.
    if any(config.getoption(name) is not None for name in _OPTIONS) or config.getoption("--contract-request-timeout") != 10.0:
        _check_options(config)
    if _bundled_suite_requested(config):
        config.stash[_HELD] = held = _Held()
        config.pluginmanager.register(held, "twilio-webhook-contracts-held")
    if _bundled_suite_requested(config) and not hasattr(config, "workerinput"):
        # the seed of the whole run, chosen once here: the controller prints it and hands it to every xdist worker
        import random

        seed = _given_seed(config)
        config.stash[_SEED] = seed if seed is not None else random.SystemRandom().randrange(2**32)


def _check_options(config: pytest.Config) -> None:
    import math
    import re

    option = config.getoption
    examples = option("--contract-max-examples")
    if examples is not None and examples < 1:
        raise pytest.UsageError("--contract-max-examples must be at least 1")
    seed = _given_seed(config)
    if seed is not None and seed < 0:
        raise pytest.UsageError("--contract-seed must be a non-negative integer")
    timeout = option("--contract-request-timeout")
    if not (math.isfinite(timeout) and timeout > 0):
        raise pytest.UsageError("--contract-request-timeout must be a positive number of seconds")
    rate = option("--contract-rate-limit")
    if rate is not None and not (math.isfinite(rate) and rate > 0):
        raise pytest.UsageError("--contract-rate-limit must be a positive number")
    for name in ("--contract-max-requests", "--contract-time-budget"):
        value = option(name)
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise pytest.UsageError(f"{name} must be a positive number (0: no limit)")
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
    if _live(config) and getattr(config.option, "numprocesses", None):
        raise pytest.UsageError("a live contract run cannot be spread over pytest-xdist workers (each would snapshot "
                                "and restore the same account); run it without -n")


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
    limits = _limits(pytestconfig)
    if not conversations and not chat:
        import secrets

        from twilio_webhook_contracts.mock import SUITE_EMBEDDED_POLICIES, serve_mock

        account, token = "AC" + secrets.token_hex(16), secrets.token_hex(16)
        _remember_secrets(pytestconfig, Credentials(account, token))
        with serve_mock(accounts={account: token}, policies=SUITE_EMBEDDED_POLICIES) as mock:
            with Target(mock.url, mock.url, credentials=Credentials(account, token), timeout=timeout,
                        limits=limits) as target:
                yield target
        return
    if not conversations or not chat:
        raise pytest.UsageError("name a contract target: --contract-target URL, or both "
                                "--contract-conversations-url and --contract-chat-url")
    credentials = _environment_credentials()
    _remember_secrets(pytestconfig, credentials)
    try:
        target = Target(conversations, chat, credentials=credentials, timeout=timeout, limits=limits)
    except TargetError as exc:
        raise pytest.UsageError(str(exc)) from None
    with target:
        yield target


def _live(config: pytest.Config) -> bool:
    """Live mode as the user asked for it: ``--contract-live``, or a twilio.com host among the URLs."""
    from twilio_webhook_contracts.live import is_live_url

    option = config.getoption
    return bool(option("--contract-live")) or any(
        is_live_url(option(name)) for name in ("--contract-target", "--contract-conversations-url", "--contract-chat-url"))


def _limits(config: pytest.Config):
    """The session's ceilings: the options, else live mode's defaults, else
    :meth:`Limits.default_budget` (0 switches a ceiling off)."""
    from twilio_webhook_contracts.live import LIVE_DEFAULTS
    from twilio_webhook_contracts.target import Limits

    given_requests, given_seconds = config.getoption("--contract-max-requests"), config.getoption("--contract-time-budget")
    rate_limit = config.getoption("--contract-rate-limit")
    if _live(config):
        return Limits(max_requests=given_requests or int(LIVE_DEFAULTS["max_requests"]),
                      rate_limit=rate_limit or LIVE_DEFAULTS["rate_limit"],
                      time_budget=given_seconds or LIVE_DEFAULTS["time_budget"],
                      max_server_errors=int(LIVE_DEFAULTS["max_server_errors"]))
    requests, seconds = Limits.default_budget(config.getoption("--contract-max-examples") or _DEFAULT_EXAMPLES)
    requests = given_requests if given_requests is not None else requests
    seconds = given_seconds if given_seconds is not None else seconds
    return Limits(max_requests=int(requests) or None, time_budget=float(seconds) or None, rate_limit=rate_limit)


@pytest.fixture(scope="session")
def contract_suite(contract_target, pytestconfig: pytest.Config):
    """The guarded engine the bundled tests run units of (one per operation and kind, and the stateful suite).

    The same engine as ``webhook-contracts run``: a twilio.com target is live --
    read-only unless ``--contract-allow-writes``, snapshot and journal before the
    first write, created webhooks deleted and the configuration restored (and
    verified) when the session ends, budgets. A restore that fails ends the
    session with exit status 5 and says what is left changed.
    """
    from twilio_webhook_contracts.contract_tests.checks import select_checks
    from twilio_webhook_contracts.contract_tests.engine import Engine, LiveError
    from twilio_webhook_contracts.contract_tests.runner import SuiteConfig
    from twilio_webhook_contracts.live import LIVE_DEFAULTS
    from twilio_webhook_contracts.target import TargetUnreachable

    option = pytestconfig.getoption
    try:
        checks = select_checks(_names(option("--contract-checks")), _names(option("--contract-exclude-checks")))
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    live = _live(pytestconfig)
    if live and xdist_worker(pytestconfig)[1] > 1:
        pytest.exit("twilio-webhook-contracts: a live contract run cannot be spread over pytest-xdist workers "
                    "(each would snapshot and restore the same account); run it without -n", returncode=2)
    config = SuiteConfig(
        max_examples=option("--contract-max-examples") or (int(LIVE_DEFAULTS["max_examples"]) if live else _DEFAULT_EXAMPLES),
        seed=_seed(pytestconfig),
        checks=checks,
        service_sid=option("--contract-service-sid"),
        channel_sid=option("--contract-channel-sid"),
        database=None,
    )
    engine = Engine(contract_target, config, live=live, allow_writes=option("--contract-allow-writes"),
                    journal=option("--contract-journal"))
    try:
        engine.start()
    except TargetUnreachable as exc:
        # not pytest's 3 (INTERNAL_ERROR): the run was stopped before it could test anything
        pytest.exit(f"twilio-webhook-contracts: {exc}", returncode=pytest.ExitCode.INTERRUPTED)
    except LiveError as exc:
        pytest.exit(f"twilio-webhook-contracts: live run refused: {exc}", returncode=2)
    pytestconfig.stash[_SEED] = engine.seed
    with _restore_undisturbed(engine.live) as signals:
        try:
            yield engine
        finally:
            signals.hold()  # from here on, no signal cuts the restore short
            problems = engine.close()
    if problems:
        pytestconfig.stash[_RESTORE_PROBLEMS] = problems


_RESTORE_PROBLEMS = pytest.StashKey["list[str]"]()


class _restore_undisturbed:
    """In a live session: SIGTERM interrupts the tests once (as Ctrl-C does, so the session's
    teardown restores), and once :meth:`hold` is called no SIGINT or SIGTERM cuts the restore short."""

    def __init__(self, live: bool):
        import threading

        self.active = live and threading.current_thread() is threading.main_thread()
        self.previous: dict[int, object] = {}

    def __enter__(self) -> "_restore_undisturbed":
        import signal

        if self.active:
            def interrupt(signum, frame):
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                raise KeyboardInterrupt

            self.previous = {signal.SIGINT: signal.getsignal(signal.SIGINT),
                             signal.SIGTERM: signal.signal(signal.SIGTERM, interrupt)}
        return self

    def hold(self) -> None:
        import signal

        if self.active:
            for sig in self.previous:
                signal.signal(sig, signal.SIG_IGN)

    def __exit__(self, *exc: object) -> None:
        import signal

        for sig, handler in self.previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]


_DEFAULT_EXAMPLES = 25
_SEED = pytest.StashKey[int]()
_SECRETS = pytest.StashKey["tuple[str, ...]"]()


def _remember_secrets(config: pytest.Config, credentials) -> None:
    from twilio_webhook_contracts.credentials import secret_forms

    forms = secret_forms(credentials)
    known = config.stash.get(_SECRETS, ())
    config.stash[_SECRETS] = tuple(dict.fromkeys([*known, *(form for form in forms if len(form) >= 4)]))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    """Keep the target's secret out of failure reports (``--showlocals`` shows the transport's locals).

    A no-op until ``contract_target`` has been set up in this session. Also hands what a bundled
    test judged (:func:`record_tested`) to its call report.
    """
    outcome = yield
    if call.when == "call" and _TESTED_KEY in item.stash:
        setattr(outcome.get_result(), _TESTED, item.stash[_TESTED_KEY])
    secrets = item.config.stash.get(_SECRETS, ())
    if not secrets:
        return
    report = outcome.get_result()
    if report.longrepr is not None:
        text = str(report.longrepr)
        redacted = _redact(text, secrets)
        if redacted != text:
            report.longrepr = redacted
    report.sections = [(title, _redact(content, secrets)) for title, content in report.sections]


def _redact(text: str, secrets) -> str:
    from twilio_webhook_contracts.credentials import redact

    return redact(text, secrets)


def _given_seed(config: pytest.Config) -> int | None:
    """``--contract-seed``, else Hypothesis' own ``--hypothesis-seed`` taken as the contract seed
    (an integer as it is; any other string, as Hypothesis allows, hashed to one)."""
    seed = config.getoption("--contract-seed")
    if seed is not None:
        return seed
    hypothesis_seed = config.getoption("--hypothesis-seed", default=None)
    if hypothesis_seed is None:
        return None
    text = str(hypothesis_seed).strip()
    if text.isdigit():
        return int(text)
    import hashlib

    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """pytest-xdist (controller): every worker gets the run's seed, so all test with it and one line names it."""
    seed = node.config.stash.get(_SEED, None)
    if seed is not None:
        node.workerinput["twilio_webhook_contracts_seed"] = seed


def _seed(config: pytest.Config) -> int | None:
    """The run's seed: given (``--contract-seed``/``--hypothesis-seed``), else chosen at configure time;
    under pytest-xdist the controller's, else one derived from the run's id."""
    seed = _given_seed(config)
    if seed is not None:
        return seed
    workerinput = getattr(config, "workerinput", None)
    if workerinput and workerinput.get("twilio_webhook_contracts_seed") is not None:
        return int(workerinput["twilio_webhook_contracts_seed"])
    if config.stash.get(_SEED, None) is not None:
        return config.stash[_SEED]
    if workerinput and workerinput.get("testrunuid"):
        import hashlib

        return int.from_bytes(hashlib.sha256(str(workerinput["testrunuid"]).encode()).digest()[:4], "big")
    return None


_TESTED = "twilio_webhook_contracts_tested"


_TESTED_KEY = pytest.StashKey[dict]()


def record_tested(node: pytest.Item, results) -> None:
    """What one bundled test judged (checks and how often, requests per operation, failed checks).

    Kept on the item; :func:`pytest_runtest_makereport` puts it on the call report as an attribute,
    which pytest serialises with the report, so it reaches the controller from pytest-xdist workers
    too. (Not a user property: those end up in ``--junitxml`` files, where xunit2 forbids them.)
    """
    node.stash[_TESTED_KEY] = {"checks": dict(results.checks_run),
                               "requests": dict(results.requests_by_operation),
                               "failed": sorted({record.check for record in results.violations})}


class _Held:
    """Adds up what the bundled tests judged, from their reports (the controller's, under xdist)."""

    def __init__(self) -> None:
        from collections import Counter

        self.checks: Counter = Counter()
        self.requests: Counter = Counter()
        self.failed: set[str] = set()
        #: GitHub annotations of failed bundled tests (printed at the end inside GitHub Actions)
        self.annotations: list[str] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        value = getattr(report, _TESTED, None)
        if report.when != "call" or not isinstance(value, dict):
            return
        self.checks.update(value.get("checks", {}))
        self.requests.update(value.get("requests", {}))
        self.failed.update(value.get("failed", []))
        if report.failed:
            self._annotate(report, value.get("failed", []))

    def _annotate(self, report: pytest.TestReport, failed: list[str]) -> None:
        from twilio_webhook_contracts.annotations import annotation, check_location, in_github_actions

        if not in_github_actions():
            return
        file, line = check_location(failed[0]) if failed else (report.location[0], report.location[1] + 1)
        text = str(report.longrepr)  # already redacted by pytest_runtest_makereport
        self.annotations.append(annotation("error", text[:4000], file=file, line=line, title=report.nodeid))


_HELD = pytest.StashKey[_Held]()


def _held_block(config: pytest.Config) -> list[str]:
    held = config.stash.get(_HELD, None)
    if held is None or not held.checks or config.get_verbosity() < 0:
        return []
    from twilio_webhook_contracts.contract_tests.checks import CHECKS
    from twilio_webhook_contracts.contract_tests.results import FailureRecord, Results
    from twilio_webhook_contracts.report import what_was_tested

    results = Results()
    results.checks_run.update(held.checks)
    results.requests_by_operation.update(held.requests)
    for name in held.failed:
        results.failures[(name, "*")] = FailureRecord(name, CHECKS[name].family if name in CHECKS else "other", "*", "")
    return what_was_tested(results)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    lines = _held_block(config)
    if lines:
        terminalreporter.write_line("twilio-webhook-contracts: checks that " + lines[0])
        for line in lines[1:]:
            terminalreporter.write_line(line)
    held = config.stash.get(_HELD, None)
    for line in held.annotations if held is not None else ():
        terminalreporter.write_line(line)
    seed = config.stash.get(_SEED, None)
    if seed is not None:
        terminalreporter.write_line(f"twilio-webhook-contracts: seed {seed} (replay with --contract-seed {seed})")
    problems = config.stash.get(_RESTORE_PROBLEMS, None)
    if problems:
        secrets = config.stash.get(_SECRETS, ())
        terminalreporter.write_line("twilio-webhook-contracts: LIVE RESTORE FAILED -- the account was left changed:", red=True)
        for problem in problems:
            terminalreporter.write_line(f"twilio-webhook-contracts:   {_redact(problem, secrets)}", red=True)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A live session that could not restore the account ends with status 5, as ``webhook-contracts run``."""
    if session.config.stash.get(_RESTORE_PROBLEMS, None):
        session.exitstatus = 5


def xdist_worker(config: pytest.Config) -> tuple[int, int]:
    """(index, count) of this pytest-xdist worker; (0, 1) without xdist."""
    workerinput = getattr(config, "workerinput", None)
    if not workerinput:
        return 0, 1
    return int(workerinput.get("workerid", "gw0").lstrip("gw") or 0), int(workerinput.get("workercount", 1))



def pytest_sessionstart(session: pytest.Session) -> None:
    """A named target that accepts no connection stops the run before any test: pytest's
    INTERRUPTED (2), once, and under pytest-xdist before workers start (the bundled suite's
    probe would otherwise stop each worker on its own, and xdist reports that as failures)."""
    config = session.config
    if hasattr(config, "workerinput") or not _bundled_suite_requested(config):
        return
    import socket
    from urllib.parse import urlsplit

    from twilio_webhook_contracts.live import is_live_url

    option = config.getoption
    for url in dict.fromkeys(filter(None, (option("--contract-conversations-url") or option("--contract-target"),
                                           option("--contract-chat-url") or option("--contract-target")))):
        parts = urlsplit(url)
        if is_live_url(url):  # live sessions never run under xdist; the engine's probe (through the Target) decides
            continue
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            socket.create_connection((parts.hostname, port), timeout=option("--contract-request-timeout")).close()
        except OSError as exc:
            reason = "connection refused" if isinstance(exc, ConnectionRefusedError) else (
                "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc)).lower())
            pytest.exit(f"twilio-webhook-contracts: cannot reach {parts.scheme}://{parts.netloc}: {reason}",
                        returncode=pytest.ExitCode.INTERRUPTED)


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    if not _bundled_suite_requested(config):
        return None
    target = config.getoption("--contract-target") or config.getoption("--contract-conversations-url") or "embedded mock"
    return [f"twilio-webhook-contracts: target {target}; {_limits(config).describe()}"]


def _bundled_suite_requested(config: pytest.Config) -> bool:
    return any("contract_tests" in str(arg) for arg in config.args)
