"""Bad values, each derived from one constraint of one schema in the fragments.

A defect is worth generating only if every server must read it as a defect. So
bad values keep clear of anything a lenient but correct server could accept:

* no case variants or near misses of enum values (``get``, ``POSTS``, ``onMessageAdd3d``):
  candidates within edit distance 2 of a value, or containing one, are dropped;
* no empty strings (Twilio may read an empty parameter as absent), no signs or
  spaces around digits (``+3``, `` 3``), no non-ASCII digits (Python's ``int``
  reads ``'٣'`` as 3, so openapi-core would too), no ``true``/``null``-like words
  for a number;
* no leading or trailing whitespace, no case changes of a SID prefix or digit;
* path segments never contain ``/`` and are never ``.`` or ``..`` (a client or
  proxy would change the path rather than send the defect), and use only
  characters a path segment carries verbatim, so the raw and decoded segment tell
  the same story to every validator.

Nothing here names a field: every generator reads a schema keyword (``enum``,
``pattern``, ``type``, ``minimum``/``maximum``, ``minLength``/``maxLength``,
``maxItems``), so a changed fragment changes what is generated.
"""

from __future__ import annotations

import os
import string
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from . import _values
from ._values import fixed_form, is_url, matches

__all__ = ["DEFECTS", "Bad", "FieldDefect", "far_from", "field_defects", "scalar_defects"]

#: kind -> what it means; the public ``DEFECTS`` is the keys, in this order.
DEFECTS: Mapping[str, str] = {
    "bad_enum": "a form field set to a value outside its enum",
    "bad_pattern": "a form string that does not match its pattern (its length within bounds)",
    "bad_url": "a URL field that is not a URL its pattern accepts (no scheme, another scheme, relative)",
    "wrong_type": "an integer, number or boolean field whose wire value is not one",
    "out_of_range": "a number below its minimum or above its maximum",
    "too_short": "a string shorter than its minLength (never empty)",
    "too_long": "a string longer than its maxLength",
    "too_many_items": "a repeated key sent more times than the array's maxItems",
    "missing_required": "a required form field left out (the rest of the form still sent)",
    "bad_path_param": "a path segment that breaks its parameter's schema (answered 404, not 400)",
    "bad_query_param": "a query parameter that breaks its schema",
}

#: Words a lenient server may read as a boolean, null or a float.
_AMBIGUOUS_WORDS = frozenset(
    "true false t f yes no y n on off null none nil undefined nan inf infinity".split()
)
#: Characters a path segment carries verbatim (``encode_path_segment`` keeps them).
_SEGMENT_SAFE = string.ascii_letters + string.digits + "-_.~!$&'()*+,;=:@"
_PLAIN = string.ascii_letters + string.digits + "-_"
_OTHER_SCHEMES = ("ftp", "ws", "wss", "file", "gopher", "http", "https")


@dataclass(frozen=True)
class Bad:
    """One bad wire value (None: the field is left out) and why it is bad."""

    value: str | tuple[str, ...] | None
    description: str


@dataclass(frozen=True)
class FieldDefect:
    """A defect one field or parameter can carry: its kind, the keyword it breaks, bad values."""

    kind: str
    location: str
    name: str
    constraint: str
    values: SearchStrategy[Bad]


# ---------------------------------------------------------------------------
# helpers


def _levenshtein_at_most(a: str, b: str, limit: int) -> bool:
    if abs(len(a) - len(b)) > limit:
        return False
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return False
        previous = current
    return previous[-1] <= limit


def far_from(candidate: str, values: list[str]) -> bool:
    """Not equal, close (edit distance <= 2) or contained either way, ignoring case."""
    c = candidate.casefold()
    for value in values:
        v = value.casefold()
        if c == v or _levenshtein_at_most(c, v, 2):
            return False
        if (len(v) >= 2 and v in c) or c in v:
            return False
    return True


def _show(value: str, limit: int = 40) -> str:
    return repr(value if len(value) <= limit else value[: limit - 1] + "\u2026")


def _one_of_text(values: list[str]) -> str:
    shown = ", ".join(values[:5])
    return f"one of {shown}" if len(values) <= 5 else f"one of the {len(values)} documented values ({shown}, ...)"


def _segment_ok(value: str) -> bool:
    return bool(value) and "/" not in value and value not in (".", "..")


def _enum_values(schema: Mapping[str, Any]) -> list[str]:
    return [str(v).lower() if isinstance(v, bool) else str(v) for v in schema.get("enum", []) if v is not None]


# ---------------------------------------------------------------------------
# one generator per constraint; each returns (value, phrase) pairs


def _bad_enum(schema: Mapping[str, Any]) -> SearchStrategy[tuple[str, str]]:
    """Words in the enum's own style (``onQwerty`` for events, ``QWERTY`` for methods)."""
    values = _enum_values(schema)
    if schema.get("type") in ("integer", "number"):
        candidates = st.integers(-1000, 1000).map(str).filter(
            lambda s: s not in values and _in_range(schema, int(s))
        )
    else:
        prefix = os.path.commonprefix(values) if len(values) > 1 else ""
        rests = [v[len(prefix):] for v in values]
        if all(v.isupper() for v in values):
            style: Callable[[str], str] = str.upper
        elif all(r[:1].isupper() for r in rests if r):
            style = str.capitalize
        else:
            style = str.lower
        candidates = (
            st.text(string.ascii_lowercase, min_size=3, max_size=10)
            .map(lambda w: prefix + style(w))
            .filter(lambda w: far_from(w, values))
        )
    described = candidates.map(lambda v: (v, f"is {_show(v)}, not {_one_of_text(values)}"))
    siblings = [v for v in schema.get("x-sibling-values") or () if v not in values]
    if not siblings:
        return described
    # one draw in two: a value another endpoint accepts in a field of the same name
    return st.one_of(described, st.sampled_from(siblings).map(
        lambda v: (v, f"is {_show(v)}, which a sibling endpoint accepts but this one does not")))


def _in_range(schema: Mapping[str, Any], value: float) -> bool:
    if "minimum" in schema and value < schema["minimum"]:
        return False
    if "maximum" in schema and value > schema["maximum"]:
        return False
    return True


def _foreign_chars(alphabet: str) -> str:
    """Plain characters the class does not admit, in neither case."""
    admitted = set(alphabet)
    return "".join(
        c for c in _PLAIN if c not in admitted and c.lower() not in admitted and c.upper() not in admitted
    )


def _only_pattern_broken(schema: Mapping[str, Any], value: str) -> bool:
    lengths = {k: v for k, v in schema.items() if k in ("minLength", "maxLength")}
    return not matches(schema, value) and matches(lengths, value)


def _bad_pattern(schema: Mapping[str, Any]) -> SearchStrategy[tuple[str, str]] | None:
    """Strings that break the pattern and nothing else.

    For a SID-shaped pattern, a valid SID with another prefix or one character
    from outside the class (never a case change of an admitted one). For any
    other pattern, plain strings within the length bounds that it rejects --
    offered only if the pattern rejects most plain strings; a pattern that
    accepts ordinary text (a channel unique name) has nothing to break within
    its length, so only its length constraints make defects.
    """
    pattern = schema["pattern"]
    form = fixed_form(pattern)
    phrase = lambda v: f"is {_show(v)}, which does not match {pattern}"  # noqa: E731
    if form is not None:
        body = st.text(form.preferred, min_size=form.length, max_size=form.length)
        options = []
        if form.prefix:
            other = st.text(string.ascii_uppercase, min_size=len(form.prefix), max_size=len(form.prefix))
            options.append(
                st.tuples(other.filter(lambda p: p.casefold() != form.prefix.casefold()), body).map("".join)
            )
        foreign = _foreign_chars(form.alphabet)
        if foreign and form.length:
            options.append(
                st.tuples(body, st.integers(0, form.length - 1), st.sampled_from(foreign)).map(
                    lambda t: form.prefix + t[0][: t[1]] + t[2] + t[0][t[1] + 1:]
                )
            )
        if not options:
            return None
        return st.one_of(options).filter(lambda v: _only_pattern_broken(schema, v)).map(lambda v: (v, phrase(v)))
    if _values.text_like(pattern):
        return None
    lo = max(1, int(schema.get("minLength", 1)))
    hi = max(lo, min(int(schema.get("maxLength", lo + 20)), lo + 20))
    probes = [(p * lo)[: max(lo, len(p))] for p in ("!", "~~", "x", "0", "not-valid!", "__", "Q", "a-b")]
    if sum(_only_pattern_broken(schema, p) for p in probes if len(p) <= hi) < len(probes) // 2:
        return None
    text = st.text(_SEGMENT_SAFE, min_size=lo, max_size=hi)
    return text.filter(lambda v: _segment_ok(v) and _only_pattern_broken(schema, v)).map(lambda v: (v, phrase(v)))


def _bad_url(schema: Mapping[str, Any]) -> SearchStrategy[tuple[str, str]] | None:
    """Realistic URLs made unacceptable to the field's own pattern.

    The scheme dropped (``example.com/hook``), replaced (``ftp://...``), the
    whole URL made relative (``/hook?x=1``), or left as it is (an ``http://`` URL
    where the pattern accepts https only). Whatever the pattern still accepts is
    dropped, so a narrower pattern yields more kinds, a looser one fewer, and a
    field without a checkable pattern none.
    """
    pattern = schema.get("pattern")
    if pattern is None:
        return None
    if matches(schema, "example.com/hook") and matches(schema, "ftp://example.com/hook"):
        return None
    base = _values.urls({k: v for k, v in schema.items() if k != "pattern"})

    def mutate(args: tuple[str, int, str]) -> str:
        url, how, scheme = args
        rest = url.split("://", 1)[1]
        if how == 0:
            return rest
        if how == 1:
            return f"{scheme}://{rest}"
        if how == 2:
            slash = [i for i, c in enumerate(rest) if c in "/?"]
            return rest[slash[0]:] if slash else "/"
        return url  # unchanged: a defect only where the pattern is narrower than http(s)

    candidates = st.tuples(base, st.integers(0, 3), st.sampled_from(_OTHER_SCHEMES)).map(mutate)
    return candidates.filter(lambda v: v != "" and not matches(schema, v)).map(
        lambda v: (v, f"is {_show(v)}, not a URL matching {pattern}")
    )


def _wrong_type(schema: Mapping[str, Any]) -> SearchStrategy[tuple[str, str]]:
    """ASCII letters: no reader of integers, floats or booleans takes them for one."""
    kind = schema["type"]
    words = st.text(string.ascii_lowercase, min_size=1, max_size=10).filter(
        lambda w: w not in _AMBIGUOUS_WORDS
    )
    article = {"integer": "an integer", "number": "a number", "boolean": "true or false"}[kind]
    return words.map(lambda v: (v, f"is {_show(v)}, not {article}"))


def _out_of_range(schema: Mapping[str, Any]) -> SearchStrategy[tuple[str, str]] | None:
    """Integers past a bound; they shrink to the bound's neighbour."""
    options = []
    if "minimum" in schema:
        low = schema["minimum"] if schema.get("exclusiveMinimum") is True else schema["minimum"] - 1
        options.append(
            st.integers(0, 10**6).map(lambda k: int(low) - k).map(
                lambda v: (str(v), f"is {v}, below the minimum {schema['minimum']}")
            )
        )
    if "maximum" in schema and "maximum" not in schema.get("x-open-bounds", ()):
        # ``x-open-bounds``: past this bound the server decides (an open point), so
        # a value there is no defect -- and no valid value either (see _values)
        high = schema["maximum"] if schema.get("exclusiveMaximum") is True else schema["maximum"] + 1
        options.append(
            st.integers(0, 10**6).map(lambda k: int(high) + k).map(
                lambda v: (str(v), f"is {v}, above the maximum {schema['maximum']}")
            )
        )
    return st.one_of(options) if options else None


def _too_long(schema: Mapping[str, Any]) -> SearchStrategy[tuple[str, str]]:
    limit = int(schema["maxLength"])
    form = fixed_form(schema.get("pattern"))
    if form is not None:
        extra = st.text(form.preferred, min_size=1, max_size=16)
        base = st.text(form.preferred, min_size=limit, max_size=limit).map(
            lambda b: (form.prefix + b)[:limit]
        )
        values = st.tuples(base, extra).map("".join)
    else:
        # A chunk repeated past the limit: the length is the defect, and a few hundred
        # independently drawn characters would cost Hypothesis far more.
        chunk = st.text(_PLAIN, min_size=1, max_size=16)
        values = st.tuples(chunk, st.integers(limit + 1, limit + 16)).map(lambda t: (t[0] * t[1])[: t[1]])
    return values.filter(lambda v: len(v) > limit).map(
        lambda v: (v, f"has {len(v)} characters, more than the {limit} allowed ({_show(v)})")
    )


def _too_short(schema: Mapping[str, Any]) -> SearchStrategy[tuple[str, str]]:
    limit = int(schema["minLength"])
    form = fixed_form(schema.get("pattern"))
    chars = form.preferred if form is not None else _PLAIN
    prefix = form.prefix if form is not None else ""
    values = st.tuples(st.text(chars, min_size=1, max_size=limit), st.integers(1, limit - 1)).map(
        lambda t: (prefix + t[0])[: t[1]]
    )
    return values.filter(lambda v: 0 < len(v) < limit and _segment_ok(v)).map(
        lambda v: (v, f"has {len(v)} characters, fewer than the {limit} required ({_show(v)})")
    )


def scalar_defects(schema: Mapping[str, Any]) -> list[tuple[str, str, SearchStrategy[tuple[str, str]]]]:
    """(kind, broken keyword, bad values) for every constraint of one scalar schema."""
    out: list[tuple[str, str, SearchStrategy[tuple[str, str]] | None]] = []
    kind = schema.get("type", "string")
    if "enum" in schema and _enum_values(schema):
        out.append(("bad_enum", "enum", _bad_enum(schema)))
    if kind in ("integer", "number", "boolean"):
        out.append(("wrong_type", "type", _wrong_type(schema)))
    if kind in ("integer", "number") and "enum" not in schema:
        out.append(("out_of_range", "range", _out_of_range(schema)))
    if kind == "string" and "enum" not in schema:
        if is_url(schema):
            out.append(("bad_url", "pattern", _bad_url(schema)))
        elif "pattern" in schema:
            out.append(("bad_pattern", "pattern", _bad_pattern(schema)))
        if "minLength" in schema and int(schema["minLength"]) >= 2:
            out.append(("too_short", "minLength", _too_short(schema)))
        if "maxLength" in schema:
            out.append(("too_long", "maxLength", _too_long(schema)))
    return [(k, c, s) for k, c, s in out if s is not None]


def field_defects(location: str, name: str, schema: Mapping[str, Any], required: bool) -> list[FieldDefect]:
    """Every defect one parameter or form field can carry, labelled for where it is.

    Body fields are labelled by constraint; path and query parameters by place
    (``bad_path_param``, ``bad_query_param``), because a server answers them
    differently (a malformed path segment is a 404, a bad form field a 400)
    whichever constraint they break.
    """
    where = {"path": "path parameter ", "query": "query parameter "}.get(location, "")
    out: list[FieldDefect] = []

    def label(kind: str) -> str:
        return {"path": "bad_path_param", "query": "bad_query_param"}.get(location, kind)

    if schema.get("type") == "array":
        items = schema.get("items", {})
        for kind, constraint, bad in scalar_defects(items):
            out.append(FieldDefect(label(kind), location, name, constraint, _in_array(name, schema, bad, where)))
        if "maxItems" in schema:
            out.append(FieldDefect(label("too_many_items"), location, name, "maxItems", _too_many(name, schema, where)))
    else:
        for kind, constraint, bad in scalar_defects(schema):
            if location == "path":
                bad = bad.filter(lambda pair: _segment_ok(pair[0]))
            out.append(FieldDefect(label(kind), location, name, constraint,
                                   bad.map(lambda pair, n=name: Bad(pair[0], f"{where}{n} {pair[1]}"))))
    if required and location != "path":
        out.append(FieldDefect(label("missing_required"), location, name, "required",
                               st.just(Bad(None, f"{where}{name} is left out, though it is required"))))
    return out


def _in_array(
    name: str, schema: Mapping[str, Any], bad: SearchStrategy[tuple[str, str]], where: str
) -> SearchStrategy[Bad]:
    """A list of valid items with one bad item among them, within maxItems."""
    room = int(schema.get("maxItems", 4)) - 1
    others = _values.array_values({**schema, "maxItems": min(room, 4)}, min_size=0) if room > 0 else st.just([])

    def build(args: tuple[list[str], tuple[str, str], int]) -> Bad:
        items, (value, phrase), position = args
        position = min(position, len(items))
        values = (*items[:position], value, *items[position:])
        return Bad(values, f"{where}{name}[{position}] {phrase}")

    return st.tuples(others, bad, st.integers(0, 4)).map(build)


def _too_many(name: str, schema: Mapping[str, Any], where: str) -> SearchStrategy[Bad]:
    limit = int(schema["maxItems"])
    longer = {**schema, "minItems": limit + 1, "maxItems": limit + 3}
    return _values.array_values(longer).map(
        lambda items: Bad(tuple(items), f"{where}{name} has {len(items)} items, more than the {limit} allowed")
    )
