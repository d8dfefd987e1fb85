"""Valid wire values for one resolved schema of the fragments.

Everything here produces *wire strings* -- what twilio-python puts in a form, a
query or a path segment -- because that is what Twilio reads and what the
validators judge. A value that is right as a Python object but wrong on the wire
(``True`` for an integer, ``" 3"``) is exactly the kind of false alarm these
strategies exist to avoid.

We walk the schemas ourselves rather than handing them to hypothesis-jsonschema:
the fragments are OpenAPI 3.0 (``nullable``, ``x-example-values``), every value
is a string on the wire, and the interesting generators -- realistic URLs, SIDs,
channel unique names -- are recognised from the schema rather than expressible
in JSON Schema. The walker is small; hypothesis-jsonschema would still need all
of these special cases layered on top.
"""

from __future__ import annotations

import functools
import re
import string
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import quote, urlencode

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from twilio_webhook_contracts.request import encode_path_segment

__all__ = [
    "SIMPLEST_URL",
    "TEXT_PROBES",
    "FixedForm",
    "alternatives",
    "array_values",
    "fixed_form",
    "free_text",
    "is_url",
    "matches",
    "scalar_values",
    "text_like",
    "unique_names",
    "urls",
    "weighted",
]

#: Above this, an unbounded integer would be a value no real server stores.
_INT32 = 2**31 - 1
_INT64 = 2**63 - 1
#: Free text and unbounded arrays: long enough to matter, short enough to read.
TEXT_MAX = 64
ARRAY_MAX = 8
#: The longest UTF-8 percent-encoding of one code point (``%F0%9F%98%80``).
_MAX_ENCODED_CHAR = 12

_LOWER_HEX = "0123456789abcdef"
#: What a failing test's URL shrinks to.
SIMPLEST_URL = "https://example.com"
_UNRESERVED = string.ascii_letters + string.digits + "-_."
_NAME_ASCII = string.ascii_letters + string.digits + "-_ ."
#: Strings that any reasonable free-text or unique-name pattern accepts. A pattern
#: that accepts all of them constrains little beyond length, so values are drawn
#: as realistic text and filtered, rather than from the regex.
TEXT_PROBES = ("general", "Room 5", "support-2024_b", "caf\u00e9")


# ---------------------------------------------------------------------------
# reading patterns


@functools.lru_cache(maxsize=None)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def matches(schema: Mapping[str, Any], value: str) -> bool:
    """Whether a wire string satisfies the string constraints of *schema*.

    ``pattern`` has JSON Schema semantics (a search, anchored only if the
    pattern says so); lengths count code points, as the validators do.
    """
    pattern = schema.get("pattern")
    if pattern is not None and not _compiled(pattern).search(value):
        return False
    if "minLength" in schema and len(value) < schema["minLength"]:
        return False
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        return False
    if "enum" in schema and value not in [str(v) for v in schema["enum"] if v is not None]:
        return False
    return True


def is_url(schema: Mapping[str, Any]) -> bool:
    """A URL field is recognised by what its schema says, never by its name."""
    pattern = schema.get("pattern") or ""
    return schema.get("format") == "uri" or ("http" in pattern and "://" in pattern)


@dataclass(frozen=True)
class FixedForm:
    """A pattern of the SID shape: a literal prefix and exactly *length* class characters."""

    prefix: str
    alphabet: str
    length: int

    @property
    def preferred(self) -> str:
        """Twilio SIDs are lower-case hex even where the pattern also admits upper case."""
        return _LOWER_HEX if set(_LOWER_HEX) <= set(self.alphabet) else self.alphabet


_FIXED = re.compile(r"\^(?P<prefix>[A-Za-z0-9]*)\[(?P<cls>[A-Za-z0-9-]+)\]\{(?P<n>[0-9]+)\}\$\Z")


@functools.lru_cache(maxsize=None)
def fixed_form(pattern: str | None) -> FixedForm | None:
    """Parse ``^FW[0-9a-fA-F]{32}$``-shaped patterns; None for anything else."""
    match = _FIXED.match(pattern or "")
    if not match:
        return None
    cls = match["cls"]
    chars: list[str] = []
    i = 0
    while i < len(cls):
        if i + 2 < len(cls) and cls[i + 1] == "-":
            lo, hi = cls[i], cls[i + 2]
            if ord(lo) > ord(hi):
                return None
            chars.extend(chr(c) for c in range(ord(lo), ord(hi) + 1))
            i += 3
        else:
            chars.append(cls[i])
            i += 1
    alphabet = "".join(dict.fromkeys(chars))
    return FixedForm(match["prefix"], alphabet, int(match["n"]))


@functools.lru_cache(maxsize=None)
def alternatives(pattern: str | None) -> tuple[str, ...]:
    """The anchored alternatives of ``^(a|b)$``; empty when the pattern is not one."""
    if not pattern or not (pattern.startswith("^(") and pattern.endswith(")$")):
        return ()
    body = pattern[2:-2]
    parts: list[str] = []
    depth, start, i, in_class = 0, 0, 0, False
    while i < len(body):
        c = body[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth < 0:  # the outer group closes early: ^(a)|(b)$ is not one group
                return ()
        elif c == "|" and depth == 0:
            parts.append(body[start:i])
            start = i + 1
        i += 1
    parts.append(body[start:])
    if len(parts) < 2:
        return ()
    return tuple(f"^{part}$" for part in parts)


def text_like(pattern: str | None) -> bool:
    """A pattern that accepts ordinary text (see :data:`TEXT_PROBES`)."""
    if pattern is None:
        return True
    compiled = _compiled(pattern)
    return all(compiled.search(probe) for probe in TEXT_PROBES)


def _bounds(schema: Mapping[str, Any], default_max: int) -> tuple[int, int]:
    """Length bounds for generated text: never empty (an empty value may read as absent)."""
    lo = max(1, int(schema.get("minLength", 1)))
    hi = int(schema.get("maxLength", max(default_max, lo)))
    return lo, hi


# ---------------------------------------------------------------------------
# the generators


def weighted(*options: tuple[SearchStrategy[Any], int]) -> SearchStrategy[Any]:
    """``one_of`` with integer weights (Hypothesis picks a branch uniformly)."""
    return st.one_of([strategy for strategy, weight in options for _ in range(weight)])


def _printable() -> SearchStrategy[str]:
    """Printable characters from all of Unicode.

    Never control, format, private-use, unassigned or surrogate code points, nor
    line/paragraph separators: what a person types as a trigger word.
    """
    return st.characters(codec="utf-8", exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"))


def free_text(schema: Mapping[str, Any]) -> SearchStrategy[str]:
    """Printable text without leading or trailing whitespace (a server may trim it).

    Three in four are printable ASCII (what most people type), the rest any
    printable Unicode; both are percent-encoded as UTF-8 on the wire.
    """
    lo, hi = _bounds(schema, TEXT_MAX)
    hi = min(hi, max(lo, TEXT_MAX))
    ascii_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=lo, max_size=hi)
    unicode_text = st.text(_printable(), min_size=lo, max_size=hi)
    return weighted((ascii_text, 3), (unicode_text, 1)).map(str.strip).filter(
        lambda s: len(s) >= lo and matches(schema, s)
    )


def _segment_ok(value: str) -> bool:
    return bool(value) and "/" not in value and value not in (".", "..")


def unique_names(schema: Mapping[str, Any]) -> SearchStrategy[str]:
    """Realistic unique names for a path segment (a Chat channel's ``unique_name``).

    Letters, digits, ``-_ .`` and some non-ASCII letters; never ``/``, ``.`` or
    ``..`` (a client or proxy would change the path). openapi-core checks the
    *percent-encoded* segment against the schema, so a name is kept only if its
    encoding also fits ``maxLength`` -- both judges then agree. The longest names,
    up to exactly ``maxLength``, are plain ASCII for the same reason.
    """
    lo, hi = _bounds(schema, 256)

    def fits(value: str) -> bool:
        return (
            _segment_ok(value)
            and value == value.strip()
            and len(value) >= lo
            and len(encode_path_segment(value)) <= hi
            and matches(schema, value)
        )

    short_max = max(lo, hi // _MAX_ENCODED_CHAR)
    ascii_names = st.text(_NAME_ASCII, min_size=lo, max_size=short_max)
    unicode_names = st.text(
        st.characters(categories=("L", "Nd"), codec="utf-8", include_characters=_NAME_ASCII),
        min_size=lo,
        max_size=short_max,
    )
    word = st.text(string.ascii_letters + string.digits, min_size=1, max_size=max(1, short_max // 2 - 1))
    spaced = st.tuples(word, word).map(" ".join)  # "support room": what people name channels
    options = [(ascii_names, 3), (spaced, 1), (unicode_names, 2)]
    if hi > short_max:
        # Long names are a drawn chunk repeated to a drawn length: what matters about
        # them is the length, and Hypothesis spends far less on a short chunk than
        # on hundreds of independently drawn characters.
        chunk = st.text(_UNRESERVED, min_size=1, max_size=32)
        # Lengths past the limit are clamped to it: the limit itself comes up often,
        # and a failing test still shrinks to the shortest length that fails.
        overshoot = max(1, (hi - short_max) // 2)
        length = st.integers(short_max + 1, hi + overshoot).map(lambda n: min(n, hi))
        options.append((st.tuples(chunk, length).map(lambda t: (t[0] * t[1])[: t[1]]), 2))
    return weighted(*options).map(str.strip).filter(fits)


def _sid(form: FixedForm) -> SearchStrategy[str]:
    return st.text(form.preferred, min_size=form.length, max_size=form.length).map(
        lambda body: form.prefix + body
    )


# URLs are drawn as a few flat strings and then shaped (split into labels, segments
# and pairs), rather than as nested lists of parts: a Hypothesis draw costs tens of
# microseconds, and a URL built part by part took ~30 of them.

_HOST_CHARS = string.ascii_lowercase + string.digits + "-."
_PATH_SAFE = "-._~!$&'()*+,;=:@"


def _host_name(text: str, tld: str) -> str:
    labels = [label.strip("-") for label in text.split(".")]
    return ".".join([label[:63] for label in labels if label] or ["a"]) + "." + tld


def _hosts() -> SearchStrategy[str]:
    names = st.builds(
        _host_name,
        st.text(_HOST_CHARS, min_size=1, max_size=30),
        st.sampled_from(["com", "org", "net", "io", "dev", "example", "test"]),
    )
    ipv4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))
    ipv6 = st.ip_addresses(v=6).map(lambda a: f"[{a}]")
    return weighted((names, 5), (st.just("localhost"), 1), (ipv4, 1), (ipv6, 1))


def _url_text(extra: str, max_size: int) -> SearchStrategy[str]:
    """Mostly ASCII; one draw in four may carry non-ASCII letters (percent-encoded later)."""
    ascii_text = st.text(_UNRESERVED + extra, max_size=max_size)
    mixed = st.text(
        st.characters(categories=("L", "N"), codec="utf-8", include_characters=_UNRESERVED + extra),
        max_size=max_size,
    )
    return weighted((ascii_text, 3), (mixed, 1))


def _path(text: str) -> str:
    segments = [quote(part, safe=_PATH_SAFE) for part in text.split("/") if part]
    return "/" + "/".join(segments) if segments else ""


def _query(text: str) -> str:
    pairs = [tuple(item.split("=", 1)) if "=" in item else (item, "") for item in text.split("&") if item]
    return "?" + urlencode(pairs) if pairs else ""


def urls(schema: Mapping[str, Any], *, clears: bool = False) -> SearchStrategy[str]:
    """Absolute http(s) URLs of the kind people configure as webhooks.

    Ports, userinfo, paths and query strings, with non-ASCII text percent-encoded
    as a browser or ``requests`` would send it. Each is checked against the
    field's own pattern, so a fragment that narrows the URL (https only, say)
    narrows what is generated. With *clears*, the empty string -- which clears a
    stored URL -- is drawn too, if the schema accepts it.
    """
    credentials = st.tuples(
        st.text(string.ascii_lowercase, min_size=1, max_size=8),
        st.text(string.ascii_letters + string.digits, min_size=1, max_size=12),
    ).map(lambda t: f"{t[0]}:{t[1]}@")  # Twilio calls https://user:password@host/ with Basic auth
    userinfo = weighted((st.just(""), 5), (credentials, 1))
    port = st.one_of(  # none, the boundaries and the usual ones, any
        st.just(""),
        st.sampled_from([1, 80, 443, 8080, 65535]).map(lambda p: f":{p}"),
        st.integers(1, 65535).map(lambda p: f":{p}"),
    )
    path = _url_text("/", 40).map(_path)
    query = st.one_of(st.just(""), _url_text("=&", 30).map(_query))

    def assemble(scheme: str, user: str, host: str, port: str, path: str, query: str) -> str:
        if query and not path:
            path = "/"
        return f"{scheme}://{user}{host}{port}{path}{query}"

    built = st.builds(assemble, st.sampled_from(["https", "http"]), userinfo, _hosts(), port, path, query)
    # The canonical example comes first: a failing test then shrinks to it in one
    # step, and a webhook that needs a URL is no "bigger" than one that needs a SID.
    checked = weighted((st.just(SIMPLEST_URL), 1), (built, 7)).filter(lambda u: matches(schema, u))
    if clears and matches(schema, ""):
        # One draw in four clears the URL; the empty string is also the simplest value.
        return weighted((st.just(""), 1), (checked, 3))
    return checked


def _integers(schema: Mapping[str, Any]) -> SearchStrategy[int]:
    top = _INT64 if schema.get("format") == "int64" else _INT32
    lo = schema.get("minimum", -top)
    hi = schema.get("maximum", top)
    if schema.get("exclusiveMinimum") is True:
        lo += 1
    if schema.get("exclusiveMaximum") is True:
        hi -= 1
    return st.integers(int(lo), int(hi))


def _numbers(schema: Mapping[str, Any]) -> SearchStrategy[str]:
    """Decimals with six places (``1.500000``): digits only, which every reader parses alike."""

    def inside(value: float) -> bool:
        low, high = schema.get("minimum"), schema.get("maximum")
        if low is not None and (value < low or (schema.get("exclusiveMinimum") is True and value == low)):
            return False
        if high is not None and (value > high or (schema.get("exclusiveMaximum") is True and value == high)):
            return False
        return True

    floats = st.floats(schema.get("minimum"), schema.get("maximum"), allow_nan=False, allow_infinity=False)
    decimals = st.one_of(_integers(schema).map(float), floats).map(lambda f: f"{f:.6f}")
    return decimals.filter(lambda s: inside(float(s)))


def scalar_values(
    schema: Mapping[str, Any], *, location: str = "body", clears: bool = False
) -> SearchStrategy[str]:
    """Wire strings a server must accept for one scalar parameter or field."""
    kind = schema.get("type", "string")
    if "enum" in schema:
        values = [str(v).lower() if isinstance(v, bool) else str(v) for v in schema["enum"] if v is not None]
        return st.sampled_from(values)
    if kind == "integer":
        return _integers(schema).map(str)
    if kind == "number":
        return _numbers(schema)
    if kind == "boolean":
        return st.sampled_from(["true", "false"])
    examples = [str(v) for v in schema.get("x-example-values") or () if matches(schema, str(v))]
    if examples:
        return st.sampled_from(examples)
    if is_url(schema):
        return urls(schema, clears=clears)
    return _strings(schema, schema.get("pattern"), location)


def _strings(schema: Mapping[str, Any], pattern: str | None, location: str) -> SearchStrategy[str]:
    form = fixed_form(pattern)
    if form is not None:
        return _sid(form).filter(lambda s: matches(schema, s))
    alts = alternatives(pattern)
    if alts:
        return st.one_of([_strings(schema, alt, location) for alt in alts]).filter(lambda s: matches(schema, s))
    if text_like(pattern):
        sub = {**schema, "pattern": pattern} if pattern else schema
        if location == "path":
            return unique_names(sub).filter(lambda s: matches(schema, s))
        return free_text(sub).filter(lambda s: matches(schema, s))
    regex = st.from_regex(pattern, fullmatch=True)
    if location == "path":
        regex = regex.filter(_segment_ok)
    return regex.filter(lambda s: matches(schema, s))


def array_values(schema: Mapping[str, Any], *, min_size: int = 1) -> SearchStrategy[list[str]]:
    """Item lists for a repeated key; at least one item, since none is the same as absent.

    Items are distinct where the schema leaves room: a list of events or trigger
    words with a repeat is not something a person configures, and a server that
    de-duplicates would make the round-trip checks cry wolf.
    """
    items_schema = schema.get("items", {})
    items = scalar_values(items_schema)
    lo = max(min_size, int(schema.get("minItems", 0)))
    pool = _pool_size(items_schema)
    hi = int(schema.get("maxItems", ARRAY_MAX if pool is None else min(pool, ARRAY_MAX)))
    unique = pool is None or pool >= hi
    return st.lists(items, min_size=lo, max_size=max(lo, hi), unique=unique)


def _pool_size(schema: Mapping[str, Any]) -> int | None:
    """How many distinct values an item schema admits, when it is a short list."""
    if "enum" in schema:
        return len([v for v in schema["enum"] if v is not None])
    if schema.get("x-example-values"):
        return len(schema["x-example-values"])
    if schema.get("type") == "boolean":
        return 2
    return None
