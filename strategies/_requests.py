"""Whole requests: per-field values assembled the way twilio-python sends them.

A *plan* is everything a caller decided (operation, pinned values, defect kinds),
checked eagerly so that a mistake is reported where it was made, not at the
first draw of a test three files away. A *model* is everything the fragment
decides about one operation (its parameters, fields, which fields a ``Type``
uses, which defects exist); it is built once per spec and operation and shared.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass
from typing import Any, Collection, Mapping

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from twilio_webhook_contracts.request import Request, encode_form, encode_path_segment, form_pairs
from twilio_webhook_contracts.spec import Operation, Spec, SpecError, default_spec
from twilio_webhook_contracts.validation import validator_for

from . import _values
from ._defects import DEFECTS, FieldDefect, field_defects

__all__ = [
    "InvalidStrategyArgument",
    "Model",
    "Plan",
    "Slot",
    "available_sites",
    "invalid_requests",
    "make_plan",
    "model_for",
    "valid_requests",
]

_INCLUDES = "x-valid-requests-include"
_ONLY = "x-valid-requests-only"


class InvalidStrategyArgument(InvalidArgument, ValueError):
    """An argument to a request strategy is wrong; the message says which and why.

    Both a Hypothesis ``InvalidArgument`` (what Hypothesis raises for a bad
    strategy argument) and a ``ValueError``, so either ``except`` catches it.
    """


@dataclass(frozen=True)
class Slot:
    """One place a request carries a value: a path or query parameter, or a form field."""

    location: str  # path | query | body
    name: str
    schema: Mapping[str, Any]
    required: bool

    @property
    def is_array(self) -> bool:
        return self.schema.get("type") == "array"


class Model:
    """What the fragment says about one operation, with its value strategies built once."""

    def __init__(self, spec: Spec, operation: Operation):
        # Weak: models are cached per spec in a WeakKeyDictionary, which a strong
        # reference back to the spec would keep alive forever.
        self._spec = weakref.ref(spec)
        self.operation = operation
        required = set(operation.required_fields)
        self.path = [Slot("path", p.name, p.schema, True) for p in operation.path_parameters]
        self.query = [Slot("query", p.name, p.schema, p.required) for p in operation.query_parameters]
        self.body = [Slot("body", n, s, n in required) for n, s in operation.form_fields.items()]
        self.slots = {s.name: s for s in [*self.path, *self.query, *self.body]}
        if len(self.slots) != len(self.path) + len(self.query) + len(self.body):
            raise SpecError(f"{operation.operation_id}: a parameter and a form field share a name")
        self.has_form = operation.form_schema is not None
        #: Valid requests never send an empty value: whether it clears a field or is
        #: rejected is an open point (``empty_value``), which the stateful suite
        #: probes on its own and judges by the server's own decision.
        self.clears = False
        self.discriminator, self.includes = self._read_includes()
        #: per value of the discriminator, the fields *another* value uses and this one does not:
        #: a valid request leaves them out (a field no value names is everyone's)
        self.only: Mapping[str, frozenset[str]] = _only(operation)
        self._strategies: dict[tuple[str, bool | None], SearchStrategy[Any]] = {}
        self._defects: list[FieldDefect] | None = None

    @property
    def spec(self) -> Spec:
        spec = self._spec()
        assert spec is not None, "a model outlived its spec"
        return spec

    def _read_includes(self) -> tuple[str | None, Mapping[str, tuple[str, ...]]]:
        """``x-valid-requests-include``: which field's value decides, and what it brings along."""
        schema = self.operation.form_schema or {}
        mapping = schema.get(_INCLUDES)
        if not mapping:
            return None, {}
        op = self.operation.operation_id
        keys = {str(k) for k in mapping}
        candidates = [
            s.name for s in self.body
            if keys <= {str(v) for v in s.schema.get("enum", ()) if v is not None}
        ]
        if len(candidates) != 1:
            raise SpecError(
                f"{op}: {_INCLUDES} keys {sorted(keys)} must be values of exactly one enum field; "
                f"found {candidates or 'none'}"
            )
        includes: dict[str, tuple[str, ...]] = {}
        for key, names in mapping.items():
            unknown = [n for n in names if n not in self.slots or self.slots[n].location != "body"]
            if unknown:
                raise SpecError(f"{op}: {_INCLUDES}[{key}] names unknown form fields {unknown}")
            includes[str(key)] = tuple(names)
        return candidates[0], includes

    # -- values ----------------------------------------------------------------

    def present(self, slot: Slot, *, clearing: bool = False) -> SearchStrategy[Any]:
        """Values for a slot that is sent (arrays: at least one item)."""
        key = (slot.name, clearing)
        if key not in self._strategies:
            if slot.is_array:
                # a list, as drawn: form_pairs sends a list and a tuple alike, and a
                # .map(tuple) would be one more draw per request
                strategy: SearchStrategy[Any] = _values.array_values(slot.schema)
            else:
                strategy = _values.scalar_values(slot.schema, location=slot.location, clears=clearing)
            self._strategies[key] = strategy
        return self._strategies[key]

    def optional(self, slot: Slot) -> SearchStrategy[Any]:
        """Values for a slot that may be left out (None); absent shrinks first."""
        key = (slot.name, None)
        if key not in self._strategies:
            self._strategies[key] = st.one_of(st.none(), self.present(slot, clearing=self.clears))
        return self._strategies[key]

    def defects(self) -> list[FieldDefect]:
        if self._defects is None:
            self._defects = [
                defect
                for slot in [*self.path, *self.query, *self.body]
                for defect in field_defects(slot.location, slot.name, self._with_siblings(slot), slot.required)
            ]
        return self._defects

    def _with_siblings(self, slot: Slot) -> Mapping[str, Any]:
        """The slot's schema, its enum joined by what a sibling endpoint accepts in a field of the
        same name and this one does not (``x-sibling-values``): the account-only filters sent to a
        service, Chat event names sent to Conversations. A server that validates against the wrong
        endpoint's list is caught; the values come from the fragments, never from a hand list."""
        schema = slot.schema
        target = schema.get("items", {}) if slot.is_array else schema
        if slot.location != "body" or "enum" not in target:
            return schema
        own = {str(v) for v in target["enum"] if v is not None}
        leaf = slot.name.rpartition(".")[2]
        found: list[str] = []
        for operation in self.spec:
            if operation.operation_id == self.operation.operation_id:
                continue
            for name, other in operation.form_fields.items():
                if name.rpartition(".")[2] != leaf:
                    continue
                values = other.get("items", {}) if other.get("type") == "array" else other
                for value in [*(values.get("enum") or ()), *(values.get("x-example-values") or ())]:
                    if value is not None and str(value) not in own and str(value) not in found:
                        found.append(str(value))
        if not found:
            return schema
        if slot.is_array:
            return {**schema, "items": {**target, "x-sibling-values": found}}
        return {**schema, "x-sibling-values": found}


_MODELS: "weakref.WeakKeyDictionary[Spec, dict[str, Model]]" = weakref.WeakKeyDictionary()


def model_for(spec: Spec, operation_id: str) -> Model:
    per_spec = _MODELS.setdefault(spec, {})
    if operation_id not in per_spec:
        per_spec[operation_id] = Model(spec, spec.operation(operation_id))
    return per_spec[operation_id]


# ---------------------------------------------------------------------------
# plans: the caller's decisions, checked


class Plan:
    """An operation, pinned wire values and (for invalid requests) where defects may go.

    Its repr is the call that made it, so a strategy reads back as
    ``valid_requests('CreateChannelWebhook', pinned={'Type': 'webhook'})``.
    """

    def __init__(
        self,
        model: Model,
        pins: Mapping[str, Any],
        shown_pins: Mapping[str, Any],
        *,
        default_spec: bool = True,
        sites: tuple[FieldDefect, ...] = (),
        kinds: tuple[str, ...] | None = None,
        fill: Mapping[str, tuple[str, ...]] | None = None,
    ):
        self.model = model
        self.spec = model.spec  # keeps a spec loaded for this strategy alive with it
        self.pins = dict(pins)
        self.shown_pins = dict(shown_pins)
        self.default_spec = default_spec
        self.sites = sites
        self.kinds = kinds
        #: missing-field site -> which other field to send so that the form is not empty
        self.fill = {name: st.sampled_from(names) for name, names in (fill or {}).items() if names}
        self.site_choice = st.sampled_from(sites) if sites else st.nothing()
        self.type_choice: SearchStrategy[Any] | None = None
        disc = model.discriminator
        if disc is not None and disc not in self.pins:
            choice = st.sampled_from(_types(model, self.pins))
            self.type_choice = choice if model.slots[disc].required else st.one_of(st.none(), choice)

    def __repr__(self) -> str:
        parts = [repr(self.model.operation.operation_id)]
        if not self.default_spec:
            parts.append(f"spec={self.model.spec!r}")
        if self.kinds is not None:
            parts.append(f"defects={list(self.kinds)!r}")
        if self.shown_pins:
            parts.append(f"pinned={self.shown_pins!r}")
        return ", ".join(parts)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # Hypothesis' pretty printer
        printer.text(repr(self))


def make_plan(
    operation_id: str,
    spec: Spec | None,
    pinned: Mapping[str, Any] | None,
    pinned_kwargs: Mapping[str, Any],
    *,
    invalid: bool = False,
    defects: Collection[str] | None = None,
) -> Plan:
    if not isinstance(operation_id, str):
        raise InvalidStrategyArgument(f"operation_id must be a string such as 'CreateChannelWebhook', not {operation_id!r}")
    if spec is not None and not isinstance(spec, Spec):
        raise InvalidStrategyArgument(f"spec must be a twilio_webhook_contracts.spec.Spec (Spec.load(dir)), not {spec!r}")
    resolved = spec if spec is not None else default_spec()
    try:
        model = model_for(resolved, operation_id)
    except SpecError as exc:
        raise InvalidStrategyArgument(str(exc)) from None
    op = operation_id
    if pinned is not None and not isinstance(pinned, Mapping):
        raise InvalidStrategyArgument(f"pinned must be a mapping of field name to value, not {pinned!r}")
    raw = dict(pinned or {})
    for name, value in pinned_kwargs.items():
        if name in raw:
            raise InvalidStrategyArgument(f"{op}: {name} is pinned twice (in pinned= and as a keyword)")
        raw[name] = value
    pins = _check_pins(model, raw)
    plan = Plan(model, pins, raw, default_spec=spec is None)
    if not invalid:
        return plan
    return _with_sites(plan, defects)


def _hint(model: Model, name: str) -> str:
    dotted = name.replace("_", ".")
    if dotted in model.slots:
        return f" (did you mean pinned={{{dotted!r}: ...}}? dotted names cannot be keywords)"
    lowered = {n.lower(): n for n in model.slots}
    if name.lower() in lowered:
        return f" (did you mean {lowered[name.lower()]!r}?)"
    return ""


def _to_wire(model: Model, slot: Slot, value: Any) -> Any:
    op = model.operation.operation_id
    where = f"{op}: cannot pin {slot.name}={value!r}"
    if slot.location == "path":
        if not isinstance(value, str):
            raise InvalidStrategyArgument(f"{where}: a path parameter is a (decoded) string")
        if not value or "/" in value or value in (".", ".."):
            raise InvalidStrategyArgument(
                f"{where}: a path segment must be non-empty, without '/', and not '.' or '..'"
            )
        return value
    if value is None:
        if slot.required:
            raise InvalidStrategyArgument(f"{where}: it is required, so it cannot be left out")
        return None
    if slot.is_array:
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
            raise InvalidStrategyArgument(
                f"{where}: {slot.name} is a repeated key; pin a list such as [{value!r}]"
            )
        if not value:
            if slot.required:
                raise InvalidStrategyArgument(f"{where}: it is required, and an empty list sends nothing")
            return None
        return tuple(_scalar_wire(where, slot.schema.get("items", {}), item) for item in value)
    return _scalar_wire(where, slot.schema, value)


def _scalar_wire(where: str, schema: Mapping[str, Any], value: Any) -> str:
    if isinstance(value, bool):
        if schema.get("type") != "boolean":
            raise InvalidStrategyArgument(f"{where}: a bool is only meaningful for a boolean field")
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int) or (isinstance(value, float) and schema.get("type") == "number"):
        return str(value)
    raise InvalidStrategyArgument(f"{where}: expected a string or an integer, not {type(value).__name__}")


_INDEX = re.compile(r"\[[0-9]+\]$")


def _check_pins(model: Model, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Wire values of the pins, each one checked against the fragment now."""
    op = model.operation.operation_id
    pins: dict[str, Any] = {}
    for name, value in raw.items():
        slot = model.slots.get(name)
        if slot is None:
            known = ", ".join(model.slots) or "nothing"
            raise InvalidStrategyArgument(
                f"{op}: cannot pin {name!r}: no such path parameter, query parameter or form field{_hint(model, name)}. "
                f"{op} has: {known}"
            )
        pins[name] = _to_wire(model, slot, value)
    if not pins:
        return pins
    validator = validator_for(op, model.spec)
    problems = []
    path = {n: encode_path_segment(v) for n, v in pins.items() if model.slots[n].location == "path"}
    if path:
        problems += validator.path_violations(path)
    query = [(n, v) for n, v in pins.items() if model.slots[n].location == "query" and v is not None]
    if query:
        problems += validator.query_violations(query)
    body = [(n, v) for n, v in pins.items() if model.slots[n].location == "body"]
    if body:
        problems += validator.form_violations(encode_form(form_pairs(body)))
    problems = [p for p in problems if _INDEX.sub("", p.field) in pins]
    if problems:
        raise InvalidStrategyArgument(
            f"{op}: pinned values must be valid, but " + "; ".join(p.message.split(": ", 1)[1] for p in problems)
        )
    if model.discriminator is not None:
        kind = pins.get(model.discriminator)
        for name in model.includes.get(kind, ()) if kind is not None else ():
            if name in pins and pins[name] is None:
                raise InvalidStrategyArgument(
                    f"{op}: {model.discriminator}={kind!r} requests always include {name} "
                    f"({_INCLUDES} in the fragment), so it cannot be pinned absent"
                )
        if model.discriminator not in pins and not _types(model, pins):
            raise InvalidStrategyArgument(
                f"{op}: every {model.discriminator} needs a field pinned absent here; nothing valid is left"
            )
    return pins


def _types(model: Model, pins: Mapping[str, Any]) -> list[str]:
    """The discriminator values a valid request may take, given fields pinned absent."""
    slot = model.slots[model.discriminator] if model.discriminator else None
    if slot is None:
        return []
    values = [str(v) for v in slot.schema.get("enum", ()) if v is not None]
    return [
        v for v in values
        if not any(name in pins and pins[name] is None for name in model.includes.get(v, ()))
    ]


def _with_sites(plan: Plan, defects: Collection[str] | None) -> Plan:
    model = plan.model
    op = model.operation.operation_id
    if defects is not None:
        if isinstance(defects, str) or not isinstance(defects, Collection):
            raise InvalidStrategyArgument(
                f"defects must be a collection of kinds such as [{defects!r}], not {defects!r}"
            )
        unknown = [d for d in defects if d not in DEFECTS]
        if unknown:
            raise InvalidStrategyArgument(f"unknown defect kind(s) {unknown}; the kinds are: {', '.join(DEFECTS)}")
        if not defects:
            raise InvalidStrategyArgument("defects is empty; leave it out for every kind that applies")
    sites, fill = available_sites(model, plan.pins)
    available = [kind for kind in DEFECTS if any(s.kind == kind for s in sites)]
    if not sites:
        raise InvalidStrategyArgument(
            f"{op} has nothing a request can get wrong: no path or query parameter and no form field "
            f"with a constraint to break, so there are no invalid requests to generate"
        )
    if defects is not None:
        missing = [d for d in defects if d not in available]
        if missing:
            raise InvalidStrategyArgument(
                f"{op} has no place for {', '.join(missing)} "
                f"({'; '.join(DEFECTS[d] for d in missing)}); the kinds that apply here are: {', '.join(available)}"
            )
        sites = [s for s in sites if s.kind in defects]
    return Plan(model, plan.pins, plan.shown_pins, default_spec=plan.default_spec, sites=tuple(sites),
                kinds=tuple(defects) if defects is not None else None, fill=fill)


def available_sites(model: Model, pins: Mapping[str, Any]) -> tuple[list[FieldDefect], dict[str, tuple[str, ...]]]:
    """The defects a request can carry given the pins, and for each missing field what else to send."""
    fill: dict[str, tuple[str, ...]] = {}
    sites = []
    for site in model.defects():
        if site.constraint == "required" and site.location == "body":
            # The rest of the form is still sent: the defect is the one missing field,
            # not an empty body (which a server reports differently).
            others = [s.name for s in model.body if s.name != site.name]
            if any(pins.get(n) is not None for n in others):
                fill[site.name] = ()
            else:
                fill[site.name] = tuple(n for n in others if n not in pins)
                if not fill[site.name]:
                    continue
        sites.append(site)
    return sites, fill


# ---------------------------------------------------------------------------
# assembly

#: Whether an optional slot is sent: the same choice as ``Model.optional`` (absent
#: is the simpler value, half of the requests send it), for one draw instead of two
#: (``one_of`` and then ``none()``) every time the slot is left out.
_SENT = st.booleans()


def _assemble(
    draw: Any,
    plan: Plan,
    *,
    replace: Mapping[str, Any] | None = None,
    force: Collection[str] = (),
    defect: FieldDefect | None = None,
    description: str = "",
) -> Request:
    model, pins = plan.model, plan.pins
    replace = replace or {}

    def value(slot: Slot, *, sent: bool) -> Any:
        if slot.name in replace:
            return replace[slot.name]
        if slot.name in pins:
            return pins[slot.name]
        if sent:
            return draw(model.present(slot))
        if draw(_SENT):  # what model.optional(slot) draws, in fewer draws
            return draw(model.present(slot, clearing=model.clears))
        return None

    path_values = {slot.name: value(slot, sent=True) for slot in model.path}
    query: list[tuple[str, Any]] = [(slot.name, value(slot, sent=slot.required)) for slot in model.query]
    form = None
    if model.has_form:
        includes: tuple[str, ...] = ()
        chosen: dict[str, Any] = {}
        disc = model.discriminator
        if disc is not None:
            if disc in replace or disc in pins:
                kind = replace[disc] if disc in replace else pins[disc]
            else:
                assert plan.type_choice is not None
                kind = draw(plan.type_choice)
                defective = set(replace) - {disc}
                if defective & model.only.get(kind, frozenset()):
                    # a defect in a field its Type does not use could be ignored, not rejected
                    # (type_fields is open): give the request a Type that uses the field
                    fitting = [k for k in _types(model, pins) if not defective & model.only.get(k, frozenset())]
                    kind = fitting[0] if fitting else kind
            chosen[disc] = kind
            includes = model.includes.get(kind, ()) if isinstance(kind, str) else ()
        fields = []
        others = model.only.get(kind, frozenset()) if disc is not None and isinstance(chosen.get(disc), str) else frozenset()
        for slot in model.body:
            if slot.name in chosen:
                v = chosen[slot.name]
            elif slot.name in includes and slot.name not in replace and slot.name not in pins:
                v = draw(model.present(slot))
            elif (slot.name in others and slot.name not in replace
                  and slot.name not in force and not slot.required and slot.name != disc):
                v = pins.get(slot.name)  # another Type's field: whether it is ignored is open (type_fields)
            else:
                v = value(slot, sent=slot.required or slot.name in force)
            fields.append((slot.name, v))
        form = form_pairs(fields)
    operation = model.operation
    return Request.build(
        operation.operation_id,
        operation.method,
        operation.render_path({n: encode_path_segment(v) for n, v in path_values.items()}),
        path_params=path_values,
        query=form_pairs(query),
        form=form,
        defect=defect.kind if defect else None,
        defect_field=defect.name if defect else None,
        description=description,
    )


@st.composite
def valid_requests(draw: Any, plan: Plan) -> Request:
    return _assemble(draw, plan)


@st.composite
def invalid_requests(draw: Any, plan: Plan) -> Request:
    site = draw(plan.site_choice)
    bad = draw(site.values)
    force: tuple[str, ...] = ()
    if site.constraint == "required" and site.name in plan.fill:
        force = (draw(plan.fill[site.name]),)
    return _assemble(draw, plan, replace={site.name: bad.value}, force=force, defect=site, description=bad.description)


def _only(operation: Operation) -> dict[str, frozenset[str]]:
    """``x-valid-requests-only`` turned round: per value, the fields only other values use."""
    mapping = {str(k): frozenset(v) for k, v in ((operation.form_schema or {}).get(_ONLY) or {}).items()}
    claimed = frozenset().union(*mapping.values()) if mapping else frozenset()
    return {kind: claimed - names for kind, names in mapping.items()}


def fields_unused_by(kind: str, spec: Spec | None = None, operation_id: str = "CreateChannelWebhook") -> tuple[str, ...]:
    """The form fields that a webhook of *kind* does not use and another kind does (``x-valid-requests-only``)."""
    unused = _only((spec or default_spec()).operation(operation_id)).get(kind, frozenset())
    return tuple(sorted(unused))
