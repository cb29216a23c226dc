"""`Tenants`: in the team server, every request acts as its user, on a `Runtime` of that user's own.

A tenant is made on demand for each grant that sends a request: a `Runtime` (server/runtime.py)
with an `AuralClient` on `settings.base_url` and the grant's key, so each user has their own
pacing, completion cache, subscriptions (with a listen bus of their own), session watcher and spec
state (named after the grant's account). Its settings are the operator's with the grant's scope on
top: a read-only grant (`aural:read`) gets `read_only`, so its tools are the read tools the
operator's `--read-only` and `--toolsets` allow; the operator's flags bound everyone.

Tenants are kept in a bounded LRU cache; the least recently used one beyond `capacity` is closed
(its watcher stopped, its listen streams ended, its client closed) and made again at that user's
next request. A revoked grant's requests get 401 from the bearer middleware at once; its tenant is
closed within `REVOKED_CHECK_SECONDS`, so a connection opened before the revocation stops hearing
of changes too.

Which grant a request is for comes from the request itself: the `mcp` SDK's bearer middleware
puts the verified token on the HTTP request that carried the message
(`request_context.request.user.access_token`), a `GrantAccessToken` of a live grant. A contextvar
set by an HTTP middleware would not do: with stateful Streamable HTTP, the session's handlers run
in tasks the session's first request started.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from anyio.abc import TaskGroup
from mcp.server.subscriptions import ListenHandler
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_REQUEST

from aural_mcp.server.runtime import Runtime
from aural_mcp.server.subscriptions import Subscriptions
from aural_mcp.server.tools import tool_names
from aural_mcp.settings import Settings
from aural_mcp.team.auth import GrantAccessToken
from aural_mcp.team.grants import Grant, GrantBook

logger = logging.getLogger("aural_mcp.team")

DEFAULT_CAPACITY = 256  # tenants kept open at once
REVOKED_CHECK_SECONDS = 1.0  # how often open tenants are checked against the store's live grants


def _refused(message: str) -> MCPError:
    # A JSON-RPC error: whatever the entry point (a tool, a resource, a prompt), the request cannot act.
    return MCPError(code=INVALID_REQUEST, message=message)


def grant_of(context: Any) -> Grant:
    """The grant a request acts for, from a tool's `Context` or a handler's request context."""
    try:
        request_context = context.request_context if hasattr(type(context), "request_context") else context
        token = request_context.request.user.access_token
    except (AttributeError, AssertionError, ValueError):  # no request, no authenticated user
        token = None
    if not isinstance(token, GrantAccessToken):  # the bearer middleware lets no such request through
        raise _refused("this request carries no verified grant token: send Authorization: Bearer <token>")
    return token.grant


@dataclasses.dataclass
class _Tenant:
    runtime: Runtime
    watcher_scope: anyio.CancelScope


class Tenants:
    """One Runtime per grant, made on demand, at most `capacity` open at once (LRU)."""

    def __init__(self, settings: Settings, book: GrantBook, *, capacity: int = DEFAULT_CAPACITY, transport: Any = None) -> None:
        self.settings = settings
        self.book = book
        self.capacity = capacity
        self._transport = transport  # for the tenants' clients (tests may pass an ASGI transport)
        self._open: OrderedDict[str, _Tenant] = OrderedDict()
        self._lock = anyio.Lock()
        self._tasks: TaskGroup | None = None

    def settings_for(self, grant: Grant, key: str) -> Settings:
        """The operator's settings as this grant's tenant uses them: its key, its scope, its own state."""
        return dataclasses.replace(
            self.settings,
            api_key=key,
            sandbox=False,  # always the API at base_url, with the user's key
            read_only=self.settings.read_only or grant.read_only,
            # each account's own watcher state, never one shared by users: on Redis when the replicas
            # share it (`Watching.open` opens it from redis_url), else its file in the data folder
            watch_state=None,
        )

    def tool_names_of(self, grant: Grant) -> frozenset[str]:
        """The tools a request of `grant` may call: the operator's, narrowed by the grant's scope."""
        return frozenset(tool_names(self.settings_for(grant, key="")))

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Tenants]:
        """While the server runs: tenants' watcher loops run here; every tenant is closed at the end."""
        async with anyio.create_task_group() as tasks:
            self._tasks = tasks
            tasks.start_soon(self._close_revoked)
            try:
                yield self
            finally:
                self._tasks = None
                with anyio.CancelScope(shield=True):
                    async with self._lock:
                        while self._open:
                            await self._close(self._open.popitem(last=False)[1])
                tasks.cancel_scope.cancel()

    async def for_request(self, context: Any) -> Runtime:
        """The Runtime of the request's grant (`runtime.RuntimeFor`)."""
        return await self.get(grant_of(context))

    async def get(self, grant: Grant) -> Runtime:
        tenant = self._open.get(grant.id)
        if tenant is not None:  # open already: no await between the look-up and the use, so no lock needed
            self._open.move_to_end(grant.id)
            return tenant.runtime
        async with self._lock:
            tenant = self._open.get(grant.id)
            if tenant is not None:
                self._open.move_to_end(grant.id)
                return tenant.runtime
            if self._tasks is None:
                raise RuntimeError("the team server is not running: its lifespan has not started")
            tenant = await self._make(grant, self._tasks)
            self._open[grant.id] = tenant
            while len(self._open) > self.capacity:
                await self._close(self._open.popitem(last=False)[1])
            return tenant.runtime

    async def _make(self, grant: Grant, tasks: TaskGroup) -> _Tenant:
        try:
            key = await self.book.key_of(grant)
        except ValueError:  # sealed with a master key AURAL_MCP_SECRET_KEY no longer holds, or damaged
            logger.warning("the Aural key of grant %s does not open with AURAL_MCP_SECRET_KEY", grant.id)
            raise _refused(
                "this connection's Aural key can no longer be opened by the server (its AURAL_MCP_SECRET_KEY "
                "changed): connect again to consent anew, or ask the operator for a new service token"
            ) from None
        settings = self.settings_for(grant, key)
        # On Redis (many replicas) the key's rate budget and its resource updates are shared by the
        # replicas; one replica on SQLite needs neither (each would cost fsynced writes per request).
        shared = self.book.store if self.settings.redis_url else None
        runtime = Runtime(
            settings,
            tool_names=self.tool_names_of(grant),
            transport=self._transport,
            subscriptions=Subscriptions.own_bus(),
            budget_store=shared,
        )
        await runtime.acquire()
        scope = anyio.CancelScope()

        async def serve(*, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
            with scope:
                if shared is None:
                    task_status.started()
                    await runtime.watching.host()
                    return
                async with runtime.subscriptions.shared(shared, grant.account):  # once the relay listens
                    task_status.started()
                    await runtime.watching.host()

        try:
            await tasks.start(serve)
        except ConnectionError:
            await runtime.release()
            runtime.close()
            raise _refused("the team store (Redis) cannot be reached right now: try again shortly") from None
        logger.info("tenant opened for grant %s (%s)", grant.id, grant.kind)
        return _Tenant(runtime, scope)

    async def _close_revoked(self) -> None:
        while True:
            await anyio.sleep(REVOKED_CHECK_SECONDS)
            if not self._open:
                continue
            try:
                live = {grant.id for grant in await self.book.grants()}
            except Exception as exc:  # the store is unreachable for now: the bearer middleware still refuses revoked tokens
                # the error's type only: a store's error text may name its URL
                logger.warning("cannot check the open tenants' grants (%s); trying again", type(exc).__name__)
                continue
            async with self._lock:
                for gid in [gid for gid in self._open if gid not in live]:
                    logger.info("tenant of revoked grant %s closed", gid)
                    await self._close(self._open.pop(gid))

    async def _close(self, tenant: _Tenant) -> None:
        tenant.watcher_scope.cancel()
        listen = tenant.runtime.subscriptions.listen
        if isinstance(listen, ListenHandler):  # the tenant's own: its streams end now
            listen.close()
        await tenant.runtime.release()
        tenant.runtime.close()

    def __len__(self) -> int:
        return len(self._open)
