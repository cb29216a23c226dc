"""`Runtime`: the server's connection to Aural, shared by every connection of one built server.

It owns the AuralClient (and, with `settings.sandbox`, the in-process sandbox it talks to). The
MCP lifespan acquires it, so it is opened on the first connection and closed after the last;
every connection of an SSE or HTTP server shares one client, which is right for a per-key rate
limit. It also owns the subscriptions and the one session watcher (`watching`, opened on first
use). The sandbox package is imported only when `settings.sandbox`.

Every request acts on one Runtime, the one `RuntimeFor` gives for its MCP context: the server's
own, or in the team server (`--auth oauth`) the tenant of the request's grant
(`aural_mcp.team.tenants`), a Runtime of its own with that user's key and scope.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from aural_mcp.api import AuralClient
from aural_mcp.api.errors import ConfigurationError
from aural_mcp.server.subscriptions import Subscriptions
from aural_mcp.server.watching import Watching
from aural_mcp.settings import KEY_SOURCE, Settings, account_fingerprint, key_problem

if TYPE_CHECKING:
    from aural_mcp.sandbox import Sandbox
    from aural_mcp.server.sandbox_pages import PagesServer

logger = logging.getLogger("aural_mcp.server")

SANDBOX_BASE_URL = "http://sandbox.local/api/v1"

# The Runtime a request acts on, from its MCP context (a tool's `Context`, or a handler's request context).
RuntimeFor = Callable[[Any], Awaitable["Runtime"]]


class Runtime:
    """The server's connection to Aural: one client, opened on first use, shared by connections."""

    def __init__(
        self,
        settings: Settings,
        *,
        tool_names: frozenset[str],
        client: AuralClient | None = None,
        transport: Any = None,
        subscriptions: Subscriptions | None = None,
        budget_store: Any = None,
    ) -> None:
        self.settings = settings
        self._budget_store = budget_store  # a team store: this key's rate budget shared by every replica
        # The tools requests on this Runtime may list and call: `tools.tool_names` of its settings
        # (a tenant's settings carry its grant's scope).
        self.tool_names = tool_names
        self._given_client = client
        self._transport = transport
        self._client: AuralClient | None = client
        self._stack: AsyncExitStack | None = None
        self._users = 0
        self._lock = anyio.Lock()
        self.sandbox: Sandbox | None = None
        self.pages: PagesServer | None = None  # the sandbox's candidate pages, with `settings.sandbox_port`
        self._sandbox_key: str | None = None
        self.cache: dict[str, tuple[float, Any]] = {}  # completion look-ups, see prompts.py
        self.config_error: ConfigurationError | None = None
        self.subscriptions = subscriptions or Subscriptions()
        self.watching = Watching(settings, lambda: self.client, self.subscriptions, lambda: self.state_account)

    @property
    def client(self) -> AuralClient:
        if self._client is None:
            if self.config_error is not None:
                raise self.config_error
            raise RuntimeError("the Aural client is not open: the server lifespan has not started")
        return self._client

    @property
    def state_account(self) -> str:
        """The account the server's state files (watcher, specs) are named after: the client's; for
        the embedded sandbox on a database file, whose key is new at every start, that file's."""
        db = self.settings.sandbox_db
        if self.settings.sandbox and db not in (None, ":memory:"):
            return account_fingerprint("sandbox-db:" + str(Path(db).resolve()), "")
        return self.client.account

    @property
    def api_key(self) -> str | None:
        return self._sandbox_key or self.settings.api_key

    def open_sandbox(self) -> Sandbox:
        """The in-process sandbox (made once per server, kept across connections), and its pages."""
        if self.sandbox is not None:
            return self.sandbox
        from aural_mcp.sandbox import Sandbox

        pages = None
        if self.settings.sandbox_port is not None:
            from aural_mcp.server.sandbox_pages import PagesServer

            pages = PagesServer(self.settings.sandbox_port)  # bound first: the links name its port
        try:
            sandbox = Sandbox(
                db_path=self.settings.sandbox_db or ":memory:",
                rate_limit=self.settings.rate_limit,
                rate_window=self.settings.rate_window,
                public_url=pages.url if pages is not None else None,
            )
            if self.settings.sandbox_seed:
                sandbox.seed_file(self.settings.sandbox_seed)
        except BaseException:
            if pages is not None:
                pages.stop()
            raise
        if pages is not None:
            from aural_mcp.server.sandbox_pages import announce_links

            sandbox.on_links = announce_links
            pages.start(sandbox.app)
        self.sandbox, self.pages = sandbox, pages
        self._sandbox_key = sandbox.create_key()
        return sandbox

    def close(self) -> None:
        """Stop what outlives connections (the sandbox's pages server, the watcher state); the process is ending."""
        self.watching.close()
        if self.pages is not None:
            self.pages.stop()
            self.pages = None

    def _make_sandbox_client(self) -> AuralClient:
        import httpx2

        sandbox = self.open_sandbox()
        return AuralClient(
            self._sandbox_key,
            base_url=SANDBOX_BASE_URL,
            rate_limit=self.settings.rate_limit,
            rate_window=self.settings.rate_window,
            timeout=self.settings.timeout,
            background_share=self.settings.watch_share,
            transport=httpx2.ASGITransport(app=sandbox.app),
        )

    async def acquire(self) -> None:
        async with self._lock:
            if self._users == 0 and self._given_client is None:
                stack = AsyncExitStack()
                problem = None if self.settings.sandbox else key_problem(self.settings.api_key)
                try:
                    if problem:  # the SDK accepts some of these, the API refuses them all
                        raise ConfigurationError(f"{problem} ({KEY_SOURCE})")
                    if self.settings.sandbox:
                        client = self._make_sandbox_client()
                    else:
                        client = AuralClient.from_settings(
                            self.settings, transport=self._transport, budget_store=self._budget_store
                        )
                except ConfigurationError as exc:
                    # Serve anyway: every call then explains how to configure the key.
                    if not problem:  # a key problem was reported once at start (`aural-mcp serve`)
                        logger.warning("Aural client not configured: %s", exc.message)
                    self.config_error = exc
                else:
                    self.config_error = None
                    self._client = await stack.enter_async_context(client)
                self._stack = stack
            self._users += 1

    async def release(self) -> None:
        async with self._lock:
            self._users -= 1
            if self._users == 0 and self._stack is not None:
                stack, self._stack = self._stack, None
                self._client = None
                self.cache.clear()
                await stack.aclose()
