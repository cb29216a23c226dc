"""The one validation layer for tool arguments: repair what clients are known to garble, then check.

Every tool's arguments are checked here against the tool's schema before anything is sent, so an
agent gets a precise message naming the field at fault (and the allowed values). The SDK below
checks only what the wire needs, so every client-side repair lives here:

- arrays and objects that arrive as JSON text (`"[{...}]"`),
- "true"/"false" for booleans, "5" for integers and numbers, "null" for a nullable field,
- a single object where a list of objects is expected,
- a lone id where a list of ids is expected.

Beyond the schema, an operation's own `rules` (in the registry) say what a schema cannot, and
its `extra_fields` and `renames` say which unadvertised names are passed through and which read
names are refused with the name to write instead.
"""

from __future__ import annotations

import difflib
import json
import re
from typing import Any

from aural_mcp.operations import EMAIL_RE, Operation, is_uuid, not_an_id, show_input

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_INT_RE = re.compile(r"-?\d+")
_NAME_CHARS = 40  # an unknown argument name is echoed at most this long
MAX_PROBLEMS_SHOWN = 20  # a 500-item list with one mistake each gets a readable error


class ArgumentError(ValueError):
    """The arguments do not fit the tool's schema. `problems` are one line each, field first."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def invalid_arguments_text(tool: str, problems: list[str]) -> str:
    """The error an agent sees for arguments that do not fit: every problem, at most 20 listed."""
    shown = problems[:MAX_PROBLEMS_SHOWN]
    more = len(problems) - len(shown)
    lines = "\n".join(f"- {p}" for p in shown) + (f"\n- … and {more} more like these" if more else "")
    return f"Invalid arguments for `{tool}`:\n{lines}\nFix them and call again."


def types_of(schema: dict[str, Any]) -> list[str]:
    t = schema.get("type")
    if t is None:
        return []
    return list(t) if isinstance(t, list) else [t]


def type_words(types: list[str]) -> str:
    words = {"array": "a list", "object": "an object", "integer": "an integer", "null": "null"}
    return " or ".join(words.get(t, f"a {t}") for t in types)


def _name(name: str) -> str:
    """An argument name as errors echo it: unknown names can be any size."""
    return name if len(name) <= _NAME_CHARS else name[: _NAME_CHARS - 1] + "…"


def coerce(value: Any, schema: dict[str, Any]) -> Any:
    """Repair the usual client-side encodings before checking: JSON strings, "true", "5", one object."""
    types = types_of(schema)
    if not types:
        return value
    if isinstance(value, str) and "string" not in types:
        text = value.strip()
        if ("array" in types or "object" in types) and text[:1] in "[{":
            try:
                value = json.loads(text)
            except ValueError:
                return value
        elif "boolean" in types and text.lower() in ("true", "false"):
            return text.lower() == "true"
        elif "integer" in types and _INT_RE.fullmatch(text):
            return int(text)
        elif "number" in types:
            try:
                return float(text)
            except ValueError:
                return value
        elif "null" in types and text == "null":
            return None
        elif "array" in types and schema.get("items", {}).get("format") == "uuid":
            return [value]  # a lone id where a list of ids is expected (never options: see _check)
    if "integer" in types and isinstance(value, float) and value.is_integer():
        return int(value)
    if "array" in types and isinstance(value, dict):
        value = [value]  # one question/candidate where a list is expected
    if isinstance(value, list) and "array" in types:
        items = schema.get("items") or {}
        return [coerce(v, items) for v in value]
    if isinstance(value, dict) and "object" in types:
        props = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        out = {}
        for k, v in value.items():
            sub = props.get(k) or (extra if isinstance(extra, dict) else None)
            out[k] = coerce(v, sub) if sub else v
        return out
    return value


def _is_type(value: Any, t: str) -> bool:
    if t == "string":
        return isinstance(value, str)
    if t == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if t == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if t == "boolean":
        return isinstance(value, bool)
    if t == "array":
        return isinstance(value, list)
    if t == "object":
        return isinstance(value, dict)
    if t == "null":
        return value is None
    return True


class _Names:
    """The operation's facts about names the schema does not advertise."""

    def __init__(self, op: Operation | None) -> None:
        self.passed_through: tuple[str, ...] = op.extra_fields if op else ()
        # Inside each item of the body list, or at the top level when the body is one object.
        self.list_arg: str | None = op.body_list_arg if op else None
        self.renames: dict[str, str] = op.renames if op else {}

    def unknown(self, prefix: str, name: str, known: list[str]) -> str:
        written = self.renames.get(name)
        if written is not None and written in known:
            return f"`{prefix}{name}` is the name the API returns; send `{written}` instead"
        norm = {k.lower().replace("_", ""): k for k in known}
        guess = norm.get(name.lower().replace("_", "")) or next(
            iter(difflib.get_close_matches(name, known, 1)), None
        )
        hint = f"; did you mean `{guess}`?" if guess else ""
        return f"unknown argument `{prefix}{_name(name)}`{hint} (accepted: {', '.join(known) or 'none'})"


def _check(
    value: Any,
    schema: dict[str, Any],
    path: str,
    problems: list[str],
    names: _Names,
    passed_through: tuple[str, ...] = (),
) -> None:
    types = types_of(schema)
    if types and not any(_is_type(value, t) for t in types):
        if isinstance(value, str) and "array" in types and types_of(schema.get("items", {})) == ["string"]:
            # "Postgres, MySQL" is not one option: show the list the agent meant.
            parts = [p.strip() for p in value.split(",") if p.strip()] or [value]
            problems.append(
                f"`{path}` must be a list of strings such as {show_input(parts)}, not one string "
                f"(got {show_input(value)})"
            )
            return
        problems.append(f"`{path}` must be {type_words(types)} (got {show_input(value)})")
        return
    if value is None:
        return
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(str(v) for v in schema["enum"])
        problems.append(f"`{path}` must be one of {allowed} (got {show_input(value)}; case-sensitive)")
        return
    if isinstance(value, str):
        if len(value.strip()) < schema.get("minLength", 0):
            problems.append(f"`{path}` must not be empty")
        fmt = schema.get("format")
        if fmt == "uuid" and not is_uuid(value):
            problems.append(not_an_id(path, value))
        elif fmt == "date" and not _DATE_RE.fullmatch(value):
            problems.append(f"`{path}` must be a date YYYY-MM-DD (got {show_input(value)})")
        elif fmt == "email" and value.strip() and not EMAIL_RE.fullmatch(value.strip()):
            problems.append(f"`{path}` must be an email address like ada@example.com (got {show_input(value)})")
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            problems.append(f"`{path}` must be at least {schema['minimum']} (got {show_input(value)})")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            problems.append(
                f"`{path}` must be greater than {schema['exclusiveMinimum']} (got {show_input(value)})"
            )
        if "maximum" in schema and value > schema["maximum"]:
            problems.append(f"`{path}` must be at most {schema['maximum']} (got {show_input(value)})")
    elif isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            problems.append(f"`{path}` needs at least {schema['minItems']} item(s)")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            problems.append(
                f"`{path}` takes at most {schema['maxItems']} items (got {len(value)}); split the call"
            )
        items = schema.get("items")
        if items:
            for i, item in enumerate(value):
                _check(item, items, f"{path}[{i}]", problems, names, passed_through)
    elif isinstance(value, dict):
        props = schema.get("properties")
        for name in schema.get("required", ()):
            if value.get(name) is None:
                problems.append(f"`{path}.{name}` is required")
        extra = schema.get("additionalProperties")
        for k, v in value.items():
            if props is not None and k in props:
                _check(v, props[k], f"{path}.{k}", problems, names)
            elif isinstance(extra, dict):
                _check(v, extra, f"{path}.{_name(k)}", problems, names)
            elif props is not None and k not in passed_through:
                problems.append(names.unknown(f"{path}.", k, list(props)))


def check_arguments(
    schema: dict[str, Any], arguments: dict[str, Any], op: Operation | None = None
) -> dict[str, Any]:
    """Repair and check `arguments` against `schema` (and `op`'s own facts); return those to send.

    Raises ArgumentError listing every problem. Nulls for optional arguments that cannot be null
    are dropped (clients often send `cursor: null`); defaults are not filled in here.
    """
    names = _Names(op)
    props: dict[str, Any] = schema.get("properties", {})
    top_level_extra = names.passed_through if names.list_arg is None else ()
    problems: list[str] = []
    out: dict[str, Any] = {}
    for name, raw in arguments.items():
        sub = props.get(name)
        if sub is None:
            if name in top_level_extra:
                out[name] = raw
                continue
            problems.append(names.unknown("", name, list(props)))
            continue
        value = coerce(raw, sub)
        if value is None and "null" not in types_of(sub):
            if name in schema.get("required", ()):
                problems.append(f"`{name}` is required and cannot be null")
            continue
        in_items = names.passed_through if name == names.list_arg else ()
        _check(value, sub, name, problems, names, in_items)
        out[name] = value
    for name in schema.get("required", ()):
        if name not in arguments:
            desc = props.get(name, {})
            kind = type_words(types_of(desc)) if desc else "a value"
            problems.append(f"`{name}` is required ({kind})")
    for rule in op.rules if op else ():
        problems += rule(out)
    if problems:
        raise ArgumentError(problems)
    return out
