"""Hypothesis strategies for valid and invalid requests to Twilio's webhook-configuration APIs.

Everything is derived from the bundled OpenAPI fragments (or any ``Spec.load(dir)``):
change a fragment and the requests follow, with no code change. A request is only
useful if a real server must agree with its label, so:

* every *valid* request is accepted by the fragment as the wire carries it
  (twilio-python's form encoding, percent-encoded path segments), and holds only
  values a real server has no reason to refuse (realistic URLs and unique names,
  distinct events, what a webhook ``Type`` uses);
* every *invalid* request carries exactly one defect, named in ``request.defect``
  and ``request.defect_field``, in a value no lenient server could read as valid
  (no case variants, near misses, empty numbers or signs).

Use them like any Hypothesis strategy::

    from hypothesis import given
    from twilio_webhook_contracts.strategies import invalid_requests, valid_requests

    @given(valid_requests("UpdateChannelWebhook", ServiceSid=SERVICE, ChannelSid=CHANNEL))
    def test_update(request): ...

Building a strategy is cheap and checks its arguments at once; values are
generated lazily on the first draw.
"""

from __future__ import annotations

from typing import Any, Collection, Mapping

from hypothesis.strategies import SearchStrategy

from twilio_webhook_contracts.request import Request
from twilio_webhook_contracts.spec import Spec

from . import _requests
from ._defects import DEFECTS as _DEFECT_MEANINGS
from ._requests import InvalidStrategyArgument, fields_unused_by

__all__ = ["DEFECTS", "InvalidStrategyArgument", "defects_for", "fields_unused_by", "invalid_requests", "sibling_values",
           "valid_requests"]

#: Every defect kind an invalid request can carry, in a stable order:
#: ``bad_enum``, ``bad_pattern``, ``bad_url``, ``wrong_type``, ``out_of_range``,
#: ``too_short``, ``too_long``, ``too_many_items``, ``missing_required`` (form
#: fields, named after the constraint they break) and ``bad_path_param``,
#: ``bad_query_param`` (parameters, named after where they are: a server answers
#: a malformed path segment with 404 whatever constraint it breaks).
DEFECTS: tuple[str, ...] = tuple(_DEFECT_MEANINGS)


def valid_requests(
    operation_id: str,
    *,
    spec: Spec | None = None,
    pinned: Mapping[str, Any] | None = None,
    **pinned_kwargs: Any,
) -> SearchStrategy[Request]:
    """Requests to *operation_id* that the fragment -- and so any correct server -- accepts.

    Optional fields and query parameters come and go, arrays are sent as 1..n
    repeated keys, URLs are realistic absolute http(s) URLs (Update operations
    sometimes clear one with the empty string), and ``x-valid-requests-include``
    decides what a webhook of each ``Type`` always sends.

    Pin any value to use it verbatim in every request: path parameters by name
    (``ServiceSid=..., ChannelSid=...``, decoded), form fields through
    ``pinned={"Configuration.Url": ..., "Type": "webhook"}`` (or as keywords where
    the name allows). ``None`` (or ``[]`` for a repeated key) pins a field
    absent. A pin is checked against the fragment immediately; an unknown name or
    an invalid value raises :class:`InvalidStrategyArgument`.
    """
    plan = _requests.make_plan(operation_id, spec, pinned, pinned_kwargs)
    return _requests.valid_requests(plan)


def invalid_requests(
    operation_id: str,
    *,
    spec: Spec | None = None,
    defects: Collection[str] | None = None,
    pinned: Mapping[str, Any] | None = None,
    **pinned_kwargs: Any,
) -> SearchStrategy[Request]:
    """Requests to *operation_id* that break exactly one constraint of the fragment.

    ``request.defect`` is the kind (one of :data:`DEFECTS`), ``request.defect_field``
    the parameter or form field, ``request.description`` a sentence saying what
    is wrong. Everything else in the request is valid, and a failing test shrinks
    to the defect alone plus what the request cannot do without.

    ``defects`` restricts the kinds; asking for a kind the operation has no place
    for (``too_many_items`` where no field has ``maxItems``), or for invalid
    requests of an operation with nothing to break, raises
    :class:`InvalidStrategyArgument`. Pinned values (as for :func:`valid_requests`)
    fill every part of the request except the defective one, which may be a
    pinned field: a live run that pins its real ``ServiceSid`` still gets
    malformed-``ServiceSid`` requests, aimed at its real channel.
    """
    plan = _requests.make_plan(operation_id, spec, pinned, pinned_kwargs, invalid=True, defects=defects)
    return _requests.invalid_requests(plan)


def defects_for(operation_id: str, *, spec: Spec | None = None) -> tuple[str, ...]:
    """The defect kinds *operation_id* has a place for, in :data:`DEFECTS` order (may be empty).

    Useful for parametrizing a test over the kinds: ``invalid_requests(op,
    defects=[kind])`` is valid for exactly these.
    """
    plan = _requests.make_plan(operation_id, spec, None, {})
    sites, _ = _requests.available_sites(plan.model, {})
    found = {site.kind for site in sites}
    return tuple(kind for kind in DEFECTS if kind in found)


def sibling_values(operation_id: str, *, spec: Spec | None = None) -> dict[str, tuple[str, ...]]:
    """Per form field, the values a sibling endpoint accepts in a field of the same name and this
    operation does not (the account-only filters, for a service): each must be rejected here.

    The invalid strategies draw them too; this list lets a run try every one of them, whatever
    the seed.
    """
    plan = _requests.make_plan(operation_id, spec, None, {})
    model = plan.model
    out: dict[str, tuple[str, ...]] = {}
    for slot in model.body:
        schema = model._with_siblings(slot)
        target = schema.get("items", {}) if slot.is_array else schema
        if target.get("x-sibling-values"):
            out[slot.name] = tuple(target["x-sibling-values"])
    return out
