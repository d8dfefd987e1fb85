"""``webhook-contracts restore``: undo a live run that was killed before it could restore.

A live run writes its snapshot and its ledger of created webhooks to a journal
before its first write, and removes the journal only after a verified restore
(see :mod:`twilio_webhook_contracts.journal`). After a SIGKILL the journal is
left; this command finds it (for the account and hosts given, or at
``--journal PATH``), says what it holds, deletes the webhooks the run created,
writes the configurations back, verifies them, and removes the journal.

Exit status: 0 restored, or no journal to restore from; 2 usage error; 3 the
target could not be reached; 5 the restore could not be completed (the journal
is kept, and stderr says what is left changed).
"""

from __future__ import annotations

import argparse

from ..cli import EXIT_OK, EXIT_UNREACHABLE, UsageError


def register(subparsers) -> None:
    from .run import add_journal_argument

    parser = subparsers.add_parser(
        "restore",
        help="restore a live account from the journal a killed live run left behind",
        description="Find the journal a live run left (it was killed before its restore), delete the webhooks "
                    "it created and write the configurations back, verified. Credentials as for run.",
    )
    group = parser.add_argument_group("target")
    group.add_argument("--target", metavar="URL", help="one base URL serving every endpoint")
    group.add_argument("--conversations-url", metavar="URL", help="base URL of the Conversations API (live: https://conversations.twilio.com)")
    group.add_argument("--chat-url", metavar="URL", help="base URL of the Chat API (live: https://chat.twilio.com)")
    group.add_argument("--account-sid", metavar="AC…", help="Account SID (default: $TWILIO_ACCOUNT_SID)")
    group.add_argument("--auth-token", metavar="TOKEN", help="auth token (default: $TWILIO_AUTH_TOKEN)")
    group.add_argument("--request-timeout", type=float, default=10.0, metavar="S", help="seconds to wait for each answer (default 10)")
    group.add_argument("--max-retry-wait", type=float, default=30.0, metavar="S", help="longest Retry-After honoured (default 30)")
    add_journal_argument(group)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..journal import Journal, JournalError
    from ..live import Guard, LiveError
    from ..target import Target, TargetError, TargetUnreachable
    from ..credentials import secret_forms
    from .run import EXIT_RESTORE_FAILED, _credentials, check_base_url, print_restore_failure, redact_line

    conversations = args.conversations_url or args.target
    chat = args.chat_url or args.target
    if not conversations or not chat:
        raise UsageError("name the target the live run used: --target URL, or both --conversations-url and --chat-url")
    for option, url in (("--target", args.target), ("--conversations-url", args.conversations_url), ("--chat-url", args.chat_url)):
        if url is not None:
            check_base_url(option, url)
    credentials = _credentials(args)
    secrets = secret_forms(credentials)
    journal = Journal.for_urls(credentials.account_sid, conversations, chat, args.journal)
    try:
        data = journal.read()
    except JournalError as exc:
        raise UsageError(str(exc)) from None
    if data is None:
        print(f"webhook-contracts: no live journal at {journal.path}: nothing to restore", flush=True)
        return EXIT_OK
    if data.get("account_sid") != credentials.account_sid:
        raise UsageError(f"the journal {journal.path} is for account {data.get('account_sid')}, not {credentials.account_sid}")
    try:
        target = Target(conversations, chat, credentials=credentials, timeout=args.request_timeout,
                        max_retry_wait=args.max_retry_wait)
    except TargetError as exc:
        raise UsageError(str(exc)) from None
    with target:
        guard = Guard.from_journal(target, target.spec, data, log=lambda line: print(line, flush=True), journal=journal)
        print(f"webhook-contracts: found the journal of a live run started {data.get('started', '?')} that did not "
              f"restore: {guard.describe_snapshot()}; created webhooks {sorted(guard.created) or 'none recorded'}",
              flush=True)
        try:
            problems = guard.restore()
        except TargetUnreachable as exc:
            print(f"webhook-contracts: error: {redact_line(str(exc), secrets)}", flush=True)
            return EXIT_UNREACHABLE
        except LiveError as exc:  # pragma: no cover - restore reports its problems instead of raising
            problems = [str(exc)]
    if problems:
        print_restore_failure(problems, secrets)
        return EXIT_RESTORE_FAILED
    print(f"webhook-contracts: restored from the journal and verified ({guard.restore_requests} requests); "
          f"{journal.path} removed", flush=True)
    return EXIT_OK
