"""Raw Streamable HTTP requests shared by tests that speak to a server without an MCP client."""

from __future__ import annotations

from typing import Any

# A bare `initialize` request, as the first POST of a Streamable HTTP session.
INITIALIZE: dict[str, Any] = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    },
}
# What a Streamable HTTP client must send with every POST.
STREAMABLE_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
