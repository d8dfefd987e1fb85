"""Spec drift: the bundled fragments against a (newer) Twilio OpenAPI description.

``webhook-contracts drift UPSTREAM.json`` compares the fragments with a
twilio-oai file for the same paths -- ``twilio_conversations_v1.json`` and/or
``twilio_chat_v2.json`` / ``twilio_ip_messaging_v2.json``, whole or cut down to
these paths -- matching operations by operationId, and lists every difference a
client can notice on the wire: operations, parameters, form fields and response
properties added or removed, required-ness, types, nullability, enum values,
patterns, formats and bounds, response statuses, content types and headers.

Each difference is **breaking**, **additive** or **deliberate**.

Breaking or additive is judged from a client's point of view -- a client built
on the fragments, talking to the Twilio the upstream file describes:

* requests (parameters, form fields): a removed field, a new required one, a
  narrowed enum or range, a new or changed pattern, a changed type are breaking;
  a new optional field, a widened enum or range, a dropped constraint are additive;
* responses: a removed property, a property that may now be absent or ``null``,
  a changed type, a dropped or changed pattern/format/bound, a removed success
  status or content type are breaking; a new property, a new documented status,
  a property now always present are additive;
* **a widened response enum is additive**: the fragments and the README treat a
  new event or type name as an additive change (clients must tolerate unknown
  values, as Twilio adds them this way). It is still listed, because the
  fragment's closed enum would reject the new value until it is updated.

**Deliberate** differences are the documented ones: the fragment is stricter
than Twilio's spec where that spec leaves something open, at a node that
carries ``x-tightening`` (or anywhere ``x-decision`` records a docs-versus-spec
disagreement), and the error responses (400/401/404/405/429) the fragments add.
They are reported with the note's text. Precisely, a difference under a noted
node is deliberate when the fragment *adds* a constraint the upstream node does
not have at all (a type, an enum, a pattern, a bound, properties, ``required``
for a property upstream lists as optional; for ``x-decision`` also a keyword
such as ``nullable`` in either direction). When Twilio's spec itself changes
there -- a property or operation disappears, an enum both sides have differs,
a bound both sides have moves -- the note does not explain it: it is reported
as breaking or additive, with the note attached so the decision can be
revisited.

Not compared: descriptions, examples, ``x-`` extensions, servers (the Chat
paths are served at two hosts), security schemes, and the browser-only CORS
response headers (``Access-Control-*``) twilio-oai documents on every response.
Path parameters are paired by position: a renamed path parameter is not a wire
change.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

import yaml

from .spec import Spec, SpecError, default_spec, resolve

__all__ = ["BREAKING", "ADDITIVE", "DELIBERATE", "Difference", "DriftError", "DriftReport", "compare", "drift",
           "load_upstream"]

BREAKING, ADDITIVE, DELIBERATE = "breaking", "additive", "deliberate"
_ORDER = {BREAKING: 0, ADDITIVE: 1, DELIBERATE: 2}
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
_PARAM = re.compile(r"\{[^}/]+\}")
_SCALAR_KEYWORDS = ("pattern", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
                    "minLength", "maxLength", "minItems", "maxItems", "multipleOf", "uniqueItems")
_LOWER_BOUNDS = {"minimum", "minLength", "minItems"}
_UPPER_BOUNDS = {"maximum", "maxLength", "maxItems"}
_ERROR_NOTE = ("Error responses are not in Twilio's spec at all; the fragments document them with Twilio's "
               "error body {code, message, more_info, status} (README: Error responses).")


class DriftError(Exception):
    """An upstream file cannot be used; the message is one line."""


@dataclass(frozen=True)
class Difference:
    """One difference between the fragments ("ours") and the upstream description."""

    severity: str  # breaking | additive | deliberate
    operation_id: str
    where: str  # "operation", "parameter query PageSize", "request body field Type", "response 200 $.url"
    change: str
    note: str | None = None  # the x-tightening / x-decision text in force at this node
    note_kind: str | None = None  # "x-tightening" | "x-decision" | "error responses"
    source: str = ""

    def line(self) -> str:
        label = self.severity.upper() if self.severity != DELIBERATE else DELIBERATE
        return f"{label} {self.operation_id} {self.where}: {self.change}"


@dataclass
class SourceSummary:
    path: str
    apis: list[str]
    matched: int
    expected: int


@dataclass
class DriftReport:
    sources: list[SourceSummary] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)

    def of(self, severity: str) -> list[Difference]:
        return [d for d in self.differences if d.severity == severity]

    @property
    def breaking(self) -> list[Difference]:
        return self.of(BREAKING)

    @property
    def exit_status(self) -> int:
        return 1 if self.breaking else 0

    def counts(self) -> dict[str, int]:
        return {severity: len(self.of(severity)) for severity in (BREAKING, ADDITIVE, DELIBERATE)}

    def text(self, *, show_deliberate: bool = True, full_notes: bool = False) -> str:
        """One line per distinct difference; the same difference on several operations is listed once."""
        lines = []
        for source in self.sources:
            lines.append(f"== {source.path}: {', '.join(source.apis)}; {source.matched} of {source.expected} "
                         f"operations of the fragments found")
            grouped: dict[tuple, list[str]] = {}
            for diff in self.differences:
                if diff.source != source.path or (diff.severity == DELIBERATE and not show_deliberate):
                    continue
                key = (diff.severity, diff.where, diff.change, diff.note, diff.note_kind)
                grouped.setdefault(key, []).append(diff.operation_id)
            for (severity, where, change, note, note_kind), operations in sorted(
                    grouped.items(), key=lambda item: _ORDER[item[0][0]]):
                label = severity.upper() if severity != DELIBERATE else severity
                ops = ", ".join(operations) if len(operations) <= 3 else f"{len(operations)} operations"
                line = f"{label:10}  {where} [{ops}]: {change}"
                if note:
                    text = note if full_notes else _first_sentence(note)
                    prefix = note_kind if severity == DELIBERATE else f"(under {note_kind}: review it)"
                    line += f"\n{'':12}{prefix}: {text}"
                lines.append(line)
        counts = self.counts()
        lines.append(f"{counts[BREAKING]} breaking, {counts[ADDITIVE]} additive, {counts[DELIBERATE]} deliberate "
                     f"difference(s)" + ("" if show_deliberate or not counts[DELIBERATE] else " (deliberate ones not shown)"))
        return "\n".join(lines) + "\n"

    def as_dict(self) -> dict[str, Any]:
        return {
            "sources": [asdict(source) for source in self.sources],
            "counts": self.counts(),
            "exit_status": self.exit_status,
            "differences": [asdict(diff) for diff in self.differences],
        }


# ---------------------------------------------------------------------------
# reading


def load_upstream(path: str | Path) -> dict[str, Any]:
    """A Twilio OpenAPI file (JSON or YAML); :class:`DriftError` when it cannot be one."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DriftError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DriftError(f"{path}: is a directory, expected an OpenAPI file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DriftError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        if path.suffix.lower() == ".json" or text.lstrip().startswith("{"):
            data = json.loads(text)
        else:
            data = yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DriftError(f"{path}: not valid JSON or YAML: {first}") from None
    if not isinstance(data, dict) or not isinstance(data.get("paths"), dict) or "openapi" not in data:
        raise DriftError(f"{path}: not an OpenAPI 3 document (no 'openapi' and 'paths')")
    return data


# ---------------------------------------------------------------------------
# comparing


@dataclass(frozen=True)
class _Op:
    operation_id: str
    method: str
    path: str
    raw: Mapping[str, Any]
    item: Mapping[str, Any]


def _operations(document: Mapping[str, Any]) -> dict[str, _Op]:
    ops = {}
    for path, item in (document.get("paths") or {}).items():
        if not isinstance(item, Mapping):
            continue
        for method in _METHODS:
            raw = item.get(method)
            if isinstance(raw, Mapping) and isinstance(raw.get("operationId"), str):
                ops[raw["operationId"]] = _Op(raw["operationId"], method.upper(), path, raw, item)
    return ops


def _shape(path: str) -> str:
    return _PARAM.sub("{}", path)


def drift(upstream_paths: list[str | Path], spec: Spec | None = None) -> DriftReport:
    """Compare the fragments of *spec* (default: bundled) with each upstream file."""
    spec = spec or default_spec()
    report = DriftReport()
    for upstream_path in upstream_paths:
        document = load_upstream(upstream_path)
        name = str(upstream_path)
        upstream_ops = _operations(document)
        upstream_shapes = {_shape(op.path) for op in upstream_ops.values()} | {_shape(p) for p in document["paths"]}
        apis = []
        for api, ours_doc in spec.documents.items():
            ours_ops = _operations(ours_doc)
            if set(ours_ops) & set(upstream_ops) or {_shape(op.path) for op in ours_ops.values()} & upstream_shapes:
                apis.append(api)
        if not apis:
            known = ", ".join(sorted(op for op in spec.operations))
            raise DriftError(f"{name}: describes none of the fragments' operations ({known})")
        summary = SourceSummary(name, apis, 0, 0)
        for api in apis:
            diffs, matched, expected = compare(spec.documents[api], document, source=name)
            report.differences += diffs
            summary.matched += matched
            summary.expected += expected
        report.sources.append(summary)
    return report


def compare(ours_doc: Mapping[str, Any], upstream_doc: Mapping[str, Any], source: str = "") -> tuple[list[Difference], int, int]:
    """Differences between one API's bundled document and an upstream document; (diffs, matched, expected)."""
    ours_ops = _operations(ours_doc)
    upstream_ops = _operations(upstream_doc)
    out: list[Difference] = []
    matched = 0
    try:
        for op_id, ours in ours_ops.items():
            up = upstream_ops.get(op_id)
            if up is None:
                out.append(Difference(BREAKING, op_id, "operation",
                                      f"{ours.method} {ours.path} is no longer in the upstream description", source=source))
                continue
            matched += 1
            _Comparison(op_id, ours_doc, upstream_doc, source, out).operation(ours, up)
        ours_shapes = {_shape(op.path) for op in ours_ops.values()}
        for op_id, up in upstream_ops.items():
            if op_id not in ours_ops and _shape(up.path) in ours_shapes:
                out.append(Difference(ADDITIVE, op_id, "operation",
                                      f"new operation {up.method} {up.path} (not in the fragments)", source=source))
    except SpecError as exc:
        raise DriftError(f"{source}: {exc}") from None
    return out, matched, len(ours_ops)


def _severity(side: str, direction: str, keyword: str = "") -> str:
    """Breaking or additive, from a client's point of view (see the module docstring)."""
    if side == "request":
        return ADDITIVE if direction in ("wider", "added") else BREAKING
    if direction == "wider" and keyword == "enum":
        return ADDITIVE  # decision: a new enum value in a response is additive
    return ADDITIVE if direction in ("narrower", "added") else BREAKING


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    match = re.match(r"(.+?[.])(\s|$)", text)
    sentence = match.group(1) if match else text
    return sentence if len(sentence) <= 160 else sentence[:157] + "..."


def _values(values: Any) -> str:
    return ", ".join("null" if v is None else str(v) for v in sorted(values, key=str))


@dataclass(frozen=True)
class _Note:
    kind: str  # x-tightening | x-decision
    text: str


def _notes_of(node: Mapping[str, Any], inherited: tuple[_Note, ...]) -> tuple[_Note, ...]:
    own = tuple(_Note(kind, " ".join(str(node[kind]).split())) for kind in ("x-tightening", "x-decision")
                if isinstance(node, Mapping) and kind in node)
    return own if own else inherited


class _Comparison:
    """The differences of one operation; ``side`` is ``request`` or ``response``."""

    def __init__(self, op_id: str, ours_doc: Mapping[str, Any], upstream_doc: Mapping[str, Any], source: str,
                 out: list[Difference]):
        self.op_id = op_id
        self.ours_doc = ours_doc
        self.upstream_doc = upstream_doc
        self.source = source
        self.out = out

    # -- recording ------------------------------------------------------------

    def add(self, where: str, change: str, side: str, direction: str, notes: tuple[_Note, ...], *,
            ours_adds: bool = False, keyword: str = "") -> None:
        """Record one difference. *ours_adds*: the fragment has a constraint upstream lacks entirely."""
        severity = _severity(side, direction, keyword)
        note = None
        if notes:
            tightening = next((n for n in notes if n.kind == "x-tightening"), None)
            decision = next((n for n in notes if n.kind == "x-decision"), None)
            if ours_adds and tightening is not None and direction in ("wider", "required-only-ours"):
                severity, note = DELIBERATE, tightening
            elif ours_adds and decision is not None:
                severity, note = DELIBERATE, decision
            else:
                note = tightening or decision
        if direction == "required-only-ours" and severity != DELIBERATE:
            severity = _severity(side, "wider")
        self.out.append(Difference(severity, self.op_id, where, change, note.text if note else None,
                                   note.kind if note else None, self.source))

    # -- operation --------------------------------------------------------------

    def operation(self, ours: _Op, up: _Op) -> None:
        if ours.method != up.method or _shape(ours.path) != _shape(up.path):
            self.add("operation", f"moved from {ours.method} {ours.path} to {up.method} {up.path}", "request", "changed", ())
        self.parameters(ours, up)
        self.request_body(ours, up)
        self.responses(ours, up)

    def _resolve_ours(self, node: Any) -> Any:
        return resolve(node, self.ours_doc)

    def _resolve_up(self, node: Any) -> Any:
        return resolve(node, self.upstream_doc)

    def parameters(self, ours: _Op, up: _Op) -> None:
        def collect(op: _Op, resolver) -> dict[tuple[str, str], dict[str, Any]]:
            params: dict[tuple[str, str], dict[str, Any]] = {}
            for raw in [*(op.item.get("parameters") or []), *(op.raw.get("parameters") or [])]:
                param = resolver(raw)
                if isinstance(param, Mapping) and "name" in param and "in" in param:
                    params[(param["in"], param["name"])] = dict(param)
            return params

        ours_params = collect(ours, self._resolve_ours)
        up_params = collect(up, self._resolve_up)
        # path parameters pair by position: a renamed one is the same segment on the wire
        ours_path = _PARAM.findall(ours.path)
        up_path = _PARAM.findall(up.path)
        renames = {("path", o[1:-1]): ("path", u[1:-1]) for o, u in zip(ours_path, up_path)}
        for key, param in ours_params.items():
            where = f"parameter {key[0]} {key[1]}"
            notes = _notes_of(param, ())
            counterpart = up_params.get(renames.get(key, key))
            if counterpart is None:
                if key[0] != "path":  # a path segment that disappeared is a moved operation (reported above)
                    self.add(where, "removed upstream", "request", "removed", notes)
                continue
            o_req, u_req = bool(param.get("required")), bool(counterpart.get("required"))
            if o_req and not u_req:
                self.add(where, "required in the fragments, optional upstream", "request", "required-only-ours",
                         notes, ours_adds=True)
            elif u_req and not o_req:
                self.add(where, "now required upstream", "request", "narrower", notes)
            self.schema(param.get("schema") or {}, counterpart.get("schema") or {}, "request", where, notes)
        matched_up = {renames.get(key, key) for key in ours_params}
        for key, param in up_params.items():
            if key in matched_up:
                continue
            where = f"parameter {key[0]} {key[1]}"
            if param.get("required"):
                self.add(where, "new required parameter upstream", "request", "narrower", ())
            else:
                self.add(where, "new optional parameter upstream", "request", "added", ())

    def request_body(self, ours: _Op, up: _Op) -> None:
        ours_body = self._resolve_ours(ours.raw.get("requestBody")) or {}
        up_body = self._resolve_up(up.raw.get("requestBody")) or {}
        ours_content = ours_body.get("content") or {}
        up_content = up_body.get("content") or {}
        if not ours_content and not up_content:
            return
        for media in ours_content:
            if up_content and media not in up_content:
                self.add("request body", f"upstream no longer takes {media} (takes {', '.join(up_content)})",
                         "request", "changed", ())
        media = next((m for m in ours_content if m in up_content), None)
        ours_schema = (ours_content.get(media) or {}).get("schema") or {} if media else {}
        up_schema = (up_content.get(media) or {}).get("schema") or {} if media else {}
        if media is None:
            ours_schema = (next(iter(ours_content.values()), {}) or {}).get("schema") or {}
            up_schema = (next(iter(up_content.values()), {}) or {}).get("schema") or {}
        ours_required = bool(ours_body.get("required")) or bool(ours_schema.get("required"))
        up_required = bool(up_body.get("required")) or bool(up_schema.get("required"))
        if up_required and not ours_required and not up_schema.get("required"):
            self.add("request body", "a request body is now required upstream", "request", "narrower", ())
        self.schema(ours_schema, up_schema, "request", "request body", (), field_names=True)

    def responses(self, ours: _Op, up: _Op) -> None:
        ours_responses = {str(k): self._resolve_ours(v) for k, v in (ours.raw.get("responses") or {}).items()}
        up_responses = {str(k): self._resolve_up(v) for k, v in (up.raw.get("responses") or {}).items()}
        for status, response in ours_responses.items():
            where = f"response {status}"
            if status not in up_responses:
                if status[:1] in ("4", "5"):
                    schema = _first_schema(response)
                    text = (schema or {}).get("x-tightening") if isinstance(schema, Mapping) else None
                    note = " ".join(str(text).split()) if text else _ERROR_NOTE
                    self.out.append(Difference(DELIBERATE, self.op_id, where,
                                               "documented by the fragments only (Twilio's spec has no error responses)",
                                               note, "error responses", self.source))
                else:
                    self.add(where, "no longer documented upstream", "response", "removed", ())
                continue
            self.response(status, response, up_responses[status])
        for status in up_responses:
            if status not in ours_responses:
                self.add(f"response {status}", "newly documented upstream", "response", "added", ())

    def response(self, status: str, ours: Mapping[str, Any], up: Mapping[str, Any]) -> None:
        where = f"response {status}"
        ours_content = ours.get("content") or {}
        up_content = up.get("content") or {}
        for media in ours_content:
            if media not in up_content:
                found = ", ".join(up_content) or "no body"
                self.add(where, f"upstream no longer answers {media} ({found})", "response", "removed", ())
        for media in up_content:
            if media not in ours_content:
                self.add(where, f"upstream may also answer {media}", "response", "wider", ())
        for media, content in ours_content.items():
            if media in up_content:
                self.schema((content or {}).get("schema") or {}, (up_content[media] or {}).get("schema") or {},
                            "response", f"{where} $", ())
        ours_headers = {k.lower(): (k, v) for k, v in (ours.get("headers") or {}).items()}
        up_headers = {k.lower(): (k, v) for k, v in (up.get("headers") or {}).items()
                      if not k.lower().startswith("access-control-")}
        for key, (name, header) in ours_headers.items():
            if key not in up_headers:
                self.add(f"{where} header {name}", "no longer documented upstream", "response", "removed", ())
            else:
                self.schema(header.get("schema") or {}, up_headers[key][1].get("schema") or {}, "response",
                            f"{where} header {name}", _notes_of(header, ()))
        for key, (name, _) in up_headers.items():
            if key not in ours_headers:
                self.add(f"{where} header {name}", "newly documented upstream", "response", "added", ())

    # -- schemas ------------------------------------------------------------------

    def schema(self, ours: Mapping[str, Any], up: Mapping[str, Any], side: str, where: str,
               notes: tuple[_Note, ...], field_names: bool = False) -> None:
        """Compare two resolved schemas; *field_names*: properties are form fields (request body)."""
        if not isinstance(ours, Mapping) or not isinstance(up, Mapping):
            return
        notes = _notes_of(ours, notes)
        # type
        o_type, u_type = ours.get("type"), up.get("type")
        if o_type != u_type:
            if u_type is None:
                self.add(where, f"typed {o_type} by the fragments; upstream leaves the type open", side, "wider",
                         notes, ours_adds=True)
            elif o_type is None:
                self.add(where, f"now typed {u_type} upstream", side, "narrower", notes)
            else:
                self.add(where, f"type changed from {o_type} to {u_type}", side, "changed", notes)
                return
        # nullability (a null in an enum counts)
        o_null = bool(ours.get("nullable")) or None in (ours.get("enum") or ())
        u_null = bool(up.get("nullable")) or None in (up.get("enum") or ())
        if o_null and not u_null:
            self.add(where, "null allowed by the fragments, not upstream", side, "narrower", notes,
                     ours_adds=True)
        elif u_null and not o_null:
            self.add(where, "may be null upstream", side, "wider", notes)
        # enum
        o_enum = None if "enum" not in ours else {v for v in ours["enum"] if v is not None}
        u_enum = None if "enum" not in up else {v for v in up["enum"] if v is not None}
        if o_enum is not None and u_enum is None:
            self.add(where, f"limited to {_values(o_enum)} by the fragments; upstream has no enum", side, "wider",
                     notes, ours_adds=True, keyword="enum")
        elif u_enum is not None and o_enum is None:
            self.add(where, f"upstream now limits it to {_values(u_enum)}", side, "narrower", notes, keyword="enum")
        elif o_enum is not None and u_enum is not None:
            if o_enum - u_enum:
                self.add(where, f"enum values removed upstream: {_values(o_enum - u_enum)}", side, "narrower", notes,
                         keyword="enum")
            if u_enum - o_enum:
                hint = "; the fragment's closed enum rejects them until it is updated" if side == "response" else ""
                self.add(where, f"enum values added upstream: {_values(u_enum - o_enum)}{hint}", side, "wider", notes,
                         keyword="enum")
        # scalar constraints (those only the fragment has are reported together)
        only_ours_constraints = []
        for keyword in _SCALAR_KEYWORDS:
            o_value, u_value = ours.get(keyword), up.get(keyword)
            if o_value == u_value:
                continue
            if keyword == "format" and ours.get("pattern") is not None:
                continue  # the fragment states the shape as a pattern; the pattern is compared instead
            if u_value is None:
                only_ours_constraints.append(f"{keyword} {o_value!r}")
            elif o_value is None:
                self.add(where, f"upstream adds {keyword} {u_value!r}", side, "narrower", notes, keyword=keyword)
            else:
                direction = "changed"
                if keyword in _LOWER_BOUNDS:
                    direction = "narrower" if u_value > o_value else "wider"
                elif keyword in _UPPER_BOUNDS:
                    direction = "narrower" if u_value < o_value else "wider"
                self.add(where, f"{keyword} changed from {o_value!r} to {u_value!r}", side, direction, notes,
                         keyword=keyword)
        if only_ours_constraints:
            self.add(where, f"{', '.join(only_ours_constraints)} in the fragments; upstream has no such constraint",
                     side, "wider", notes, ours_adds=True)
        # object properties
        o_props = ours.get("properties") if isinstance(ours.get("properties"), Mapping) else None
        u_props = up.get("properties") if isinstance(up.get("properties"), Mapping) else None
        o_required = set(ours.get("required") or ())
        u_required = set(up.get("required") or ())
        if o_props is not None and u_props is None:
            if o_props:
                self.add(where, f"properties {', '.join(o_props)} described by the fragments; upstream leaves the "
                         f"object open", side, "wider", notes, ours_adds=True)
        elif o_props is not None and u_props is not None:
            for name in o_props:
                sub = self._child(where, name, field_names)
                if name not in u_props:
                    if side == "request":
                        self.add(sub, "removed upstream", side, "removed", notes)
                    else:
                        self.add(sub, "no longer in the upstream response", side, "removed", notes)
                    continue
                self.schema(o_props[name], u_props[name], side, sub, notes)
            for name in u_props:
                if name in o_props:
                    continue
                sub = self._child(where, name, field_names)
                if side == "request" and name in u_required:
                    self.add(sub, "new required parameter upstream", side, "narrower", notes)
                elif side == "request":
                    self.add(sub, "new optional parameter upstream", side, "added", notes)
                else:
                    self.add(sub, "new property upstream", side, "added", notes)
        elif u_props is not None and o_props is None and u_props:
            self.add(where, f"upstream now describes properties {', '.join(u_props)}", side, "narrower", notes)
        common = set(o_props or ()) & set(u_props or ())
        only_ours = sorted(n for n in o_required - u_required if n in common)
        only_up = sorted(n for n in u_required - o_required if n in common)
        if only_ours:
            self.add(where, f"required by the fragments, optional upstream: {', '.join(only_ours)}", side,
                     "required-only-ours", notes, ours_adds=True)
        if only_up:
            text = "now required upstream" if side == "request" else "now always present upstream"
            self.add(where, f"{text}: {', '.join(only_up)}", side, "narrower", notes)
        # array items
        o_items, u_items = ours.get("items"), up.get("items")
        if isinstance(o_items, Mapping) and isinstance(u_items, Mapping):
            self.schema(o_items, u_items, side, where + ("[]" if not field_names else " items"), notes)
        elif isinstance(o_items, Mapping) and u_items is None and o_items:
            self.add(where, "items described by the fragments; upstream leaves them open", side, "wider", notes,
                     ours_adds=True)

    @staticmethod
    def _child(where: str, name: str, field_names: bool) -> str:
        if field_names:
            return f"request body field {name}"
        return f"{where}.{name}" if where.endswith("$") or "$." in where or where.endswith("]") else f"{where} {name}"


def _first_schema(response: Mapping[str, Any]) -> Any:
    for content in (response.get("content") or {}).values():
        if isinstance(content, Mapping) and "schema" in content:
            return content["schema"]
    return None


def iter_notes(spec: Spec | None = None) -> Iterator[tuple[str, str]]:
    """Every (kind, text) note in the bundled documents (for tests and reviews)."""
    spec = spec or default_spec()

    def walk(node: Any) -> Iterator[tuple[str, str]]:
        if isinstance(node, Mapping):
            for kind in ("x-tightening", "x-decision"):
                if kind in node:
                    yield kind, " ".join(str(node[kind]).split())
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    for document in spec.documents.values():
        yield from walk(document)
