"""`serve --transport sse|http` in process: the real app, guard and connection limits on a real
loopback socket (uvicorn in a thread), so tests can look at the server's state while it runs."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import uvicorn

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
    app = build_http_app(server, settings, port)
    config = uvicorn.Config(
        app,
        http=connection_protocol(settings.header_timeout, settings.max_connections),
        log_config=None,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=3,
    )
    runner = uvicorn.Server(config)
    thread = threading.Thread(target=runner.run, kwargs={"sockets": [sock]}, name="mcp-http", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not runner.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the in-process server did not start")
            time.sleep(0.01)
        yield Running(server, port, SSE_PATH if settings.transport == "sse" else HTTP_PATH)
    finally:
        runner.should_exit = True
        thread.join(15)
        sock.close()
