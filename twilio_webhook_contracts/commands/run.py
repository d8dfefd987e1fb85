"""``webhook-contracts run``: the contract suite against a target (default: the embedded mock).

Exit status: 0 no violation; 1 violations found; 2 usage or configuration error;
3 the target could not be reached at all.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from typing import Any

from ..cli import EXIT_OK, EXIT_UNREACHABLE, EXIT_USAGE, EXIT_VIOLATIONS, UsageError

_SERVICE_SID = re.compile(r"IS[0-9a-fA-F]{32}\Z")
_ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}\Z")
_API_KEY = re.compile(r"SK[0-9a-fA-F]{32}\Z")


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
    group.add_argument("--no-shrink", action="store_true", help="report failures as found, without minimising them")
    group.add_argument("--database", metavar="PATH", default=".hypothesis/webhook-contracts",
                       help="Hypothesis example database; failing examples are retried first next time ('none' to disable)")
    out = parser.add_argument_group("output")
    out.add_argument("--report-json", metavar="PATH", help="write the JSON report here")
    out.add_argument("--junitxml", metavar="PATH", help="write a JUnit XML report here")
    out.add_argument("--report-markdown", metavar="PATH", help="write a markdown summary here (e.g. $GITHUB_STEP_SUMMARY)")
    verbosity = out.add_mutually_exclusive_group()
    verbosity.add_argument("-q", "--quiet", action="store_true", help="print only failures and the final line")
    verbosity.add_argument("-v", "--verbose", action="store_true", help="print every step of every failure and the skipped checks")


def run(args: argparse.Namespace) -> int:
    from contract_tests.checks import select_checks
    from contract_tests.runner import SuiteConfig, run_suite

    from ..target import Credentials, Target, TargetError, TargetUnreachable

    _validate(args)
    try:
        checks = select_checks(_names(args.checks), _names(args.exclude_checks))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not checks:
        raise UsageError("--checks/--exclude-checks leave no check to run")

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
            shrink=not args.no_shrink,
            database=args.database,
            progress=out.progress,
        )
        out.progress(f"target: {description}")
        try:
            with target:
                results = run_suite(target, config)
        except TargetUnreachable as exc:
            print(f"webhook-contracts: error: {exc}", file=sys.stderr)
            return EXIT_UNREACHABLE
        results.target["description"] = description
        secrets = credentials.secrets()
        _write_reports(args, results, secrets)
        from ..report import console_summary, redact

        print(redact(console_summary(results, verbose=args.verbose), secrets))
    return EXIT_VIOLATIONS if results.failures or results.aborted else EXIT_OK


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
    if not args.request_timeout > 0:
        raise UsageError("--request-timeout must be a positive number of seconds")
    if args.service_sid and not _SERVICE_SID.match(args.service_sid):
        raise UsageError(f"--service-sid must be IS followed by 32 hex digits, got {args.service_sid!r}")
    if args.channel_sid is not None and (not args.channel_sid or "/" in args.channel_sid or len(args.channel_sid) > 256):
        raise UsageError("--channel-sid must be a CH sid or a channel unique name (1-256 characters, no '/')")
    if args.account_sid and not _ACCOUNT_SID.match(args.account_sid):
        raise UsageError("--account-sid must be AC followed by 32 hex digits")
    if args.target and (args.conversations_url or args.chat_url):
        pass  # the per-API URLs override --target for their API


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

        account = "AC" + random_secrets.token_hex(16)
        token = random_secrets.token_hex(16)
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

    try:
        if args.report_json:
            write_report(args.report_json, dumps(to_json(results)), secrets)
        if args.junitxml:
            write_report(args.junitxml, to_junit_xml(results), secrets)
        if args.report_markdown:
            write_report(args.report_markdown, markdown_summary(results), secrets)
    except OSError as exc:
        raise UsageError(f"cannot write report: {exc.filename}: {exc.strerror}") from None
