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
its column reads "error", the others are still verified); 5 a live target could not be
restored (said last, on stderr; wins over every other status); 130/143 interrupted.

Every target goes through the same guarded engine as ``run``
(:mod:`twilio_webhook_contracts.contract_tests.engine`): a twilio.com target is
verified in live mode -- read-only unless ``--allow-writes``, snapshot, journal
and restore, budgets -- and a target's counts equal ``run``'s for it.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from typing import Any

from ..cli import UsageError

_LABEL = re.compile(r"([A-Za-z0-9_.\-]{1,40})=(.+)\Z")
EMBEDDED = "mock"


def add_live_arguments(parser: argparse.ArgumentParser) -> None:
    """Live mode for verify: the same engine and guard as ``run`` (automatic for twilio.com hosts)."""
    from .run import add_journal_argument

    group = parser.add_argument_group(
        "live targets", "A twilio.com target (or any, with --live) is verified in live mode, as `run` does: read-only "
                        "unless --allow-writes, snapshot and restore, budgets per target.")
    group.add_argument("--live", action="store_true", help="treat every URL target as live Twilio")
    group.add_argument("--allow-writes", action="store_true",
                       help="live: allow writes (snapshot and restore); without it only read-only checks run")
    group.add_argument("--max-requests", type=int, default=None, metavar="N", help="per target (live default 1500)")
    group.add_argument("--rate-limit", type=float, default=None, metavar="R", help="requests per second (live default 5)")
    group.add_argument("--time-budget", type=float, default=None, metavar="S", help="per target (live default 900)")
    group.add_argument("--max-retry-wait", type=float, default=30.0, metavar="S",
                       help="wait at most S seconds before retrying a 429/503 (default 30)")
    group.add_argument("--max-server-errors", type=int, default=None, metavar="N",
                       help="circuit breaker: 5xx answers in a row before a target's run stops (live default 10)")
    add_journal_argument(group)


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
    add_live_arguments(parser)
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

    from twilio_webhook_contracts.contract_tests.engine import Engine, LiveError
    from twilio_webhook_contracts.contract_tests.runner import SuiteConfig

    from ..credentials import secret_forms
    from ..live import LIVE_DEFAULTS, is_live_url
    from ..matrix import Matrix, TargetRun
    from ..target import Target, TargetError
    from .run import EXIT_RESTORE_FAILED, _limits, print_restore_failure, selected_checks, validate_suite_options

    validate_suite_options(args)
    specs = [parse_target(text) for text in args.targets]
    _unique(specs)
    checks = selected_checks(args)
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
    secrets: list[str] = list(secret_forms(credentials)) if credentials is not None else []
    quiet = args.quiet

    def progress(line: str) -> None:
        if not quiet:
            print(line, flush=True)

    from .fingerprint import load_recording, recording_rows, report_recording

    recording = load_recording(args)
    recorded: dict[str, Any] = {}
    runs: list[TargetRun] = []
    restore_problems: list[str] = []
    interrupted: str | None = None
    for spec in specs:
        if interrupted:
            break
        with _served(spec, args) as (conversations_url, chat_url, target_credentials):
            if spec.embedded:
                secrets += secret_forms(target_credentials)
            live = not spec.embedded and (args.live or is_live_url(conversations_url) or is_live_url(chat_url))
            mode = (" (live mode" + (", writes allowed)" if args.allow_writes else ", read-only)")) if live else ""
            progress(f"== {spec.label}: {conversations_url}" + ("" if chat_url == conversations_url else f" + {chat_url}")
                     + mode)
            if live and args.channel_sid and not args.service_sid:
                raise UsageError("--channel-sid needs --service-sid in a live run (the channel's service)")
            config = SuiteConfig(
                max_examples=args.max_examples or (int(LIVE_DEFAULTS["max_examples"]) if live else 50), seed=seed,
                checks=checks, service_sid=args.service_sid, channel_sid=args.channel_sid,
                stateful=not args.no_stateful, stateless=args.stateless, shrink=not args.no_shrink,
                database=args.database or "none", progress=progress, workers=args.workers,
            )
            target = Target(conversations_url, chat_url, credentials=target_credentials, timeout=args.request_timeout,
                            max_retry_wait=args.max_retry_wait, limits=_limits(args, live))
            engine = Engine(target, config, live=live, allow_writes=args.allow_writes, journal=args.journal)
            try:
                with target:
                    results = engine.execute()
            except LiveError as exc:
                message = _one_line(f"live run refused: {exc}", secrets)
                progress(f"{spec.label}: {message}")
                runs.append(TargetRun(spec.label, conversations_url, chat_url, error=message))
                continue
            except Exception as exc:  # noqa: BLE001 - one target's crash must not hide the others' results
                message = _one_line(f"internal error: {type(exc).__name__}: {exc}", secrets)
                progress(f"{spec.label}: {message}")
                runs.append(TargetRun(spec.label, conversations_url, chat_url, error=message, crashed=True))
                continue
            restore_problems += [f"{spec.label}: {problem}" for problem in engine.restore_problems]
            interrupted = results.interrupted
            if engine.unreachable is not None and not engine.restore_problems:
                message = _one_line(engine.unreachable, secrets)
                progress(f"{spec.label}: unreachable: {message}")
                runs.append(TargetRun(spec.label, conversations_url, chat_url, error=message))
                continue
            results.target["label"] = spec.label
            runs.append(TargetRun(spec.label, conversations_url, chat_url, results))
            recorded[spec.label] = recording_rows(recording, conversations_url, chat_url, target_credentials,
                                                  secrets, args.request_timeout)
    matrix = Matrix(runs, seed=seed)
    _write_reports(args, matrix, secrets)
    from ..report import redact

    print(redact(matrix.text(failures=not quiet), secrets), end="", flush=True)
    status = report_recording(args, recorded, matrix.exit_status(), secrets)
    if interrupted:
        status = 143 if interrupted == "SIGTERM" else 130
    if restore_problems:
        status = EXIT_RESTORE_FAILED
    print(f"seed {seed} (replay with --seed {seed}); exit status {status}", flush=True)
    if restore_problems:  # last, so that nothing printed after it can push it out of sight
        print_restore_failure(restore_problems, secrets)
    return status


def _one_line(text: str, secrets: list[str]) -> str:
    from ..report import redact

    text = " ".join(redact(text, secrets).split())
    return text if len(text) <= 300 else text[:297] + "..."


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
                   (args.junitxml, matrix.junit_xml),
                   (getattr(args, "report_html", None), lambda: _html(matrix, secrets))), secrets)


def _html(matrix: Any, secrets: list[str]) -> str:
    from ..report_html import matrix_html

    return matrix_html(matrix, secrets)
