"""Who wants `notifications/resources/updated` for which URIs, and telling them.

Two ways to ask: `resources/subscribe` / `resources/unsubscribe` (protocols before 2026-07-28),
and `subscriptions/listen` streams (2026-07-28) whose filter names `resourceSubscriptions`. A
change is announced (`Subscriptions.announce`) to both: to each subscribed connection, and on the
server's `SubscriptionBus`, which the SDK's listen handler filters per stream.

Changes come from two places: a write tool of this server that succeeded (its registry `changes`,
`publish_changes`), and the session watcher (`server/watching.py`), which polls the interviews
behind the subscribed URIs and announces what it finds, however the change was made (the
dashboard, a candidate, another API client). `Subscriptions.on_change` tells the watcher when the
set of wanted URIs changes.

Each `Runtime` has its own `Subscriptions` (in the team server, one per user), and every handler
here acts on the request's Runtime's (`subscriptions_for`): a user's subscriptions, listen streams and
updates are theirs alone. The server's own Runtime uses the server's bus and the SDK's listen
handler; a tenant's (`Subscriptions.own_bus`) gets a bus and a listen handler of its own.

Replicas of a team server on Redis share announcements (`Subscriptions.shared`): each one is
also published on the team store's channel of the account, and what other replicas publish there
is delivered to this replica's subscribers (`UpdateRelay`).

MCPServer has no public hook for resources/subscribe, resources/unsubscribe and logging/setLevel,
nor for wrapping its listen handler, so these are registered on its low-level server
(`sdk_private`).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from typing import Any, Protocol

import anyio
from anyio.abc import TaskStatus
from mcp.shared.exceptions import MCPError
from mcp_types import (
    INVALID_PARAMS,
    CallToolResult,
    EmptyResult,
    SetLevelRequestParams,
    SubscribeRequestParams,
    SubscriptionsListenRequestParams,
    UnsubscribeRequestParams,
)

from aural_mcp.operations import is_uuid, show_input
from aural_mcp.server import client_logging
from aural_mcp.server.sdk_private import add_request_handler, connection_of, request_handler, subscription_bus

logger = logging.getLogger("aural_mcp.server")


MAX_PER_CONNECTION = 100  # subscriptions one client may hold at once


class Subscriptions:
    """Which connections asked for updates of which resource URIs, and which listen streams are open.

    Each connection's subscriptions are dropped when it ends (`drop`, run from the connection's
    own teardown); a connection that goes away without one drops out once it is collected. A
    listen stream's URIs count while its request runs (`listening`).
    """

    def __init__(self) -> None:
        self._uris: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()
        self._streams: dict[object, tuple[str, ...]] = {}  # open listen streams -> the URIs they asked for
        self.bus: Any = None  # the SubscriptionBus its listen streams read: the server's, set by `install`
        self.listen: Callable[[Any, Any], Awaitable[Any]] | None = None  # serves a listen stream on `bus`
        self.relay: UpdateRelay | None = None  # to the other replicas, while `shared`
        self.on_change: Callable[[], None] = _nothing  # called when the wanted URIs change

    @classmethod
    def own_bus(cls) -> Subscriptions:
        """Subscriptions with a bus and a listen handler of their own (one user's, in the team server)."""
        from mcp.server.subscriptions import InMemorySubscriptionBus, ListenHandler

        subscriptions = cls()
        subscriptions.bus = InMemorySubscriptionBus()
        subscriptions.listen = ListenHandler(subscriptions.bus)
        return subscriptions

    def add(self, uri: str, connection: Any) -> bool:
        """Subscribe; False when `connection` already holds MAX_PER_CONNECTION others."""
        uris = self._uris.setdefault(connection, set())
        if uri not in uris and len(uris) >= MAX_PER_CONNECTION:
            return False
        if uri not in uris:
            uris.add(uri)
            self.on_change()
        return True

    def remove(self, uri: str, connection: Any) -> None:
        # An emptied set stays until the connection ends: its teardown is registered only once.
        uris = self._uris.get(connection, set())
        if uri in uris:
            uris.discard(uri)
            self.on_change()

    def __contains__(self, connection: Any) -> bool:
        return connection in self._uris

    def drop(self, connection: Any) -> None:
        if self._uris.pop(connection, None):
            self.on_change()

    @contextmanager
    def listening(self, uris: list[str]) -> Iterator[None]:
        """While a listen stream is open: its first MAX_PER_CONNECTION resource URIs are wanted."""
        token = object()
        self._streams[token] = tuple(dict.fromkeys(uris))[:MAX_PER_CONNECTION]
        self.on_change()
        try:
            yield
        finally:
            del self._streams[token]
            self.on_change()

    def wanted(self) -> set[str]:
        """Every URI some connection or listen stream wants updates of."""
        out: set[str] = set()
        for uris in [*list(self._uris.values()), *self._streams.values()]:
            out.update(uris)
        return out

    async def announce(self, uri: str) -> None:
        """`notifications/resources/updated` for `uri`: here (`deliver`), and to the other replicas
        while `shared`. Never raises."""
        await self.deliver(uri)
        if self.relay is not None:
            await self.relay.publish(uri)

    async def deliver(self, uri: str) -> None:
        """`notifications/resources/updated` for `uri` on this replica: to its subscribers, and to
        listen streams through the bus (which delivers it only to streams that asked for it). Never raises."""
        for connection in self.subscribers(uri):
            with suppress(Exception):  # a closed connection must not stop the others
                await connection.send_resource_updated(uri)
        if self.bus is not None:
            from mcp.server.subscriptions import ResourceUpdated

            with suppress(Exception):
                await self.bus.publish(ResourceUpdated(uri=uri))

    @asynccontextmanager
    async def shared(self, store: UpdateStore, account: str) -> AsyncIterator[None]:
        """While open, announcements reach every replica on `store` that shares `account`'s
        updates (its fingerprint), and theirs reach this one's subscribers. Entered once the
        relay is listening."""
        relay = UpdateRelay(store, f"updates:{account}")
        unreachable: ConnectionError | None = None
        async with anyio.create_task_group() as tg:
            try:
                await tg.start(relay.listen, self.deliver)
            except ConnectionError as exc:  # raised below, on its own rather than in a task group's
                unreachable = exc
            else:
                self.relay = relay
                try:
                    yield
                finally:
                    self.relay = None
                    tg.cancel_scope.cancel()
        if unreachable is not None:
            raise unreachable

    def subscribers(self, uri: str) -> list[Any]:
        return [connection for connection, uris in list(self._uris.items()) if uri in uris]

    def count(self) -> int:
        """Subscriptions held by all connections together."""
        return sum(len(uris) for uris in list(self._uris.values()))


def _nothing() -> None:
    return None


class UpdateStore(Protocol):
    """The pub/sub of the team store (`aural_mcp.team.store.TeamStore`: Redis reaches every replica)."""

    async def publish(self, channel: str, message: str) -> None: ...

    def subscribe(self, channel: str) -> AsyncIterator[str]: ...


RELAY_RETRY_SECONDS = 1.0  # after the store's connection broke, before listening again


class UpdateRelay:
    """Resource updates between replicas on one channel of the store. Each message is JSON,
    `{"from": replica, "uri": uri}`; a replica skips its own (it has delivered them already), and
    listens until it hears its own greeting `{"from": replica}` back, so nothing published after
    `listen` has started is missed."""

    def __init__(self, store: UpdateStore, channel: str) -> None:
        self.store = store
        self.channel = channel
        self.origin = uuid.uuid4().hex

    async def publish(self, uri: str) -> None:
        try:
            await self.store.publish(self.channel, json.dumps({"from": self.origin, "uri": uri}))
        except Exception as exc:  # the other replicas miss this one; their watchers still see the change
            logger.warning("could not tell the other replicas about an update (%s)", type(exc).__name__)

    async def listen(
        self, deliver: Callable[[str], Awaitable[None]], *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Deliver other replicas' updates until cancelled; `task_status.started()` once listening."""
        started = False
        while True:
            heard = anyio.Event()
            try:
                async with anyio.create_task_group() as tg:
                    tg.start_soon(self._greet, heard)
                    async for text in self.store.subscribe(self.channel):
                        message = _relayed(text)
                        if message is None:
                            continue
                        origin, uri = message
                        if origin != self.origin and uri is not None:
                            await deliver(uri)
                        elif origin == self.origin and not heard.is_set():
                            heard.set()
                            if not started:
                                started = True
                                task_status.started()
            except Exception as exc:
                if not started:  # the store cannot be reached at all: say so at start-up
                    raise ConnectionError(
                        f"cannot hear the other replicas' resource updates: the team store is out of reach "
                        f"({_first_cause(exc)}); check that it (--redis) is up"
                    ) from exc
                logger.warning("lost the other replicas' updates (%s); listening again", type(exc).__name__)
            await anyio.sleep(RELAY_RETRY_SECONDS)

    async def _greet(self, heard: anyio.Event) -> None:
        """Publish the greeting until it is heard back: then the subscription is live."""
        greeting = json.dumps({"from": self.origin})
        while not heard.is_set():
            await self.store.publish(self.channel, greeting)
            with anyio.move_on_after(0.05):
                await heard.wait()


def _first_cause(exc: BaseException) -> str:
    """`Type: message` of the first error inside any task groups' groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}"


def _relayed(text: str) -> tuple[str, str | None] | None:
    """(origin, URI or None for a greeting) of a relay message; None for anything else."""
    try:
        message = json.loads(text)
    except ValueError:
        return None
    if not isinstance(message, dict) or not isinstance(message.get("from"), str):
        return None
    uri = message.get("uri")
    return message["from"], uri if isinstance(uri, str) else None


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
    subscriptions: Subscriptions, changes: tuple[str, ...], args: dict[str, Any], result: CallToolResult
) -> None:
    """Tell `subscriptions` (the request's Runtime's) what a tool call changed (its `changes` templates).
    Never fails the call."""
    for uri in changed_uris(changes, args, result):
        await subscriptions.announce(uri)


def install(
    server: Any, subscriptions: Subscriptions, subscriptions_for: Callable[[Any], Awaitable[Subscriptions]]
) -> None:
    """Serve subscribe, unsubscribe, setLevel and listen, each on the request's Runtime's
    subscriptions (`subscriptions_for` its context); `subscriptions` (the server's own Runtime's)
    get the server's bus and listen handler."""
    subscribable = SubscribableUris(server)
    subscriptions.bus = subscription_bus(server)
    subscriptions.listen = request_handler(server, "subscriptions/listen")

    async def subscribe(ctx: Any, params: SubscribeRequestParams) -> EmptyResult:
        uri = str(params.uri)
        problem = await subscribable.problem(uri)
        if problem:
            raise MCPError(code=INVALID_PARAMS, message=problem)
        held = await subscriptions_for(ctx)
        connection = connection_of(ctx.session)
        first = connection not in held
        if not held.add(uri, connection):
            raise MCPError(
                code=INVALID_PARAMS,
                message=f"this client already holds {MAX_PER_CONNECTION} subscriptions, the most one client "
                "may hold: unsubscribe from one (resources/unsubscribe) before subscribing to another",
            )
        exit_stack = getattr(connection, "exit_stack", None)
        if first and exit_stack is not None:  # the connection's own teardown drops its subscriptions
            exit_stack.callback(held.drop, connection)
        return EmptyResult()

    async def unsubscribe(ctx: Any, params: UnsubscribeRequestParams) -> EmptyResult:
        (await subscriptions_for(ctx)).remove(str(params.uri), connection_of(ctx.session))
        return EmptyResult()

    async def set_level(ctx: Any, params: SetLevelRequestParams) -> EmptyResult:
        client_logging.set_client_level(ctx, str(params.level))  # that client's notifications only
        return EmptyResult()

    add_request_handler(server, "resources/subscribe", SubscribeRequestParams, subscribe)
    add_request_handler(server, "resources/unsubscribe", UnsubscribeRequestParams, unsubscribe)
    add_request_handler(server, "logging/setLevel", SetLevelRequestParams, set_level)
    if subscriptions.listen is not None:  # served unless the server was built with subscriptions=False

        async def listen_for(ctx: Any, params: SubscriptionsListenRequestParams) -> Any:
            # The Runtime's listen handler serves the stream; the URIs it asked for are wanted while it is open.
            held = await subscriptions_for(ctx)
            assert held.listen is not None  # the server's (set above) or a tenant's own
            wanted = [str(uri) for uri in params.notifications.resource_subscriptions or ()]
            with held.listening(wanted):
                return await held.listen(ctx, params)

        add_request_handler(server, "subscriptions/listen", SubscriptionsListenRequestParams, listen_for)
