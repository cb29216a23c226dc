"""Agent-facing text: compact markdown for tool results, and the session transcript.

Each tool result gets a title, the key facts in bold, the ids an agent needs for the next call,
URLs, and one line saying what to do next. Lists are one line per item with the next cursor.
Nothing here is larger than `TEXT_LIMIT` characters (about 7,500 tokens): a list that does not
fit keeps the items that fit and says exactly how to get the rest.

Every string from the API is third-party text and is rendered as data (see `safe`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aural_mcp import operations
from aural_mcp.server.render import candidates, interviews, sessions
from aural_mcp.server.render.candidates import invites_csv
from aural_mcp.server.render.context import Call, app_origin, app_url
from aural_mcp.server.render.fit import RESOURCE_LIMIT, STRUCTURED_LIMIT, TEXT_LIMIT, cut, rest_hint
from aural_mcp.server.render.fit import fit_structured as _fit_structured
from aural_mcp.server.render.interviews import interview_markdown, question_line
from aural_mcp.server.render.safe import Marker, plural, visible
from aural_mcp.server.render.sessions import scores_markdown, session_markdown, transcript_markdown

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
    "plural",
    "question_line",
    "render_result",
    "scores_markdown",
    "session_markdown",
    "transcript_markdown",
]

@dataclass(frozen=True)
class Renderer:
    """How one operation's answer is shown: its markdown, and optionally its structuredContent.

    `text` takes the call and the answer's `data`: a list of rows when the registry says the
    operation answers with many (`op.response.many`), else one object. `structured`, when set,
    turns that `data` into what structuredContent carries instead of the data as it came.
    """

    text: Callable[[Call, Any], str]
    structured: Callable[[Any, str | None], Any] | None = None


# One renderer per registry operation (tests/server/test_render_fuzz.py fails on a missing one).
RENDERERS: dict[str, Renderer] = {
    "list_interviews": Renderer(interviews.list_interviews),
    "get_interview": Renderer(interviews.get_interview),
    "create_interview": Renderer(interviews.create_interview),
    "update_interview": Renderer(interviews.update_interview),
    "archive_interview": Renderer(interviews.archive_interview),
    "publish_interview": Renderer(interviews.publish_interview),
    "list_questions": Renderer(interviews.list_questions),
    "add_questions": Renderer(interviews.add_questions),
    "update_question": Renderer(interviews.update_question),
    "delete_question": Renderer(interviews.delete_question),
    # Listed candidates carry the `inviteUrl` the create answer has, built where the API omits it.
    "list_candidates": Renderer(candidates.list_candidates, structured=candidates.with_invite_urls),
    "add_candidates": Renderer(candidates.add_candidates),
    "update_candidate": Renderer(candidates.update_candidate),
    "list_sessions": Renderer(sessions.list_sessions),
    "get_session": Renderer(sessions.get_session),
    "get_session_report": Renderer(sessions.get_session_report),
    "end_sessions": Renderer(sessions.end_sessions),
    "list_practices": Renderer(interviews.list_practices),
    "get_practice": Renderer(interviews.get_practice),
    "get_usage": Renderer(interviews.get_usage),
}


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
    """The envelope as structuredContent within `STRUCTURED_LIMIT`, after the renderer's own transform."""
    transform = RENDERERS[op_name].structured
    if transform is not None:
        envelope = {**envelope, "data": transform(envelope.get("data"), app_url)}
    return _fit_structured(op_name, args, envelope)
