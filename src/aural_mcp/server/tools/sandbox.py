"""`simulate_session`: the sandbox-only tool that plays a candidate taking an interview."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, ToolAnnotations

from aural_mcp.api.errors import AuralError
from aural_mcp.operations import SESSION_STATUSES, show_input
from aural_mcp.sandbox.answers import PROFILES
from aural_mcp.sandbox.simulate import ENDS_AT_FIELDS, MAX_TIMED_SECONDS, TIMED_ENDINGS
from aural_mcp.server import render
from aural_mcp.server.tools.arguments import ArgumentError
from aural_mcp.server.tools.base import SchemaTool, make_tool, text_result
from aural_mcp.server.tools.errors import explain

if TYPE_CHECKING:
    from aural_mcp.server.runtime import Runtime, RuntimeFor

NAME = "simulate_session"
DESCRIPTION = (
    "Sandbox only (not in the real API): simulate a candidate taking an interview, creating a session with "
    "messages, summary and heuristic scores. Next: list_sessions, get_session."
)

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "interviewId": {"type": "string", "format": "uuid", "description": "interview id (UUID)"},
        "participantName": {"type": "string"},
        "participantEmail": {"type": "string"},
        "candidateId": {"type": "string", "format": "uuid", "description": "link to a candidate"},
        "answers": {"type": "array", "items": {"type": "string"}, "description": "one per question"},
        "seed": {
            "type": "integer",
            "description": "same seed, same candidate; consecutive seeds vary the profile",
        },
        "profile": {
            "type": "string",
            "enum": list(PROFILES),
            "description": "the kind of candidate; incomplete stops part-way (IN_PROGRESS or ABANDONED unless status is given)",
        },
        "status": {"type": "string", "enum": list(SESSION_STATUSES)},
        **{
            name: {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": MAX_TIMED_SECONDS,
                "description": f"IN_PROGRESS, then {ending} after this many s (>0); no status",
            }
            for name, ending in TIMED_ENDINGS.items()
        },
    },
    "required": ["interviewId"],
    "additionalProperties": False,
}


# A simulation adds a session to the interview.
CHANGES = ("aural://interviews/{interviewId}",)


def outcome_check(args: dict[str, Any]) -> str:
    """How to find out whether a simulation whose answer was lost made its session.

    `simulate_session` is no registry operation, so this is its `OutcomeCheck`: the sessions
    list, looking for the participant it was sent with.
    """
    who = next(
        (
            v
            for v in (args.get("participantName"), args.get("participantEmail"))
            if isinstance(v, str) and v.strip()
        ),
        None,
    )
    look = f" and look for {show_input(' '.join(who.split()), 42)}" if who else ""
    return f"call list_sessions for interview {args['interviewId']}{look} before trying {NAME} again"


def timing_problems(args: dict[str, Any]) -> list[str]:
    """What the schema cannot say: a session ends one way, and `status` is for an instant one."""
    timed = [name for name in TIMED_ENDINGS if name in args]
    if len(timed) > 1:
        return ["send `completeAfterSeconds` or `abandonAfterSeconds`, not both: a session ends only one way"]
    if timed and "status" in args:
        return [
            f"`status` describes a session that has already happened: leave it out with `{timed[0]}`, "
            f"which starts the session IN_PROGRESS and makes it {TIMED_ENDINGS[timed[0]]} after that many seconds"
        ]
    return []


def _next_text(session: dict[str, Any], interview_id: str) -> str:
    """What to call next; for a timed session, also when it ends."""
    for status, field in ENDS_AT_FIELDS.items():
        if isinstance(session.get(field), str):
            return (
                f"\n\nThis session is IN_PROGRESS and becomes {status} by itself at {session[field]}, its "
                f"messages arriving meanwhile. Follow it with get_session sessionId `{session.get('id')}`, or "
                f"list_sessions with interviewId `{interview_id}`."
            )
    return (
        f"\n\nNext: list_sessions with interviewId `{interview_id}`, or read "
        f"aural://sessions/{session.get('id')}/transcript."
    )


def simulate_session_tool(runtime_for: RuntimeFor) -> SchemaTool:
    async def handler(runtime: Runtime, args: dict[str, Any]) -> CallToolResult:
        if problems := timing_problems(args):
            raise ArgumentError(problems)  # answered as the argument checks answer, nothing sent
        body = {k: v for k, v in args.items() if k != "interviewId"}
        path = f"/sandbox/interviews/{quote(args['interviewId'], safe='')}/simulate"
        try:
            envelope = await runtime.client.raw_request("POST", path, json=body, idempotent=False)
        except AuralError as exc:
            raise ToolError(explain(NAME, args, exc, outcome_check=outcome_check(args))) from exc
        session = envelope.get("data") or {}
        text = render.session_markdown(session, transcript_limit=6) + _next_text(session, args["interviewId"])
        return text_result(
            render.cut(text, render.TEXT_LIMIT, "Read the transcript resource."),
            structured=render.fit_structured("get_session", {"sessionId": session.get("id")}, envelope),
        )

    return make_tool(
        name=NAME,
        title="Simulate a session (sandbox)",
        description=DESCRIPTION,
        schema=SCHEMA,
        tool_annotations=ToolAnnotations(
            title="Simulate a session (sandbox)",
            read_only_hint=False,
            destructive_hint=False,
            idempotent_hint=False,
            open_world_hint=False,
        ),
        # The simulated session is answered as get_session answers it.
        output_schema=render.output_schema("get_session"),
        handler=handler,
        runtime_for=runtime_for,
        changes=CHANGES,
    )
