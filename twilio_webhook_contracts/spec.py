"""The bundled OpenAPI fragments, loaded once per process and indexed by operationId.

The fragments in ``openapi/`` are the single source of truth: strategies, checks and
the mock all read them through this module, so a changed fragment changes what is
generated and checked with no code change. Two forms are kept for each API:

* the *bundled document* -- the API's fragment with the shared ``components.yaml``
  inlined, a standalone OpenAPI 3.0 document (what ``webhook-contracts spec`` writes
  and what openapi-core validates against);
* per operation, *resolved* schemas with every ``$ref`` replaced by its target, which
  is what the Hypothesis strategies and the mock walk.
"""

from __future__ import annotations

import copy
import functools
import importlib.resources
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterator, Mapping

import yaml

__all__ = [
    "API_FILES",
    "COMPONENTS_FILE",
    "Operation",
    "Parameter",
    "ResponseSpec",
    "Spec",
    "SpecError",
    "default_spec",
]

#: API name -> fragment file name. The API name is also the CLI's ``--api`` value.
API_FILES: Mapping[str, str] = MappingProxyType(
    {"conversations": "conversations_v1.yaml", "chat": "chat_v2.yaml"}
)
COMPONENTS_FILE = "components.yaml"
_EXTERNAL_PREFIX = COMPONENTS_FILE + "#"
_HTTP_METHODS = ("get", "post", "put", "patch", "delete")


class SpecError(Exception):
    """The fragments cannot be read or are inconsistent; the message says where."""


@dataclass(frozen=True)
class Parameter:
    """A path or query parameter with its fully resolved schema."""

    name: str
    location: str  # "path" or "query"
    required: bool
    schema: Mapping[str, Any]


@dataclass(frozen=True)
class ResponseSpec:
    """One documented response: its status, media type, resolved body schema, headers."""

    status: int
    description: str
    content_type: str | None
    schema: Mapping[str, Any] | None
    headers: Mapping[str, Mapping[str, Any]]

    @property
    def is_error(self) -> bool:
        return self.status >= 400


@dataclass(frozen=True)
class Operation:
    """One operation of the fragments, keyed by Twilio's operationId."""

    operation_id: str
    api: str
    method: str  # upper case
    path: str  # template, e.g. /v1/Services/{ChatServiceSid}/Configuration/Webhooks
    server: str  # the production base URL, e.g. https://conversations.twilio.com
    parameters: tuple[Parameter, ...]
    form_schema: Mapping[str, Any] | None  # resolved x-www-form-urlencoded schema
    body_required: bool
    responses: Mapping[int, ResponseSpec]
    summary: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def path_parameters(self) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.location == "path")

    @property
    def query_parameters(self) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.location == "query")

    @property
    def form_fields(self) -> Mapping[str, Mapping[str, Any]]:
        """Form field name -> resolved schema (empty when the operation has no body)."""
        if not self.form_schema:
            return {}
        return self.form_schema.get("properties", {})

    @property
    def required_fields(self) -> tuple[str, ...]:
        if not self.form_schema:
            return ()
        return tuple(self.form_schema.get("required", ()))

    @property
    def is_write(self) -> bool:
        """True for operations that change state (everything but GET)."""
        return self.method != "GET"

    @property
    def success_status(self) -> int:
        return min(s for s in self.responses if s < 300)

    def documented_statuses(self) -> frozenset[int]:
        return frozenset(self.responses)

    def render_path(self, values: Mapping[str, str]) -> str:
        """The path with parameters filled in (values must already be URL-encoded)."""
        path = self.path
        for param in self.path_parameters:
            path = path.replace("{" + param.name + "}", values[param.name])
        return path


class Spec:
    """The loaded fragments of one directory; build with :meth:`load` or :func:`default_spec`."""

    def __init__(self, directory: Path, documents: Mapping[str, dict[str, Any]]):
        self.directory = directory
        #: API name -> bundled standalone OpenAPI document (do not mutate).
        self.documents: Mapping[str, dict[str, Any]] = MappingProxyType(dict(documents))
        ops: dict[str, Operation] = {}
        for api, document in self.documents.items():
            for operation in _operations_of(api, document):
                if operation.operation_id in ops:
                    raise SpecError(f"operationId {operation.operation_id} is defined twice")
                ops[operation.operation_id] = operation
        self.operations: Mapping[str, Operation] = MappingProxyType(ops)

    @classmethod
    def load(cls, directory: str | Path | None = None) -> "Spec":
        """Read and bundle the fragments in *directory* (default: the bundled ones)."""
        directory = Path(directory) if directory is not None else _bundled_directory()
        components = _read_yaml(directory / COMPONENTS_FILE)
        documents = {
            api: bundle(_read_yaml(directory / filename), components, filename)
            for api, filename in API_FILES.items()
        }
        return cls(directory, documents)

    def operation(self, operation_id: str) -> Operation:
        try:
            return self.operations[operation_id]
        except KeyError:
            known = ", ".join(sorted(self.operations))
            raise SpecError(
                f"unknown operation {operation_id!r}; the fragments define: {known}"
            ) from None

    def __iter__(self) -> Iterator[Operation]:
        return iter(self.operations.values())

    def __repr__(self) -> str:
        return f"Spec({str(self.directory)!r}, {len(self.operations)} operations)"

    def find(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        """The operation serving ``method path`` and its raw path values, or None."""
        for candidate in self.operations.values():
            if candidate.method != method.upper():
                continue
            values = match_path(candidate.path, path)
            if values is not None:
                return candidate, values
        return None

    def methods_for(self, path: str) -> list[str]:
        """The methods documented for a concrete path (for 405 ``Allow``)."""
        return sorted(
            {op.method for op in self.operations.values() if match_path(op.path, path) is not None}
        )


def match_path(template: str, path: str) -> dict[str, str] | None:
    """Match a concrete (still percent-encoded) path against a template.

    Segment-wise, because a path parameter is exactly one segment: a value with a
    slash in it belongs to no operation.
    """
    t_parts = template.strip("/").split("/")
    p_parts = path.strip("/").split("/") if path.strip("/") else []
    if len(t_parts) != len(p_parts):
        return None
    values: dict[str, str] = {}
    for t, p in zip(t_parts, p_parts):
        if t.startswith("{") and t.endswith("}"):
            values[t[1:-1]] = p
        elif t != p:
            return None
    return values


@functools.lru_cache(maxsize=1)
def default_spec() -> Spec:
    """The bundled fragments, read once per process."""
    return Spec.load()


def bundle(document: dict[str, Any], components: dict[str, Any], source: str) -> dict[str, Any]:
    """Return *document* with ``components.yaml#/...`` references made internal.

    The shared components are merged into the document's own ``components``; a
    name defined in both is an error rather than a silent override.
    """
    result = copy.deepcopy(document)
    shared = copy.deepcopy(components.get("components", {}))
    own = result.setdefault("components", {})
    for section, entries in shared.items():
        target = own.setdefault(section, {})
        for name, value in entries.items():
            if name in target:
                raise SpecError(f"{source}: components/{section}/{name} is also in {COMPONENTS_FILE}")
            target[name] = value
    return _internalise_refs(result)


def _internalise_refs(node: Any) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(_EXTERNAL_PREFIX):
                value = value[len(COMPONENTS_FILE):]
            out[key] = _internalise_refs(value)
        return out
    if isinstance(node, list):
        return [_internalise_refs(item) for item in node]
    return node


def resolve(node: Any, document: Mapping[str, Any], _seen: tuple[str, ...] = ()) -> Any:
    """A deep copy of *node* with every internal ``$ref`` replaced by its target.

    Siblings of a ``$ref`` (our ``x-tightening`` notes) are kept, the target's keys
    win. The fragments have no recursive schemas; a cycle is reported, not looped on.
    """
    if isinstance(node, dict):
        if "$ref" in node:
            ref = node["$ref"]
            if ref in _seen:
                raise SpecError(f"recursive $ref {ref}")
            target = resolve(_pointer(document, ref), document, _seen + (ref,))
            extras = {k: resolve(v, document, _seen) for k, v in node.items() if k != "$ref"}
            return {**extras, **target} if isinstance(target, dict) else target
        return {k: resolve(v, document, _seen) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(item, document, _seen) for item in node]
    return node


def _pointer(document: Mapping[str, Any], ref: str) -> Any:
    if not ref.startswith("#/"):
        raise SpecError(f"unsupported $ref {ref!r} (only {COMPONENTS_FILE}# and internal refs)")
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        try:
            node = node[part]
        except (KeyError, TypeError):
            raise SpecError(f"$ref {ref} points nowhere") from None
    return node


def _operations_of(api: str, document: Mapping[str, Any]) -> Iterator[Operation]:
    servers = document.get("servers") or [{"url": ""}]
    for path, item in document.get("paths", {}).items():
        shared_params = item.get("parameters", [])
        for method in _HTTP_METHODS:
            if method not in item:
                continue
            raw = item[method]
            if "operationId" not in raw:
                raise SpecError(f"{method.upper()} {path} has no operationId")
            params = _merge_parameters(shared_params, raw.get("parameters", []), document)
            form_schema = None
            body_required = False
            if "requestBody" in raw:
                body = resolve(raw["requestBody"], document)
                body_required = bool(body.get("required", False))
                media = body.get("content", {}).get("application/x-www-form-urlencoded")
                if media is None:
                    raise SpecError(f"{raw['operationId']}: only form-encoded request bodies are supported")
                form_schema = media.get("schema", {})
            responses = {}
            for status, response in raw.get("responses", {}).items():
                response = resolve(response, document)
                content = response.get("content", {})
                content_type, media = next(iter(content.items()), (None, {}))
                responses[int(status)] = ResponseSpec(
                    status=int(status),
                    description=response.get("description", ""),
                    content_type=content_type,
                    schema=media.get("schema") if media else None,
                    headers=response.get("headers", {}),
                )
            yield Operation(
                operation_id=raw["operationId"],
                api=api,
                method=method.upper(),
                path=path,
                server=(raw.get("servers") or item.get("servers") or servers)[0]["url"],
                parameters=tuple(params),
                form_schema=form_schema,
                body_required=body_required,
                responses=MappingProxyType(dict(sorted(responses.items()))),
                summary=raw.get("summary", ""),
                raw=raw,
            )


def _merge_parameters(shared: list, own: list, document: Mapping[str, Any]) -> list[Parameter]:
    merged: dict[tuple[str, str], Parameter] = {}
    for raw in [*shared, *own]:
        param = resolve(raw, document)
        merged[(param["name"], param["in"])] = Parameter(
            name=param["name"],
            location=param["in"],
            required=bool(param.get("required", False)),
            schema=param.get("schema", {}),
        )
    return list(merged.values())


def _bundled_directory() -> Path:
    return Path(str(importlib.resources.files("twilio_webhook_contracts.openapi")))


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except FileNotFoundError:
        raise SpecError(f"fragment not found: {path}") from None
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise SpecError(f"{path}: expected a YAML mapping at the top level")
    return data
