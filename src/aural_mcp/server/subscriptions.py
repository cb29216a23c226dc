"""`resources/subscribe`, `resources/unsubscribe` and `logging/setLevel` (protocols before 2026-07-28).

Aural has no change feed, so the server knows of a change only when it goes through one of its own
write tools. After such a tool succeeds, every session subscribed to a resource it changed gets
`notifications/resources/updated`, and `subscriptions/listen` streams (2026-07-28) get the same
event through the SDK's bus. MCPServer has no public hook for these three spec methods, so they
are registered on its low-level server.
"""

from __future__ import annotations

import logging
import weakref
from contextlib import suppress
from typing import Any

from mcp_types import (
    CallToolResult,
    EmptyResult,
    SetLevelRequestParams,
    SubscribeRequestParams,
    UnsubscribeRequestParams,
)

from aural_mcp.server import client_logging

logger = logging.getLogger("aural_mcp.server")


def _connection(session: Any) -> Any:
    # `ctx.session` is a per-request proxy; the connection behind it is what lives as long as the
    # subscription, and it can send notifications on its own (connection.send_resource_updated).
    return getattr(session, "_connection", session)


class Subscriptions:
    """Which connections asked for updates of which resource URI. Closed ones drop out by themselves."""

    def __init__(self) -> None:
        self._sessions: dict[str, weakref.WeakSet[Any]] = {}

    def add(self, uri: str, session: Any) -> None:
        self._sessions.setdefault(uri, weakref.WeakSet()).add(session)

    def remove(self, uri: str, session: Any) -> None:
        sessions = self._sessions.get(uri)
        if sessions is not None:
            sessions.discard(session)
            if not sessions:
                del self._sessions[uri]

    def subscribers(self, uri: str) -> list[Any]:
        return list(self._sessions.get(uri, ()))


def changed_uris(tool: str, args: dict[str, Any], result: CallToolResult) -> list[str]:
    """The resource URIs a successful write tool call changed."""
    uris: list[str] = []
    data = (result.structured_content or {}).get("data")
    interview_id = args.get("interviewId")
    if interview_id is None and isinstance(data, dict):
        interview_id = data.get("interviewId")  # update_question answers with the question row
    if isinstance(interview_id, str):
        uris.append(f"aural://interviews/{interview_id}")
    if tool == "end_sessions" and isinstance(data, dict) and not data.get("dryRun", True):
        for item in data.get("results") or []:
            if isinstance(item, dict) and item.get("status") == "succeeded":
                uris += [f"aural://sessions/{item['id']}", f"aural://sessions/{item['id']}/transcript"]
    return uris


async def publish_changes(tool: str, args: dict[str, Any], result: CallToolResult, context: Any) -> None:
    """Tell subscribers about what `tool` changed. Never fails the tool call."""
    try:
        request = context.request_context
        subscriptions: Subscriptions = request.lifespan_context.subscriptions
    except Exception:  # no request context (direct calls in tests): nobody to tell
        return
    for uri in changed_uris(tool, args, result):
        for connection in subscriptions.subscribers(uri):
            with suppress(Exception):  # a closed connection must not fail someone else's call
                await connection.send_resource_updated(uri)
        with suppress(Exception):
            await context.notify_resource_updated(uri)


def install(server: Any, subscriptions: Subscriptions) -> None:
    lowlevel = server._lowlevel_server  # no public MCPServer hook for these spec methods

    async def subscribe(ctx: Any, params: SubscribeRequestParams) -> EmptyResult:
        subscriptions.add(str(params.uri), _connection(ctx.session))
        return EmptyResult()

    async def unsubscribe(ctx: Any, params: UnsubscribeRequestParams) -> EmptyResult:
        subscriptions.remove(str(params.uri), _connection(ctx.session))
        return EmptyResult()

    async def set_level(ctx: Any, params: SetLevelRequestParams) -> EmptyResult:
        client_logging.set_client_level(ctx, str(params.level))  # that client's notifications only
        return EmptyResult()

    lowlevel.add_request_handler("resources/subscribe", SubscribeRequestParams, subscribe)
    lowlevel.add_request_handler("resources/unsubscribe", UnsubscribeRequestParams, unsubscribe)
    lowlevel.add_request_handler("logging/setLevel", SetLevelRequestParams, set_level)
