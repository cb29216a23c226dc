"""`wait_for_sessions`: wait inside one tool call until sessions of an interview reach a status.

It works in every client, including those that ignore notifications. While it waits it hurries
the interview in the server's watcher and polls it through the watcher's detector, whose passes
never overlap and are never repeated within `watching.FRESH_SECONDS`, so a wait and the watcher's
loop never double the requests; both are background requests, behind the agent's own calls.
Progress is sent on each poll when the request carries a progressToken; a cancelled request
stops at once.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from typing import TYPE_CHECKING, Any

import anyio
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, ToolAnnotations

from aural_mcp import operations
from aural_mcp.api.errors import AuralError
from aural_mcp.server.render import waiting as render
from aural_mcp.server.tools.arguments import invalid_arguments_text
from aural_mcp.server.tools.base import SchemaTool, make_tool, text_result
from aural_mcp.server.tools.errors import explain

if TYPE_CHECKING:
    from aural_mcp.server.runtime import Runtime, RuntimeFor
    from aural_mcp.watch import Event
    from aural_mcp.watch.state import WatchStore

logger = logging.getLogger("aural_mcp.server")

TOOLSET = operations.SESSIONS
WAIT_FOR_SESSIONS = "wait_for_sessions"
POLL_SECONDS = 2.0  # between a wait's polls (the pacer may space them further: the background share)
MAX_TIMEOUT = 300
DESCRIPTION = (
    "Wait until count sessions of an interview reach status (IN_PROGRESS: started) after since (from "
    "an earlier result), or the timeout. Returns them, since and the next call."
)
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "interviewId": {"type": "string", "format": "uuid"},
        "status": {"type": "string", "enum": list(render.WAIT_STATUSES), "default": "COMPLETED"},
        "count": {"type": "integer", "minimum": 1, "maximum": 100, "default": 1},
        "since": {"type": "string"},
        "timeoutSeconds": {"type": "integer", "minimum": 1, "maximum": MAX_TIMEOUT, "default": 60},
    },
    "required": ["interviewId"],
    "additionalProperties": False,
}


def _events(state: WatchStore, after: int, upto: int, interview_id: str) -> list[Event]:
    """The interview's events numbered in (after, upto], oldest first."""
    out: list[Event] = []
    while True:
        page = [e for e in state.events_after(after, interview_ids=[interview_id]) if e.seq <= upto]
        out += page
        if len(page) < 1000:  # events_after's page
            return out
        after = page[-1].seq


async def wait_for_sessions(runtime: Runtime, args: dict[str, Any], context: Any) -> CallToolResult:
    iid = args["interviewId"]
    status = args.get("status", "COMPLETED")
    count = int(args.get("count", 1))
    timeout = float(args.get("timeoutSeconds", 60))
    watching = runtime.watching
    from aural_mcp.watch import StateError

    try:
        watching.open()
    except StateError as exc:
        raise ToolError(f"`{WAIT_FOR_SESSIONS}` cannot use its watch state: {exc}") from None
    except AuralError as exc:
        raise ToolError(explain(WAIT_FOR_SESSIONS, args, exc)) from exc
    state = watching.state
    assert state is not None
    if args.get("since"):
        try:
            start = state.seq_of(args["since"])
        except ValueError as exc:
            raise ToolError(invalid_arguments_text(WAIT_FOR_SESSIONS, [f"`since` {exc}"])) from None
    else:
        start = state.last_seq()  # what the server has not seen yet counts
    began = anyio.current_time()
    polls = 0
    with watching.waiting(iid), anyio.move_on_after(timeout):
        while True:
            polled_at = anyio.current_time()
            try:
                await watching.poll(iid)
            except AuralError as exc:
                if polls == 0:  # a bad or foreign interview id, no key: the tool's error
                    raise ToolError(explain("list_sessions", {"interviewId": iid}, exc)) from exc
                logger.info("%s: a poll failed (tried again at the next): %s", WAIT_FOR_SESSIONS, exc.code)
            polls += 1
            events = _events(state, start, state.last_seq(), iid)
            waited = anyio.current_time() - began
            with suppress(Exception):  # a client that went away must not fail the wait
                await context.report_progress(
                    min(waited, timeout), timeout, render.progress_message(status, count, events)
                )
            if len(render.matching_sessions(events, status)) >= count:
                break
            await anyio.sleep(max(0.0, POLL_SECONDS - (anyio.current_time() - polled_at)))
    upto = state.last_seq()
    result = render.projection(
        interview_id=iid,
        status=status,
        count=count,
        waited=min(anyio.current_time() - began, timeout),
        events=_events(state, start, upto, iid),
        open_sessions=state.open_sessions(iid),
        since=state.cursor(upto),
    )
    return text_result(render.wait_markdown(result), structured=result)


def wait_for_sessions_tool(runtime_for: RuntimeFor) -> SchemaTool:

    title = "Wait for sessions"
    return make_tool(
        name=WAIT_FOR_SESSIONS,
        title=title,
        description=DESCRIPTION,
        schema=SCHEMA,
        tool_annotations=ToolAnnotations(
            title=title, read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True
        ),
        output_schema=render.WAIT_FOR_SESSIONS_OUTPUT,
        handler=wait_for_sessions,
        runtime_for=runtime_for,
        with_context=True,
    )
