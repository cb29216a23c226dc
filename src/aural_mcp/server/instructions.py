"""The server's instructions (shown to the model at `initialize`), generated from the enabled tools.

A server started with `--read-only` or `--toolsets sessions` lists fewer tools; its instructions
must never route the model to a tool it does not have. So every sentence that names tools is
built from the tools that are enabled, and a sentence whose tools are all missing is left out.
The resources (transcripts, the guide) are served whatever the toolsets.

On the team server (`--auth oauth`) the tools a session may call also depend on its grant (a
read-only grant calls no write tool), so `per_grant` gives each `initialize` and `server/discover`
answer the instructions of the tools its bearer token's grant may call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from aural_mcp import operations

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from aural_mcp.team.grants import Grant

GUIDE = "skill://aural-interviews/SKILL.md"
_SET_UP = (
    ("create_interview", "create_interview"),
    ("add_questions", "add_questions"),
    ("publish_interview", "publish_interview (public url)"),
    ("add_candidates", "add_candidates (personal invite links)"),
)
# The list tools that show each kind of id, in registry order. Practice ids are left out: they
# are the key owner's own runs, outside the hiring workflow these lines route.
_ID_SOURCES = tuple(
    op.name
    for op in operations.OPERATIONS
    if any(kind.list_operation == op.name and kind.arg != "practiceId" for kind in operations.ID_KINDS.values())
)


def instructions_for(tool_names: Iterable[str]) -> str:
    """At most five short lines, naming only tools in `tool_names`."""
    have = set(tool_names)
    writes = sorted(n for n in have if n in operations.BY_NAME and not operations.get(n).read_only)
    lines = ["Aural runs AI-led candidate interviews; these tools are its API. Route by intent:"]

    set_up = [words for name, words in _SET_UP if name in have]
    whole = "apply_interview_spec" in have
    if set_up or whole:
        steps = "Set up: " + " → ".join(set_up) if set_up else "Set up"
        sep = "; " if set_up else ": "
        lines.append(steps + (sep + "whole interviews in one call with apply_interview_spec (plan first)" if whole else "") + ".")
    elif not writes and "simulate_session" not in have:
        lines.append("This server is read-only: it cannot change anything in Aural.")

    transcript = "aural://sessions/{sessionId}/transcript"
    results = []
    if "wait_for_sessions" in have:
        results.append("wait until candidates finish with wait_for_sessions")
    if "compare_sessions" in have:
        results.append("review, compare or rank candidates with compare_sessions (the scoreboard)")
    if "get_session" in have:
        lead = "list_sessions → get_session" if "list_sessions" in have else "get_session"
        results.append(f"{lead} (transcript, summary, sentiment and scored insights)")
    if "get_transcript" in have:
        results.append(f"transcripts with get_transcript (or read {transcript})")
    else:
        results.append(f"transcripts: read {transcript}")
    if "get_session_report" in have:
        results.append("recordings, screenshots and the anti-cheating log in get_session_report")
    if "simulate_session" in have:
        results.append("simulate_session plays a candidate (sandbox only)")
    lines.append("Results: " + "; ".join(results) + ".")

    ids = [name for name in _ID_SOURCES if name in have]
    facts = []
    if ids:
        facts.append("Ids come from " + " / ".join(ids))
    if any(operations.get(n).paginated for n in ids):
        facts.append("pass `cursor` for the next page")
    if "get_usage" in have and writes:
        facts.append("get_usage before bulk work")
    if facts:
        lines.append("; ".join(facts) + ".")

    rules = ["Pace ≤ 60 calls/min"]
    if "end_sessions" in have:
        rules.append("end_sessions is a dry run unless dryRun is false")
    # Each create's toolset also has the list tool that shows whether it took effect.
    if any(not operations.get(n).retry_safe for n in writes):
        rules.append('after an "outcome unknown" error check with a list tool before creating again')
    lines.append("; ".join(rules) + f". Guide: {GUIDE}")
    return "\n".join(lines)


def per_grant(server: MCPServer, tool_names_of: Callable[[Grant], Iterable[str]]) -> None:
    """Answer `initialize` and `server/discover` on `server` with `instructions_for(tool_names_of(grant))`,
    the grant being that of the request's verified bearer token (the server-wide text without one)."""
    from mcp.server.auth.middleware.auth_context import get_access_token
    from mcp_types import RequestParams

    from aural_mcp.server.sdk_private import add_request_handler, request_handler, wrap_initialization_options
    from aural_mcp.team.auth import GrantAccessToken

    def of_this_request() -> str | None:
        token = get_access_token()  # set for the HTTP request by the SDK's auth middleware
        return instructions_for(tool_names_of(token.grant)) if isinstance(token, GrantAccessToken) else None

    def wrap(create: Callable[..., Any]) -> Callable[..., Any]:
        def with_the_grants_instructions(*args: Any, **kwargs: Any) -> Any:
            options = create(*args, **kwargs)
            text = of_this_request()
            return options if text is None else options.model_copy(update={"instructions": text})

        return with_the_grants_instructions

    wrap_initialization_options(server, wrap)
    discover = request_handler(server, "server/discover")
    if discover is None:
        return
    sdk_discover = discover

    async def discover_for_the_grant(ctx: Any, params: Any) -> Any:
        result = await sdk_discover(ctx, params)
        text = of_this_request()
        return result if text is None else result.model_copy(update={"instructions": text})

    add_request_handler(server, "server/discover", RequestParams, discover_for_the_grant)
