"""Request and response validation against the fragments, with violations a person can act on.

Validation sits on the hot path of every run (each response is checked, the mock
checks each request), so everything is compiled once per operation:

* a yes/no check compiled by ``fastjsonschema`` from the fragment's schema (a few
  microseconds), and, only when that says no,
* the full list of violations from openapi-schema-validator -- the OpenAPI 3.0
  schema engine inside openapi-core -- each with the field's JSON path, what the
  fragment expects and what was found.

openapi-core's own request/response validators take 1-5 ms per call on these
operations (path finding and lazy spec traversal on every call), which is why
they are not on the hot path; the test suite runs them side by side with these
validators on generated requests and responses and requires the same verdict.

Both compilations happen on first use, not at import or construction: importing
openapi-schema-validator alone costs about a quarter of a second (it brings
pydantic and jsonschema), which ``webhook-contracts --help`` and a clean run
never need, and a mock that is never asked about an operation never compiles it.

Form bodies are read the way Twilio reads them: UTF-8, repeated keys for arrays,
unknown keys ignored, integers as decimal digits (``RetryCount=3`` is an integer,
``RetryCount=three`` is not).
"""

from __future__ import annotations

import json
import re
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence
from urllib.parse import parse_qsl, unquote

import fastjsonschema

from .request import FORM_CONTENT_TYPE, Request
from .spec import Operation, Parameter, Spec, default_spec

__all__ = [
    "OperationValidator",
    "Violation",
    "parse_form",
    "to_json_schema",
    "validate_request",
    "validate_response",
    "validator_for",
]

_INTEGER = re.compile(r"-?[0-9]+\Z")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?\Z")
_KEPT_FORMATS = frozenset({"date-time"})


@dataclass(frozen=True)
class Violation:
    """One way a request or response departs from the fragment.

    ``location`` is where to look (``path``, ``query``, ``body``, ``status``,
    ``header``, ``content-type``, ``response``), ``field`` the JSON path or
    parameter name inside it, ``keyword`` the constraint that failed (``enum``,
    ``pattern``, ``type``, ``required``, ``minimum``, ...), so callers can group
    violations without parsing messages.
    """

    operation_id: str
    location: str
    field: str
    keyword: str
    expected: str
    found: str

    @property
    def message(self) -> str:
        where = self.location if self.field in ("", "$") else f"{self.location} {self.field}"
        return f"{self.operation_id}: {where}: expected {self.expected}, found {self.found}"

    def __str__(self) -> str:
        return self.message


# ---------------------------------------------------------------------------
# OpenAPI 3.0 schema -> JSON Schema (for fastjsonschema)


def to_json_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Translate a resolved OpenAPI 3.0 schema into draft-07 JSON Schema.

    ``nullable`` becomes a ``null`` type; ``x-`` notes, descriptions and examples
    are dropped; of the formats only ``date-time`` is kept, because it is the
    only one openapi-schema-validator checks with the libraries openapi-core
    installs (the URL fields carry explicit patterns instead).
    """
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key.startswith("x-") or key in ("description", "example", "examples", "title", "nullable"):
            continue
        if key == "format":
            if value in _KEPT_FORMATS:
                out[key] = value
            continue
        if key == "properties":
            out[key] = {name: to_json_schema(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, Mapping):
            out[key] = to_json_schema(value)
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [to_json_schema(sub) for sub in value]
        else:
            out[key] = value
    if schema.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


class _SchemaCheck:
    """A schema compiled twice: a fast yes/no and a slow, detailed explanation.

    Each is compiled when first needed (thread-safe: at worst two threads both
    compile, and one result wins -- they are identical).
    """

    __slots__ = ("schema", "_fast", "_detail")

    def __init__(self, schema: Mapping[str, Any]):
        self.schema = dict(schema)
        self._fast: Callable[[Any], Any] | None = None
        self._detail: Any = None

    def fast(self) -> Callable[[Any], Any]:
        if self._fast is None:
            self._fast = fastjsonschema.compile(to_json_schema(self.schema), formats={}, use_default=False)
        return self._fast

    def detail(self) -> Any:
        if self._detail is None:
            from openapi_schema_validator import OAS30Validator, oas30_format_checker

            self._detail = OAS30Validator(self.schema, format_checker=oas30_format_checker)
        return self._detail

    def errors(self, instance: Any) -> list[Any]:
        try:
            (self._fast or self.fast())(instance)
            return []
        except fastjsonschema.JsonSchemaValueException as fast_error:
            detailed = sorted(self.detail().iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
            return detailed or [fast_error]


# ---------------------------------------------------------------------------
# reading the wire


def parse_form(body: bytes) -> list[tuple[str, str]]:
    """Key/value pairs of a form body; raises ``ValueError`` when it is not UTF-8."""
    text = body.decode("utf-8")
    return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")


def _cast(value: str, schema: Mapping[str, Any]) -> Any:
    """A wire string as the type the schema declares; left a string when it is not one."""
    kind = schema.get("type")
    if kind == "integer" and _INTEGER.match(value):
        return int(value)
    if kind == "number" and _NUMBER.match(value):
        return float(value) if any(c in value for c in ".eE") else int(value)
    if kind == "boolean" and value in ("true", "false"):
        return value == "true"
    return value


def typed_fields(
    pairs: Iterable[tuple[str, str]], properties: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """The documented fields of a form or query, typed by their schemas.

    Arrays collect every repeated key in order; a repeated scalar key keeps its
    first value (as servlet-style form readers do); unknown keys are ignored,
    as Twilio ignores them.
    """
    result: dict[str, Any] = {}
    for key, value in pairs:
        schema = properties.get(key)
        if schema is None:
            continue
        if schema.get("type") == "array":
            result.setdefault(key, []).append(_cast(value, schema.get("items", {})))
        elif key not in result:
            result[key] = _cast(value, schema)
    return result


# ---------------------------------------------------------------------------
# describing failures


def _describe_expected(keyword: str, value: Any, schema: Mapping[str, Any]) -> str:
    if keyword == "enum":
        return "one of " + ", ".join("null" if v is None else str(v) for v in value)
    if keyword == "pattern":
        return f"a string matching {value}"
    if keyword == "type":
        kinds = value if isinstance(value, list) else [value]
        text = " or ".join({"integer": "an integer", "string": "a string", "array": "an array",
                            "object": "an object", "number": "a number", "boolean": "a boolean",
                            "null": "null"}.get(k, k) for k in kinds)
        return text + (" or null" if schema.get("nullable") and "null" not in kinds else "")
    if keyword == "required":
        return "the property to be present"
    if keyword == "minimum":
        return f"a value >= {value}"
    if keyword == "maximum":
        return f"a value <= {value}"
    if keyword == "minLength":
        return f"at least {value} characters"
    if keyword == "maxLength":
        return f"at most {value} characters"
    if keyword == "minItems":
        return f"at least {value} items"
    if keyword == "maxItems":
        return f"at most {value} items"
    if keyword == "format":
        return f"a {value} string"
    if keyword == "nullable":
        return "a non-null value"
    return f"{keyword} {value!r}"


def _found(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, bytes) else repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _json_path(parts: Sequence[Any]) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


def _field_path(parts: Sequence[Any]) -> str:
    """Form fields keep their flat (dotted) names: ``Configuration.Filters[1]``."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (part if not text else f".{part}")
    return text


def _violations_from(
    operation_id: str, location: str, errors: Iterable[Any], root: str | None
) -> list[Violation]:
    out: list[Violation] = []
    for error in errors:
        if isinstance(error, fastjsonschema.JsonSchemaValueException):
            parts = [p for p in (error.path or [])[1:]]
            keyword = error.rule or "schema"
            expected = _describe_expected(keyword, error.rule_definition, error.definition or {})
            found = _found(error.value)
        else:
            parts = list(error.absolute_path)
            keyword = str(error.validator)
            if keyword == "required":
                missing = re.match(r"'(.+)' is a required property", error.message)
                if missing:
                    parts.append(missing.group(1))
                expected, found = "the property to be present", "nothing"
            else:
                expected = _describe_expected(keyword, error.validator_value, error.schema)
                found = _found(error.instance)
        path = _json_path(parts) if root == "$" else _field_path(parts)
        out.append(Violation(operation_id, location, path or (root or ""), keyword, expected, found))
    return out


# ---------------------------------------------------------------------------
# the per-operation validator


class OperationValidator:
    """Everything needed to validate one operation's requests and responses, built once."""

    def __init__(self, operation: Operation):
        self.operation = operation
        self._path_checks = {p.name: _SchemaCheck(p.schema) for p in operation.path_parameters}
        self._query_schema = _params_schema(operation.query_parameters)
        self._query_check = _SchemaCheck(self._query_schema)
        self._form_check = _SchemaCheck(operation.form_schema) if operation.form_schema is not None else None
        self._body_checks = {
            status: _SchemaCheck(spec.schema)
            for status, spec in operation.responses.items()
            if spec.schema is not None
        }
        self.documented_statuses = frozenset(operation.responses)

    # -- requests ------------------------------------------------------------

    def request_violations(self, request: Request) -> list[Violation]:
        """Why *request* is not one the fragment accepts (empty when it is).

        Credentials are not looked at: authentication is a property of the
        target, checked separately.
        """
        op = self.operation
        out: list[Violation] = []
        for name, check in self._path_checks.items():
            value = request.path_params.get(name)
            if value is None:
                out.append(Violation(op.operation_id, "path", name, "required", "the parameter to be present", "nothing"))
            else:
                out += self._path_value_violations(name, value)
        query = typed_fields(request.query, self._query_schema["properties"])
        out += _violations_from(op.operation_id, "query", self._query_check.errors(query), "")
        if self._form_check is not None:
            out += self.form_violations(request.body)
        return out

    def form_violations(self, body: bytes) -> list[Violation]:
        return self.read_form(body)[1]

    def read_form(self, body: bytes) -> tuple[dict[str, Any], list[Violation]]:
        """The typed form fields of *body* and its violations, from one parse.

        What a server needs (the mock checks a body, then stores it): the fields
        are ``typed_form(body)`` whenever the violations are empty, and the
        violations are ``form_violations(body)``, for the cost of one.
        """
        op = self.operation
        assert self._form_check is not None and op.form_schema is not None
        if not body and op.body_required:
            return {}, [Violation(op.operation_id, "body", "", "required", "a form body", "an empty body")]
        try:
            pairs = parse_form(body)
        except (UnicodeDecodeError, ValueError):
            return {}, [Violation(op.operation_id, "body", "", "encoding", "UTF-8 form encoding", _found(body[:60]))]
        fields = typed_fields(pairs, op.form_fields)
        return fields, _violations_from(op.operation_id, "body", self._form_check.errors(fields), "")

    def typed_form(self, body: bytes) -> dict[str, Any]:
        """The documented form fields of *body*, typed (for servers such as the mock)."""
        return typed_fields(parse_form(body), self.operation.form_fields)

    def path_violations(self, raw_values: Mapping[str, str]) -> list[Violation]:
        """Check percent-encoded path segments (as they come off the wire)."""
        decoded: dict[str, str] = {}
        out: list[Violation] = []
        for name, raw in raw_values.items():
            try:
                decoded[name] = unquote(raw, encoding="utf-8", errors="strict")
            except UnicodeDecodeError:
                out.append(Violation(self.operation.operation_id, "path", name, "encoding", "a UTF-8 path segment", _found(raw)))
        for name in self._path_checks:
            if name in decoded:
                out += self._path_value_violations(name, decoded[name])
        return out

    def _path_value_violations(self, name: str, value: str) -> list[Violation]:
        errors = self._path_checks[name].errors(value)
        return [_rename(v, name) for v in _violations_from(self.operation.operation_id, "path", errors, None)]

    def query_violations(self, pairs: Iterable[tuple[str, str]]) -> list[Violation]:
        query = typed_fields(pairs, self._query_schema["properties"])
        return _violations_from(self.operation.operation_id, "query", self._query_check.errors(query), "")

    # -- responses -----------------------------------------------------------

    def status_violations(self, status: int) -> list[Violation]:
        if status in self.documented_statuses:
            return []
        expected = "one of " + ", ".join(str(s) for s in sorted(self.documented_statuses))
        return [Violation(self.operation.operation_id, "status", "", "status", expected, str(status))]

    def header_violations(self, status: int, headers: Mapping[str, str]) -> list[Violation]:
        spec = self.operation.responses.get(status)
        if spec is None:
            return []
        lowered = {k.lower(): v for k, v in headers.items()}
        out: list[Violation] = []
        for name, header in spec.headers.items():
            value = lowered.get(name.lower())
            if value is None:
                if header.get("required"):
                    out.append(Violation(self.operation.operation_id, "header", name, "required", "the header to be present", "nothing"))
                continue
            schema = header.get("schema", {})
            if schema.get("type") == "integer" and not _INTEGER.match(value.strip()):
                out.append(Violation(self.operation.operation_id, "header", name, "type", "an integer", _found(value)))
        return out

    def content_type_violations(self, status: int, headers: Mapping[str, str], body: bytes) -> list[Violation]:
        spec = self.operation.responses.get(status)
        if spec is None:
            return []
        lowered = {k.lower(): v for k, v in headers.items()}
        media = lowered.get("content-type", "").split(";")[0].strip().lower()
        if spec.content_type is None:
            if body:
                return [Violation(self.operation.operation_id, "content-type", "", "content", "no body", f"{len(body)} bytes")]
            return []
        if media != spec.content_type:
            return [Violation(self.operation.operation_id, "content-type", "", "content-type", spec.content_type, _found(media or "no Content-Type"))]
        return []

    def body_violations(self, status: int, body: bytes | Any) -> list[Violation]:
        """Check a response body (bytes, or an already parsed JSON value)."""
        check = self._body_checks.get(status)
        if check is None:
            return []
        if isinstance(body, (bytes, bytearray)):
            try:
                body = json.loads(body)
            except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested beyond the parser
                return [Violation(self.operation.operation_id, "response", "$", "json", "a JSON document", _found(bytes(body[:60])))]
        return _violations_from(self.operation.operation_id, "response", check.errors(body), "$")

    def response_violations(self, status: int, headers: Mapping[str, str], body: bytes) -> list[Violation]:
        """Everything wrong with a response: status, headers, content type, body."""
        out = self.status_violations(status)
        if out:
            return out
        out += self.header_violations(status, headers)
        type_problems = self.content_type_violations(status, headers, body)
        out += type_problems
        if not type_problems:
            out += self.body_violations(status, body)
        return out


def _rename(violation: Violation, name: str) -> Violation:
    return Violation(violation.operation_id, violation.location, name, violation.keyword, violation.expected, violation.found)


def _params_schema(params: Sequence[Parameter]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {p.name: dict(p.schema) for p in params},
        "required": [p.name for p in params if p.required],
    }


_VALIDATORS: "weakref.WeakKeyDictionary[Spec, dict[str, OperationValidator]]" = weakref.WeakKeyDictionary()


def validator_for(operation_id: str, spec: Spec | None = None) -> OperationValidator:
    """The (cached) validator of one operation of *spec* (default: the bundled fragments)."""
    spec = spec or default_spec()
    per_spec = _VALIDATORS.setdefault(spec, {})
    validator = per_spec.get(operation_id)
    if validator is None:
        validator = per_spec[operation_id] = OperationValidator(spec.operation(operation_id))
    return validator


def validate_request(request: Request, spec: Spec | None = None) -> list[Violation]:
    """The violations of *request* against its operation (empty: the fragment accepts it)."""
    return validator_for(request.operation_id, spec).request_violations(request)


def validate_response(
    operation_id: str,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    spec: Spec | None = None,
) -> list[Violation]:
    """The violations of one response to *operation_id* (empty: it conforms)."""
    return validator_for(operation_id, spec).response_violations(status, headers, body)
