"""``webhook-contracts diff A B``: the same requests to two targets; every behavioural difference.

A and B are base URLs (one server for both APIs) or ``mock`` (the embedded
mock); ``--a-conversations-url``/``--a-chat-url`` (and ``--b-...``) give one
server per API instead. Both sides use the same credentials
(``TWILIO_ACCOUNT_SID``/``TWILIO_AUTH_TOKEN``).

Live-safe as ``run``: a ``*.twilio.com`` side (or ``--live``) is read-only
unless ``--allow-writes``, and with writes its configurations are snapshot
first and restored afterwards, every webhook created deleted -- also on Ctrl-C.

Exit status: 0 no difference, 1 differences, 2 usage, 3 unreachable, 5 a
restore failed, 130/143 interrupted (restored).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..cli import EXIT_OK, EXIT_VIOLATIONS, UsageError


def register(subparsers) -> None:
    from .fingerprint import add_guard_arguments

    parser = subparsers.add_parser(
        "diff", help="send the same requests to two targets and report every behavioural difference",
        description="Send the same scripted sequence and seeded generated requests to targets A and B in lockstep, "
                    "normalise what legitimately differs (generated sids, dates, the addressed host, filter order) "
                    "and report each remaining difference with both answers and curl lines. Exit 1 on a difference.")
    parser.add_argument("a", nargs="?", metavar="A", help="base URL of target A, or 'mock'")
    parser.add_argument("b", nargs="?", metavar="B", help="base URL of target B, or 'mock'")
    for side in ("a", "b"):
        parser.add_argument(f"--{side}-conversations-url", metavar="URL", help=f"{side.upper()}: Conversations API base URL")
        parser.add_argument(f"--{side}-chat-url", metavar="URL", help=f"{side.upper()}: Chat API base URL")
    parser.add_argument("--account-sid", metavar="AC…", help="Account SID for both (default: $TWILIO_ACCOUNT_SID)")
    parser.add_argument("--auth-token", metavar="TOKEN", help="auth token for both (default: $TWILIO_AUTH_TOKEN)")
    parser.add_argument("--request-timeout", type=float, default=10.0, metavar="S", help="seconds per answer (default 10)")
    parser.add_argument("--service-sid", metavar="IS…", help="a service that exists on both (live: required for writes)")
    parser.add_argument("--channel-sid", metavar="CH…", help="a channel of --service-sid on both")
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="seed of the generated requests (default 0)")
    parser.add_argument("--max-examples", type=int, default=3, metavar="N",
                        help="generated requests per operation and kind (default 3)")
    parser.add_argument("--format", choices=("text", "markdown", "json"), default="text", help="output format")
    parser.add_argument("--output", "-o", metavar="FILE", help="write the report here instead of stdout")
    add_guard_arguments(parser)
    parser.set_defaults(handler=run)


def _side(args: argparse.Namespace, side: str) -> tuple[str | None, str | None]:
    given = getattr(args, side)
    conversations = getattr(args, f"{side}_conversations_url") or (given if given != "mock" else None)
    chat = getattr(args, f"{side}_chat_url") or (given if given != "mock" else None)
    if given is None and not (conversations and chat):
        raise UsageError(f"name target {side.upper()}: a URL, 'mock', or --{side}-conversations-url and --{side}-chat-url")
    return conversations, chat


def run(args: argparse.Namespace) -> int:
    from contextlib import ExitStack

    from .. import diff
    from ..live import is_live_url
    from ..target import Credentials, Target, TargetError
    from .fingerprint import guarded
    from ..credentials import secret_forms
    from .run import _SERVICE_SID, _credentials, _limits, check_base_url

    if args.max_examples < 0:
        raise UsageError("--max-examples must be 0 or more")
    if args.service_sid is not None and not _SERVICE_SID.match(args.service_sid):
        raise UsageError(f"--service-sid must be IS followed by 32 hex digits, got {args.service_sid!r}")
    if args.channel_sid and not args.service_sid:
        raise UsageError("--channel-sid needs --service-sid (the channel's service)")
    sides = [_side(args, "a"), _side(args, "b")]
    for conversations, chat in sides:
        for url in (conversations, chat):
            if url:
                check_base_url("target", url)
    live = args.live or any(is_live_url(url) for pair in sides for url in pair)
    if live and args.allow_writes and not (args.service_sid and args.channel_sid):
        raise UsageError("a live diff with writes needs --service-sid and --channel-sid (real ones, on both sides)")
    with ExitStack() as stack:
        embedded = any(pair == (None, None) for pair in sides)
        credentials = None
        if any(pair != (None, None) for pair in sides):
            credentials = _credentials(args)
        if embedded:
            from ..mock import serve_mock

            if credentials is None:
                import secrets as random_secrets

                credentials = Credentials("AC" + random_secrets.token_hex(16), random_secrets.token_hex(16))
            resolved = []
            for pair in sides:
                if pair == (None, None):
                    mock = stack.enter_context(serve_mock(accounts={credentials.username: credentials.secret}))
                    pair = (mock.url, mock.url)
                resolved.append(pair)
            sides = resolved
        try:
            targets = [Target(conv, chat, credentials=credentials, timeout=args.request_timeout,
                              max_retry_wait=args.max_retry_wait, limits=_limits(args, live)) for conv, chat in sides]
        except TargetError as exc:
            raise UsageError(str(exc)) from None
        labels = [_label(args.a, sides[0][0], "A"), _label(args.b, sides[1][0], "B")]
        secrets = secret_forms(credentials)
        writes = not live or args.allow_writes

        def body(factory: Any) -> Any:
            frozen: dict[str, list[str]] = {}
            if live and writes:
                services = [args.service_sid]
                channels = [(args.service_sid, args.channel_sid)]
                for target in targets:
                    for op, names in factory(services, channels, on=target).frozen_fields().items():
                        frozen.setdefault(op, [])
                        frozen[op] += [n for n in names if n not in frozen[op]]
            return diff.run_diff(targets[0], targets[1], label_a=labels[0], label_b=labels[1], seed=args.seed,
                                 per_operation=args.max_examples, service_sid=args.service_sid,
                                 channel_sid=args.channel_sid, writes=writes, frozen=frozen)

        status, result = guarded(targets[0], body, secrets, lambda line: None, others=targets[1:])
        if result is None:
            return status if status is not None else 3
        render = {"text": diff.to_text, "markdown": diff.to_markdown,
                  "json": lambda r: json.dumps(diff.to_json(r), indent=2, ensure_ascii=False) + "\n"}[args.format]
        text = render(result)
        if args.output:
            from .run import write_reports

            write_reports(((args.output, lambda: text),), secrets)
            print(f"diff: {len(result.differences)} difference(s) in {result.steps} steps; written to {args.output}")
        else:
            from ..report import redact

            print(redact(text, secrets), end="", flush=True)
        if status is not None:
            return status
        return EXIT_VIOLATIONS if result.differences else EXIT_OK


def _label(given: str | None, url: str, default: str) -> str:
    from urllib.parse import urlsplit

    if given == "mock":
        return f"mock@{urlsplit(url).port}"
    return urlsplit(url).netloc or default
