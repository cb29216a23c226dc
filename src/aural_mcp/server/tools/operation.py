"""The handler every registry operation's tool runs: send the call, render the answer.

A call that the key's pacing holds for more than a second reports the wait as progress
notifications (when the client sent a progressToken), so the agent's client can show why
nothing is happening: "waiting 12 s for the rate limit (60 requests per 60 s)".
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, ResourceLink

from aural_mcp import operations
from aural_mcp.api.errors import AuralError
from aural_mcp.server import render
from aural_mcp.server.tools.base import ContextHandler, text_result
from aural_mcp.server.tools.errors import explain
from aural_mcp.server.tools.interviews import archived_note, page_without_overlap
from aural_mcp.server.tools.progress import pacing_progress
from aural_mcp.server.tools.sessions import transcript_links

if TYPE_CHECKING:
    from aural_mcp.server.runtime import Runtime

logger = logging.getLogger("aural_mcp.server")


def operation_handler(op: operations.Operation) -> ContextHandler:
    async def handler(runtime: Runtime, args: dict[str, Any], context: Any) -> CallToolResult:
        try:
            client = runtime.client
            on_wait = pacing_progress(context, client.pacer)
            if op.pages_overlap:
                envelope = await page_without_overlap(runtime, op, args, on_wait)
            else:
                envelope = await client.call(op.name, args, on_wait=on_wait)
        except AuralError as exc:
            logger.info("%s failed: %s", op.name, exc.code)
            raise ToolError(explain(op.name, args, exc)) from exc
        app_url = render.app_url(runtime)  # invite links the API does not return are built on it
        text = render.render_result(op.name, args, envelope, app_url=app_url)
        if op.warns_if_archived:
            text = await archived_note(runtime, args["interviewId"]) + text
        result = text_result(text, structured=render.fit_structured(op.name, args, envelope, app_url=app_url))
        result.content += transcript_links(op.name, envelope)
        if render.candidates.summarised(op.name, envelope):
            uri = render.candidates.invites_uri(str(args["interviewId"]))
            result.content.append(
                ResourceLink(type="resource_link", uri=uri, name="invites.csv", title="Every invite link", mime_type="text/csv")
            )
        return result

    return handler
