"""``webhook-contracts run``: the contract suite against a target (default: the embedded mock).

Exit status: 0 no violation; 1 violations found; 2 usage or configuration error;
3 the target could not be reached at all.
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import os
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

from ..cli import EXIT_OK, EXIT_UNREACHABLE, EXIT_USAGE, EXIT_VIOLATIONS, UsageError

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
    parser.set_defaults(handler=run)


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
    from contract_tests.checks import CHECKS, select_checks
    from contract_tests.runner import SuiteConfig, run_suite

    from ..target import Target, TargetError, TargetUnreachable

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
        try:
            target = Target(conversations_url, chat_url, credentials=credentials, timeout=args.request_timeout)
        except TargetError as exc:
            raise UsageError(str(exc)) from None
        config = SuiteConfig(
            max_examples=args.max_examples or 50,
            seed=args.seed,
            checks=checks,
            service_sid=args.service_sid,
            channel_sid=args.channel_sid,
            stateful=not args.no_stateful,
            stateless=args.stateless,
            shrink=not args.no_shrink,
            database=_database(args),
            progress=out.progress,
        )
        secrets = secret_forms(credentials)
        out.progress(f"target: {description}")
        try:
            with target:
                results = run_suite(target, config)
        except TargetUnreachable as exc:
            print(f"webhook-contracts: error: {redact_line(str(exc), secrets)}", file=sys.stderr)
            return EXIT_UNREACHABLE
        results.target["description"] = description
        for name in CHECKS:
            if name not in checks:
                results.skip(name, "not selected (--checks/--exclude-checks)")
            elif args.no_stateful and CHECKS[name].family == "state":
                results.skip(name, "the stateful suite was not run (--no-stateful)")
            elif results.aborted and not results.checks_run[name]:
                results.skip(name, "not reached: the run ended early")
        from ..report import console_summary

        print(console_summary(results, verbose=args.verbose, secrets=secrets), flush=True)
        _write_reports(args, results, secrets)
    return EXIT_VIOLATIONS if results.failures or results.aborted else EXIT_OK


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
    if args.max_examples is not None and args.max_examples < 1:
        raise UsageError("--max-examples must be at least 1")
    if args.seed is not None and args.seed < 0:
        raise UsageError("--seed must be a non-negative integer")
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
    for option, url in (("--target", args.target), ("--conversations-url", args.conversations_url),
                        ("--chat-url", args.chat_url)):
        if url is not None:
            check_base_url(option, url)
    for option in ("report_json", "junitxml", "report_markdown"):
        path = getattr(args, option)
        if path is not None and (not path or Path(path).is_dir()):
            raise UsageError(f"--{option.replace('_', '-')}: {path!r} is a directory, not a file name")


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
            from ..mock import serve_mock
        except ImportError as exc:  # pragma: no cover - the mock ships with the package
            raise UsageError(f"the embedded mock is not available: {exc}") from None
        import secrets as random_secrets

        from ..target import Credentials

        # explicit --account-sid/--auth-token are honoured (the environment is not: no surprises)
        account = self.args.account_sid or "AC" + random_secrets.token_hex(16)
        token = self.args.auth_token or random_secrets.token_hex(16)
        self.mock = serve_mock(accounts={account: token})
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
    from ..report import dumps, markdown_summary, to_json, to_junit_xml, write_report

    for path, render in ((args.report_json, lambda: dumps(to_json(results, secrets))),
                         (args.junitxml, lambda: to_junit_xml(results, secrets)),
                         (args.report_markdown, lambda: markdown_summary(results, secrets))):
        if not path:
            continue
        try:
            write_report(path, render(), secrets)
        except OSError as exc:
            raise UsageError(f"cannot write report {path}: {exc.strerror or exc}") from None
