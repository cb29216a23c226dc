"""Every use of a private part of the `mcp` SDK, one function each, so an SDK upgrade is checked here.

Each is needed because the SDK has no public hook for the job; the comment on each says which.
tests/server/test_sdk_private.py fails when a private name of the SDK is used anywhere else.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from mcp.server.mcpserver import MCPServer
    from mcp.server.models import InitializationOptions

    CreateOptions = Callable[..., InitializationOptions]


def add_request_handler(
    server: MCPServer, method: str, params_type: type[Any], handler: Callable[[Any, Any], Awaitable[Any]]
) -> None:
    """Serve (or replace the handler of) the spec method `method` on `server`."""
    # MCPServer has no public way to register a spec method's handler (resources/subscribe,
    # resources/unsubscribe, logging/setLevel) or to wrap its own (prompts/get, resources/list):
    # its low-level server has.
    server._lowlevel_server.add_request_handler(method, params_type, handler)


def request_handler(server: MCPServer, method: str) -> Callable[[Any, Any], Awaitable[Any]] | None:
    """The handler `server` serves the spec method `method` with (None if it serves none)."""
    # Public on the low-level server, which MCPServer keeps private: needed to wrap the SDK's own
    # subscriptions/listen handler (subscriptions.py records which URIs each open stream wants).
    entry = server._lowlevel_server.get_request_handler(method)
    return entry.handler if entry is not None else None


def subscription_bus(server: MCPServer) -> Any:
    """The `SubscriptionBus` behind `server`'s subscriptions/listen streams."""
    # MCPServer exposes its bus only to request contexts (`ctx.notify_resource_updated`); the
    # session watcher announces changes outside any request.
    return server._subscriptions


def get_prompt_handler(server: MCPServer) -> Callable[[Any, Any], Awaitable[Any]]:
    """MCPServer's own prompts/get handler, for a wrapper that checks the request first."""
    # No public accessor: MCPServer registers this method on its low-level server at construction.
    return server._handle_get_prompt


def wrap_initialization_options(server: MCPServer, wrap: Callable[[CreateOptions], CreateOptions]) -> None:
    """Replace how `server` builds every `initialize` result by `wrap` of the SDK's own builder."""
    # No public MCPServer hook adds to `capabilities.experimental`; every transport builds the
    # initialize result with this method of the low-level server.
    lowlevel = server._lowlevel_server
    lowlevel.create_initialization_options = wrap(lowlevel.create_initialization_options)  # type: ignore[method-assign]


async def run_on_streams(server: MCPServer, read_stream: Any, write_stream: Any) -> None:
    """Serve one connection of `server` on the given streams until the read side closes."""
    # MCPServer.run_stdio_async does exactly this, but opens its own stdio streams; stdio.py needs
    # to pass streams of its own (guarded stdin, a private duplicate of stdout).
    lowlevel = server._lowlevel_server
    await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())


def connection_of(session: Any) -> Any:
    """The connection behind `ctx.session`, which lives as long as the client does."""
    # `ctx.session` is a per-request proxy with no public accessor for its connection, which is
    # what subscriptions and per-client log levels are kept for (and which can send notifications
    # on its own). Anything without one is taken as the connection itself.
    return getattr(session, "_connection", session)
