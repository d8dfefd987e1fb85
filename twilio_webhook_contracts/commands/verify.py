"""``webhook-contracts verify``: the contract suite against several targets, as one matrix.

Mock-server verification: run the same suite (same seed, same checks) against
each target -- Prism fed with Twilio's spec, Prism fed with ours, our mock, a
colleague's proxy -- and print checks x targets, so that every place where a
mock departs from Twilio's contract is one cell.

Targets are given as ``[LABEL=]URL`` (one base URL for both APIs),
``[LABEL=]CONVERSATIONS_URL,CHAT_URL`` (one server per API, as Prism needs), or
``mock`` (the embedded reference mock on a free port).

Exit status: 0 every check passed on every target; 1 a check failed (a target
found to keep no state counts: declare it with ``--stateless``); 2 usage error;
3 a target was unreachable -- the others are still verified and shown, the
unreachable one's column reads "unreachable", and 3 wins over 1 because the
matrix is incomplete; 4 the run against a target crashed (a bug of this tool:
its column reads "error", the others are still verified).
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from typing import Any

from ..cli import UsageError

_LABEL = re.compile(r"([A-Za-z0-9_.\-]{1,40})=(.+)\Z")
EMBEDDED = "mock"


def register(subparsers) -> None:
    from .run import add_suite_arguments

    parser = subparsers.add_parser(
        "verify",
        help="run the suite against several targets (mocks, Prism, proxies) and print a conformance matrix",
        description="Run the contract suite against each target with the same seed and print one matrix, "
                    "checks x targets. TARGET is [LABEL=]URL, [LABEL=]CONVERSATIONS_URL,CHAT_URL, or 'mock' "
                    "(the embedded reference mock). Exit status: 0 all pass, 1 any failure (including a "
                    "target that keeps no state, unless --stateless), 2 usage, 3 a target was unreachable "
                    "(shown as such; the others are still verified), 4 a run crashed (a bug of this tool).",
    )
    parser.add_argument("targets", nargs="+", metavar="TARGET", help="[LABEL=]URL[,CHAT_URL] or 'mock'")
    group = parser.add_argument_group("credentials (for URL targets; the embedded mock makes its own)")
    group.add_argument("--account-sid", metavar="AC…", help="Account SID (default: $TWILIO_ACCOUNT_SID)")
    group.add_argument("--auth-token", metavar="TOKEN", help="auth token (default: $TWILIO_AUTH_TOKEN)")
    group.add_argument("--request-timeout", type=float, default=10.0, metavar="S",
                       help="seconds to wait for each answer (default 10)")
    add_suite_arguments(parser)
    from .fingerprint import add_recording_arguments

    add_recording_arguments(parser)
    # one matrix compares targets on the same generated requests: no example database unless asked
    parser.set_defaults(handler=run, database=None)


@dataclass
class _TargetSpec:
    label: str
    conversations_url: str | None  # None: the embedded mock
    chat_url: str | None

    @property
    def embedded(self) -> bool:
        return self.conversations_url is None


def parse_target(text: str) -> _TargetSpec:
    """``[LABEL=]URL[,CHAT_URL]`` or ``mock``; raises :class:`UsageError` for anything else."""
    label = None
    match = _LABEL.match(text)
    if match and "://" not in match.group(1):
        label, text = match.group(1), match.group(2)
    if text == EMBEDDED:
        return _TargetSpec(label or EMBEDDED, None, None)
    urls = text.split(",")
    if len(urls) > 2 or not all(urls):
        raise UsageError(f"target {text!r}: expected [LABEL=]URL, [LABEL=]CONVERSATIONS_URL,CHAT_URL or 'mock'")
    for url in urls:
        _check_url(url)
    conversations, chat = urls[0].rstrip("/"), urls[-1].rstrip("/")
    if label is None:
        label = _host(conversations) if conversations == chat else f"{_host(conversations)}+{_host(chat)}"
    return _TargetSpec(label, conversations, chat)


def _check_url(url: str) -> None:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"target {url!r}: expected an absolute http(s) URL such as http://127.0.0.1:4010, or 'mock'")
    if parts.username is not None or parts.password is not None:
        raise UsageError("a target URL must not carry credentials; use TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN "
                         "(or --account-sid and --auth-token)")
    if parts.query or parts.fragment:
        raise UsageError(f"target {url!r}: a base URL takes no query or fragment")


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc or url


def _unique(specs: list[_TargetSpec]) -> None:
    seen: dict[str, int] = {}
    for spec in specs:
        count = seen.get(spec.label, 0) + 1
        seen[spec.label] = count
        if count > 1:
            spec.label = f"{spec.label}#{count}"


def run(args: argparse.Namespace) -> int:
    import random

    from twilio_webhook_contracts.contract_tests.checks import select_checks
    from twilio_webhook_contracts.contract_tests.runner import SuiteConfig, run_suite

    from ..matrix import Matrix, TargetRun
    from ..target import Target, TargetError, TargetUnreachable
    from .run import validate_suite_options

    validate_suite_options(args)
    specs = [parse_target(text) for text in args.targets]
    _unique(specs)
    try:
        checks = select_checks(_names(args.checks), _names(args.exclude_checks))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not checks:
        raise UsageError("--checks/--exclude-checks leave no check to run")
    credentials = None
    if any(not spec.embedded for spec in specs):
        from .run import _credentials

        credentials = _credentials(args)
        for spec in specs:  # every URL is checked before anything is sent anywhere
            if spec.embedded:
                continue
            try:
                Target(spec.conversations_url, spec.chat_url, credentials=credentials).close()  # type: ignore[arg-type]
            except TargetError as exc:
                raise UsageError(f"target {spec.label}: {exc}") from None
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    secrets: list[str] = list(_secret_forms(credentials)) if credentials is not None else []
    quiet = args.quiet

    def progress(line: str) -> None:
        if not quiet:
            print(line, flush=True)

    from .fingerprint import load_recording, recording_rows, report_recording

    recording = load_recording(args)
    recorded: dict[str, Any] = {}
    runs: list[TargetRun] = []
    for spec in specs:
        with _served(spec, args) as (conversations_url, chat_url, target_credentials):
            if spec.embedded:
                secrets += _secret_forms(target_credentials)
            progress(f"== {spec.label}: {conversations_url}" + ("" if chat_url == conversations_url else f" + {chat_url}"))
            config = SuiteConfig(
                max_examples=args.max_examples or 50, seed=seed, checks=checks,
                service_sid=args.service_sid, channel_sid=args.channel_sid,
                stateful=not args.no_stateful, stateless=args.stateless, shrink=not args.no_shrink,
                database=args.database or "none", progress=progress, workers=args.workers,
            )
            target = Target(conversations_url, chat_url, credentials=target_credentials, timeout=args.request_timeout)
            try:
                with target:
                    results = run_suite(target, config)
            except TargetUnreachable as exc:
                message = _one_line(str(exc), secrets)
                progress(f"{spec.label}: unreachable: {message}")
                runs.append(TargetRun(spec.label, conversations_url, chat_url, error=message))
                continue
            except Exception as exc:  # noqa: BLE001 - one target's crash must not hide the others' results
                message = _one_line(f"internal error: {type(exc).__name__}: {exc}", secrets)
                progress(f"{spec.label}: {message}")
                runs.append(TargetRun(spec.label, conversations_url, chat_url, error=message, crashed=True))
                continue
            results.target["label"] = spec.label
            for name in _unselected(checks):
                results.skip(name, "not selected (--checks/--exclude-checks)")
            if args.no_stateful:
                for name, check in checks.items():
                    if check.family == "state":
                        results.skip(name, "the stateful suite was not run (--no-stateful)")
            runs.append(TargetRun(spec.label, conversations_url, chat_url, results))
            recorded[spec.label] = recording_rows(recording, conversations_url, chat_url, target_credentials,
                                                  secrets, args.request_timeout)
    matrix = Matrix(runs, seed=seed)
    _write_reports(args, matrix, secrets)
    from ..report import redact

    print(redact(matrix.text(failures=not quiet), secrets), end="", flush=True)
    status = report_recording(args, recorded, matrix.exit_status(), secrets)
    print(f"seed {seed} (replay with --seed {seed}); exit status {status}", flush=True)
    return status


def _one_line(text: str, secrets: list[str]) -> str:
    from ..report import redact

    text = " ".join(redact(text, secrets).split())
    return text if len(text) <= 300 else text[:297] + "..."


def _names(value: str | None) -> list[str]:
    return [part for part in (value or "").split(",") if part.strip()]


def _unselected(checks: dict[str, Any]) -> list[str]:
    from twilio_webhook_contracts.contract_tests.checks import CHECKS

    return [name for name in CHECKS if name not in checks]


def _secret_forms(credentials: Any) -> list[str]:
    try:
        from .run import secret_forms
    except ImportError:  # pragma: no cover - older run module
        return list(credentials.secrets())
    return list(secret_forms(credentials))


class _served:
    """The base URLs and credentials of one target; starts (and stops) the embedded mock for 'mock'."""

    def __init__(self, spec: _TargetSpec, args: argparse.Namespace):
        self.spec = spec
        self.args = args
        self.mock: Any = None

    def __enter__(self):
        from ..target import Credentials

        if not self.spec.embedded:
            from .run import _credentials

            return self.spec.conversations_url, self.spec.chat_url, _credentials(self.args)
        import secrets as random_secrets

        from ..mock import SUITE_EMBEDDED_POLICIES, serve_mock

        account = "AC" + random_secrets.token_hex(16)
        token = random_secrets.token_hex(16)
        self.mock = serve_mock(accounts={account: token}, policies=SUITE_EMBEDDED_POLICIES)
        mock = self.mock.__enter__()
        return mock.url, mock.url, Credentials(account, token)

    def __exit__(self, *exc: object) -> None:
        if self.mock is not None:
            self.mock.__exit__(None, None, None)


def _write_reports(args: argparse.Namespace, matrix: Any, secrets: list[str]) -> None:
    from .run import write_reports

    write_reports(((args.report_json, matrix.json_text), (args.report_markdown, matrix.markdown),
                   (args.junitxml, matrix.junit_xml)), secrets)
