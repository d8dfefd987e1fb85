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
import base64
import json
import math
import os
import random
import re
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

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
                       help="stop after N requests (live default %d)" % 1500)
    group.add_argument("--rate-limit", type=float, default=None, metavar="R",
                       help="at most R requests per second (live default 5)")
    group.add_argument("--time-budget", type=float, default=None, metavar="S",
                       help="stop starting new requests after S seconds (live default 900)")
    group.add_argument("--max-retry-wait", type=float, default=30.0, metavar="S",
                       help="wait at most S seconds before retrying a 429/503, whatever its Retry-After asks (default 30)")
    group.add_argument("--max-server-errors", type=int, default=None, metavar="N",
                       help="circuit breaker: stop the run after N answers in a row with a 5xx status "
                            "(live default %d; 0 never stops; off by default against other targets)" % 10)
    group.add_argument("--profile", choices=("dev", "ci", "nightly"), default=None,
                       help="examples per operation: dev 10, ci 50, nightly 500 (--max-examples overrides)")
    group.add_argument("--history", metavar="PATH", help="append this run's results to a SQLite history file "
                                                          "(read it with `webhook-contracts history`)")


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("target")
    group.add_argument("--target", metavar="URL", help="one base URL serving every endpoint (e.g. a mock)")
    group.add_argument("--conversations-url", metavar="URL", help="base URL of the Conversations API (live: https://conversations.twilio.com)")
    group.add_argument("--chat-url", metavar="URL", help="base URL of the Chat API (live: https://chat.twilio.com)")
    group.add_argument("--account-sid", metavar="AC…", help="Account SID (default: $TWILIO_ACCOUNT_SID)")
    group.add_argument("--auth-token", metavar="TOKEN", help="auth token (default: $TWILIO_AUTH_TOKEN; prefer the variable: options show up in process lists)")
    group.add_argument("--request-timeout", type=float, default=10.0, metavar="S", help="seconds to wait for each answer (default 10)")


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
    group.add_argument("--workers", type=int, default=1, metavar="N",
                       help="send from N threads at once (default 1): for a remote target, where requests wait on the "
                            "network; each worker's state machine keeps to its own services and channels")
    group.add_argument("--database", metavar="PATH", default=None,
                       help=f"Hypothesis example database; failing examples are retried first next time "
                            f"(default {DEFAULT_DATABASE}, or none with --seed so that a replay is exact; "
                            f"'none' to disable)")
    out = parser.add_argument_group("output")
    out.add_argument("--report-json", metavar="PATH", help="write the JSON report here")
    out.add_argument("--junitxml", metavar="PATH", help="write a JUnit XML report here")
    out.add_argument("--report-markdown", metavar="PATH", help="write a markdown summary here (e.g. $GITHUB_STEP_SUMMARY)")
    verbosity = out.add_mutually_exclusive_group()
    verbosity.add_argument("-q", "--quiet", action="store_true", help="print only failures and the final line")
    verbosity.add_argument("-v", "--verbose", action="store_true", help="print every step of every failure and the skipped checks")


def run(args: argparse.Namespace) -> int:
    from twilio_webhook_contracts.contract_tests.checks import select_checks
    from twilio_webhook_contracts.contract_tests.results import Results
    from twilio_webhook_contracts.contract_tests.runner import SuiteConfig

    from ..profiles import PROFILES
    from ..target import Target, TargetError

    _validate(args)
    try:
        checks = select_checks(_names(args.checks), _names(args.exclude_checks))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not checks:
        raise UsageError("--checks/--exclude-checks leave no check to run")
    if args.no_stateful and all(check.family == "state" for check in checks.values()):
        raise UsageError("--no-stateful leaves no check to run: only state checks are selected")

    out = _Printer(args)
    with _target_context(args, out) as (conversations_url, chat_url, credentials, description):
        from ..live import LIVE_DEFAULTS, is_live_url

        live = args.live or is_live_url(conversations_url) or is_live_url(chat_url)
        limits = _limits(args, live)
        try:
            target = Target(conversations_url, chat_url, credentials=credentials, timeout=args.request_timeout,
                            max_retry_wait=args.max_retry_wait, limits=limits)
        except TargetError as exc:
            raise UsageError(str(exc)) from None
        examples = args.max_examples or (PROFILES[args.profile] if args.profile else
                                         int(LIVE_DEFAULTS["max_examples"]) if live else PROFILES["ci"])
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
            workers=args.workers,
            shrink=not args.no_shrink and not live,  # live: every shrink step is another request to production
            database=_database(args),
            progress=out.progress,
            allow_writes=not live or args.allow_writes,
            generate_resources=not live,  # live: only --service-sid and --channel-sid are ever touched
        )
        secrets = secret_forms(credentials)
        mode = (" (live mode" + (", writes allowed)" if args.allow_writes else ", read-only)")) if live else ""
        out.progress(f"target: {description}{mode}; seed {seed} (replay with --seed {seed})")
        results = Results(seed=seed)
        return _run_guarded(args, target, config, results, checks, live, description, secrets, out)


def _run_guarded(args: argparse.Namespace, target, config, results, checks, live: bool, description: str,
                 secrets, out: "_Printer") -> int:
    """Run the suite with live mode's guard around it; write the reports; the exit status.

    Signals: the first SIGINT/SIGTERM interrupts the suite; from then on -- and
    from the moment the suite is over -- signals are only remembered, so the
    restore and the reports are never cut short. Wherever the one interruption
    lands, it lands inside the ``try`` below, and the restore after it runs.
    """
    from twilio_webhook_contracts.contract_tests.checks import CHECKS
    from twilio_webhook_contracts.contract_tests.runner import run_suite

    from ..live import interruptible, signal_name
    from ..target import TargetUnreachable

    guard = None
    unreachable = False
    escaped: BaseException | None = None
    restore_problems: list[str] = []
    with interruptible() as signals:
        target.hold = signals.held  # a signal never lands between counting a request and writing it
        try:
            try:
                if live:
                    config.operations = _live_operations(args, config, results)
                    guard = _start_guard(target, args, config, out, secrets)
                    unreachable = guard is None
                if not unreachable:
                    run_suite(target, config, results)
            finally:
                signals.disarm()
        except TargetUnreachable as exc:
            unreachable = True
            print(f"webhook-contracts: error: {redact_line(str(exc), secrets)}", file=sys.stderr)
        except BaseException as exc:  # noqa: BLE001 - re-raised after the restore (interruptions: reported)
            escaped = exc
        if results.finished is None:  # interrupted before the suite's own accounting (e.g. during the snapshot)
            results.finished = time.time()
            results.requests_sent, results.retries = target.limits.sent, target.retries
        if guard is not None:
            out.progress("live restore: deleting the webhooks this run created, writing back what it changed ...")
            try:
                restore_problems = guard.restore()
            except Exception as exc:  # noqa: BLE001 - a bug here must still end in the loud message and status 5
                restore_problems = [f"the restore stopped with an unexpected error ({type(exc).__name__}: {exc}); "
                                    f"before the run the account was: {guard.describe_snapshot()}"]
            results.target["restore_requests"] = guard.restore_requests
            out.progress(f"live restore: {'FAILED' if restore_problems else 'done, verified'} "
                         f"({guard.restore_requests} requests)")
        target.close()
        interruption = _interruption(escaped, signals.first)
        if interruption:  # landed outside the suite's own handling
            if not results.interrupted:
                results.interrupted = interruption
                results.aborted = f"interrupted ({results.interrupted})"
        elif escaped is not None:
            raise escaped
        if signals.first and not results.interrupted:  # arrived after the suite was over: honoured now
            results.interrupted = signals.first
            late = f"interrupted ({signals.first}) while the run was finishing"
            results.aborted = f"{results.aborted}; then {late}" if results.aborted else late
            results.note(f"{signals.first} received while the run was finishing"
                         + (" (the live restore was completed first)" if guard is not None else ""))
        held = [signal_name(signum) for signum in signals.received[1:]]
        if held:
            results.note(f"further signals ({', '.join(held)}) arrived while the run was cleaning up; "
                         "they were held until the restore and the reports were done")
        if unreachable and not restore_problems and not results.interrupted:
            return EXIT_UNREACHABLE
        results.target["description"] = description
        results.target["live"] = live
        if live:
            results.target["writes_allowed"] = bool(args.allow_writes)
        for name in CHECKS:
            if name not in checks:
                results.skip(name, "not selected (--checks/--exclude-checks)")
            elif args.no_stateful and CHECKS[name].family == "state":
                results.skip(name, "the stateful suite was not run (--no-stateful)")
            elif live and not args.allow_writes and not results.checks_run[name]:
                results.skip(name, "live run without --allow-writes: only read-only and rejected-read checks run")
            elif results.aborted and not results.checks_run[name]:
                results.skip(name, "not reached: the run ended early")
        for problem in restore_problems:
            results.note(f"RESTORE FAILED: {problem}")
        from ..report import console_summary

        print(console_summary(results, verbose=args.verbose, secrets=secrets), flush=True)
        try:
            _write_reports(args, results, secrets)
            _record_history(args, results, secrets)
        except UsageError as exc:
            if not restore_problems:
                raise
            print(f"webhook-contracts: error: {redact_line(str(exc), secrets)}", file=sys.stderr)
        if restore_problems:  # last, so that nothing printed after it can push it out of sight
            print("webhook-contracts: LIVE RESTORE FAILED -- the account was left changed:", file=sys.stderr)
            for problem in restore_problems:
                print(f"webhook-contracts:   {redact_line(problem, secrets)}", file=sys.stderr)
            return EXIT_RESTORE_FAILED
        if results.interrupted:
            return 143 if results.interrupted == "SIGTERM" else 130
    return EXIT_VIOLATIONS if results.failures or results.aborted else EXIT_OK


def _interruption(escaped: BaseException | None, first_signal: str | None) -> str | None:
    """``"SIGINT"``/``"SIGTERM"`` when *escaped* is, or was caused by, the run's interruption.

    A signal can land anywhere -- also deep inside Hypothesis, which may then fail
    on its own internal assertions while handling it. What escapes is then a
    different exception with the interruption in its chain (or, when the chain
    was lost, after a signal arrived): it is reported as the interruption it is,
    not as an internal error.
    """
    from ..live import Terminated

    seen = set()
    exc = escaped
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, Terminated):
            return "SIGTERM"
        if isinstance(exc, KeyboardInterrupt):
            return "SIGINT"
        exc = exc.__cause__ or exc.__context__
    return first_signal if escaped is not None else None


def _limits(args: argparse.Namespace, live: bool):
    from ..live import LIVE_DEFAULTS
    from ..target import Limits

    for option, value in (("--max-requests", args.max_requests), ("--rate-limit", args.rate_limit),
                          ("--time-budget", args.time_budget)):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise UsageError(f"{option} must be a positive number")
    if not (math.isfinite(args.max_retry_wait) and args.max_retry_wait >= 0):
        raise UsageError("--max-retry-wait must be a number of seconds, 0 or more")
    if args.max_server_errors is not None and args.max_server_errors < 0:
        raise UsageError("--max-server-errors must be 0 (never stop) or more")
    default = (lambda key: LIVE_DEFAULTS[key]) if live else (lambda key: None)
    max_requests = args.max_requests if args.max_requests is not None else default("max_requests")
    breaker = args.max_server_errors if args.max_server_errors is not None else default("max_server_errors")
    return Limits(
        max_requests=int(max_requests) if max_requests is not None else None,
        rate_limit=args.rate_limit if args.rate_limit is not None else default("rate_limit"),
        time_budget=args.time_budget if args.time_budget is not None else default("time_budget"),
        max_server_errors=int(breaker) if breaker else None,
    )


def _live_operations(args: argparse.Namespace, config, results) -> list[str]:
    """Live runs touch only resources the user named: no service or channel is ever generated."""
    from ..spec import default_spec

    operations = []
    for op in default_spec():
        names = {p.name for p in op.path_parameters}
        reason = None
        if names & {"ChatServiceSid", "ServiceSid"} and not args.service_sid:
            reason = "live runs use a real service (--service-sid)"
        elif "ChannelSid" in names and not args.channel_sid:
            reason = "live runs use a real channel (--channel-sid)"
        if reason:
            config.progress(f"{op.operation_id:36} skipped: {reason}")
            results.note(f"{op.operation_id}: skipped: {reason}")
            continue
        operations.append(op.operation_id)
    return operations


def _start_guard(target, args: argparse.Namespace, config, out: "_Printer", secrets):
    """Snapshot what the run may change, before its first write; None when the target cannot be read."""
    from ..live import Guard, LiveError
    from ..target import TargetUnreachable

    services = [args.service_sid] if args.service_sid else []
    channels = [(args.service_sid, args.channel_sid)] if args.service_sid and args.channel_sid else []
    guard = Guard(target, target.spec, services=services, channels=channels, log=out.progress)
    try:
        guard.take_snapshot()
    except TargetUnreachable as exc:
        print(f"webhook-contracts: error: {redact_line(str(exc), secrets)}", file=sys.stderr)
        return None
    except LiveError as exc:
        raise UsageError(f"live run refused: cannot snapshot the configuration it would change: {exc}") from None
    target.observers.append(guard)
    frozen = guard.frozen_fields()
    pins: dict[str, dict[str, Any]] = {op: {name: None for name in fields} for op, fields in frozen.items()}
    # A studio webhook needs a real Studio Flow; a live run creates only webhook-type ones.
    pins.setdefault("CreateChannelWebhook", {})["Type"] = "webhook"
    config.form_pins = pins
    if args.allow_writes:
        for op, fields in frozen.items():
            out.progress(f"{op:36} never writes {', '.join(fields)}: unset now, and a form cannot unset it again")
    return guard


def _record_history(args: argparse.Namespace, results, secrets) -> None:
    if not args.history:
        return
    from ..history import HistoryError, record_run
    from ..report import to_json

    try:
        record_run(args.history, to_json(results, secrets))
    except HistoryError as exc:
        raise UsageError(str(exc)) from None


def secret_forms(credentials) -> tuple[str, ...]:
    """The secret as it could appear anywhere: itself, URL-encoded, JSON-escaped, and inside a Basic header."""
    forms: list[str] = []
    for secret in credentials.secrets():
        forms += [secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]]
        forms.append(base64.b64encode(f"{credentials.username}:{secret}".encode()).decode())
    return tuple(dict.fromkeys(form for form in forms if form))


def redact_line(text: str, secrets) -> str:
    from ..report import redact

    return " ".join(redact(text, secrets).split())


def _database(args: argparse.Namespace) -> str:
    if args.database is not None:
        return args.database
    return "none" if args.seed is not None else DEFAULT_DATABASE


class _Printer:
    def __init__(self, args: argparse.Namespace):
        self.quiet = args.quiet

    def progress(self, line: str) -> None:
        if not self.quiet:
            print(line, flush=True)


def _names(value: str | None) -> list[str]:
    return [part for part in (value or "").split(",") if part.strip()]


def _validate(args: argparse.Namespace) -> None:
    validate_suite_options(args)
    for option, url in (("--target", args.target), ("--conversations-url", args.conversations_url),
                        ("--chat-url", args.chat_url)):
        if url is not None:
            check_base_url(option, url)
    for option in ("report_json", "junitxml", "report_markdown"):
        path = getattr(args, option)
        if path is not None and (not path or Path(path).is_dir()):
            raise UsageError(f"--{option.replace('_', '-')}: {path!r} is a directory, not a file name")


def validate_suite_options(args: argparse.Namespace) -> None:
    """The checks of the options ``run`` and ``verify`` share (suite, credentials, timeout)."""
    if args.max_examples is not None and args.max_examples < 1:
        raise UsageError("--max-examples must be at least 1")
    if args.seed is not None and args.seed < 0:
        raise UsageError("--seed must be a non-negative integer")
    if not 1 <= getattr(args, "workers", 1) <= 64:
        raise UsageError("--workers must be between 1 and 64")
    if not (math.isfinite(args.request_timeout) and args.request_timeout > 0):
        raise UsageError("--request-timeout must be a positive number of seconds")
    if args.service_sid is not None and not _SERVICE_SID.match(args.service_sid):
        raise UsageError(f"--service-sid must be IS followed by 32 hex digits, got {args.service_sid!r}")
    if args.channel_sid is not None and (not args.channel_sid or "/" in args.channel_sid or len(args.channel_sid) > 256):
        raise UsageError("--channel-sid must be a CH sid or a channel unique name (1-256 characters, no '/')")
    if args.account_sid is not None and not _ACCOUNT_SID.match(args.account_sid):
        raise UsageError("--account-sid must be AC followed by 32 hex digits")
    if args.auth_token is not None and not args.auth_token:
        raise UsageError("--auth-token must not be empty")


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
                   (args.report_markdown, lambda: markdown_summary(results, secrets))), secrets)


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
