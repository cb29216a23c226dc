"""Hypothesis strategies for tool arguments: values *from* a tool's JSON input schema, and
mutations *away* from it (wrong types, missing and extra fields, nulls, huge and unicode
strings, NUL bytes, JSON-encoded strings).

The tool schemas are small and flat (types, enums, bounds, arrays of objects), so a compact
generator here covers them without another dependency. The advertised schemas carry no `format`
(Gemini rejects most formats): an id says "UUID" in its description, and a property named
`email` is an email, so that is what is generated for them.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

# Strings that stress a server: control characters, NUL, RTL marks, emoji, surrogate-free
# astral characters, markup, SQL and path shapes, JSON shapes.
NASTY_STRINGS = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\u202e\u202d",
    "😀" * 20,
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "\r\n\t",
    "<script>alert(1)</script>",
    "'; DROP TABLE interviews; --",
    "../../etc/passwd",
    "null",
    "true",
    "[]",
    "{}",
    '{"a": 1}',
    "0",
    "-1",
    "1e309",
    "NaN",
    "00000000-0000-0000-0000-000000000000",
    "ffffffff-ffff-ffff-ffff-ffffffffffff",
    "%00",
    "${jndi:ldap://x}",
]

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.integers(min_value=2**64, max_value=2**80),  # beyond 64-bit
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(NASTY_STRINGS),
)
# Two levels deep is enough to hit every type check; st.recursive is several times slower.
_SMALL_KEYS = st.text(max_size=6)
ANY_JSON = st.one_of(
    JSON_SCALARS,
    st.lists(JSON_SCALARS, max_size=3),
    st.dictionaries(_SMALL_KEYS, JSON_SCALARS, max_size=3),
    st.lists(st.dictionaries(_SMALL_KEYS, JSON_SCALARS, max_size=2), max_size=2),
)
_HUGE = [
    "A" * 1_000_000,
    "é" * 100_000,
    "😀" * 25_000,
    "\x00" * 100_000,
    ("x" * 99 + "\n") * 1_000,
    "b" * 10_000,
]
HUGE_STRINGS = st.sampled_from(_HUGE)
UNICODE_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)


def _types(schema: dict[str, Any]) -> list[str]:
    t = schema.get("type")
    if isinstance(t, list):
        return list(t)
    if isinstance(t, str):
        return [t]
    return ["string"]


def is_uuid_field(schema: dict[str, Any]) -> bool:
    return schema.get("format") == "uuid" or "UUID" in str(schema.get("description", ""))


def from_schema(schema: dict[str, Any], name: str = "") -> st.SearchStrategy[Any]:
    """Values valid for `schema` (the subset of JSON Schema the tool schemas use)."""
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    options = [_for_type(t, schema, name) for t in _types(schema)]
    return st.one_of(*options) if len(options) > 1 else options[0]


def _for_type(t: str, schema: dict[str, Any], name: str = "") -> st.SearchStrategy[Any]:
    if t == "null":
        return st.none()
    if t == "boolean":
        return st.booleans()
    if t == "integer":
        lo = schema.get("minimum", -(10**6))
        hi = schema.get("maximum", 10**6)
        return st.integers(min_value=lo, max_value=hi)
    if t == "number":
        return st.floats(
            min_value=schema.get("minimum"),
            max_value=schema.get("maximum"),
            allow_nan=False,
            allow_infinity=False,
        )
    if t == "string":
        fmt = schema.get("format")
        if is_uuid_field(schema):
            return st.uuids(version=4).map(str)
        if fmt == "email" or name == "email":
            return st.from_regex(r"\A[a-z0-9]{1,12}@[a-z0-9]{1,10}\.(com|org|dev)\Z")
        if fmt == "date":
            return st.dates().map(lambda d: d.isoformat())
        min_size = schema.get("minLength", 0)
        if min_size:
            # A blank string is not a valid title/text to the API; keep generated ones non-blank.
            return st.one_of(st.text(max_size=40), UNICODE_TEXT).map(lambda s: s if s.strip() else f"x{s}")
        return st.one_of(st.text(max_size=40), UNICODE_TEXT)
    if t == "array":
        items = schema.get("items", {})
        lo = schema.get("minItems", 0)
        hi = min(schema.get("maxItems", 4), max(lo, 4))
        return st.lists(from_schema(items) if items else ANY_JSON, min_size=lo, max_size=hi)
    if t == "object":
        props: dict[str, Any] = schema.get("properties", {})
        if not props:
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict):
                return st.dictionaries(st.text(min_size=1, max_size=10), from_schema(extra), max_size=3)
            return st.just({})
        return object_from_schema(schema)
    return ANY_JSON


def object_from_schema(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    props: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    fixed = {name: from_schema(sub, name) for name, sub in props.items() if name in required}
    optional = {name: from_schema(sub, name) for name, sub in props.items() if name not in required}
    return st.fixed_dictionaries(fixed, optional=optional)


# ---------------------------------------------------------------- mutations


@dataclass(frozen=True)
class Case:
    """One generated call: the arguments, what was done to them, and which top-level field
    (if any) is now certainly invalid, so an error must name it."""

    arguments: dict[str, Any]
    mutation: str
    field: str | None = None


def _wrong_value_for(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values of a JSON type the schema does not allow (so the call must be refused)."""
    allowed = set(_types(schema))
    if "integer" in allowed:
        allowed.add("number")  # 1.0 may be accepted as an integer; do not count it as wrong
    # null is not here: treating null as "not given" for an optional field is a fair leniency
    # (it gets its own, non-certain mutation).
    candidates: list[st.SearchStrategy[Any]] = []
    if "boolean" not in allowed and "integer" not in allowed and "number" not in allowed:
        candidates.append(st.booleans())
    if "array" not in allowed:
        candidates.append(st.lists(JSON_SCALARS, min_size=1, max_size=3))
    if "object" not in allowed:
        candidates.append(
            st.dictionaries(st.text(min_size=1, max_size=5), JSON_SCALARS, min_size=1, max_size=3)
        )
    return st.one_of(*candidates) if candidates else st.nothing()


def cases(schema: dict[str, Any]) -> st.SearchStrategy[Case]:
    """Valid calls and calls mutated away from `schema`, mixed."""
    props: dict[str, Any] = schema.get("properties", {})
    required = list(schema.get("required", []))
    valid = object_from_schema(schema) if props else st.just({})

    strategies: list[st.SearchStrategy[Case]] = [valid.map(lambda a: Case(a, "valid"))]

    # Extra fields, including ones that look like injection or reserved names.
    strategies.append(
        st.tuples(
            valid,
            st.dictionaries(
                st.one_of(
                    st.text(min_size=1, max_size=20), st.sampled_from(["__proto__", "_meta", "id", "$ref"])
                ),
                ANY_JSON,
                min_size=1,
                max_size=3,
            ),
        ).map(lambda t: Case({**t[1], **t[0]} if props else {**t[0], **t[1]}, "extra fields"))
    )
    # Arbitrary JSON objects that ignore the schema entirely.
    strategies.append(
        st.dictionaries(st.text(max_size=15), ANY_JSON, max_size=5).map(lambda a: Case(a, "random object"))
    )

    if required:
        strategies.append(
            st.one_of(
                *[
                    valid.map(
                        lambda a, r=r: Case({k: v for k, v in a.items() if k != r}, "missing required", r)
                    )
                    for r in required
                ]
            )
        )
    if props:
        names = sorted(props)

        def with_field(mutation: str, value_for: Any, certain: bool) -> st.SearchStrategy[Case]:
            per_name = [
                st.tuples(valid, value_for(props[n])).map(
                    lambda t, n=n: Case({**t[0], n: t[1]}, mutation, n if certain else None)
                )
                for n in names
            ]
            return st.one_of(*per_name)

        strategies += [
            with_field("wrong type", _wrong_value_for, True),
            with_field("null", lambda s: st.none(), False),
            with_field("huge string", lambda s: HUGE_STRINGS, False),
            with_field("unicode string", lambda s: UNICODE_TEXT, False),
            with_field("nasty string", lambda s: st.sampled_from(NASTY_STRINGS), False),
            with_field("nul bytes", lambda s: st.text(max_size=10).map(lambda x: f"{x}\x00{x}"), False),
            with_field("any json", lambda s: ANY_JSON, False),
            # JSON-encoded strings of a valid value (clients send arrays/objects that way).
            with_field("json-encoded", lambda s: from_schema(s).map(json.dumps), False),
            with_field("out of range", _out_of_range, False),
        ]
    return st.one_of(*strategies)


_BIG_LISTS: list[list[Any]] = [[], ["x"] * 101, [{"text": "q", "name": "n"}] * 501, [None] * 3]


def _out_of_range(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    t = _types(schema)
    if "integer" in t:
        return st.one_of(st.integers(max_value=-1), st.integers(min_value=10**6), st.just(0))
    if "array" in t:
        return st.sampled_from(_BIG_LISTS)
    if "string" in t and "enum" in schema:
        return st.sampled_from([v.lower() for v in schema["enum"]] + ["", "UNKNOWN"])
    if is_uuid_field(schema):
        return st.one_of(
            st.just(str(uuid.uuid4()).upper()), st.just(str(uuid.uuid4())[:-1]), st.just("not-a-uuid")
        )
    return st.sampled_from(NASTY_STRINGS)
