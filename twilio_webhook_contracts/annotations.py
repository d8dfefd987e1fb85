"""GitHub Actions annotations: one ``::error file=…,line=…,title=…::message`` line per violation,
printed when ``GITHUB_ACTIONS`` is set, so each failure shows on the run's summary page and,
for a file in the repository, beside its line.

The file named is the check's own definition (``contract_tests/checks.py``): that is where the
expectation and its citation live. Messages pass through the reports' redaction first, and
GitHub's escapes (``%``, CR, LF; in properties also ``:`` and ``,``) keep each one on one line.
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:  # pragma: no cover
    from twilio_webhook_contracts.contract_tests.results import Results

__all__ = ["annotation", "check_location", "github_annotations", "in_github_actions", "print_github_annotations"]


def in_github_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS", "").lower() == "true"


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(level: str, message: str, *, file: str | None = None, line: int | None = None, title: str | None = None) -> str:
    """One workflow command line (``level``: error, warning or notice)."""
    properties = [f"file={_property(file)}"] if file else []
    if file and line:
        properties.append(f"line={line}")
    if title:
        properties.append(f"title={_property(title)}")
    return f"::{level} {','.join(properties)}::{_data(message)}" if properties else f"::{level}::{_data(message)}"


def _relative(path: str) -> str:
    """*path* relative to the workspace (GitHub's checkout) or the working directory when inside it."""
    for root in (os.environ.get("GITHUB_WORKSPACE"), os.getcwd()):
        if root:
            try:
                return str(Path(path).resolve().relative_to(Path(root).resolve()))
            except ValueError:
                continue
    return path


def check_location(check_name: str) -> tuple[str | None, int | None]:
    from twilio_webhook_contracts.contract_tests.checks import CHECKS

    from twilio_webhook_contracts.contract_tests import checks as module

    check = CHECKS.get(check_name)
    try:
        function = check and (check.function or check.state_function)
        if function is not None:
            function = inspect.unwrap(function)
            return _relative(inspect.getsourcefile(function) or ""), inspect.getsourcelines(function)[1]
        # a check with no function of its own (liveness): point at the line that declares it
        source = inspect.getsourcefile(module) or ""
        for number, text in enumerate(Path(source).read_text(encoding="utf-8").splitlines(), 1):
            if f'"{check_name}"' in text:
                return _relative(source), number
        return _relative(source), None
    except (OSError, TypeError):
        return None, None


def github_annotations(results: "Results", secrets: Sequence[str] = ()) -> list[str]:
    """The annotation lines of a run's violations (and why it ended early), redacted as the reports are."""
    from .report import to_json

    report = to_json(results, secrets)
    lines = []
    for violation in report["violations"]:
        file, line = check_location(violation["check"])
        steps = violation["steps"] or ([violation["curl"]] if violation["curl"] else [])
        message = "\n".join([violation["explanation"], *(["reproduce:", *steps[-6:]] if steps else [])])
        lines.append(annotation("error", message, file=file, line=line,
                                title=f"{violation['check']} [{violation['operation']}]"))
    if report["aborted"]:
        lines.append(annotation("error", report["aborted"], title="twilio-webhook-contracts: run ended early"))
    return lines


def print_github_annotations(results: "Results", secrets: Sequence[str] = ()) -> None:
    """Print the annotations when running inside GitHub Actions; nothing otherwise."""
    if in_github_actions():
        for line in github_annotations(results, secrets):
            print(line, flush=True)
