"""`build_server(settings) -> MCPServer`: the Aural MCP server, whatever the transport.

One `Runtime` (server/runtime.py) per built server owns the connection to Aural; the MCP
lifespan acquires it on the first connection and releases it after the last, and runs the
session watcher's host task while it lasts (server/watching.py).
With `team` (`--auth oauth`) that Runtime holds no key: every request acts on the Runtime of its
grant's user (`team.tenants.Tenants`), made on demand while the lifespan runs. Every entry point
(tools, tools/list, resources, prompts, completions, subscriptions) finds its Runtime with one
`runtime_for(context)`.
`build_for_serve` is `build_server` for the `aural-mcp serve` process.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio
from mcp.server.mcpserver import MCPServer
from mcp_types import ListToolsResult, PaginatedRequestParams

from aural_mcp import __version__
from aural_mcp.api import AuralClient
from aural_mcp.api.errors import ConfigurationError
from aural_mcp.server.console import KEY_HELP, ConfigError, say
from aural_mcp.server.runtime import Runtime, RuntimeFor
from aural_mcp.settings import LOG_LEVELS, Settings

if TYPE_CHECKING:
    from aural_mcp.team.auth import TeamAuth
    from aural_mcp.team.tenants import Tenants

SERVER_NAME = "aural-mcp"


def build_server(
    settings: Settings, *, client: AuralClient | None = None, transport: Any = None, team: TeamAuth | None = None
) -> MCPServer:
    """The MCP server for `settings`: tools, resources, prompts, completions, the Skills extension and
    the scorecard MCP App (`server.apps`).

    `client` is used as is (its owner opens and closes it); otherwise the lifespan builds one from
    `settings` (with `transport` if given, e.g. an ASGITransport in tests), or against an
    in-process sandbox when `settings.sandbox`. With `team` (`--auth oauth`) every request needs a
    bearer token of a live grant (`aural_mcp.team`) and acts on that grant's tenant.
    """
    from aural_mcp.server import apps, client_logging, prompts, resources, skills, subscriptions
    from aural_mcp.server.instructions import instructions_for, per_grant
    from aural_mcp.server.sdk_private import add_request_handler
    from aural_mcp.server.tools import build_tools, tool_names

    runtime = Runtime(settings, tool_names=frozenset(tool_names(settings)), client=client, transport=transport)
    skills_extension = skills.SkillsExtension(skills.load_skills())
    runtime_for: RuntimeFor
    lifespan: Callable[[MCPServer], AbstractAsyncContextManager[Runtime]]
    if team is None:
        runtime_for, lifespan = _one_runtime(runtime)
    else:
        runtime_for, lifespan, tenants = _tenants(settings, team, runtime, transport)

    server: MCPServer = MCPServer(
        SERVER_NAME,
        title="Aural interviews",
        instructions=instructions_for(tool_names(settings)),
        version=__version__,
        tools=list(build_tools(settings, runtime_for)),
        extensions=[skills_extension, apps.apps_extension()],
        lifespan=lifespan,
        log_level=_sdk_log_level(settings.log_level),
        **(team.server_kwargs() if team is not None else _shared_request_state(settings)),
    )
    skills.advertise_in_experimental(server, skills_extension)
    resources.register(server, runtime, runtime_for)
    apps.list_ui_resources_only_to_apps_clients(server)
    prompts.register(server, runtime_for)

    async def subscriptions_for(ctx: Any) -> subscriptions.Subscriptions:
        return (await runtime_for(ctx)).subscriptions

    subscriptions.install(server, runtime.subscriptions, subscriptions_for)
    client_logging.install(server, [settings.api_key, settings.auth_token])

    async def list_tools(ctx: Any, params: PaginatedRequestParams | None) -> ListToolsResult:
        # Without the server's tools this request's Runtime may not call (for a read-only grant: the write tools).
        hidden = runtime.tool_names - (await runtime_for(ctx)).tool_names
        return ListToolsResult(tools=[tool for tool in await server.list_tools() if tool.name not in hidden])

    add_request_handler(server, "tools/list", PaginatedRequestParams, list_tools)
    if team is not None:
        per_grant(server, tenants.tool_names_of)
    server.runtime = runtime  # type: ignore[attr-defined]  # for tests and the demo
    server.team = team  # type: ignore[attr-defined]  # its routes (consent, metadata) join the HTTP app
    if team is not None:
        server.tenants = tenants  # type: ignore[attr-defined]  # for tests
    return server


def _one_runtime(runtime: Runtime) -> tuple[RuntimeFor, Callable[[MCPServer], AbstractAsyncContextManager[Runtime]]]:
    """Every request on the server's one Runtime, open while a connection is."""

    async def runtime_for(_: Any) -> Runtime:
        return runtime

    @asynccontextmanager
    async def lifespan(_: MCPServer) -> AsyncIterator[Runtime]:
        await runtime.acquire()
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(runtime.watching.host)  # the one watcher loop, while this connection lasts
                try:
                    yield runtime
                finally:
                    tasks.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                await runtime.release()

    return runtime_for, lifespan


def _tenants(
    settings: Settings, team: TeamAuth, runtime: Runtime, transport: Any
) -> tuple[RuntimeFor, Callable[[MCPServer], AbstractAsyncContextManager[Runtime]], Tenants]:
    """Every request on its grant's tenant; the server's own Runtime holds no key and is never opened."""
    from aural_mcp.team.tenants import Tenants

    tenants = Tenants(settings, team.book, transport=transport)

    @asynccontextmanager
    async def lifespan(_: MCPServer) -> AsyncIterator[Runtime]:
        async with tenants.running():
            yield runtime

    return tenants.for_request, lifespan, tenants


def _shared_request_state(settings: Settings) -> dict[str, Any]:
    """HTTP replicas given one AURAL_MCP_SECRET_KEY seal `requestState` with keys derived from it, so a
    state one minted opens on the others; otherwise the SDK's key of this process alone."""
    if settings.transport != "http" or not settings.secret_key:
        return {}
    from aural_mcp.team.secrets import request_state_security

    return {"request_state_security": request_state_security(settings.secret_key)}


def _sdk_log_level(level: str) -> Any:
    level = (level or "WARNING").upper()
    return level if level in LOG_LEVELS else "WARNING"


def build_for_serve(settings: Settings) -> MCPServer:
    """`build_server` for `aural-mcp serve`: the sandbox (or the team store) is opened at start,
    and a configuration problem is a `ConfigError` (one line on stderr, exit 2)."""
    try:
        team = None
        if settings.auth_mode == "oauth":
            from aural_mcp.team.auth import TeamAuth

            team = TeamAuth.open(settings)
        server = build_server(settings, team=team)
        if settings.sandbox:  # at start, so a bad port or seed file is one line and the pages' URL is printed
            runtime = server.runtime  # type: ignore[attr-defined]
            runtime.open_sandbox()
            if runtime.pages is not None:
                say(
                    f"sandbox candidate pages at {runtime.pages.url}/i/... "
                    "(the public and invite links from publish_interview and add_candidates open there; "
                    "each is printed here when it is made)"
                )
        return server
    except ConfigurationError as exc:
        raise ConfigError(f"{exc.message}. {KEY_HELP}") from None
    except ValueError as exc:  # a setting build_server rejects, e.g. an unknown --toolsets name
        raise ConfigError(str(exc)) from None
