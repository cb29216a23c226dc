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
from aural_mcp.api.errors import AuralError, NotFoundError
from aural_mcp.server import render
from aural_mcp.server.tools.base import Handler, SchemaTool, operation_tool, text_result
from aural_mcp.server.tools.errors import explain, redact, unexpected

if TYPE_CHECKING:
    from aural_mcp.server.runtime import Runtime
    from aural_mcp.settings import Settings

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


class CursorError(Exception):
    """A list_interviews cursor that names no interview (the API would silently restart)."""


async def list_interviews_page(runtime: Runtime, args: dict[str, Any]) -> dict[str, Any]:
    """One page of interviews that does not overlap the previous one.

    The API's next page starts with the cursor item again (it pages by `updatedAt <=`), so with
    limit 1 an agent would never move on. Asking for one more item when a cursor is given and
    dropping the cursor item returns `limit` new items and the cursor of the last one. A cursor
    that resolves to nothing makes the API restart at page one; that is reported, not looped.
    """
    cursor = args.get("cursor")
    if not cursor:
        return await runtime.client.call("list_interviews", args)
    limit = int(args.get("limit", operations.get("list_interviews").arg("limit").schema["default"]))
    asked = min(limit + 1, 100)  # the API clamps at 100
    envelope = await runtime.client.call("list_interviews", {**args, "limit": asked})
    items = envelope.get("data")
    if not isinstance(items, list):
        return envelope  # not a list: the renderer reports the unexpected shape
    ids = [item.get("id") if isinstance(item, dict) else None for item in items]
    if str(cursor).lower() not in (str(i).lower() for i in ids[:1]):
        await _check_cursor_is_an_interview(runtime, cursor)
    kept = [item for item, ident in zip(items, ids, strict=True) if str(ident).lower() != str(cursor).lower()]
    more = len(kept) > limit or envelope.get("cursor") is not None
    page = kept[:limit]
    next_cursor = page[-1].get("id") if more and page else None
    return {**envelope, "data": page, "cursor": next_cursor}


async def _check_cursor_is_an_interview(runtime: Runtime, cursor: str) -> None:
    # The page does not start with the cursor item: either it moved (updated meanwhile) or the
    # cursor is no interview and the API restarted at page one. One read tells which.
    try:
        await runtime.client.call("get_interview", {"interviewId": cursor})
    except NotFoundError as exc:
        raise CursorError from exc


async def _archived_note(runtime: Runtime, interview_id: str) -> str:
    """A warning line when questions were added to an archived interview, else ''."""
    try:
        envelope = await runtime.client.call("get_interview", {"interviewId": interview_id})
    except AuralError as exc:  # the add succeeded; the note is a courtesy
        logger.info("archived check after add_questions failed: %s", exc.code)
        return ""
    data = envelope.get("data")
    if isinstance(data, dict) and data.get("isActive") is False:
        return (
            f"Note: interview `{interview_id}` is archived (isActive false): the questions were added, but "
            "candidates cannot start it until publish_interview re-activates it.\n\n"
        )
    return ""


def operation_handler(op: operations.Operation, runtime: Runtime) -> Handler:
    async def handler(args: dict[str, Any]) -> CallToolResult:
        if op.name == "end_sessions" and "dryRun" not in args:
            args = {**args, "dryRun": True}  # the safe default, sent explicitly
        try:
            if op.name == "list_interviews":
                envelope = await list_interviews_page(runtime, args)
            else:
                envelope = await runtime.client.call(op.name, args)
        except CursorError:
            return text_result(
                f"`cursor` {operations.show_input(args.get('cursor'))} is not an interview this key can see, so the "
                "API would silently start again at page one. Pass the cursor the previous list_interviews page "
                "returned, or omit it for the first page.",
                error=True,
            )
        except AuralError as exc:
            logger.info("%s failed: %s", op.name, exc.code)
            return text_result(redact(explain(op.name, args, exc), runtime.api_key), error=True)
        except Exception as exc:  # a bug (ours or the SDK's): short text for the agent, traceback in the log
            return text_result(unexpected(op.name, exc, runtime.api_key), error=True)
        app_url = render.app_url(runtime)  # invite links the API does not return are built on it
        text = render.render_result(op.name, args, envelope, app_url=app_url)
        if op.name == "add_questions":
            text = await _archived_note(runtime, args["interviewId"]) + text
        return text_result(
            redact(text, runtime.api_key),
            structured=render.fit_structured(op.name, args, envelope, app_url=app_url),
        )

    return handler


def _with_simulate(settings: Settings) -> bool:
    wants_sandbox = settings.toolsets is None or SANDBOX_TOOLSET in settings.toolsets
    return settings.sandbox and wants_sandbox and not settings.read_only


def tool_names(settings: Settings) -> list[str]:
    """The names of the tools a server with these settings lists, as `build_tools` builds them."""
    check_toolsets(settings.toolsets)
    names = [op.name for op in selected_operations(settings.toolsets, settings.read_only)]
    return [*names, "simulate_session"] if _with_simulate(settings) else names


def build_tools(runtime: Runtime) -> list[SchemaTool]:
    settings = runtime.settings
    check_toolsets(settings.toolsets)
    tools = [
        operation_tool(op, operation_handler(op, runtime))
        for op in selected_operations(settings.toolsets, settings.read_only)
    ]
    if _with_simulate(settings):
        from aural_mcp.server.tools.sandbox import simulate_session_tool

        tools.append(simulate_session_tool(runtime))
    return tools
