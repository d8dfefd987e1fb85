"""``webhook-contracts replay HAR --target URL``: re-send a cassette's failing steps and re-check them.

A cassette (``run --report-har``) marks each exchange whose answer failed a response check.
Replay rebuilds exactly those requests, sends them to the target named now (the fixed server,
a colleague's machine) and judges each answer with the checks it failed before: "still fails"
or "now passes", one line each. Exit status: 0 every step now passes (or none failed), 1 some
still fail, 2 a usage error, 3 the target is unreachable.

State checks compare several exchanges; their reproductions are the ``curl`` steps of the
JSON, markdown and HTML reports, not a single replayable answer, so replay re-checks the
response checks only (and says so when a cassette has nothing else).
"""

from __future__ import annotations

import argparse

from ..cli import EXIT_OK, EXIT_UNREACHABLE, EXIT_VIOLATIONS, UsageError


def register(subparsers) -> None:
    from .run import add_target_arguments

    parser = subparsers.add_parser(
        "replay",
        help="re-send the failing steps of a HAR cassette (run --report-har) and re-check them",
        description="Re-send the exchanges of a cassette that failed a check, to a target, and judge each answer "
                    "with the checks it failed before.",
    )
    parser.add_argument("har", metavar="HAR", help="a cassette written by webhook-contracts run --report-har")
    add_target_arguments(parser)
    parser.add_argument("--allow-writes", action="store_true",
                        help="needed to replay write steps against live Twilio (twilio.com hosts)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only the final line")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from twilio_webhook_contracts.contract_tests.checks import CHECKS, Context, select_checks
    from twilio_webhook_contracts.contract_tests.results import OperationDead, Results
    from twilio_webhook_contracts.contract_tests.session import Session, TargetGone

    from ..har import HarError, failing_steps, load_har, request_from_entry
    from ..live import is_live_url
    from ..report import redact
    from ..target import Target, TargetError
    from ..credentials import secret_forms
    from .run import _credentials, check_base_url

    conversations = args.conversations_url or args.target
    chat = args.chat_url or args.target
    if not conversations or not chat:
        raise UsageError("name the target to replay against: --target URL, or both --conversations-url and --chat-url")
    for option, url in (("--target", args.target), ("--conversations-url", args.conversations_url),
                        ("--chat-url", args.chat_url)):
        if url is not None:
            check_base_url(option, url)
    try:
        steps = failing_steps(load_har(args.har))
        requests = [(entry, request_from_entry(entry)) for entry in steps]
    except HarError as exc:
        raise UsageError(str(exc)) from None
    unknown = sorted({name for entry in steps for name in entry["_failedChecks"] if name not in CHECKS})
    if unknown:
        raise UsageError(f"{args.har}: unknown checks {', '.join(unknown)} (a cassette of another version?)")
    if not requests:
        print(f"nothing to replay: no exchange in {args.har} failed a response check", flush=True)
        return EXIT_OK
    credentials = _credentials(args)
    secrets = secret_forms(credentials)
    try:
        target = Target(conversations, chat, credentials=credentials, timeout=args.request_timeout)
    except TargetError as exc:
        raise UsageError(str(exc)) from None
    if (is_live_url(conversations) or is_live_url(chat)) and not args.allow_writes:
        writes = [request for _, request in requests if target.spec.operation(request.operation_id).is_write]
        if writes:
            raise UsageError(f"{len(writes)} of the steps write (e.g. {writes[0].operation_id}) and the target is live "
                             f"Twilio: pass --allow-writes to replay them")
    still = 0
    with target:
        context = Context(spec=target.spec, account_sid=credentials.account_sid)
        for number, (entry, request) in enumerate(requests, 1):
            failed_before = list(entry["_failedChecks"])
            results = Results()
            session = Session(target, context, results, select_checks(failed_before))
            auth = entry.get("_auth") if entry.get("_auth") in ("valid", "none", "wrong") else "valid"
            try:
                response, _ = session.exchange(request, auth)
            except TargetGone as exc:
                print(f"webhook-contracts: {redact(str(exc), secrets)}", flush=True)
                return EXIT_UNREACHABLE
            except OperationDead as exc:
                response = None
                problems = {"responds_within_timeout": str(exc)}
            else:
                problems = {record.check: record.explanation for record in results.violations}
            label = f"{number}/{len(requests)} {request.operation_id} {request.method} {request.path}"
            if problems:
                still += 1
            if not args.quiet:
                answered = f" (answered {response.status})" if response is not None else ""
                for check in failed_before:
                    verdict = f"still fails: {problems[check]}" if check in problems else "now passes"
                    print(redact(f"{label}{answered}: {check} {verdict}", secrets), flush=True)
                for check in sorted(set(problems) - set(failed_before)):
                    print(redact(f"{label}{answered}: {check} fails too: {problems[check]}", secrets), flush=True)
    print(f"{still} of {len(requests)} failing step(s) still fail against {conversations}", flush=True)
    return EXIT_VIOLATIONS if still else EXIT_OK
