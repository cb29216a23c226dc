"""Tools derived from the operation registry: input schemas, argument checking, the Tool type.

The registry (`aural_mcp.operations`) is the one source of every tool's name, description,
arguments and annotations. This module turns an `Operation` into an MCP tool whose input schema
is generated from the registry arguments, and checks incoming arguments against that schema
itself, so an agent gets a precise message naming the field at fault (and the allowed values)
before anything is sent to the API.

Arguments are coerced where clients are known to be sloppy: arrays and objects that arrive as
JSON strings, "true"/"5" for booleans/integers, a single object where a list is expected.
"""

from __future__ import annotations

import difflib
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import func_metadata
from mcp_types import CallToolResult, TextContent, ToolAnnotations

from aural_mcp.operations import QUESTION_EXTRA_FIELDS, Operation, is_uuid
from aural_mcp.server.subscriptions import publish_changes

logger = logging.getLogger("aural_mcp.server")

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INT_RE = re.compile(r"^-?\d+$")

# Which tool lists the ids of each kind: named in messages about a bad or unknown id.
ID_SOURCES: dict[str, str] = {
    "interviewId": "list_interviews",
    "questionId": "list_questions",
    "sessionId": "list_sessions",
    "candidateId": "list_candidates",
    "practiceId": "list_practices",
}

# Fields accepted without being advertised (see operations.QUESTION_EXTRA_FIELDS).
_HIDDEN_FIELDS: dict[str, tuple[str, ...]] = {
    "add_questions": QUESTION_EXTRA_FIELDS,  # inside each question
    "update_question": QUESTION_EXTRA_FIELDS,  # top level
}
# Read names that agents send by mistake, with the name to write instead.
_RENAMES = {"isRequired": "required", "probeOnShort": "followUpEnabled"}


def input_schema(op: Operation) -> dict[str, Any]:
    """The tool's JSON schema: one property per registry argument, no top-level combinators."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {a.name: a.json_schema() for a in op.args},
    }
    required = [a.name for a in op.args if a.required]
    if required:
        schema["required"] = required
    schema["additionalProperties"] = False
    return schema


def tool_annotations_of(op: Operation) -> ToolAnnotations:
    return ToolAnnotations(
        title=op.summary,
        read_only_hint=op.read_only,
        destructive_hint=op.destructive,
        idempotent_hint=op.idempotent,
        open_world_hint=op.open_world,
    )


class ArgumentError(ValueError):
    """The arguments do not fit the tool's schema. `problems` are one line each, field first."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _types(schema: dict[str, Any]) -> list[str]:
    t = schema.get("type")
    if t is None:
        return []
    return list(t) if isinstance(t, list) else [t]


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _type_words(types: list[str]) -> str:
    words = {"array": "a list", "object": "an object", "integer": "an integer", "null": "null"}
    return " or ".join(words.get(t, f"a {t}") for t in types)


def coerce(value: Any, schema: dict[str, Any]) -> Any:
    """Repair the usual client-side encodings before checking: JSON strings, "true", "5", one object."""
    types = _types(schema)
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
        elif "integer" in types and _INT_RE.match(text):
            return int(text)
        elif "number" in types:
            try:
                return float(text)
            except ValueError:
                return value
        elif "null" in types and text == "null":
            return None
        elif "array" in types and "string" in _types(schema.get("items", {})):
            return [value]  # a lone id where a list of ids is expected
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


def _check(
    value: Any, schema: dict[str, Any], path: str, problems: list[str], hidden: tuple[str, ...] = ()
) -> None:
    types = _types(schema)
    if types and not any(_is_type(value, t) for t in types):
        problems.append(f"`{path}` must be {_type_words(types)} (got {_show(value)})")
        return
    if value is None:
        return
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(str(v) for v in schema["enum"])
        problems.append(f"`{path}` must be one of {allowed} (got {_show(value)}; case-sensitive)")
        return
    if isinstance(value, str):
        if len(value.strip()) < schema.get("minLength", 0):
            problems.append(f"`{path}` must not be empty")
        fmt = schema.get("format")
        if fmt == "uuid" and not is_uuid(value):
            source = ID_SOURCES.get(path)
            where = f"; `{source}` shows the ids" if source else ""
            problems.append(
                f"`{path}` must be a UUID like 0b7e6f1c-2d3a-4e5f-8a9b-0c1d2e3f4a5b (got {_show(value)}){where}"
            )
        elif fmt == "date" and not _DATE_RE.match(value):
            problems.append(f"`{path}` must be a date YYYY-MM-DD (got {_show(value)})")
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            problems.append(f"`{path}` must be at least {schema['minimum']} (got {value})")
        if "maximum" in schema and value > schema["maximum"]:
            problems.append(f"`{path}` must be at most {schema['maximum']} (got {value})")
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
                _check(item, items, f"{path}[{i}]", problems, hidden)
    elif isinstance(value, dict):
        props = schema.get("properties")
        for name in schema.get("required", ()):
            if value.get(name) is None:
                problems.append(f"`{path}.{name}` is required")
        if props is not None:
            for k, v in value.items():
                if k in props:
                    _check(v, props[k], f"{path}.{k}", problems)
                elif k not in hidden:
                    problems.append(_unknown(f"{path}.", k, list(props)))
        elif isinstance(schema.get("additionalProperties"), dict):
            for k, v in value.items():
                _check(v, schema["additionalProperties"], f"{path}.{k}", problems)


def _unknown(prefix: str, name: str, known: list[str]) -> str:
    if name in _RENAMES and _RENAMES[name] in known:
        return f"`{prefix}{name}` is the name the API returns; send `{_RENAMES[name]}` instead"
    norm = {k.lower().replace("_", ""): k for k in known}
    guess = norm.get(name.lower().replace("_", "")) or next(
        iter(difflib.get_close_matches(name, known, 1)), None
    )
    hint = f"; did you mean `{guess}`?" if guess else ""
    return f"unknown argument `{prefix}{name}`{hint} (accepted: {', '.join(known) or 'none'})"


def check_arguments(op_name: str, schema: dict[str, Any], arguments: dict[str, Any]) -> dict[str, Any]:
    """Coerce and check `arguments` against `schema`; return the arguments to send.

    Raises ArgumentError listing every problem. Nulls for optional arguments that cannot be null
    are dropped (clients often send `cursor: null`); defaults are not filled in here.
    """
    props: dict[str, Any] = schema.get("properties", {})
    hidden = _HIDDEN_FIELDS.get(op_name, ())
    problems: list[str] = []
    out: dict[str, Any] = {}
    for name, raw in arguments.items():
        sub = props.get(name)
        if sub is None:
            if name in hidden and op_name == "update_question":
                out[name] = raw
                continue
            problems.append(_unknown("", name, list(props)))
            continue
        value = coerce(raw, sub)
        if value is None and "null" not in _types(sub):
            if name in schema.get("required", ()):
                problems.append(f"`{name}` is required and cannot be null")
            continue
        _check(value, sub, name, problems, hidden)
        out[name] = value
    for name in schema.get("required", ()):
        if name not in arguments:
            desc = props.get(name, {})
            kind = _type_words(_types(desc)) if desc else "a value"
            problems.append(f"`{name}` is required ({kind})")
    if problems:
        raise ArgumentError(problems)
    return out


Handler = Callable[[dict[str, Any]], Awaitable[CallToolResult]]


def text_result(
    text: str, *, structured: dict[str, Any] | None = None, error: bool = False
) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=structured,
        is_error=error,
    )


async def _never_called() -> None:  # pragma: no cover - placeholder for Tool.fn_metadata
    return None


_PLACEHOLDER_METADATA = func_metadata(_never_called, structured_output=False)


class SchemaTool(Tool):
    """A tool with a hand-built JSON schema and a handler taking the checked arguments.

    MCPServer's own `Tool` builds its schema from a Python signature and validates with pydantic;
    ours come from the registry, so `run` is replaced: check the arguments against `parameters`
    with field-precise messages, call the handler, and always return a `CallToolResult` (errors
    are results with isError, never exceptions and never the SDK's generic wrapper text).
    """

    async def run(
        self, arguments: dict[str, Any], context: Any, convert_result: bool = False
    ) -> CallToolResult:
        try:
            checked = check_arguments(self.name, self.parameters, arguments or {})
        except ArgumentError as exc:
            lines = "\n".join(f"- {p}" for p in exc.problems)
            return text_result(
                f"Invalid arguments for `{self.name}`:\n{lines}\nFix them and call again.", error=True
            )
        try:
            result: CallToolResult = await self.fn(checked)
        except Exception:  # the handler maps every expected failure itself; this is a bug
            logger.exception("tool %s failed unexpectedly", self.name)
            return text_result(
                f"`{self.name}` failed with an unexpected error inside aural-mcp (logged on the server). "
                "Nothing suggests the request was wrong; try once more, and report it if it persists.",
                error=True,
            )
        if not result.is_error and not (self.annotations and self.annotations.read_only_hint):
            await publish_changes(self.name, checked, result, context)
        return result


def make_tool(
    *,
    name: str,
    title: str,
    description: str,
    schema: dict[str, Any],
    tool_annotations: ToolAnnotations,
    handler: Handler,
) -> SchemaTool:
    return SchemaTool(
        fn=handler,
        name=name,
        title=title,
        description=description,
        parameters=schema,
        fn_metadata=_PLACEHOLDER_METADATA,
        context_kwarg=None,
        is_async=True,
        annotations=tool_annotations,
    )


def operation_tool(op: Operation, handler: Handler) -> SchemaTool:
    return make_tool(
        name=op.name,
        title=op.summary,
        description=op.full_description,
        schema=input_schema(op),
        tool_annotations=tool_annotations_of(op),
        handler=handler,
    )
