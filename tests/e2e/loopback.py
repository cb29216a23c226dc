"""An ASGI app served by uvicorn in a thread on 127.0.0.1 (port 0), and a slow Aural API built on
the sandbox: the API a real server is pointed at when a test needs calls that take a while."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

import uvicorn

from aural_mcp.sandbox import Sandbox


class LoopbackServer:
    def __init__(self, app: Any) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_level="critical", access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> LoopbackServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self.server.started, "uvicorn did not start"
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


class SlowApi:
    """A sandbox whose writes (POST, PATCH, DELETE) each take `delay` seconds before they run."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.sandbox = Sandbox(":memory:", rate_limit=1000, rate_window=60)
        self.key = self.sandbox.create_key()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] in ("POST", "PATCH", "DELETE"):
            await asyncio.sleep(self.delay)
        await self.sandbox.app(scope, receive, send)
