"""Sub-commands of ``webhook-contracts``, one module each.

A command module exposes ``register(subparsers)`` that adds its parser and sets
``handler`` (a function ``(args) -> exit status``). Registration must stay cheap:
modules import only argparse at top level and import heavy machinery (Hypothesis,
werkzeug, openapi-core) inside their handler, so ``webhook-contracts --help``
starts fast.
"""

from __future__ import annotations

import importlib

#: Order here is the order in ``--help``.
COMMAND_MODULES = (
    "run",
    "operations",
    "mock",
    "spec",
    "verify",
    "replay",
    "fingerprint",
    "diff",
    "drift",
    "history",
    "restore",
)


def register_all(subparsers) -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(subparsers)
