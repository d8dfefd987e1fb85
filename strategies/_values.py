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
import ipaddress
import itertools
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
    spaced = st.builds(_spaced, word, word)  # "support room": what people name channels
    options = [(ascii_names, 3), (spaced, 1), (unicode_names, 2)]
    if hi > short_max:
        # Long names are a drawn chunk repeated to a drawn length: what matters about
        # them is the length, and Hypothesis spends far less on a short chunk than
        # on hundreds of independently drawn characters.
        chunk = st.text(_UNRESERVED, min_size=1, max_size=32)
        # Lengths past the limit are clamped to it: the limit itself comes up often,
        # and a failing test still shrinks to the shortest length that fails.
        overshoot = max(1, (hi - short_max) // 2)
        length = st.integers(short_max + 1, hi + overshoot)
        options.append((st.builds(functools.partial(_repeated, limit=hi), chunk, length), 2))
    return weighted(*options).map(str.strip).filter(fits)


def _spaced(first: str, second: str) -> str:
    return f"{first} {second}"


def _repeated(chunk: str, length: int, *, limit: int) -> str:
    """*chunk* repeated to *length* characters, clamped to *limit*."""
    length = min(length, limit)
    return (chunk * length)[:length]


def _sid(form: FixedForm) -> SearchStrategy[str]:
    return st.text(form.preferred, min_size=form.length, max_size=form.length).map(
        lambda body: form.prefix + body
    )


def _sids(schema: Mapping[str, Any], form: FixedForm) -> SearchStrategy[str]:
    """SIDs for a SID-shaped pattern, checked against the rest of *schema* only if it could fail.

    Every SID of *form* matches the pattern it was read from and has the same
    length, so when one of them satisfies *schema* all do, and the filter (a
    draw of its own on every request) would only cost time.
    """
    sids = _sid(form)
    if matches(schema, form.prefix + form.preferred[0] * form.length):
        return sids
    return sids.filter(lambda s: matches(schema, s))


# URLs are drawn as a few flat strings and then shaped (split into labels, segments
# and pairs), rather than as nested lists of parts: a Hypothesis draw costs tens of
# microseconds, and a URL built part by part took ~30 of them. Which parts a URL has
# (scheme, userinfo, kind of host, port, path, query) is one draw from a weighted
# table of shapes, so a URL costs one draw per part it actually has (about 7), not
# one per alternative considered (about 20).

_HOST_CHARS = string.ascii_lowercase + string.digits + "-."
_PATH_SAFE = "-._~!$&'()*+,;=:@"
_TLDS = ("com", "org", "net", "io", "dev", "example", "test")
_COMMON_PORTS = (1, 80, 443, 8080, 65535)


def _host_name(text: str, tld: str) -> str:
    labels = [label.strip("-") for label in text.split(".")]
    return ".".join([label[:63] for label in labels if label] or ["a"]) + "." + tld


def _path(text: str) -> str:
    segments = [quote(part, safe=_PATH_SAFE) for part in text.split("/") if part]
    return "/" + "/".join(segments) if segments else ""


def _query(text: str) -> str:
    pairs = [tuple(item.split("=", 1)) if "=" in item else (item, "") for item in text.split("&") if item]
    return "?" + urlencode(pairs) if pairs else ""


def _url_text(extra: str, max_size: int, *, mixed: bool) -> SearchStrategy[str]:
    """ASCII, or (*mixed*) letters and digits from all of Unicode as well (percent-encoded later)."""
    if not mixed:
        return st.text(_UNRESERVED + extra, max_size=max_size)
    return st.text(
        st.characters(categories=("L", "N"), codec="utf-8", include_characters=_UNRESERVED + extra),
        max_size=max_size,
    )


@dataclass(frozen=True)
class _UrlShape:
    """Which parts one URL has; drawn as a whole from :func:`_url_shapes`."""

    simplest: bool = False  # the canonical SIMPLEST_URL
    scheme: str = "https"
    credentials: bool = False
    host: str = "name"  # name | localhost | ipv4 | ipv6
    port: str = ""  # "" | common | any
    path: str = "ascii"  # ascii | mixed (either may come out empty)
    query: str = ""  # "" | ascii | mixed


def _url_shapes() -> list[_UrlShape]:
    """Every shape, repeated by weight, simplest first (a failing test shrinks towards index 0).

    The weights are those of the nested ``one_of`` this replaces: http and https
    alike; credentials one in six; a host name five in eight, else localhost, an
    IPv4 or an IPv6 literal; no port, a usual one or any, alike; the path ASCII
    three in four; no query half the time, else ASCII three in four; and the
    canonical ``https://example.com`` one URL in eight.
    """
    dimensions = [
        ["https", "http"],
        [False] * 5 + [True],
        ["name"] * 5 + ["localhost", "ipv4", "ipv6"],
        ["", "common", "any"],
        ["ascii"] * 3 + ["mixed"],
        [""] * 4 + ["ascii"] * 3 + ["mixed"],
    ]
    built = [_UrlShape(False, *parts) for parts in itertools.product(*dimensions)]
    return [_UrlShape(simplest=True)] * round(len(built) / 7) + built


@functools.lru_cache(maxsize=None)
def _built_urls() -> SearchStrategy[str]:
    shapes = st.sampled_from(_url_shapes())
    user = st.text(string.ascii_lowercase, min_size=1, max_size=8)
    password = st.text(string.ascii_letters + string.digits, min_size=1, max_size=12)
    host_text = st.text(_HOST_CHARS, min_size=1, max_size=30)
    tlds = st.sampled_from(_TLDS)
    ipv4 = st.integers(0, 2**32 - 1)
    ipv6 = st.ip_addresses(v=6)
    common_ports = st.sampled_from(_COMMON_PORTS)
    any_port = st.integers(1, 65535)
    paths = {kind: _url_text("/", 40, mixed=kind == "mixed") for kind in ("ascii", "mixed")}
    queries = {kind: _url_text("=&", 30, mixed=kind == "mixed") for kind in ("ascii", "mixed")}

    @st.composite
    def build(draw: Any) -> str:
        shape = draw(shapes)
        if shape.simplest:
            return SIMPLEST_URL
        userinfo = f"{draw(user)}:{draw(password)}@" if shape.credentials else ""
        if shape.host == "name":
            host = _host_name(draw(host_text), draw(tlds))
        elif shape.host == "localhost":
            host = "localhost"
        elif shape.host == "ipv4":
            host = str(ipaddress.IPv4Address(draw(ipv4)))
        else:
            host = f"[{draw(ipv6)}]"
        port = "" if not shape.port else f":{draw(common_ports if shape.port == 'common' else any_port)}"
        path = _path(draw(paths[shape.path]))
        query = _query(draw(queries[shape.query])) if shape.query else ""
        if query and not path:
            path = "/"
        return f"{shape.scheme}://{userinfo}{host}{port}{path}{query}"

    return build()


def urls(schema: Mapping[str, Any], *, clears: bool = False) -> SearchStrategy[str]:
    """Absolute http(s) URLs of the kind people configure as webhooks.

    Ports, userinfo, paths and query strings, with non-ASCII text percent-encoded
    as a browser or ``requests`` would send it. Each is checked against the
    field's own pattern, so a fragment that narrows the URL (https only, say)
    narrows what is generated. With *clears*, the empty string -- which clears a
    stored URL -- is drawn too, if the schema accepts it.

    The canonical example (:data:`SIMPLEST_URL`) is the simplest value: a failing
    test shrinks to it in one step, and a webhook that needs a URL is no "bigger"
    than one that needs a SID.
    """
    checked = _built_urls().filter(lambda u: matches(schema, u))
    if clears and matches(schema, ""):
        # One draw in four clears the URL; the empty string is also the simplest value.
        return weighted((st.just(""), 1), (checked, 3))
    return checked


#: Integer ranges narrower than this are drawn from the list of their values.
_SMALL_RANGE = 16


def _integer_bounds(schema: Mapping[str, Any]) -> tuple[int, int]:
    top = _INT64 if schema.get("format") == "int64" else _INT32
    lo = schema.get("minimum", -top)
    hi = schema.get("maximum", top)
    if schema.get("exclusiveMinimum") is True:
        lo += 1
    if schema.get("exclusiveMaximum") is True:
        hi -= 1
    return int(lo), int(hi)


def _integers(schema: Mapping[str, Any]) -> SearchStrategy[int]:
    return st.integers(*_integer_bounds(schema))


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
        lo, hi = _integer_bounds(schema)
        if hi - lo < _SMALL_RANGE:
            # A handful of values (RetryCount 0-3, PageSize 1-5): one draw from the
            # list instead of an integer draw and a conversion; same values, and the
            # lowest is still the simplest.
            return st.sampled_from([str(n) for n in range(lo, hi + 1)])
        return st.integers(lo, hi).map(str)
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
    # Every branch below checks its values against the whole *schema*, so a
    # union of branches (alternatives) needs no filter of its own: each filter
    # is one more draw per value.
    form = fixed_form(pattern)
    if form is not None:
        return _sids(schema, form)
    alts = alternatives(pattern)
    if alts:
        return st.one_of([_strings(schema, alt, location) for alt in alts])
    if text_like(pattern):
        sub = {**schema, "pattern": pattern} if pattern else schema
        values = unique_names(sub) if location == "path" else free_text(sub)
        if pattern == schema.get("pattern"):
            return values  # *sub* is *schema*: already checked against it
        return values.filter(lambda s: matches(schema, s))
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
