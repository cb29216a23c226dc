"""The server's tools: one per registry operation, `apply_interview_spec`, the sessions job tools, and `simulate_session` when serving the sandbox.

This module chooses the tools a server lists (toolsets, read-only) and builds them. Tools are
derived from `aural_mcp.operations` (name, description, arguments, annotations) by `tools.base`;
each runs `tools.operation.operation_handler`, with its arguments checked by `tools.arguments`
and its errors worded by `tools.errors`. `apply_interview_spec` (`tools.specs`, toolset
interviews, a write tool) makes whole interviews match a spec. The sessions job tools (read-only, toolset sessions) are
the review tools `compare_sessions` and `get_transcript` (`tools.sessions`) and
`wait_for_sessions` (`tools.waiting`); the sandbox-only tool is in `tools.sandbox`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aural_mcp import operations
from aural_mcp.server.tools.base import SchemaTool, operation_tool
from aural_mcp.server.tools.operation import operation_handler
from aural_mcp.server.tools.sessions import REVIEW_TOOLS
from aural_mcp.server.tools.sessions import TOOLSET as JOB_TOOLSET
from aural_mcp.server.tools.specs import APPLY_INTERVIEW_SPEC, apply_interview_spec_tool
from aural_mcp.server.tools.specs import TOOLSET as SPEC_TOOLSET
from aural_mcp.server.tools.waiting import WAIT_FOR_SESSIONS, wait_for_sessions_tool

if TYPE_CHECKING:
    from aural_mcp.server.runtime import RuntimeFor
    from aural_mcp.settings import Settings

SANDBOX_TOOLSET = "sandbox"
# name -> builder of the read-only job tools of the sessions toolset, in tools/list order
JOB_TOOLS = {**REVIEW_TOOLS, WAIT_FOR_SESSIONS: wait_for_sessions_tool}


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


def _with_simulate(settings: Settings) -> bool:
    wants_sandbox = settings.toolsets is None or SANDBOX_TOOLSET in settings.toolsets
    return settings.sandbox and wants_sandbox and not settings.read_only


def _with_spec(settings: Settings) -> bool:
    wanted = settings.toolsets is None or SPEC_TOOLSET in settings.toolsets
    return wanted and not settings.read_only


def _with_jobs(settings: Settings) -> bool:
    return settings.toolsets is None or JOB_TOOLSET in settings.toolsets


def tool_names(settings: Settings) -> list[str]:
    """The names of the tools a server with these settings lists, as `build_tools` builds them."""
    check_toolsets(settings.toolsets)
    names = [op.name for op in selected_operations(settings.toolsets, settings.read_only)]
    if _with_spec(settings):
        names.append(APPLY_INTERVIEW_SPEC)
    if _with_jobs(settings):
        names += list(JOB_TOOLS)
    return [*names, "simulate_session"] if _with_simulate(settings) else names


def build_tools(settings: Settings, runtime_for: RuntimeFor) -> list[SchemaTool]:
    """The tools `tool_names(settings)` names; each call acts on the Runtime `runtime_for` gives
    for its request, and only if that Runtime's own settings list the tool too."""
    check_toolsets(settings.toolsets)
    tools = [
        operation_tool(op, operation_handler(op), runtime_for)
        for op in selected_operations(settings.toolsets, settings.read_only)
    ]
    if _with_spec(settings):
        tools.append(apply_interview_spec_tool(runtime_for))
    if _with_jobs(settings):  # read-only, so kept under --read-only too
        tools += [build(runtime_for) for build in JOB_TOOLS.values()]
    if _with_simulate(settings):
        from aural_mcp.server.tools.sandbox import simulate_session_tool

        tools.append(simulate_session_tool(runtime_for))
    return tools
