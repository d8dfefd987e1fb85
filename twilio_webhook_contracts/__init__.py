"""twilio-webhook-contracts: contract tests and schema validation for Twilio's
webhook-configuration APIs.

One way through: fragment (:mod:`.spec`) -> strategy (the ``strategies`` package)
-> request (:mod:`.request`) -> target -> response -> checks (``contract_tests``)
-> report. This package holds the stages that are not test code.
"""

from .request import Request, encode_form, form_pairs
from .spec import Operation, Spec, SpecError, default_spec
from .validation import Violation, validate_request, validate_response, validator_for

__all__ = [
    "Operation",
    "Request",
    "Spec",
    "SpecError",
    "Violation",
    "default_spec",
    "encode_form",
    "form_pairs",
    "validate_request",
    "validate_response",
    "validator_for",
]

__version__ = "0.1.0"
