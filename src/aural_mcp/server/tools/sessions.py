"""The job-shaped reading tools: `compare_sessions` (the scoreboard) and `get_transcript`.

They are not API operations: each reads the API through the registry operations it combines
(`list_sessions`, `get_session`, `get_interview`) and renders with `render.review`.
`compare_sessions` also names the scorecard MCP App (`server.apps`) in its `_meta`, for hosts that
render Apps; its text result is the same for every client.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, ResourceLink, ToolAnnotations

from aural_mcp import operations
from aural_mcp.api.errors import AuralError
from aural_mcp.api.pacing import OnWait
from aural_mcp.server.apps import SCORECARD_TOOL_META
from aural_mcp.server.render import review
from aural_mcp.server.render.fit import TEXT_LIMIT
from aural_mcp.server.render.safe import Marker, as_dict, dicts, raw
from aural_mcp.server.render.sessions import transcript_markdown
from aural_mcp.server.tools.base import SchemaTool, make_tool, text_result
from aural_mcp.server.tools.errors import explain
from aural_mcp.server.tools.progress import pacing_progress

if TYPE_CHECKING:
    from aural_mcp.server.runtime import Runtime, RuntimeFor

logger = logging.getLogger("aural_mcp.server")

TOOLSET = operations.SESSIONS
_UUID = {"type": "string", "format": "uuid"}
_LIST_PAGE = 100  # the API's largest sessions page: one list call usually covers the whole filter

COMPARE_SESSIONS = "compare_sessions"
COMPARE_SESSIONS_DESCRIPTION = (
    "Scoreboard of an interview's sessions: per candidate overall, criterion and question scores with "
    "reasons, two quotes and flags, then a ranking with ties. Use it to review, rank or shortlist. "
    "Next: get_transcript for one candidate's evidence."
)
COMPARE_SESSIONS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "interviewId": _UUID,
        "sessionIds": {"type": "array", "items": _UUID, "minItems": 1, "maxItems": review.BOARD_MAX,
                       "description": "exactly these, any status"},
        "status": {"type": "string", "enum": list(review.BOARD_STATUSES), "default": "COMPLETED"},
        "limit": {"type": "integer", "minimum": 1, "maximum": review.BOARD_MAX},
        "cursor": _UUID,
    },
    "required": ["interviewId"],
    "additionalProperties": False,
}  # fmt: skip

GET_TRANSCRIPT = "get_transcript"
GET_TRANSCRIPT_DESCRIPTION = (
    "A session's transcript: compact (each question once, then the answers; no timestamps, notes or "
    "analysis) or full. questionIds narrows it. Next: compare_sessions to rank."
)
GET_TRANSCRIPT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "sessionId": _UUID,
        "format": {"type": "string", "enum": ["compact", "full"], "default": "compact"},
        "questionIds": {"type": "array", "items": _UUID, "minItems": 1, "description": "only these questions"},
    },
    "required": ["sessionId"],
    "additionalProperties": False,
}


def _annotations(title: str) -> ToolAnnotations:
    return ToolAnnotations(
        title=title, read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True
    )


async def _call(
    runtime: Runtime, op: str, args: dict[str, Any], tool: str, on_wait: OnWait | None = None
) -> dict[str, Any]:
    try:
        return await runtime.client.call(op, args, on_wait=on_wait)
    except AuralError as exc:
        logger.info("%s: %s failed: %s", tool, op, exc.code)
        raise ToolError(explain(op, args, exc)) from exc


async def build_scoreboard(
    runtime: Runtime, args: dict[str, Any], on_wait: OnWait | None = None
) -> dict[str, Any]:
    """The scoreboard projection: one list page (unless sessionIds are given) and one read per session.

    A read that fails is a flagged row, not a failed call; a failed list is a tool error.
    """
    iid = args["interviewId"]
    status = args.get("status", "COMPLETED")
    limit = int(args.get("limit", review.BOARD_MAX))
    cursor: str | None = None
    left_out: Counter[str] = Counter()
    if args.get("sessionIds"):
        status = "ALL"  # chosen sessions are shown whatever their status
        listed = [{"id": sid} for sid in dict.fromkeys(args["sessionIds"])][: review.BOARD_MAX]
    else:
        page_args: dict[str, Any] = {"interviewId": iid, "limit": _LIST_PAGE}
        if args.get("cursor"):
            page_args["cursor"] = args["cursor"]
        envelope = await _call(runtime, "list_sessions", page_args, COMPARE_SESSIONS, on_wait)
        page = dicts(envelope.get("data"))
        matching = [s for s in page if status == "ALL" or s.get("status") == status]
        left_out = Counter(raw(s.get("status")) or "unknown" for s in page if s not in matching)
        listed = matching[:limit]
        if len(matching) > limit:  # the API's keyset cursor: the next page starts after this session
            cursor = raw(listed[-1].get("id"))
        elif envelope.get("cursor"):
            cursor = raw(envelope["cursor"])
    rows = []
    for item in listed:
        sid = raw(item.get("id"))
        try:
            session = as_dict(
                (await runtime.client.call("get_session", {"sessionId": sid}, on_wait=on_wait)).get("data")
            )
        except AuralError as exc:
            logger.info("%s: get_session failed: %s", COMPARE_SESSIONS, exc.code)
            rows.append(review.unread_row(sid, item, explain("get_session", {"sessionId": sid}, exc)))
            continue
        rows.append(review.board_row(session, iid))
    return review.scoreboard(iid, status, rows, cursor, dict(left_out))


async def scoreboard_text(
    runtime: Runtime, args: dict[str, Any], marker: Marker | None = None, on_wait: OnWait | None = None
) -> tuple[str, dict[str, Any]]:
    board = await build_scoreboard(runtime, args, on_wait)
    return review.scoreboard_markdown(board, marker), board


async def interview_of(runtime: Runtime, session: dict[str, Any], on_wait: OnWait | None = None) -> dict[str, Any]:
    """The session's interview (interviewer name, question texts), or {} when it cannot be read."""
    iv_id = as_dict(session.get("interview")).get("id")
    if not operations.is_uuid(iv_id):
        return {}
    try:
        return as_dict(
            (await runtime.client.call("get_interview", {"interviewId": iv_id}, on_wait=on_wait)).get("data")
        )
    except AuralError as exc:  # the transcript reads without it; only the headings lose the question texts
        logger.info("interview of a transcript failed: %s", exc.code)
        return {}


def full_transcript(session: dict[str, Any], interview: dict[str, Any], limit: int, rest: str | None = None) -> str:
    """The full transcript (the resource's form): speakers, question headings, timestamps, the analysis."""
    ai = interview.get("aiName")
    questions = interview.get("questions")
    return transcript_markdown(
        session,
        interviewer=ai if isinstance(ai, str) else None,
        questions=questions if isinstance(questions, list) else None,
        limit=limit,
        rest=rest,
    )


async def transcript_result(
    runtime: Runtime, args: dict[str, Any], marker: Marker | None = None, on_wait: OnWait | None = None
) -> tuple[str, dict[str, Any]]:
    sid = args["sessionId"]
    fmt = args.get("format", "compact")
    session = as_dict((await _call(runtime, "get_session", {"sessionId": sid}, GET_TRANSCRIPT, on_wait)).get("data"))
    interview = await interview_of(runtime, session, on_wait)
    parts, left_out = review.transcript_parts(session, review.numbered_questions(interview), args.get("questionIds"))
    if fmt == "full":
        narrowed = session
        if args.get("questionIds"):
            narrowed = {**session, "messages": [m for _, said in parts for m in said]}
        rest = f"get_transcript with sessionId `{sid}` and the questionIds of the later questions"
        text = full_transcript(narrowed, interview, TEXT_LIMIT, rest)
        if left_out:
            text += f"\n({left_out} messages of other questions left out: omit questionIds for all.)\n"
    else:
        ai = interview.get("aiName")
        text = review.compact_transcript(session, parts, left_out, ai if isinstance(ai, str) else None, marker)
    return text, review.transcript_projection(session, fmt, parts, left_out)


def _review_tool(
    name: str,
    title: str,
    description: str,
    schema: dict[str, Any],
    output_schema: dict[str, Any],
    result: Callable[..., Awaitable[tuple[str, dict[str, Any]]]],
    runtime_for: RuntimeFor,
    meta: dict[str, Any] | None = None,
) -> SchemaTool:
    """A read-only job tool whose text and structuredContent come from one `result` call; a wait
    for the key's pacing reports progress, one count across all the call's requests."""

    async def handler(runtime: Runtime, args: dict[str, Any], context: Any) -> CallToolResult:
        try:
            on_wait: OnWait | None = pacing_progress(context, runtime.client.pacer)
        except AuralError:  # no client (no key): the tool's first request says so
            on_wait = None
        text, structured = await result(runtime, args, on_wait=on_wait)
        return text_result(text, structured=structured)

    return make_tool(
        name=name,
        title=title,
        description=description,
        schema=schema,
        tool_annotations=_annotations(title),
        output_schema=output_schema,
        handler=handler,
        runtime_for=runtime_for,
        with_context=True,
        meta=meta,
    )


def compare_sessions_tool(runtime_for: RuntimeFor) -> SchemaTool:
    return _review_tool(
        COMPARE_SESSIONS, "Compare and rank sessions", COMPARE_SESSIONS_DESCRIPTION, COMPARE_SESSIONS_SCHEMA,
        review.COMPARE_SESSIONS_OUTPUT, scoreboard_text, runtime_for, SCORECARD_TOOL_META,
    )  # fmt: skip


def get_transcript_tool(runtime_for: RuntimeFor) -> SchemaTool:
    return _review_tool(
        GET_TRANSCRIPT, "Get a transcript", GET_TRANSCRIPT_DESCRIPTION, GET_TRANSCRIPT_SCHEMA,
        review.GET_TRANSCRIPT_OUTPUT, transcript_result, runtime_for,
    )  # fmt: skip


# name -> builder, in the order tools/list shows them (after the registry's sessions tools)
REVIEW_TOOLS: dict[str, Callable[[RuntimeFor], SchemaTool]] = {
    COMPARE_SESSIONS: compare_sessions_tool,
    GET_TRANSCRIPT: get_transcript_tool,
}


def transcript_links(op_name: str, envelope: dict[str, Any]) -> list[ResourceLink]:
    """`resource_link` content to each session's transcript, for get_session and list_sessions results."""
    data = envelope.get("data")
    if op_name == "get_session":
        rows = [data] if isinstance(data, dict) else []
    elif op_name == "list_sessions":
        rows = dicts(data)
    else:
        return []
    return [
        ResourceLink(
            type="resource_link",
            uri=f"aural://sessions/{row['id']}/transcript",
            name=f"transcript {row['id']}",
            title="Session transcript",
            mime_type="text/markdown",
        )
        for row in rows
        if operations.is_uuid(row.get("id"))
    ]
