"""``webhook-contracts fingerprint``: record what a target chose at every open point, as JSON.

Read-only probes always run; the three writing probes (``empty_value``,
``filter_order``, ``channel_limit``) only with ``--allow-writes``, inside the
live guard: the configurations they touch are snapshot first and written back
afterwards, every webhook they created is deleted -- after success, failure,
Ctrl-C or SIGTERM alike. Against a ``*.twilio.com`` host live mode is on by
itself (budget and rate limit as for ``run``).

Exit status: 0 recorded; 2 usage; 3 unreachable; 5 the restore failed (the
account was left changed; the file says how); 130/143 interrupted (restored).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Callable

from ..cli import EXIT_OK, EXIT_UNREACHABLE, UsageError


def register(subparsers) -> None:
    from .run import add_target_arguments

    parser = subparsers.add_parser(
        "fingerprint", help="record a target's choice at every open point (JSON), for mock --fingerprint and "
                            "verify --fingerprint",
        description="Probe a target at every open point of the catalogue with as few requests as possible and "
                    "write what it chose, with the evidence (secrets redacted), to --output. Writing probes run "
                    "only with --allow-writes, inside the live guard (snapshot, restore, created webhooks deleted).")
    add_target_arguments(parser)
    add_guard_arguments(parser)
    parser.add_argument("--service-sid", metavar="IS…", help="a service known to exist (live: needed by most points)")
    parser.add_argument("--channel-sid", metavar="CH…|NAME", help="a channel of --service-sid known to exist")
    parser.add_argument("--output", "-o", metavar="FILE.json", required=True, help="where to write the fingerprint")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only the final line")
    parser.set_defaults(handler=run)


def add_guard_arguments(parser: argparse.ArgumentParser) -> None:
    """The live-mode options ``fingerprint`` and ``diff`` share (the subset of ``run``'s that applies)."""
    group = parser.add_argument_group("live mode (on by itself for twilio.com hosts)")
    group.add_argument("--live", action="store_true", help="treat the target as live Twilio")
    group.add_argument("--allow-writes", action="store_true",
                       help="run the probes that write (snapshot first, restore after, created webhooks deleted)")
    group.add_argument("--max-requests", type=int, default=None, metavar="N", help="stop after N requests")
    group.add_argument("--rate-limit", type=float, default=None, metavar="R",
                       help="at most R requests per second (live default 5)")
    group.add_argument("--time-budget", type=float, default=None, metavar="S", help="stop after S seconds")
    group.add_argument("--max-retry-wait", type=float, default=30.0, metavar="S",
                       help="wait at most S seconds before retrying a 429/503 (default 30)")
    group.add_argument("--max-server-errors", type=int, default=None, metavar="N",
                       help="stop after N answers in a row with a 5xx status (live default 10)")


def run(args: argparse.Namespace) -> int:
    from .. import fingerprint
    from ..target import Target, TargetError
    from ..credentials import secret_forms
    from .run import _SERVICE_SID, _limits, _Printer, _target_context, check_base_url

    for option, url in (("--target", args.target), ("--conversations-url", args.conversations_url),
                        ("--chat-url", args.chat_url)):
        if url is not None:
            check_base_url(option, url)
    if args.service_sid is not None and not _SERVICE_SID.match(args.service_sid):
        raise UsageError(f"--service-sid must be IS followed by 32 hex digits, got {args.service_sid!r}")
    if args.channel_sid and not args.service_sid:
        raise UsageError("--channel-sid needs --service-sid (the channel's service)")
    out = _Printer(args)
    with _target_context(args, out) as (conversations_url, chat_url, credentials, description):
        from ..live import is_live_url

        live = args.live or is_live_url(conversations_url) or is_live_url(chat_url)
        try:
            target = Target(conversations_url, chat_url, credentials=credentials, timeout=args.request_timeout,
                            max_retry_wait=args.max_retry_wait, limits=_limits(args, live))
        except TargetError as exc:
            raise UsageError(str(exc)) from None
        secrets = secret_forms(credentials)
        mode = " (live mode" + (", writes allowed)" if args.allow_writes else ", read-only)") if live else ""
        out.progress(f"fingerprint: {description}{mode}")

        def probe(guard_factory: Callable[..., Any]) -> dict[str, Any]:
            return fingerprint.take(target, service_sid=args.service_sid, channel_sid=args.channel_sid,
                                    writes=args.allow_writes, secrets=secrets, guard_factory=guard_factory,
                                    log=out.progress)

        code, recording = guarded(target, probe, secrets, out.progress)
        if recording is None or code is not None:
            return code if code is not None else EXIT_UNREACHABLE
        recording["target"]["live"] = live
        text = json.dumps(recording, indent=2, ensure_ascii=False) + "\n"
        from .run import write_reports

        write_reports(((args.output, lambda: text),), secrets)
        decided = sum(1 for entry in recording["points"].values() if entry["choice"] != fingerprint.UNKNOWN)
        counts = recording["requests"]
        if not args.quiet:
            for name, entry in recording["points"].items():
                print(f"  {name:18} {entry['choice']:10} {counts['per_point'][name]:2} req  {entry['why']}")
        print(f"fingerprint: {decided}/{len(recording['points'])} open points decided, {counts['probes']} probe "
              f"requests + {counts['restore']} restore requests; written to {args.output}", flush=True)
        if recording["restore_problems"]:
            print("webhook-contracts: RESTORE FAILED -- the target was left changed:", file=sys.stderr)
            for problem in recording["restore_problems"]:
                print(f"webhook-contracts:   {problem}", file=sys.stderr)
            return 5
        return EXIT_OK


def guarded(target: Any, body: Callable[[Callable[..., Any]], Any], secrets: Any,
            progress: Callable[[str], None], others: Any = ()) -> tuple[int | None, Any]:
    """Run *body(guard_factory)* under the signal guard, then restore what the guard it started saw.

    *body* calls ``guard_factory(services, channels, on=TARGET)`` (*on* defaults
    to *target*; *others* are further targets the body sends to) just before its first
    write; that takes the snapshot (refusing to go on if it cannot) and hooks
    the guard into *target*. As in ``run``, the first SIGINT/SIGTERM interrupts
    the body only; the restore runs after the signals are disarmed, so a second
    Ctrl-C cannot cut it short. Returns ``(status, result)``: status None when
    the body finished (the result's ``requests.restore`` and ``restore_problems``
    filled in), 130/143 interrupted and restored, 5 the restore failed, 3 the
    target was unreachable (result None unless the body finished).
    """
    from ..live import Guard, LiveError, Terminated, interruptible
    from ..target import TargetUnreachable
    from .run import redact_line

    started: list[Guard] = []

    def guard_factory(services: list[str], channels: list[tuple[str, str]], on: Any = None) -> Guard:
        watched = on if on is not None else target
        guard = Guard(watched, watched.spec, services=services, channels=channels, log=progress)
        try:
            guard.take_snapshot()
        except LiveError as exc:
            raise UsageError(f"writes refused: cannot snapshot what they would change: {exc}") from None
        watched.observers.append(guard)
        started.append(guard)
        return guard

    result: Any = None
    status: int | None = None
    escaped: BaseException | None = None
    with interruptible() as signals:
        for each in (target, *others):
            each.hold = signals.held
        try:
            try:
                result = body(guard_factory)
            finally:
                signals.disarm()
        except TargetUnreachable as exc:
            print(f"webhook-contracts: error: {redact_line(str(exc), secrets)}", file=sys.stderr)
            status = EXIT_UNREACHABLE
        except KeyboardInterrupt:
            status = 130
        except Terminated:
            status = 143
        except BaseException as exc:  # noqa: BLE001 - re-raised after the restore
            escaped = exc
        problems: list[str] = []
        restore_requests = 0
        for guard in started:
            progress("restore: deleting the webhooks the probes created, writing back what they changed ...")
            try:
                problems += guard.restore()
            except Exception as exc:  # noqa: BLE001 - must end in the loud message and status 5
                problems.append(f"the restore stopped with an unexpected error ({type(exc).__name__}: {exc}); "
                                f"before it the target was: {guard.describe_snapshot()}")
            restore_requests += guard.restore_requests
            progress(f"restore: {'FAILED' if problems else 'done, verified'} ({guard.restore_requests} requests)")
        for each in (target, *others):
            each.close()
    if escaped is not None and not problems:
        raise escaped
    if isinstance(result, dict) and "requests" in result:
        result["requests"]["restore"] = restore_requests
        result["restore_problems"] = [redact_line(p, secrets) for p in problems]
    if problems and (result is None or status is not None):
        print("webhook-contracts: RESTORE FAILED -- the target was left changed:", file=sys.stderr)
        for problem in problems:
            print(f"webhook-contracts:   {redact_line(problem, secrets)}", file=sys.stderr)
        return 5, result
    if status in (130, 143):
        print(f"webhook-contracts: interrupted ({'SIGINT' if status == 130 else 'SIGTERM'}); "
              f"{'everything the probes changed was restored' if started else 'nothing had been written'}",
              file=sys.stderr)
    return status, result


# -- verify --fingerprint: hooks kept here so that verify.py only calls them -------------------


def add_recording_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("recorded choices (see `webhook-contracts fingerprint`)")
    group.add_argument("--fingerprint", metavar="FILE.json",
                       help="also fingerprint each target and add a row per open point where it decides differently "
                            "from this recording (status: differs from the recording; not a violation)")
    group.add_argument("--fail-on-difference", action="store_true",
                       help="exit 1 when a target differs from the recording (default: report only)")


def load_recording(args: argparse.Namespace) -> dict[str, Any] | None:
    """The ``--fingerprint`` file, read before anything is sent (a bad file is a usage error)."""
    if not getattr(args, "fingerprint", None):
        return None
    from ..fingerprint import FingerprintError, load

    try:
        return load(args.fingerprint)
    except FingerprintError as exc:
        raise UsageError(str(exc)) from None


def recording_rows(recording: dict[str, Any] | None, conversations_url: str, chat_url: str, credentials: Any,
                   secrets: Any, timeout: float = 10.0) -> list[dict[str, Any]] | None:
    """Fingerprint one verified target (writes allowed: verify writes anyway; restored after) and compare."""
    if recording is None:
        return None
    from .. import fingerprint
    from ..target import Target

    target = Target(conversations_url, chat_url, credentials=credentials, timeout=timeout)
    service = recording.get("target", {}).get("service_sid")
    channel = recording.get("target", {}).get("channel_sid")
    _, observed = guarded(target, lambda factory: fingerprint.take(
        target, service_sid=service, channel_sid=channel, secrets=secrets, guard_factory=factory), secrets,
        lambda line: None)
    if observed is None:
        return [{"point": "(fingerprint)", "recorded": "-", "observed": "unreachable", "recorded_why": "",
                 "observed_why": "the target could not be fingerprinted"}]
    return fingerprint.compare(recording, observed)


def report_recording(args: argparse.Namespace, rows: dict[str, list[dict[str, Any]] | None], status: int,
                     secrets: Any) -> int:
    """Print the "differs from the recording" rows (and add them to --report-json); the exit status."""
    if getattr(args, "fingerprint", None) is None:
        return status
    from ..report import redact

    print(f"recorded choices ({args.fingerprint}):")
    differing = 0
    for label, found in rows.items():
        if found is None:
            continue
        if not found:
            print(f"  {label}: decides as recorded at every open point both decided")
        for row in found:
            differing += 1
            print(redact(f"  {label}: {row['point']}: differs from the recording: recorded {row['recorded']} "
                         f"({row['recorded_why']}); this target {row['observed']} ({row['observed_why']})", secrets))
    report = getattr(args, "report_json", None)
    if report:
        try:
            with open(report, encoding="utf-8") as handle:
                data = json.load(handle)
            data["recording"] = {"file": args.fingerprint, "differences": {k: v for k, v in rows.items() if v is not None}}
            from ..report import write_report

            write_report(report, json.dumps(data, indent=2, ensure_ascii=False) + "\n", secrets)
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot add the recording rows to {report}: {exc}") from None
    if differing and args.fail_on_difference and status == 0:
        print(f"{differing} difference(s) from the recording (--fail-on-difference): exit status 1", flush=True)
        return 1
    return status
