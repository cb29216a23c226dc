"""structuredContent as a documented projection: each tool's `outputSchema`, and data made to fit it.

One source: an operation's projected data schema is its response schema (`aural_mcp.responses`,
named by `op.response`) with the `INTERNAL_COLUMNS` taken out and every constraint a real
account's rows could break relaxed (see `lenient`). `project` walks the same schema over the data,
so what a tool returns always validates against what it advertises: the Python MCP client (and
others) validate structuredContent and turn a mismatch into an error for the user.

The SDK remains the way to the raw API objects.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import cache
from typing import Any

from aural_mcp import operations, responses

# Columns that structuredContent never carries, at any depth, with why. The SDK still has them.
INTERNAL_COLUMNS: dict[str, str] = {
    "projectId": "the project the row is filed under; access goes by the key, and no tool takes it",
    "userId": "the account user who made the row (an interview, a practice run); no tool takes it",
    "llmProvider": "the AI vendor the hosted service runs the interview on; an operator setting",
    "llmModel": "the AI model the hosted service runs the interview on; an operator setting",
    "parsedResume": "a person's parsed resume stored on an interview row: personal data no tool is about",
    "resumeText": "a person's resume text stored on an interview row: personal data no tool is about",
}
# Kept on purpose: `inviteToken` (a candidate's invite link is built from it, and it is the only
# way to the link when the app's address is unknown) and `mode` (how an interview or a practice
# run is taken: CHAT, VOICE, HYBRID, or newer values on dashboard rows).

# Fields whose stored shape differs between rows written by the API and by the dashboard, templates
# or the AI generator: any JSON, described instead of typed.
ANY_SHAPE: dict[str, str] = {
    "options": "choices: a string list, {options, allowMultiple} or [{label, value}]",
    "starterCode": "a language -> code map, or {language, code}",
}

# Fields structuredContent adds to the API's rows (render/candidates.py `with_invite_urls`).
ADDED_FIELDS: dict[str, dict[str, Any]] = {
    "list_candidates": {"inviteUrl": {"type": ["string", "null"], "description": "personal invite link"}},
}

_KEPT_KEYWORDS = ("description",)
_COMPONENTS = responses.schemas()


def _is_id(key: str | None) -> bool:
    return key is not None and (key == "id" or key.endswith("Id"))


def _merged(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with `$ref` resolved and `allOf` parts merged into one object schema."""
    if "$ref" in schema:
        target = _COMPONENTS[schema["$ref"].rsplit("/", 1)[1]]
        return _merged({**target, **{k: v for k, v in schema.items() if k != "$ref"}})
    if "allOf" not in schema:
        return schema
    props: dict[str, Any] = {}
    for part in schema["allOf"]:
        props.update(_merged(part).get("properties", {}))
    return {"type": "object", "properties": props, **{k: v for k, v in schema.items() if k in _KEPT_KEYWORDS}}


def _types(schema: dict[str, Any]) -> list[str]:
    t = schema.get("type")
    if t is None and "const" in schema:
        t = {bool: "boolean", str: "string"}.get(type(schema["const"]), "number")
    if t is None and "enum" in schema:
        t = "string"
    names = [t] if isinstance(t, str) else list(t or [])
    return [n for n in names if n != "null"]


def lenient(schema: dict[str, Any], key: str | None = None) -> dict[str, Any]:
    """The published form of a response schema: what any real row, projected, satisfies.

    No `enum`, `const`, `format`, bounds or `required` (a newer value, an odd row or a null must
    not fail a client's validation); every field may be null; ids are strings (or null);
    additional properties are allowed; `ANY_SHAPE` fields take any JSON; internal columns are out.
    """
    if key in ANY_SHAPE:
        return {"description": ANY_SHAPE[key]}
    if _is_id(key):
        return {"type": ["string", "null"]}
    schema = _merged(schema)
    types = _types(schema)
    if not types:
        return {k: v for k, v in schema.items() if k in _KEPT_KEYWORDS}
    out: dict[str, Any] = {"type": [*types, "null"]}
    if "object" in types and "properties" in schema:
        out["properties"] = {
            name: lenient(sub, name)
            for name, sub in schema["properties"].items()
            if name not in INTERNAL_COLUMNS
        }
    if "array" in types and isinstance(schema.get("items"), dict):
        out["items"] = lenient(schema["items"])
    out.update((k, v) for k, v in schema.items() if k in _KEPT_KEYWORDS)
    return out


@cache
def _data_schema(op_name: str) -> dict[str, Any]:
    op = operations.get(op_name)
    row = lenient(responses.ref(op.response.schema))
    row["properties"] = {**row.get("properties", {}), **ADDED_FIELDS.get(op_name, {})}
    return {"type": ["array", "null"], "items": row} if op.response.many else row


def data_schema(op_name: str) -> dict[str, Any]:
    """The projected schema of `op_name`'s structuredContent `data` (a fresh copy)."""
    return copy.deepcopy(_data_schema(op_name))


def envelope_schema(data: dict[str, Any], *, paged: bool = False) -> dict[str, Any]:
    """The `outputSchema` of a tool whose structuredContent is `{data, cursor?, truncated?}`."""
    props: dict[str, Any] = {"data": data}
    if paged:
        props["cursor"] = {"type": ["string", "null"], "description": "next page; null on the last"}
    props["truncated"] = {"type": "string", "description": "what was cut to fit, and how to get the rest"}
    return {"type": "object", "properties": props, "required": ["data"]}


def output_schema(op_name: str) -> dict[str, Any]:
    """The `outputSchema` a registry operation's tool advertises."""
    return envelope_schema(data_schema(op_name), paged=operations.get(op_name).paginated)


def without_internal(value: Any) -> Any:
    """`value` with every `INTERNAL_COLUMNS` key removed, at every depth."""
    if isinstance(value, dict):
        return {k: without_internal(v) for k, v in value.items() if k not in INTERNAL_COLUMNS}
    if isinstance(value, list):
        return [without_internal(v) for v in value]
    return value


def _kind_fits(value: Any, types: frozenset[str]) -> bool:
    if isinstance(value, bool):
        return "boolean" in types
    if isinstance(value, int):
        return "integer" in types or "number" in types
    if isinstance(value, float):
        return "number" in types or ("integer" in types and value.is_integer())
    if isinstance(value, str):
        return "string" in types
    if isinstance(value, dict):
        return "object" in types
    return isinstance(value, list) and "array" in types


@dataclass(frozen=True)
class _Shape:
    """A `lenient` schema read once for `project`: the kinds it names (null aside) at this depth,
    and the shapes of its properties and items."""

    types: frozenset[str]
    properties: dict[str, _Shape]
    items: _Shape | None


def _shape(schema: dict[str, Any]) -> _Shape:
    items = schema.get("items")
    return _Shape(
        frozenset(_types(schema)),
        {name: _shape(sub) for name, sub in schema.get("properties", {}).items()},
        _shape(items) if items is not None else None,
    )


_STRING_ONLY = frozenset({"string"})


def project(shape: _Shape, value: Any) -> Any:
    """`value` made to satisfy the `lenient` schema read into `shape`, dropping internal columns at every depth.

    A value of a kind the schema does not name becomes null, except a number where only a string
    is named, which becomes its text (an API may send an integer id): the result always
    validates, and the text rendering still shows the value as it came.
    """
    types = shape.types
    if not types or value is None:
        return without_internal(value)
    if not _kind_fits(value, types):
        if types == _STRING_ONLY and isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        return None
    if isinstance(value, dict):
        props = shape.properties
        return {
            k: project(props[k], v) if k in props else without_internal(v)
            for k, v in value.items()
            if k not in INTERNAL_COLUMNS
        }
    if isinstance(value, list):
        items = shape.items
        return [project(items, v) for v in value] if items is not None else without_internal(value)
    return value


@cache
def _data_shape(op_name: str) -> _Shape:
    # read once per operation: every call projects its answer onto the same schema
    return _shape(_data_schema(op_name))


def project_data(op_name: str, data: Any) -> Any:
    """`op_name`'s `data` as structuredContent carries it (`data_schema`)."""
    return project(_data_shape(op_name), data)
