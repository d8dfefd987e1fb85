"""``webhook-contracts run``: the contract suite against a target (default: the embedded mock).

Exit status: 0 no violation; 1 violations found, or the run ended early (request
or time budget spent, the circuit breaker tripped, the target went away); 2 usage
or configuration error; 3 the target could not be reached at all; 5 a live run
could not restore the account (it says what, loudly, last on stderr -- this wins
over every other status); 130/143 interrupted by SIGINT/SIGTERM (after restoring,
and after writing the reports, which say so).

Signals: the first SIGINT or SIGTERM interrupts the suite; any later one -- and
any that arrives once the suite is over -- is held until the restore and the
reports are done, then decides the exit status (130/143).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import re
import signal
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..cli import EXIT_OK, EXIT_UNREACHABLE, EXIT_USAGE, EXIT_VIOLATIONS, UsageError

#: A live run could not put the account back as it found it.
EXIT_RESTORE_FAILED = 5

_SERVICE_SID = re.compile(r"IS[0-9a-fA-F]{32}\Z")
_ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}\Z")
_API_KEY = re.compile(r"SK[0-9a-fA-F]{32}\Z")

#: Where failing examples are kept between runs unless --database says otherwise.
DEFAULT_DATABASE = ".hypothesis/webhook-contracts"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run the contract suite (default: against the embedded mock)",
        description="Run the contract suite against a target. With no target, the embedded mock is "
                    "started on a free port and tested.",
    )
    add_target_arguments(parser)
    add_suite_arguments(parser)
    add_live_arguments(parser)
    parser.add_argument("--report-har", metavar="PATH", help="write every exchange as a HAR 1.2 cassette here "
                                                             "(secrets redacted; webhook-contracts replay re-sends its failing steps)")
    parser.set_defaults(handler=run)


def add_live_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "live runs", "Live mode is on with --live, and by itself whenever a target is a twilio.com host: the account's "
                     "webhook configuration is snapshot before the first write and restored afterwards (also on "
                     "failure, Ctrl-C and SIGTERM), every channel webhook the run created is deleted, and requests "
                     "are budgeted and rate limited.")
    group.add_argument("--live", action="store_true", help="treat the target as live Twilio (automatic for twilio.com hosts)")
    group.add_argument("--allow-writes", action="store_true",
                       help="live: allow writes (snapshot and restore); without it only read-only and rejected-read checks run")
    group.add_argument("--max-requests", type=int, default=None, metavar="N",
                       help="stop after N requests, with the verdict so far (default: 200 per --max-examples, "
                            "at least 10000; live default %d; 0: no limit)" % 1500)
    group.add_argument("--rate-limit", type=float, default=None, metavar="R",
                       help="at most R requests per second (live default 5)")
    group.add_argument("--time-budget", type=float, default=None, metavar="S",
                       help="stop starting new requests after S seconds, with the verdict so far (default: 12 s per "
                            "--max-examples, at least 600; live default 900; 0: no limit)")
    group.add_argument("--max-retry-wait", type=float, default=30.0, metavar="S",
                       help="wait at most S seconds before retrying a 429/503, whatever its Retry-After asks (default 30)")
    group.add_argument("--max-server-errors", type=int, default=None, metavar="N",
                       help="circuit breaker: stop the run after N answers in a row with a 5xx status "
                            "(live default %d; 0 never stops; off by default against other targets)" % 10)
    add_journal_argument(group)
    group.add_argument("--profile", choices=("dev", "ci", "nightly"), default=None,
                       help="examples per operation: dev 10, ci 50, nightly 500 (--max-examples overrides)")
    group.add_argument("--history", metavar="PATH", help="append this run's results to a SQLite history file "
                                                          "(read it with `webhook-contracts history`)")


def add_journal_argument(group) -> None:
    group.add_argument("--journal", metavar="PATH", default=None,
                       help="live: the crash-safe journal of the snapshot and the created webhooks (default "
                            "$WEBHOOK_CONTRACTS_JOURNAL, else one file per account and hosts in "
                            "$XDG_STATE_HOME/webhook-contracts, i.e. ~/.local/state/webhook-contracts)")


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("target")
    group.add_argument("--target", metavar="URL", help="one base URL serving every endpoint (e.g. a mock)")
    group.add_argument("--conversations-url", metavar="URL", help="base URL of the Conversations API (live: https://conversations.twilio.com)")
    group.add_argument("--chat-url", metavar="URL", help="base URL of the Chat API (live: https://chat.twilio.com)")
    group.add_argument("--account-sid", metavar="AC…", help="Account SID (default: $TWILIO_ACCOUNT_SID)")
    group.add_argument("--auth-token", metavar="TOKEN", help="auth token (default: $TWILIO_AUTH_TOKEN; prefer the variable: options show up in process lists)")
    group.add_argument("--request-timeout", type=float, default=10.0, metavar="S", help="seconds to wait for each answer (default 10)")
    group.add_argument("--max-response-bytes", type=int, default=None, metavar="N",
                       help="cut any response body at N bytes, on the wire and decompressed, and report it as a "
                            "violation (default 8 MiB)")


def add_suite_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("suite")
    group.add_argument("--max-examples", type=int, default=None, metavar="N", help="generated requests per operation and kind (default 50)")
    group.add_argument("--seed", type=int, default=None, metavar="N", help="replay a run exactly (every run prints its seed)")
    group.add_argument("--checks", metavar="a,b", help="run only these checks or families")
    group.add_argument("--exclude-checks", metavar="a,b", help="skip these checks or families")
    group.add_argument("--service-sid", metavar="IS…", help="use this service instead of generated ones")
    group.add_argument("--channel-sid", metavar="CH…|NAME", help="use this channel (sid or unique name) instead of generated ones")
    group.add_argument("--no-stateful", action="store_true", help="skip the stateful suite")
    group.add_argument("--stateless", action="store_true", help="the target keeps no state (e.g. Prism): run only per-request checks, report state checks as skipped")
    group.add_argument("--no-shrink", action="store_true", help="report failures as found, without minimising them")
    group.add_argument("--workers", type=_workers, default="auto", metavar="N|auto",
                       help="send from N threads at once (default auto: chosen from the measured round trip, 1 for the "
                            "embedded mock and loopback, up to 8 for a remote target; 1 in a live run); each worker's "
                            "state machine keeps to its own services and channels")
    group.add_argument("--database", metavar="PATH", default=None,
                       help=f"Hypothesis example database; failing examples are retried first next time "
                            f"(default {DEFAULT_DATABASE}, or none with --seed so that a replay is exact; "
                            f"'none' to disable)")
    out = parser.add_argument_group("output")
    out.add_argument("--report-json", metavar="PATH", help="write the JSON report here")
    out.add_argument("--junitxml", metavar="PATH", help="write a JUnit XML report here")
    out.add_argument("--report-markdown", metavar="PATH", help="write a markdown summary here (e.g. $GITHUB_STEP_SUMMARY)")
    out.add_argument("--report-html", metavar="PATH", help="write a self-contained HTML report here (with --history: "
                                                           "a per-check timeline of the last runs)")
    verbosity = out.add_mutually_exclusive_group()
    verbosity.add_argument("-q", "--quiet", action="store_true", help="print only failures and the final line")
    verbosity.add_argument("-v", "--verbose", action="store_true", help="print every step of every failure and the skipped checks")


def run(args: argparse.Namespace) -> int:
    from twilio_webhook_contracts.contract_tests.engine import Engine
    from twilio_webhook_contracts.contract_tests.results import Results
    from twilio_webhook_contracts.contract_tests.runner import SuiteConfig

    from ..credentials import secret_forms
    from ..profiles import PROFILES
    from ..target import Target, TargetError

    _validate(args)
    checks = selected_checks(args)
    if args.no_stateful and all(check.family == "state" for check in checks.values()):
        raise UsageError("--no-stateful leaves no check to run: only state checks are selected")

    out = _Printer(args)
    with _target_context(args, out) as (conversations_url, chat_url, credentials, description):
        from ..live import LIVE_DEFAULTS, is_live_url

        live = args.live or is_live_url(conversations_url) or is_live_url(chat_url)
        examples = args.max_examples or (PROFILES[args.profile] if args.profile else
                                         int(LIVE_DEFAULTS["max_examples"]) if live else PROFILES["ci"])
        limits = _limits(args, live, examples)
        try:
            target = Target(conversations_url, chat_url, credentials=credentials, timeout=args.request_timeout,
                            max_retry_wait=args.max_retry_wait, limits=limits, **_transport_options(args))
        except TargetError as exc:
            raise UsageError(str(exc)) from None
        if live and args.channel_sid and not args.service_sid:
            raise UsageError("--channel-sid needs --service-sid in a live run (the channel's service)")
        # chosen here, not in the suite, so that it is printed before the first request
        seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
        config = SuiteConfig(
            max_examples=examples,
            seed=seed,
            checks=checks,
            service_sid=args.service_sid,
            channel_sid=args.channel_sid,
            stateful=not args.no_stateful,
            stateless=args.stateless,
            workers=(1 if live else 0) if args.workers == "auto" else args.workers,  # live: politeness first
            shrink=not args.no_shrink,  # live: the engine turns shrinking off
            database=_database(args),
            progress=out.progress,
        )
        secrets = secret_forms(credentials)
        mode = (" (live mode" + (", writes allowed)" if args.allow_writes else ", read-only)")) if live else ""
        out.progress(f"target: {description}{mode}; seed {seed} (replay with --seed {seed}); {limits.describe()}")
        results = Results(seed=seed)
        if getattr(args, "report_har", None):
            from ..har import HarRecorder

            args.har_recorder = HarRecorder()
            target.observers.append(args.har_recorder)
            results.exchanges = []
        engine = Engine(target, config, results, live=live, allow_writes=args.allow_writes,
                        journal=getattr(args, "journal", None))
        return _run_guarded(args, engine, description, secrets, out)


def _run_guarded(args: argparse.Namespace, engine, description: str, secrets, out: "_Printer") -> int:
    """Run the suite through the guarded engine; print and write the reports; the exit status.

    The engine owns live mode, the guard, signals and the accounting (see
    :mod:`twilio_webhook_contracts.contract_tests.engine`); this is only output.
    Around it, a disarmed signal guard: a signal that arrives after the engine's
    last look at its signals (while the summary and reports are written) cuts
    no report short and is not swallowed either (130/143).
    """
    from ..live import interruptible

    with interruptible() as late:
        late.disarm()  # remember only; the engine arms its own guard for the run itself
        status, results = _execute_and_report(args, engine, description, secrets)
    if late.received and results is not None and not results.interrupted:
        name = "SIGTERM" if late.received[0] == signal.SIGTERM else "SIGINT"
        print(f"webhook-contracts: interrupted ({name}) as the run ended; the reports above do not say so",
              file=sys.stderr, flush=True)
        return 143 if name == "SIGTERM" else 130
    return status


def _execute_and_report(args: argparse.Namespace, engine, description: str, secrets):
    from twilio_webhook_contracts.contract_tests.engine import LiveError

    from ..journal import JournalError

    try:
        results = engine.execute()
    except JournalError as exc:
        raise UsageError(f"live run refused: {exc}") from None
    except LiveError as exc:
        raise UsageError(f"live run refused: cannot snapshot the configuration it would change: {exc}") from None
    finally:
        engine.target.close()
    restore_problems = engine.restore_problems
    if engine.unreachable is not None:
        print(f"webhook-contracts: error: {redact_line(engine.unreachable, secrets)}", file=sys.stderr)
        if not restore_problems and not results.interrupted:
            return EXIT_UNREACHABLE, results
    results.target["description"] = description
    from ..report import console_summary

    print(console_summary(results, verbose=args.verbose, secrets=secrets, quiet=args.quiet), flush=True)
    from ..annotations import print_github_annotations

    print_github_annotations(results, secrets)
    try:
        _write_reports(args, results, secrets)
        _record_history(args, results, secrets)
    except UsageError as exc:
        if not restore_problems:
            raise
        print(f"webhook-contracts: error: {redact_line(str(exc), secrets)}", file=sys.stderr)
    if restore_problems:  # last, so that nothing printed after it can push it out of sight
        print_restore_failure(restore_problems, secrets)
        return EXIT_RESTORE_FAILED, results
    if results.interrupted:
        return (143 if results.interrupted == "SIGTERM" else 130), results
    return (EXIT_VIOLATIONS if results.failures or results.aborted else EXIT_OK), results


def print_restore_failure(problems, secrets) -> None:
    """The loud last word of a live run that left the account changed (``run``, ``verify``, ``restore``)."""
    print("webhook-contracts: LIVE RESTORE FAILED -- the account was left changed:", file=sys.stderr)
    for problem in problems:
        print(f"webhook-contracts:   {redact_line(problem, secrets)}", file=sys.stderr)


#: Sane ranges of the numeric options (beyond them a wait or a socket timeout overflows: a usage error, not a crash).
_RANGES = {
    "--max-requests": (1, 10**9),
    "--rate-limit": (1e-4, 1e6),  # requests per second: at least one every 2.8 hours
    "--time-budget": (1e-3, 1e7),  # seconds: about four months
    "--max-retry-wait": (0.0, 86400.0),
    "--request-timeout": (1e-3, 86400.0),
    "--max-response-bytes": (1024, 2**40),
}


def check_range(option: str, value: float | int | None) -> None:
    """*value* of *option* within :data:`_RANGES` (None: not given); otherwise one usage line."""
    if value is None:
        return
    low, high = _RANGES[option]
    if not (math.isfinite(value) and low <= value <= high):
        raise UsageError(f"{option} must be a number from {low:g} to {high:,}, got {value!r}" if isinstance(high, int)
                         else f"{option} must be a number from {low:g} to {high:g}, got {value!r}")


def _transport_options(args: argparse.Namespace) -> dict[str, Any]:
    max_bytes = getattr(args, "max_response_bytes", None)
    return {} if max_bytes is None else {"max_response_bytes": max_bytes}


def _limits(args: argparse.Namespace, live: bool, max_examples: int = 50):
    """The run's ceilings: given ones, else the live defaults, else :meth:`Limits.default_budget`
    (every run has a request and a time ceiling; 0 switches one off)."""
    from ..live import LIVE_DEFAULTS
    from ..target import Limits

    if args.rate_limit is not None and not (math.isfinite(args.rate_limit) and args.rate_limit > 0):
        raise UsageError("--rate-limit must be a positive number")
    check_range("--rate-limit", args.rate_limit)
    for option, value in (("--max-requests", args.max_requests), ("--time-budget", args.time_budget)):
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise UsageError(f"{option} must be a positive number (0: no limit)")
        check_range(option, value or None)  # 0 switches the ceiling off
    if not (math.isfinite(args.max_retry_wait) and args.max_retry_wait >= 0):
        raise UsageError("--max-retry-wait must be a number of seconds, 0 or more")
    check_range("--max-retry-wait", args.max_retry_wait)
    if args.max_server_errors is not None and args.max_server_errors < 0:
        raise UsageError("--max-server-errors must be 0 (never stop) or more")
    requests_ceiling, time_ceiling = Limits.default_budget(max_examples)
    fallback = {"max_requests": requests_ceiling, "time_budget": time_ceiling}
    default = (lambda key: LIVE_DEFAULTS[key]) if live else (lambda key: fallback.get(key))
    max_requests = args.max_requests if args.max_requests is not None else default("max_requests")
    time_budget = args.time_budget if args.time_budget is not None else default("time_budget")
    breaker = args.max_server_errors if args.max_server_errors is not None else default("max_server_errors")
    return Limits(
        max_requests=int(max_requests) if max_requests else None,
        rate_limit=args.rate_limit if args.rate_limit is not None else default("rate_limit"),
        time_budget=float(time_budget) if time_budget else None,
        max_server_errors=int(breaker) if breaker else None,
    )


def _record_history(args: argparse.Namespace, results, secrets) -> None:
    if not args.history:
        return
    from ..history import HistoryError, record_run
    from ..report import to_json

    try:
        record_run(args.history, to_json(results, secrets))
    except HistoryError as exc:
        raise UsageError(str(exc)) from None


def redact_line(text: str, secrets) -> str:
    from ..report import redact

    return " ".join(redact(text, secrets).split())


def _database(args: argparse.Namespace) -> str:
    if args.database is not None:
        check_database(args.database)
        return args.database
    return "none" if args.seed is not None else DEFAULT_DATABASE


class _Printer:
    def __init__(self, args: argparse.Namespace):
        self.quiet = args.quiet

    def progress(self, line: str) -> None:
        if not self.quiet:
            from ..credentials import redact

            print(redact(line), flush=True)


def _names(value: str | None) -> list[str]:
    return [part for part in (value or "").split(",") if part.strip()]


def _validate(args: argparse.Namespace) -> None:
    validate_suite_options(args)
    for option, url in (("--target", args.target), ("--conversations-url", args.conversations_url),
                        ("--chat-url", args.chat_url)):
        if url is not None:
            check_base_url(option, url)
    for option in ("report_json", "junitxml", "report_markdown", "report_html", "report_har"):
        path = getattr(args, option, None)
        if path is not None and (not path or Path(path).is_dir()):
            raise UsageError(f"--{option.replace('_', '-')}: {path!r} is a directory, not a file name")


def validate_suite_options(args: argparse.Namespace) -> None:
    """The checks of the options ``run`` and ``verify`` share (suite, credentials, timeout)."""
    if args.max_examples is not None and args.max_examples < 1:
        raise UsageError("--max-examples must be at least 1")
    if args.seed is not None and args.seed < 0:
        raise UsageError("--seed must be a non-negative integer")
    workers = getattr(args, "workers", 1)
    if workers != "auto" and not 1 <= workers <= 64:
        raise UsageError("--workers must be auto or between 1 and 64")
    if not (math.isfinite(args.request_timeout) and args.request_timeout > 0):
        raise UsageError("--request-timeout must be a positive number of seconds")
    check_range("--request-timeout", args.request_timeout)
    check_range("--max-response-bytes", getattr(args, "max_response_bytes", None))
    if args.service_sid is not None and not _SERVICE_SID.match(args.service_sid):
        raise UsageError(f"--service-sid must be IS followed by 32 hex digits, got {args.service_sid!r}")
    if args.channel_sid is not None and (not args.channel_sid or "/" in args.channel_sid or len(args.channel_sid) > 256):
        raise UsageError("--channel-sid must be a CH sid or a channel unique name (1-256 characters, no '/')")
    if args.account_sid is not None and not _ACCOUNT_SID.match(args.account_sid):
        raise UsageError("--account-sid must be AC followed by 32 hex digits")
    if args.auth_token is not None and not args.auth_token:
        raise UsageError("--auth-token must not be empty")


def check_database(path: str) -> None:
    """``--database``: 'none', ':memory:', or a directory that exists or can be made, and can be written.

    Hypothesis ignores a database it cannot write (failing examples would silently
    not be kept), so an unusable path is a usage error before anything is sent."""
    if path in ("none", ":memory:"):
        return
    directory = Path(path)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / f".webhook-contracts-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"--database {path}: cannot write there ({exc.strerror or type(exc).__name__})") from None


def selected_checks(args: argparse.Namespace) -> dict:
    """The checks --checks/--exclude-checks leave (``run`` and ``verify``); a usage error if none."""
    from twilio_webhook_contracts.contract_tests.checks import select_checks

    try:
        checks = select_checks(_names(args.checks), _names(args.exclude_checks))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not checks:
        raise UsageError("--checks/--exclude-checks leave no check to run")
    return checks


def _workers(value: str) -> "int | str":
    """``--workers``: ``auto`` (the suite chooses from the round trip) or a count (checked with the other options)."""
    if value.strip().lower() == "auto":
        return "auto"
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected auto or a number, got {value!r}") from None


def check_base_url(option: str, url: str) -> None:
    """An absolute http(s) base URL without credentials, query or fragment (message never echoes userinfo)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise UsageError(f"{option}: not a valid URL (expected e.g. http://127.0.0.1:4010)") from None
    if parts.username is not None or parts.password is not None:
        raise UsageError(f"{option}: the URL must not carry credentials; use TWILIO_ACCOUNT_SID and "
                         f"TWILIO_AUTH_TOKEN (or --account-sid and --auth-token)")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{option}: expected an absolute http(s) URL such as https://conversations.twilio.com, got {url!r}")
    if parts.query or parts.fragment:
        raise UsageError(f"{option}: a base URL takes no query or fragment, got {url!r}")


class _target_context:
    """Resolve where to send requests and as whom; start the embedded mock when no target is named."""

    def __init__(self, args: argparse.Namespace, out: _Printer):
        self.args = args
        self.out = out
        self.mock: Any = None

    def __enter__(self):
        from ..target import Credentials

        args = self.args
        conversations = args.conversations_url or args.target
        chat = args.chat_url or args.target
        if not conversations and not chat:
            return self._embedded()
        if not conversations or not chat:
            raise UsageError("name a target: --target URL, or both --conversations-url and --chat-url")
        credentials = _credentials(args)
        description = conversations if conversations == chat else f"{conversations} + {chat}"
        return conversations, chat, credentials, description

    def _embedded(self):
        try:
            from ..mock import SUITE_EMBEDDED_POLICIES, serve_mock
        except ImportError as exc:  # pragma: no cover - the mock ships with the package
            raise UsageError(f"the embedded mock is not available: {exc}") from None
        import secrets as random_secrets

        from ..target import Credentials

        # explicit --account-sid/--auth-token are honoured (the environment is not: no surprises)
        account = self.args.account_sid or "AC" + random_secrets.token_hex(16)
        token = self.args.auth_token or random_secrets.token_hex(16)
        from ..mock.log import RequestLog

        # nobody reads this mock's log: a short tail, so that memory stays flat in long runs
        self.mock = serve_mock(accounts={account: token}, policies=SUITE_EMBEDDED_POLICIES, request_log=RequestLog(maxlen=64))
        mock = self.mock.__enter__()
        return mock.url, mock.url, Credentials(account, token), f"embedded mock at {mock.url}"

    def __exit__(self, *exc: object) -> None:
        if self.mock is not None:
            self.mock.__exit__(None, None, None)


def _credentials(args: argparse.Namespace):
    from ..target import Credentials

    account = args.account_sid or os.environ.get("TWILIO_ACCOUNT_SID", "")
    if not account:
        raise UsageError("no credentials: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and "
                         "TWILIO_API_SECRET), or pass --account-sid and --auth-token")
    if not _ACCOUNT_SID.match(account):
        raise UsageError("TWILIO_ACCOUNT_SID must be AC followed by 32 hex digits")
    if args.auth_token:
        return Credentials(account, args.auth_token)
    key, secret = os.environ.get("TWILIO_API_KEY", ""), os.environ.get("TWILIO_API_SECRET", "")
    if key or secret:
        if not (key and secret):
            raise UsageError("TWILIO_API_KEY and TWILIO_API_SECRET must be set together")
        if not _API_KEY.match(key):
            raise UsageError("TWILIO_API_KEY must be SK followed by 32 hex digits")
        return Credentials(account, secret, key)
    token = os.environ.get("TWILIO_AUTH_TOKEN", "")
    if not token:
        raise UsageError("no auth token: set TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and TWILIO_API_SECRET), or pass --auth-token")
    return Credentials(account, token)


def _write_reports(args: argparse.Namespace, results, secrets) -> None:
    from ..report import dumps, markdown_summary, to_json, to_junit_xml

    write_reports(((args.report_json, lambda: dumps(to_json(results, secrets))),
                   (args.junitxml, lambda: to_junit_xml(results, secrets)),
                   (args.report_markdown, lambda: markdown_summary(results, secrets)),
                   (getattr(args, "report_html", None), lambda: _html_report(args, results, secrets)),
                   (getattr(args, "report_har", None), lambda: _har_report(args, results, secrets))), secrets)


def _html_report(args: argparse.Namespace, results, secrets) -> str:
    """The HTML report; with ``--history``, the timeline of the runs recorded before this one, then this one."""
    from ..report_html import run_html

    histories = None
    if args.history:
        from ..history import HistoryError, check_histories

        try:
            histories = check_histories(args.history, last=19) if Path(args.history).exists() else []
        except HistoryError as exc:
            raise UsageError(str(exc)) from None
    return run_html(results, secrets, histories=histories, last=20)


def _har_report(args: argparse.Namespace, results, secrets) -> str:
    from ..har import to_har

    return to_har(args.har_recorder, results, secrets)


def write_reports(renders, secrets) -> None:
    """Write each ``(path, render)`` whose path was given; a file that cannot be written is a usage error."""
    from ..report import write_report

    for path, render in renders:
        if not path:
            continue
        try:
            write_report(path, render(), secrets)
        except OSError as exc:
            raise UsageError(f"cannot write report {path}: {exc.strerror or exc}") from None
