"""A slow Aural API built on the sandbox: the API a real server is pointed at when a test needs
calls that take a while. Serve it with `tests.support.servers.LiveServer`."""

from __future__ import annotations

import asyncio
from typing import Any

from aural_mcp.sandbox import Sandbox


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
