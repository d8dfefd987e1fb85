"""``webhook-contracts drift``: have Twilio's API and the bundled fragments drifted apart?

Compares the fragments with one or more Twilio OpenAPI files (twilio-oai's
``twilio_conversations_v1.json``, ``twilio_chat_v2.json`` or
``twilio_ip_messaging_v2.json``, JSON or YAML, whole or cut down to these paths),
operation by operationId, and lists each difference as breaking, additive or
deliberate (a documented ``x-tightening`` / ``x-decision``, or an error response
the fragments add). See :mod:`twilio_webhook_contracts.drift` for the rules.

Exit status: 0 nothing breaking; 1 something breaking changed; 2 unreadable
input or usage error.
"""

from __future__ import annotations

import argparse
import sys

from ..cli import UsageError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "drift",
        help="compare the fragments with a (newer) Twilio OpenAPI file: breaking, additive, deliberate",
        description="Compare the bundled fragments with Twilio OpenAPI files for the same paths (twilio-oai "
                    "conversations v1, chat v2 or ip_messaging v2; JSON or YAML), matching operations by "
                    "operationId. Every difference is marked breaking or additive (from a client's point of "
                    "view) or deliberate (a documented x-tightening/x-decision, or an added error response). "
                    "Exit status: 0 nothing breaking, 1 breaking differences, 2 unreadable input.",
    )
    parser.add_argument("upstream", nargs="+", metavar="UPSTREAM", help="a Twilio OpenAPI file (.json or .yaml)")
    parser.add_argument("--fragments", metavar="DIR", help="compare these fragments instead of the bundled ones")
    parser.add_argument("--json", action="store_true", help="print the differences as JSON")
    parser.add_argument("--report-json", metavar="PATH", help="also write the JSON report here")
    parser.add_argument("-q", "--quiet", action="store_true", help="leave out the deliberate differences")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each note in full")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from ..drift import DriftError, drift
    from ..spec import Spec, default_spec

    spec = Spec.load(args.fragments) if args.fragments else default_spec()
    try:
        report = drift(args.upstream, spec)
    except DriftError as exc:
        raise UsageError(str(exc)) from None
    data = json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n"
    if args.report_json:
        try:
            path = Path(args.report_json)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(data, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write report {args.report_json}: {exc.strerror or exc}") from None
    if args.json:
        sys.stdout.write(data)
    else:
        sys.stdout.write(report.text(show_deliberate=not args.quiet, full_notes=args.verbose))
    return report.exit_status
