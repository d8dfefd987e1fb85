"""One HTTP request to a Twilio webhook-configuration endpoint, encoded as Twilio's clients do.

A :class:`Request` is what the strategies generate, the target sends, the checks
reason about and the report reproduces as a ``curl`` line. It carries no host and
no credentials: the same request can go to live Twilio, to a mock or to Prism,
and a report can never leak a secret it never held.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Iterable, Mapping, Sequence
from urllib.parse import quote, urlencode

__all__ = ["FORM_CONTENT_TYPE", "Request", "encode_form", "encode_path_segment", "form_pairs"]

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"

#: A form field value as callers write it: a string, an int, or a list for a repeated key.
FieldValue = str | int | Sequence[str | int]


def form_pairs(fields: Mapping[str, FieldValue] | Iterable[tuple[str, FieldValue]]) -> tuple[tuple[str, str], ...]:
    """Flatten named fields into ordered key/value pairs, one pair per array item.

    This mirrors twilio-python: ``values.of`` drops unset fields, ``serialize.map``
    keeps lists as lists, and ``requests`` emits one ``key=value`` per list item in
    order. ``None`` means "absent" and is left out.
    """
    items = fields.items() if isinstance(fields, Mapping) else fields
    pairs: list[tuple[str, str]] = []
    for key, value in items:
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            pairs.extend((key, _scalar(item)) for item in value)
        else:
            pairs.append((key, _scalar(value)))
    return tuple(pairs)


def _scalar(value: str | int) -> str:
    if isinstance(value, bool):  # twilio-python's serialize.boolean_to_string
        return "true" if value else "false"
    return str(value)


def encode_form(pairs: Iterable[tuple[str, str]]) -> bytes:
    """``application/x-www-form-urlencoded`` bytes exactly as twilio-python sends them.

    twilio-python hands a dict to ``requests``, which calls ``urlencode(..., doseq=True)``:
    UTF-8, ``quote_plus`` with nothing safe (so ``+`` for a space, ``%2F`` for ``/``).
    """
    return urlencode(list(pairs)).encode("ascii")


def encode_path_segment(value: str) -> str:
    """Percent-encode one path segment (UTF-8; ``/`` and ``?`` are encoded too)."""
    return quote(value, safe="-._~!$&'()*+,;=:@")


@dataclass(frozen=True)
class Request:
    """A request value: what to send, independent of where and as whom.

    ``form`` is the ordered list of key/value pairs (arrays as repeated keys) and
    ``body`` its encoding. ``defect`` names the one thing wrong with an invalid
    request (``None`` for a valid one), ``defect_field`` where it is.
    ``open_point`` names the open point of the catalogue (README, "What the
    suite leaves to the server") that a request probes: Twilio documents neither
    acceptance nor rejection of it, so the server decides, and the suite holds
    it to its own decision instead of to ours.
    """

    operation_id: str
    method: str
    path: str
    path_params: Mapping[str, str] = field(default_factory=dict)
    query: tuple[tuple[str, str], ...] = ()
    form: tuple[tuple[str, str], ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    defect: str | None = None
    defect_field: str | None = None
    description: str = ""
    open_point: str | None = None

    @classmethod
    def build(
        cls,
        operation_id: str,
        method: str,
        path: str,
        *,
        path_params: Mapping[str, str] | None = None,
        query: Iterable[tuple[str, str]] = (),
        form: Iterable[tuple[str, str]] | None = None,
        defect: str | None = None,
        defect_field: str | None = None,
        description: str = "",
        open_point: str | None = None,
    ) -> "Request":
        """Make a request whose ``body`` and ``headers`` follow from its form.

        Requests with a form (every POST) carry the form content type, as
        twilio-python does even for an empty update.
        """
        headers = {"Accept": "application/json"}
        body = b""
        pairs: tuple[tuple[str, str], ...] = ()
        if form is not None:
            pairs = tuple(form)
            body = encode_form(pairs)
            headers["Content-Type"] = FORM_CONTENT_TYPE
        return cls(
            operation_id=operation_id,
            method=method.upper(),
            path=path,
            path_params=MappingProxyType(dict(path_params or {})),
            query=tuple(query),
            form=pairs,
            headers=MappingProxyType(headers),
            body=body,
            defect=defect,
            defect_field=defect_field,
            description=description,
            open_point=open_point,
        )

    @property
    def is_valid(self) -> bool:
        """True for a request generated as valid (no defect)."""
        return self.defect is None

    def fields(self) -> dict[str, list[str]]:
        """The form as key -> list of values, in first-seen order."""
        result: dict[str, list[str]] = {}
        for key, value in self.form:
            result.setdefault(key, []).append(value)
        return result

    def target(self) -> str:
        """Path plus query string, as it goes on the request line."""
        if not self.query:
            return self.path
        return self.path + "?" + urlencode(list(self.query))

    def url(self, base_url: str) -> str:
        return base_url.rstrip("/") + self.target()

    def curl(
        self,
        base_url: str,
        username: str = "$TWILIO_ACCOUNT_SID",
        secret_variable: str = "TWILIO_AUTH_TOKEN",
    ) -> str:
        """A ``curl`` line reproducing this request.

        The secret is always a shell variable (``$TWILIO_AUTH_TOKEN`` or
        ``$TWILIO_API_SECRET``): a request never holds credentials, so this line
        cannot leak one.
        """
        parts = ["curl", "-sS", "-X", self.method, shlex.quote(self.url(base_url))]
        for key, value in self.form:
            parts += ["--data-urlencode", shlex.quote(f"{key}={value}")]
        parts += ["-u", f'"{username}:${secret_variable}"']
        return " ".join(parts)

    def __str__(self) -> str:
        text = f"{self.method} {self.target()}"
        if self.body:
            text += f" {self.body.decode('ascii', 'replace')}"
        if self.defect:
            text += f"  [{self.defect} in {self.defect_field}]"
        if self.open_point:
            text += f"  [open point: {self.open_point}]"
        return text
