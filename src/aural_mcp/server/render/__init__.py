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
from typing import Any

from aural_mcp.server.render import candidates, interviews, sessions
from aural_mcp.server.render.candidates import invites_csv
from aural_mcp.server.render.context import Call, app_origin, app_url
from aural_mcp.server.render.fit import RESOURCE_LIMIT, STRUCTURED_LIMIT, TEXT_LIMIT, cut, rest_hint
from aural_mcp.server.render.fit import fit_structured as _fit_structured
from aural_mcp.server.render.interviews import interview_markdown, question_line
from aural_mcp.server.render.safe import Marker, plural, visible
from aural_mcp.server.render.sessions import scores_markdown, session_markdown, transcript_markdown

__all__ = [
    "RESOURCE_LIMIT",
    "STRUCTURED_LIMIT",
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

_LIST_RENDERERS: dict[str, Callable[[Call, list[Any]], str]] = {
    "list_interviews": interviews.list_interviews,
    "list_questions": interviews.list_questions,
    "add_questions": interviews.add_questions,
    "list_candidates": candidates.list_candidates,
    "add_candidates": candidates.add_candidates,
    "list_sessions": sessions.list_sessions,
    "list_practices": interviews.list_practices,
}

_ITEM_RENDERERS: dict[str, Callable[[Call, dict[str, Any]], str]] = {
    "get_interview": interviews.get_interview,
    "create_interview": interviews.create_interview,
    "update_interview": interviews.update_interview,
    "archive_interview": interviews.archive_interview,
    "publish_interview": interviews.publish_interview,
    "update_question": interviews.update_question,
    "delete_question": interviews.delete_question,
    "update_candidate": candidates.update_candidate,
    "get_session": sessions.get_session,
    "get_session_report": sessions.get_session_report,
    "end_sessions": sessions.end_sessions,
    "get_practice": interviews.get_practice,
    "get_usage": interviews.get_usage,
}

OPERATIONS = (*_LIST_RENDERERS, *_ITEM_RENDERERS)  # every operation with its own rendering


def _as_json(data: Any) -> str:
    """A shape no renderer knows, as JSON: strings cannot hold a raw newline, so none closes the fence."""
    return f"```json\n{visible(json.dumps(data, indent=1, ensure_ascii=False, default=str))}\n```"


def render_result(
    op_name: str, args: dict[str, Any], envelope: dict[str, Any], *, app_url: str | None = None
) -> str:
    """The markdown of a successful call; `app_url` is the app's origin, for invite links."""
    data = envelope.get("data")
    call = Call(op_name, args, envelope.get("cursor"), app_url)
    list_renderer = _LIST_RENDERERS.get(op_name)
    item_renderer = _ITEM_RENDERERS.get(op_name)
    if list_renderer is not None and isinstance(data, list):
        text = list_renderer(call, data)
    elif item_renderer is not None and isinstance(data, dict):
        text = item_renderer(call, data)
    else:
        text = _as_json(data)
    hint = rest_hint(op_name, args)
    return cut(text, TEXT_LIMIT, hint[:1].upper() + hint[1:] + ".")


def fit_structured(
    op_name: str, args: dict[str, Any], envelope: dict[str, Any], *, app_url: str | None = None
) -> dict[str, Any]:
    """The envelope as structuredContent within `STRUCTURED_LIMIT`; listed candidates gain `inviteUrl`."""
    if op_name == "list_candidates":
        envelope = {**envelope, "data": candidates.with_invite_urls(envelope.get("data"), app_url)}
    return _fit_structured(op_name, args, envelope)
