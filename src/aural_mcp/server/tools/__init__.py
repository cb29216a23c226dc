"""The server's tools: one per registry operation, plus `simulate_session` when serving the sandbox.

Tools are derived from `aural_mcp.operations` (name, description, arguments, annotations);
`aural_mcp.server.render` turns each operation's result into agent-facing markdown. The
sandbox-only tool lives in `tools.sandbox`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from mcp_types import CallToolResult

from aural_mcp import operations
from aural_mcp.api.errors import AuralError
from aural_mcp.server import render
from aural_mcp.server.tools.base import Handler, SchemaTool, operation_tool, text_result
from aural_mcp.server.tools.errors import explain, redact, unexpected

if TYPE_CHECKING:
    from aural_mcp.server.app import Runtime

logger = logging.getLogger("aural_mcp.server")

SANDBOX_TOOLSET = "sandbox"


def selected_operations(toolsets: list[str] | None, read_only: bool) -> list[operations.Operation]:
    """The registry operations a server with these settings exposes, in registry order."""
    wanted = set(operations.TOOLSETS if toolsets is None else toolsets)
    return [op for op in operations.OPERATIONS if op.toolset in wanted and (op.read_only or not read_only)]


def check_toolsets(toolsets: list[str] | None) -> None:
    if toolsets is None:
        return
    known = (*operations.TOOLSETS, SANDBOX_TOOLSET)
    unknown = [t for t in toolsets if t not in known]
    if unknown:
        raise ValueError(f"unknown toolset(s) {', '.join(unknown)}; choose from {', '.join(known)}")


def operation_handler(op: operations.Operation, runtime: Runtime) -> Handler:
    async def handler(args: dict[str, Any]) -> CallToolResult:
        if op.name == "end_sessions" and "dryRun" not in args:
            args = {**args, "dryRun": True}  # the safe default, sent explicitly
        try:
            envelope = await runtime.client.call(op.name, args)
        except AuralError as exc:
            logger.info("%s failed: %s", op.name, exc.code)
            return text_result(redact(explain(op.name, args, exc), runtime.api_key), error=True)
        except Exception as exc:  # a bug (ours or the SDK's): short text for the agent, traceback in the log
            return text_result(unexpected(op.name, exc, runtime.api_key), error=True)
        app_url = render.app_url(runtime)  # invite links the API does not return are built on it
        text = redact(render.render_result(op.name, args, envelope, app_url=app_url), runtime.api_key)
        return text_result(text, structured=render.fit_structured(op.name, args, envelope, app_url=app_url))

    return handler


def build_tools(runtime: Runtime) -> list[SchemaTool]:
    settings = runtime.settings
    check_toolsets(settings.toolsets)
    tools = [
        operation_tool(op, operation_handler(op, runtime))
        for op in selected_operations(settings.toolsets, settings.read_only)
    ]
    wants_sandbox = settings.toolsets is None or SANDBOX_TOOLSET in settings.toolsets
    if settings.sandbox and wants_sandbox and not settings.read_only:
        from aural_mcp.server.tools.sandbox import simulate_session_tool

        tools.append(simulate_session_tool(runtime))
    return tools
