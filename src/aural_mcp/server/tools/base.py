"""The tool type and the schemas tools advertise, derived from the operation registry.

The registry (`aural_mcp.operations`) is the one source of every tool's name, description,
arguments and annotations. This module turns an `Operation` into an MCP tool whose input schema
is generated from the registry arguments; `tools.arguments` checks what arrives against it.

Every tool declares an `outputSchema` (`make_tool(output_schema=...)`, required): the shape of
the structuredContent of its successful results. A registry operation's comes from its response
schema (`render.structured.output_schema`).

Two input schemas per tool: the registry's (`check_schema`, with `format`, nullable types and
maps) is what arguments are checked against; the advertised `inputSchema` is its portable
projection (`portable_schema`), limited to what every major model provider accepts.

How a call ends: a handler returns its successful result, or raises `ToolError` (the `mcp` SDK's
own exception for a failure the caller can fix) with the text the agent reads. Anything else is
a bug: `SchemaTool.run` logs its traceback and answers with one short "unexpected" text. Every
text a tool returns passes `redact` there, so none carries the API key.

Which Aural connection a call acts on is the request's: `SchemaTool.run` asks `runtime_for` for
the `Runtime` of the request (the server's one, or in the team server the tenant of the request's
grant) and hands it to the handler, so no tool holds a connection of its own. A tool that Runtime's
settings do not list (a write tool for a read-only grant) is refused there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import FuncMetadata, func_metadata
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field, SkipValidation

from aural_mcp.operations import Operation
from aural_mcp.server.render import structured
from aural_mcp.server.subscriptions import publish_changes
from aural_mcp.server.tools.arguments import ArgumentError, check_arguments, invalid_arguments_text, types_of
from aural_mcp.server.tools.errors import redact, unexpected

if TYPE_CHECKING:
    from aural_mcp.server.runtime import Runtime, RuntimeFor


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


def portable_schema(schema: dict[str, Any], *, null_clears: bool = True) -> dict[str, Any]:
    """`schema` as every provider accepts it: one type, no `format`, no `additionalProperties`.

    A nullable type keeps its non-null type and, with `null_clears`, says "null clears it" (the
    checks still accept null); a UUID format is said in the description (id descriptions already
    say it).
    """
    out: dict[str, Any] = {}
    types = types_of(schema)
    concrete = [t for t in types if t != "null"]
    if concrete:
        out["type"] = concrete[0]
    for key, value in schema.items():
        if key == "properties":
            out[key] = {name: portable_schema(sub, null_clears=null_clears) for name, sub in value.items()}
        elif key == "items":
            out[key] = portable_schema(value, null_clears=null_clears)
        elif key in PORTABLE_KEYWORDS and key != "type":
            out[key] = value
    notes = []
    if schema.get("format") == "uuid" and "UUID" not in schema.get("description", ""):
        notes.append("a UUID")
    if null_clears and "null" in types and "null clears" not in schema.get("description", ""):
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


# Takes the request's Runtime and the checked arguments; returns the successful result, or raises
# ToolError with the text of a problem the caller can fix.
Handler = Callable[["Runtime", dict[str, Any]], Awaitable[CallToolResult]]
# The same, also given the request's MCP context (progress notifications): `make_tool(with_context=True)`.
ContextHandler = Callable[["Runtime", dict[str, Any], Any], Awaitable[CallToolResult]]


def text_result(text: str, *, structured: dict[str, Any] | None = None) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=structured)


def _error_result(text: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)


async def _never_called() -> None:  # pragma: no cover - placeholder for Tool.fn_metadata
    return None


_PLACEHOLDER_METADATA = func_metadata(_never_called, structured_output=False)


def _metadata(output: dict[str, Any]) -> FuncMetadata:
    # MCPServer lists a tool's `outputSchema` from its function metadata; ours run no function
    # (see SchemaTool.run), so the metadata only carries the schema.
    return _PLACEHOLDER_METADATA.model_copy(update={"output_schema": output})


class SchemaTool(Tool):
    """A tool with a hand-built JSON schema and a handler taking the checked arguments.

    MCPServer's own `Tool` builds its schema from a Python signature and validates with pydantic;
    ours come from the registry, so `run` is replaced: check the arguments against `check_schema`
    with field-precise messages, call the handler, and always return a `CallToolResult` (errors
    are results with isError and their own text, never the SDK's generic wrapper text).
    `parameters`, what tools/list shows, is the portable projection of `check_schema`.
    """

    check_schema: dict[str, Any]
    # The registry operation behind the tool: its passthrough fields, renames and argument rules.
    operation: SkipValidation[Operation | None] = Field(None, exclude=True)
    # Resource URI templates a success changes (see `subscriptions.changed_uris`).
    changes: tuple[str, ...] = ()
    # The Runtime a request acts on (its API key is what no text this tool returns may contain).
    runtime_for: SkipValidation[Callable[[Any], Awaitable[Any]]] = Field(exclude=True)
    # The handler is a ContextHandler: it also takes the request's context.
    with_context: bool = Field(False, exclude=True)

    async def run(
        self, arguments: dict[str, Any], context: Any, convert_result: bool = False
    ) -> CallToolResult:
        runtime: Runtime = await self.runtime_for(context)
        secret = runtime.api_key
        if self.name not in runtime.tool_names:
            return _error_result(refused_text(self.name, runtime))
        try:
            checked = check_arguments(self.check_schema, arguments or {}, self.operation)
            result: CallToolResult = await (
                self.fn(runtime, checked, context) if self.with_context else self.fn(runtime, checked)
            )
        except ArgumentError as exc:
            return _error_result(redact(invalid_arguments_text(self.name, exc.problems), secret))
        except ToolError as exc:  # a problem the caller can fix, in the handler's words
            return _error_result(redact(str(exc), secret))
        except Exception as exc:  # a bug (ours or the SDK's): short text for the agent, traceback in the log
            return _error_result(unexpected(self.name, exc, secret))
        if self.changes:
            await publish_changes(runtime.subscriptions, self.changes, checked, result)
        result.content = [
            TextContent(type="text", text=redact(c.text, secret)) if isinstance(c, TextContent) else c
            for c in result.content
        ]
        return result


def make_tool(
    *,
    name: str,
    title: str,
    description: str,
    schema: dict[str, Any],
    tool_annotations: ToolAnnotations,
    output_schema: dict[str, Any],
    handler: Handler | ContextHandler,
    runtime_for: RuntimeFor,
    changes: tuple[str, ...] = (),
    operation: Operation | None = None,
    with_context: bool = False,
    meta: dict[str, Any] | None = None,
) -> SchemaTool:
    """A tool; `output_schema` is what its structuredContent validates against (every tool has one).
    With `with_context`, `handler` is a ContextHandler; `meta` is the tool's `_meta` in tools/list."""
    return SchemaTool(
        fn=handler,
        name=name,
        title=title,
        description=description,
        parameters=portable_schema(schema, null_clears=_says_null_clears_per_field(description, operation)),
        check_schema=schema,
        operation=operation,
        changes=changes,
        runtime_for=runtime_for,
        with_context=with_context,
        fn_metadata=_metadata(output_schema),
        context_kwarg=None,
        is_async=True,
        annotations=tool_annotations,
        meta=meta,
    )


def refused_text(name: str, runtime: Runtime) -> str:
    """Why this request may not call the tool `name` (the server has it; this user's grant does not allow it)."""
    if runtime.settings.read_only:
        return (
            f"`{name}` changes data in Aural, and this connection is read-only (its grant's scope is aural:read, "
            "or the server runs with --read-only): use the read tools, or ask for a grant with the scope aural"
        )
    return f"`{name}` is not available to this connection: tools/list shows the tools it may call"


def _says_null_clears_per_field(description: str, operation: Operation | None) -> bool:
    """Whether each nullable argument says "null clears it": not for a create (nothing to clear),
    nor when the tool's description already says it once for all."""
    creates = operation is not None and operation.method == "POST"
    return not creates and "null clears" not in description


def operation_tool(op: Operation, handler: ContextHandler, runtime_for: RuntimeFor) -> SchemaTool:
    return make_tool(
        name=op.name,
        title=op.summary,
        description=op.full_description,
        schema=input_schema(op),
        tool_annotations=tool_annotations_of(op),
        output_schema=structured.output_schema(op.name),
        handler=handler,
        runtime_for=runtime_for,
        changes=op.changes,
        operation=op,
        with_context=True,  # a call held by pacing reports the wait as progress
    )
