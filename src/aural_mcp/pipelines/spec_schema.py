"""The JSON Schema (Draft 2020-12) of an interview spec file, kept once here.

The interview settings and the question fields are the registry's own (`create_interview` and
`add_questions` in `aural_mcp.operations`), so a field the API gains shows up here too. What the
schema adds: `key`s (the stable names the state file maps to ids), `published`, `interviewId`
(an existing interview the entry maps to), and tighter rules where the API would silently store
something other than what was written (a blank title, an empty `aiName`, a `timeLimitMinutes`
beyond the database's integer). A question's position in the list is its order, so `order` is not
a field. `docs/interview-spec.md` holds a copy (a test keeps the two equal); the MCP server serves
it as `aural://specs/interview.schema.json`.
"""

from __future__ import annotations

import copy
from typing import Any

from aural_mcp import operations

SCHEMA_URI = "aural://specs/interview.schema.json"
MAX_INT4 = 2_147_483_647  # timeLimitMinutes is a 32-bit integer column

KEY_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
    "description": "stable name: letters, digits, _ . -, at most 64 characters; never change it",
}


def _without_defaults(schema: dict[str, Any]) -> dict[str, Any]:
    # A field the spec leaves out is not managed (apply never changes it), so no default applies.
    return {k: v for k, v in schema.items() if k != "default"}


def _interview_settings() -> dict[str, Any]:
    create = operations.get("create_interview")
    props = {a.name: _without_defaults(a.json_schema()) for a in create.args_in("body")}
    props["title"] = {"type": "string", "pattern": "\\S", "description": "shown to candidates"}
    for name in ("description", "objective"):
        props[name] = {"type": ["string", "null"], **({"description": props[name]["description"]} if "description" in props[name] else {})}
    for name in ("aiName", "language"):
        props[name] = {**props[name], "minLength": 1}
    props["timeLimitMinutes"] = {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_INT4, "description": "null: no limit"}
    return props


def _question_fields() -> dict[str, Any]:
    add = operations.get("add_questions")
    items = add.arg("questions").schema["items"]["properties"]
    props = {name: _without_defaults(copy.deepcopy(s)) for name, s in items.items() if name != "order"}
    props["text"] = {"type": "string", "pattern": "\\S"}
    props["description"] = {"type": ["string", "null"]}
    props["timeLimitSeconds"] = {"type": ["integer", "null"], "minimum": 1}
    props["probeThreshold"] = {"type": ["integer", "null"]}
    for name in operations.QUESTION_EXTRA_FIELDS:
        props.setdefault(name, {"description": "any JSON, passed through"})
    return props


def build_schema() -> dict[str, Any]:
    choice = list(operations.CHOICE_TYPES)
    question = {
        "type": "object",
        "required": ["key", "text"],
        "additionalProperties": False,
        "properties": {"key": KEY_SCHEMA, **_question_fields()},
        # Choice questions need options; other types take none.
        "if": {"required": ["type"], "properties": {"type": {"enum": choice}}},
        "then": {"required": ["options"]},
        "else": {"not": {"required": ["options"]}},
    }
    interview = {
        "type": "object",
        "required": ["key", "title"],
        "additionalProperties": False,
        "properties": {
            "key": KEY_SCHEMA,
            "interviewId": {
                "type": "string",
                "pattern": operations.UUID_PATTERN,
                "description": "an existing interview this entry manages (instead of creating one)",
            },
            **_interview_settings(),
            "published": {"type": "boolean", "description": "true: publish it (open the public link)"},
            "questions": {"type": "array", "items": question, "description": "in the order candidates see them"},
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_URI,
        "title": "Aural interview spec",
        "type": "object",
        "required": ["interviews"],
        "additionalProperties": False,
        "properties": {
            "version": {"const": 1},
            "interviews": {"type": "array", "minItems": 1, "items": interview},
        },
    }


SPEC_SCHEMA: dict[str, Any] = build_schema()
