"""``webhook-contracts operations``: what the bundled fragments define."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser("operations", help="list the operations of the bundled fragments")
    parser.add_argument("--fragments", metavar="DIR", help="read fragments from DIR instead of the bundled ones")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..spec import Spec, default_spec

    spec = Spec.load(args.fragments) if args.fragments else default_spec()
    for op in spec:
        statuses = ",".join(str(s) for s in op.responses)
        print(f"{op.operation_id:36} {op.method:6} {op.server}{op.path}  [{statuses}]")
    return 0
