"""The ``webhook-contracts`` command line.

Every failure the user can cause (a bad option, an unreadable fragment, an
unreachable target) ends as one clear line on stderr and a documented exit
status, never as a traceback.
"""

from __future__ import annotations

import argparse
import os
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
    argv = list(sys.argv[1:] if argv is None else argv)
    secrets = _secrets_in(argv)
    parser = build_parser()
    try:
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help, --version: argparse has printed what was asked
            return exc.code if isinstance(exc.code, int) else EXIT_OK
        handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
        if handler is None:
            commands = ", ".join(sorted(_command_names(parser)))
            raise UsageError(f"name a command ({commands}); see webhook-contracts --help")
        return handler(args)
    except UsageError as exc:
        _error(f"error: {exc}", secrets)
        return EXIT_USAGE
    except KeyboardInterrupt:
        _error("interrupted", secrets)
        return 130
    except Exception as exc:  # noqa: BLE001 - the one place that turns surprises into one line
        from .spec import SpecError

        if isinstance(exc, SpecError):
            _error(f"error: {exc}", secrets)
            return EXIT_USAGE
        _error(f"internal error: {type(exc).__name__}: {exc}", secrets)
        if os.environ.get("WEBHOOK_CONTRACTS_TRACEBACK"):  # for a bug report: where it happened, redacted
            import traceback

            for line in traceback.format_exc().splitlines():
                _error(line, secrets)
        return 4


#: Options whose value is a secret (``--auth-token T`` or ``--auth-token=T``).
SECRET_OPTIONS = ("--auth-token", "--api-key-secret", "--api-secret")
#: Environment variables holding a secret.
from .credentials import SECRET_VARIABLES  # noqa: E402 - kept here for the callers that import it from cli


def _secrets_in(argv: Sequence[str]) -> list[str]:
    """Every secret this invocation could know: from its options (even misspelt ones,
    which argparse would echo back) and from the environment."""
    found = [os.environ.get(name, "") for name in SECRET_VARIABLES]
    for index, arg in enumerate(argv):
        name, eq, value = arg.partition("=")
        if not name.startswith("--"):
            continue
        abbreviated = len(name) > 6 and any(option.startswith(name) for option in SECRET_OPTIONS)
        if not abbreviated and not any(word in name.lower() for word in ("tok", "secr", "pass", "auth")):
            continue
        if eq:
            found.append(value)
        elif index + 1 < len(argv):
            found.append(argv[index + 1])
    found = [secret for secret in found if secret]
    _register(argv, found)
    return found


def _register(argv: Sequence[str], secrets: Sequence[str]) -> None:
    """Tell the redaction layer every secret with every username it could be sent under, so
    that even the base64 ``Basic`` form is redacted from the first line this process prints."""
    from .credentials import credentials_from_environment, register_secrets, secret_forms

    credentials_from_environment()  # registers itself
    users = [os.environ.get("TWILIO_ACCOUNT_SID", ""), os.environ.get("TWILIO_API_KEY", "")]
    users += [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == "--account-sid"]
    users += [arg.partition("=")[2] for arg in argv if arg.startswith("--account-sid=")]
    for user in {user for user in users if user} or {""}:
        register_secrets(secret_forms(secrets=secrets, username=user or None))


def _error(text: str, secrets: Sequence[str]) -> None:
    """One line on stderr, whatever the message held: no secret in any form (exception text
    can quote a header a target echoed), no line breaks."""
    from .credentials import redact

    text = redact(text, secrets)
    print("webhook-contracts: " + " ".join(text.split()), file=sys.stderr)


def _command_names(parser: argparse.ArgumentParser) -> list[str]:
    for action in parser._actions:  # noqa: SLF001 - argparse keeps sub-parsers here
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            return list(action.choices)
    return []


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
