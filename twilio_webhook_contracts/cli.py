"""The ``webhook-contracts`` command line.

Every failure the user can cause (a bad option, an unreadable fragment, an
unreachable target) ends as one clear line on stderr and a documented exit
status, never as a traceback.
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable, Sequence

EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3


class UsageError(Exception):
    """A problem with what the user asked for; printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse prints usage + exits 2; keep it one line
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="webhook-contracts",
        description="Contract tests for Twilio's webhook-configuration APIs.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    from .commands import register_all

    register_all(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
        if handler is None:
            parser.print_help()
            return EXIT_USAGE
        return handler(args)
    except UsageError as exc:
        print(f"webhook-contracts: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("webhook-contracts: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the one place that turns surprises into one line
        from .spec import SpecError

        if isinstance(exc, SpecError):
            print(f"webhook-contracts: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        print(f"webhook-contracts: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 4


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
