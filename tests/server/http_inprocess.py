"""`serve --transport sse|http` in process: the real app, guard and connection limits on a real
loopback socket (uvicorn in a thread), so tests can look at the server's state while it runs."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tests.support.servers import LiveServer

from aural_mcp.server.app import build_server
from aural_mcp.server.http import HTTP_PATH, SSE_PATH, _bind, build_http_app
from aural_mcp.server.http_connections import connection_protocol
from aural_mcp.settings import Settings


@dataclass
class Running:
    server: Any  # the MCPServer; `.runtime` and `._lowlevel_server` for inspection
    port: int
    path: str

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return self.base + self.path

    def open_sessions(self) -> int:
        """Streamable HTTP sessions the SDK's session manager holds right now."""
        return len(self.server._lowlevel_server.session_manager._server_instances)


@contextlib.contextmanager
def serve_in_process(settings: Settings) -> Iterator[Running]:
    sock = _bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = build_server(settings)
    with LiveServer(
        build_http_app(server, settings, port),
        sock=sock,
        http=connection_protocol(settings.header_timeout, settings.max_connections),
        log_config=None,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=3,
        stop_timeout=15,
    ):
        yield Running(server, port, SSE_PATH if settings.transport == "sse" else HTTP_PATH)
