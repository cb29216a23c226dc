"""An MCP server built exactly as `build_server` builds it, talking to a sandbox we own.

The sandbox is in-process (`httpx2.ASGITransport`), so a test controls its rate limit, its fault
injection and its database, and can read `sandbox.stats` afterwards. The MCP client is the SDK's
own, over its in-memory JSON-RPC transport.
"""

from __future__ import annotations

import httpx2
from mcp.server.mcpserver import MCPServer

from aural_mcp.sandbox import Sandbox
from aural_mcp.server.app import build_server
from aural_mcp.server.runtime import SANDBOX_BASE_URL
from aural_mcp.settings import Settings


def server_for(sandbox: Sandbox, *, rate_limit: int, rate_window: float) -> MCPServer:
    """`build_server(settings)` with a fresh key of `sandbox` and the given client pacing."""
    settings = Settings.from_env(
        env={},
        api_key=sandbox.create_key(),
        base_url=SANDBOX_BASE_URL,
        rate_limit=rate_limit,
        rate_window=rate_window,
        log_level="CRITICAL",
    )
    return build_server(settings, transport=httpx2.ASGITransport(app=sandbox.app))
