"""``webhook-contracts history``: per check, when it last passed and since when it fails."""

from __future__ import annotations

import argparse
import json

from ..cli import UsageError

DEFAULT_HISTORY = "webhook-contracts-history.sqlite"


def register(subparsers) -> None:
    parser = subparsers.add_parser("history", help="show, per check, when it last passed and since when it fails",
                                   description="Read the run history that `run --history PATH` appends to.")
    parser.add_argument("--history", metavar="PATH", default=DEFAULT_HISTORY,
                        help=f"the SQLite history file (default: {DEFAULT_HISTORY})")
    parser.add_argument("--last", type=int, default=10, metavar="N", help="runs shown in the 'recent' column (default 10)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..history import HistoryError, check_histories, render_history

    if args.last < 1:
        raise UsageError("--last must be at least 1")
    try:
        histories = check_histories(args.history, last=args.last)
    except HistoryError as exc:
        raise UsageError(str(exc)) from None
    from ..credentials import credentials_from_environment, redact

    credentials_from_environment()  # registers the environment's secrets: a history written before
    # redaction knew every form of a secret is scrubbed on the way out
    if args.json:
        print(redact(json.dumps([h.__dict__ for h in histories], indent=2)))
    else:
        print(redact(render_history(histories)))
    return 0
