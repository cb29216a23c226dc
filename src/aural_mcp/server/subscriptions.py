"""`resources/subscribe`, `resources/unsubscribe` and `logging/setLevel` (protocols before 2026-07-28).

Aural has no change feed, so the server knows of a change only when it goes through one of its own
write tools. After such a tool succeeds, every session subscribed to a resource it changed gets
`notifications/resources/updated`, and `subscriptions/listen` streams (2026-07-28) get the same
event through the SDK's bus. MCPServer has no public hook for these three spec methods, so they
are registered on its low-level server.
"""

from __future__ import annotations

import logging
import re
import weakref
from contextlib import suppress
from typing import Any

from mcp.shared.exceptions import MCPError
from mcp_types import (
    INVALID_PARAMS,
    CallToolResult,
    EmptyResult,
    SetLevelRequestParams,
    SubscribeRequestParams,
    UnsubscribeRequestParams,
)

from aural_mcp.operations import is_uuid, show_input
from aural_mcp.server import client_logging
from aural_mcp.server.sdk_private import add_request_handler, connection_of

logger = logging.getLogger("aural_mcp.server")


MAX_PER_CONNECTION = 100  # subscriptions one client may hold at once


class Subscriptions:
    """Which connections asked for updates of which resource URIs.

    Each connection's subscriptions are dropped when it ends (`drop`, run from the connection's
    own teardown); a connection that goes away without one drops out once it is collected.
    """

    def __init__(self) -> None:
        self._uris: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()

    def add(self, uri: str, connection: Any) -> bool:
        """Subscribe; False when `connection` already holds MAX_PER_CONNECTION others."""
        uris = self._uris.setdefault(connection, set())
        if uri not in uris and len(uris) >= MAX_PER_CONNECTION:
            return False
        uris.add(uri)
        return True

    def remove(self, uri: str, connection: Any) -> None:
        # An emptied set stays until the connection ends: its teardown is registered only once.
        self._uris.get(connection, set()).discard(uri)

    def __contains__(self, connection: Any) -> bool:
        return connection in self._uris

    def drop(self, connection: Any) -> None:
        self._uris.pop(connection, None)

    def subscribers(self, uri: str) -> list[Any]:
        return [connection for connection, uris in list(self._uris.items()) if uri in uris]

    def count(self) -> int:
        """Subscriptions held by all connections together."""
        return sum(len(uris) for uris in list(self._uris.values()))


class SubscribableUris:
    """The resource URIs a client may subscribe to: the server's fixed resources and its templates
    with a UUID in each `{placeholder}`, read from the server so new resources count at once."""

    def __init__(self, server: Any) -> None:
        self._server = server

    async def problem(self, uri: str) -> str | None:
        """Why `uri` cannot be subscribed to, or None when it can."""
        fixed = [str(r.uri) for r in await self._server.list_resources()]
        templates = [t.uri_template for t in await self._server.list_resource_templates()]
        if uri in fixed or any(_fills(template, uri) for template in templates):
            return None
        forms = ", ".join(templates + fixed)
        return (
            f"cannot subscribe to {show_input(uri)}: not one of this server's resources. "
            f"Subscribe to one of {forms}, with a UUID for each {{…}}"
        )


def _fills(template: str, uri: str) -> bool:
    """True when `uri` is `template` with a UUID in each placeholder."""
    parts = re.split(r"(\{[^}]*\})", template)
    regex = "".join("([^/]*)" if part.startswith("{") else re.escape(part) for part in parts)
    match = re.fullmatch(regex, uri)
    return match is not None and all(is_uuid(value) for value in match.groups())


def changed_uris(changes: tuple[str, ...], args: dict[str, Any], result: CallToolResult) -> list[str]:
    """The resource URIs a successful write tool call changed: its `changes` templates, filled in.

    `{interviewId}` comes from the arguments, or from the answer's row (update_question answers
    with the question, which names its interview); `{sessionId}` is each session the answer says
    was ended (status `succeeded`, and not a dry run). A template that cannot be filled is skipped.
    """
    data = (result.structured_content or {}).get("data")
    interview_id = args.get("interviewId")
    if interview_id is None and isinstance(data, dict):
        interview_id = data.get("interviewId")
    ended: list[str] = []
    if isinstance(data, dict) and not data.get("dryRun", True):
        ended = [
            str(item["id"])
            for item in data.get("results") or []
            if isinstance(item, dict) and item.get("status") == "succeeded"
        ]
    uris: list[str] = []
    if isinstance(interview_id, str):
        uris += [t.replace("{interviewId}", interview_id) for t in changes if "{sessionId}" not in t]
    for session_id in ended:
        uris += [t.replace("{sessionId}", session_id) for t in changes if "{sessionId}" in t]
    return uris


async def publish_changes(
    changes: tuple[str, ...], args: dict[str, Any], result: CallToolResult, context: Any
) -> None:
    """Tell subscribers about what a tool call changed (its `changes` templates). Never fails the call."""
    try:
        request = context.request_context
        subscriptions: Subscriptions = request.lifespan_context.subscriptions
    except Exception:  # no request context (direct calls in tests): nobody to tell
        return
    for uri in changed_uris(changes, args, result):
        for connection in subscriptions.subscribers(uri):
            with suppress(Exception):  # a closed connection must not fail someone else's call
                await connection.send_resource_updated(uri)
        with suppress(Exception):
            await context.notify_resource_updated(uri)


def install(server: Any, subscriptions: Subscriptions) -> None:
    subscribable = SubscribableUris(server)

    async def subscribe(ctx: Any, params: SubscribeRequestParams) -> EmptyResult:
        uri = str(params.uri)
        problem = await subscribable.problem(uri)
        if problem:
            raise MCPError(code=INVALID_PARAMS, message=problem)
        connection = connection_of(ctx.session)
        first = connection not in subscriptions
        if not subscriptions.add(uri, connection):
            raise MCPError(
                code=INVALID_PARAMS,
                message=f"this client already holds {MAX_PER_CONNECTION} subscriptions, the most one client "
                "may hold: unsubscribe from one (resources/unsubscribe) before subscribing to another",
            )
        exit_stack = getattr(connection, "exit_stack", None)
        if first and exit_stack is not None:  # the connection's own teardown drops its subscriptions
            exit_stack.callback(subscriptions.drop, connection)
        return EmptyResult()

    async def unsubscribe(ctx: Any, params: UnsubscribeRequestParams) -> EmptyResult:
        subscriptions.remove(str(params.uri), connection_of(ctx.session))
        return EmptyResult()

    async def set_level(ctx: Any, params: SetLevelRequestParams) -> EmptyResult:
        client_logging.set_client_level(ctx, str(params.level))  # that client's notifications only
        return EmptyResult()

    add_request_handler(server, "resources/subscribe", SubscribeRequestParams, subscribe)
    add_request_handler(server, "resources/unsubscribe", UnsubscribeRequestParams, unsubscribe)
    add_request_handler(server, "logging/setLevel", SetLevelRequestParams, set_level)
