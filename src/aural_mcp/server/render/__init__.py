"""Agent-facing text: compact markdown for tool results, and the session transcript.

Each tool result gets a title, the key facts in bold, the ids an agent needs for the next call,
URLs, and one line saying what to do next. Lists are one line per item with the next cursor.
Nothing here is larger than `TEXT_LIMIT` characters (about 7,500 tokens): a list that does not
fit keeps the items that fit and says exactly how to get the rest.

Every string from the API is third-party text and is rendered as data (see `safe`).
"""

from __future__ import annotations

import json
from typing import Any

from aural_mcp import operations

# Importing the domain modules registers their renderers in RENDERERS.
from aural_mcp.server.render import candidates, interviews, practices, sessions, usage  # noqa: F401
from aural_mcp.server.render.candidates import invites_csv
from aural_mcp.server.render.context import Call, app_origin, app_url
from aural_mcp.server.render.fit import RESOURCE_LIMIT, STRUCTURED_LIMIT, TEXT_LIMIT, cut, rest_hint
from aural_mcp.server.render.fit import fit_structured as _fit_structured
from aural_mcp.server.render.interviews import interview_markdown, question_line
from aural_mcp.server.render.renderers import RENDERERS, Renderer
from aural_mcp.server.render.safe import Marker, plural, visible
from aural_mcp.server.render.sessions import scores_markdown, session_markdown, transcript_markdown
from aural_mcp.server.render.structured import output_schema, project_data

__all__ = [
    "RENDERERS",
    "RESOURCE_LIMIT",
    "STRUCTURED_LIMIT",
    "Renderer",
    "TEXT_LIMIT",
    "Marker",
    "app_origin",
    "app_url",
    "cut",
    "fit_structured",
    "interview_markdown",
    "invites_csv",
    "output_schema",
    "plural",
    "question_line",
    "render_result",
    "scores_markdown",
    "session_markdown",
    "transcript_markdown",
]

def _as_json(data: Any) -> str:
    """A shape no renderer knows, as JSON: strings cannot hold a raw newline, so none closes the fence."""
    return f"```json\n{visible(json.dumps(data, indent=1, ensure_ascii=False, default=str))}\n```"


def render_result(
    op_name: str, args: dict[str, Any], envelope: dict[str, Any], *, app_url: str | None = None
) -> str:
    """The markdown of a successful call; `app_url` is the app's origin, for invite links."""
    data = envelope.get("data")
    call = Call(op_name, args, envelope.get("cursor"), app_url)
    renderer = RENDERERS[op_name]  # a registry operation without a renderer is a bug, not JSON
    expected = list if operations.get(op_name).response.many else dict
    text = renderer.text(call, data) if isinstance(data, expected) else _as_json(data)
    hint = rest_hint(op_name, args)
    return cut(text, TEXT_LIMIT, hint[:1].upper() + hint[1:] + ".")


def fit_structured(
    op_name: str, args: dict[str, Any], envelope: dict[str, Any], *, app_url: str | None = None
) -> dict[str, Any]:
    """The envelope as structuredContent: the renderer's own transform, then the projection onto
    `output_schema(op_name)` (render/structured.py), fitted within `STRUCTURED_LIMIT`."""
    data = envelope.get("data")
    transform = RENDERERS[op_name].structured
    if transform is not None:
        data = transform(data, app_url)
    return _fit_structured(op_name, args, {**envelope, "data": project_data(op_name, data)})
