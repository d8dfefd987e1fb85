"""twilio-webhook-contracts: contract tests and schema validation for Twilio's
webhook-configuration APIs.

One way through: fragment (:mod:`.spec`) -> strategy (:mod:`.strategies`)
-> request (:mod:`.request`) -> target (:mod:`.target`) -> response -> checks
(:mod:`.contract_tests`) -> report (:mod:`.report`). This package holds the stages
that are not test code.

The names below are imported on first use: pytest imports this package at
start-up in every project where it is installed (for the plugin), and
``webhook-contracts --help`` should not pay for YAML, schema compilers and HTTP.
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# In a plain checkout (``PYTHONPATH=.``) the stages that the design keeps in
# top-level folders (``openapi/``, ``strategies/``, ``contract_tests/``) are
# found as our subpackages through the checkout root; an installed copy holds
# them inside this package, which comes first. Either way the importable names
# are ours alone, so a user's own ``strategies`` package is never shadowed.
_CHECKOUT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if os.path.isfile(os.path.join(_CHECKOUT, "pyproject.toml")) and os.path.isdir(os.path.join(_CHECKOUT, "contract_tests")):
    __path__.append(_CHECKOUT)  # type: ignore[name-defined]  # noqa: F821

_EXPORTS = {
    "Request": "request", "encode_form": "request", "form_pairs": "request",
    "Operation": "spec", "Spec": "spec", "SpecError": "spec", "default_spec": "spec",
    "Violation": "validation", "validate_request": "validation", "validate_response": "validation",
    "validator_for": "validation",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)


if TYPE_CHECKING:  # pragma: no cover
    from .request import Request, encode_form, form_pairs
    from .spec import Operation, Spec, SpecError, default_spec
    from .validation import Violation, validate_request, validate_response, validator_for
