"""Tools derived from the operation registry: input schemas, argument checking, the Tool type.

The registry (`aural_mcp.operations`) is the one source of every tool's name, description,
arguments and annotations. This module turns an `Operation` into an MCP tool whose input schema
is generated from the registry arguments, and checks incoming arguments against that schema
itself, so an agent gets a precise message naming the field at fault (and the allowed values)
before anything is sent to the API.

Arguments are coerced where clients are known to be sloppy: arrays and objects that arrive as
JSON strings, "true"/"5" for booleans/integers, a single object where a list is expected, a lone
id where a list of ids is expected. Beyond the schema, checks the API does not make but a careless
agent needs: choice questions have at least two options, candidates have a name or a valid email.

Two schemas per tool: the registry's (`check_schema`, with `format`, nullable types and maps) is
what arguments are checked against; the advertised `inputSchema` is its portable projection
(`portable_schema`), limited to what every major model provider accepts.
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

from aural_mcp.operations import (
    CHOICE_TYPES,
    QUESTION_EXTRA_FIELDS,
    QUESTION_TYPES,
    Operation,
    is_uuid,
    show_input,
)
from aural_mcp.server.subscriptions import publish_changes

logger = logging.getLogger("aural_mcp.server")

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_INT_RE = re.compile(r"-?\d+")
# The API's own rule for candidate emails (it applies it on update only; here on create too).
_EMAIL_RE = re.compile(
    r"(?!\.)(?!.*\.\.)([A-Za-z0-9_'+\-\.]*)[A-Za-z0-9_+-]@([A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}"
)
_NAME_CHARS = 40  # an unknown argument name is echoed at most this long
MAX_PROBLEMS_SHOWN = 20  # a 500-item list with one mistake each gets a readable error

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
    """The schema arguments are checked against: one property per registry argument."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {a.name: a.json_schema() for a in op.args},
    }
    required = [a.name for a in op.args if a.required]
    if required:
        schema["required"] = required
    schema["additionalProperties"] = False
    return schema


# What the advertised schemas keep: the keywords both Gemini's function declarations and OpenAI's
# function parameters accept (tests/server/test_schema_portability.py lists the sources).
PORTABLE_KEYWORDS = frozenset(
    {"type", "description", "enum", "items", "properties", "required", "minItems", "maxItems",
     "minimum", "maximum", "minLength", "default"}
)  # fmt: skip


def portable_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` as every provider accepts it: one type, no `format`, no `additionalProperties`.

    A nullable type keeps its non-null type and says "null clears it" (the checks still accept
    null); a UUID format is said in the description (id descriptions already say it).
    """
    out: dict[str, Any] = {}
    types = _types(schema)
    concrete = [t for t in types if t != "null"]
    if concrete:
        out["type"] = concrete[0]
    for key, value in schema.items():
        if key == "properties":
            out[key] = {name: portable_schema(sub) for name, sub in value.items()}
        elif key == "items":
            out[key] = portable_schema(value)
        elif key in PORTABLE_KEYWORDS and key != "type":
            out[key] = value
    notes = []
    if schema.get("format") == "uuid" and "UUID" not in schema.get("description", ""):
        notes.append("a UUID")
    if "null" in types and "null clears" not in schema.get("description", ""):
        notes.append("null clears it")
    if notes:
        out["description"] = "; ".join(filter(None, [schema.get("description", ""), *notes]))
    return out


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
    return show_input(value)


def _name(name: str) -> str:
    """An argument name as errors echo it: unknown names can be any size."""
    return name if len(name) <= _NAME_CHARS else name[: _NAME_CHARS - 1] + "…"


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


def _check(
    value: Any, schema: dict[str, Any], path: str, problems: list[str], hidden: tuple[str, ...] = ()
) -> None:
    types = _types(schema)
    if types and not any(_is_type(value, t) for t in types):
        if isinstance(value, str) and "array" in types and _types(schema.get("items", {})) == ["string"]:
            # "Postgres, MySQL" is not one option: show the list the agent meant.
            parts = [p.strip() for p in value.split(",") if p.strip()] or [value]
            problems.append(
                f"`{path}` must be a list of strings such as {_show(parts)}, not one string (got {_show(value)})"
            )
            return
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
        elif fmt == "date" and not _DATE_RE.fullmatch(value):
            problems.append(f"`{path}` must be a date YYYY-MM-DD (got {_show(value)})")
        elif fmt == "email" and value.strip() and not _EMAIL_RE.fullmatch(value.strip()):
            problems.append(f"`{path}` must be an email address like ada@example.com (got {_show(value)})")
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            problems.append(f"`{path}` must be at least {schema['minimum']} (got {_show(value)})")
        if "maximum" in schema and value > schema["maximum"]:
            problems.append(f"`{path}` must be at most {schema['maximum']} (got {_show(value)})")
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
        extra = schema.get("additionalProperties")
        for k, v in value.items():
            if props is not None and k in props:
                _check(v, props[k], f"{path}.{k}", problems)
            elif isinstance(extra, dict):
                _check(v, extra, f"{path}.{_name(k)}", problems)
            elif props is not None and k not in hidden:
                problems.append(_unknown(f"{path}.", k, list(props)))


def _unknown(prefix: str, name: str, known: list[str]) -> str:
    if name in _RENAMES and _RENAMES[name] in known:
        return f"`{prefix}{name}` is the name the API returns; send `{_RENAMES[name]}` instead"
    norm = {k.lower().replace("_", ""): k for k in known}
    guess = norm.get(name.lower().replace("_", "")) or next(
        iter(difflib.get_close_matches(name, known, 1)), None
    )
    hint = f"; did you mean `{guess}`?" if guess else ""
    return f"unknown argument `{prefix}{_name(name)}`{hint} (accepted: {', '.join(known) or 'none'})"


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
    _check_meaning(op_name, out, problems)
    if problems:
        raise ArgumentError(problems)
    return out


_CHOICES = " or ".join(CHOICE_TYPES)
_OPTIONS_EXAMPLE = '["Postgres", "MySQL", "SQLite"]'


def _check_meaning(op_name: str, args: dict[str, Any], problems: list[str]) -> None:
    """What the schema cannot say: options go with choice types, a candidate needs a name or email."""
    # Runs on arguments that may have failed the schema checks: look only at well-typed parts.
    if op_name == "add_questions":
        for i, question in enumerate(_dicts(args.get("questions"))):
            _check_new_question(question, f"questions[{i}]", problems)
    elif op_name == "update_question":
        _check_question_update(args, problems)
    elif op_name == "add_candidates":
        for i, candidate in enumerate(_dicts(args.get("candidates"))):
            if not (_filled(candidate.get("name")) or _filled(candidate.get("email"))):
                problems.append(
                    f"`candidates[{i}]` needs a `name` or an `email`; an invite without either is useless"
                )


def _dicts(value: Any) -> list[dict[str, Any]]:
    """The items of a list, with non-objects replaced by {} (their own error is already listed)."""
    return [v if isinstance(v, dict) else {} for v in value] if isinstance(value, list) else []


def _filled(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _check_new_question(question: dict[str, Any], path: str, problems: list[str]) -> None:
    if not question:
        return
    qtype = question.get("type") or "OPEN_ENDED"
    options = question.get("options")
    if qtype not in QUESTION_TYPES:
        return  # its enum error is already listed
    if qtype in CHOICE_TYPES and options is None:
        problems.append(
            f"`{path}.options` is required for {qtype}: at least 2 choices, e.g. {_OPTIONS_EXAMPLE}"
        )
    elif qtype not in CHOICE_TYPES and options is not None:
        problems.append(
            f"`{path}.options` only applies to {_CHOICES} (this question is {qtype}); remove it or change `type`"
        )


def _check_question_update(args: dict[str, Any], problems: list[str]) -> None:
    # The stored type is not read first (the API has no single-question read), so options and a
    # choice type must travel together; options: null (clear) and other fields need nothing else.
    qtype = args.get("type")
    options = args.get("options")
    if qtype is not None and qtype not in QUESTION_TYPES:
        return  # its enum error is already listed
    if qtype in CHOICE_TYPES and options is None:
        problems.append(
            f"`options` is required when `type` becomes {qtype}: at least 2 choices, e.g. {_OPTIONS_EXAMPLE} "
            "(resend the current ones from list_questions to keep them)"
        )
    elif options is not None and qtype is None:
        problems.append(
            f"`options` needs `type` ({_CHOICES}) in the same call: the question's stored type is not known here"
        )
    elif options is not None and qtype not in CHOICE_TYPES:
        problems.append(
            f"`options` only applies to {_CHOICES} (`type` is {qtype}); remove it or send null to clear"
        )


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
    ours come from the registry, so `run` is replaced: check the arguments against `check_schema`
    with field-precise messages, call the handler, and always return a `CallToolResult` (errors
    are results with isError, never exceptions and never the SDK's generic wrapper text).
    `parameters`, what tools/list shows, is the portable projection of `check_schema`.
    """

    check_schema: dict[str, Any]

    async def run(
        self, arguments: dict[str, Any], context: Any, convert_result: bool = False
    ) -> CallToolResult:
        try:
            checked = check_arguments(self.name, self.check_schema, arguments or {})
        except ArgumentError as exc:
            shown = exc.problems[:MAX_PROBLEMS_SHOWN]
            more = len(exc.problems) - len(shown)
            lines = "\n".join(f"- {p}" for p in shown) + (f"\n- … and {more} more like these" if more else "")
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
        parameters=portable_schema(schema),
        check_schema=schema,
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
