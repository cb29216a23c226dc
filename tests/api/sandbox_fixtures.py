"""Run the sandbox for SDK tests: in-process (ASGITransport) or over real loopback HTTP (uvicorn)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx2
from tests.support.servers import LiveServer

from aural_mcp.api import AuralClient


@dataclass
class World:
    """A sandbox plus how to reach it; `client()` builds SDK clients for it."""

    sb: Any
    mode: str  # "asgi" | "http"
    base_url: str

    def client(self, key: str | None = None, **kw: Any) -> AuralClient:
        kw.setdefault("backoff_base", 0.02)
        kw.setdefault("max_backoff", 0.2)
        # pace like the sandbox limits (the client's own default is the hosted 60 per minute)
        kw.setdefault("rate_limit", self.sb.limiter.limit)
        kw.setdefault("rate_window", self.sb.limiter.window)
        transport = httpx2.ASGITransport(app=self.sb.app) if self.mode == "asgi" else None
        return AuralClient(key or self.sb.create_key(), base_url=self.base_url, transport=transport, **kw)


@contextmanager
def world(mode: str, **sandbox_kw: Any) -> Iterator[World]:
    from aural_mcp.sandbox import Sandbox

    sandbox_kw.setdefault("rate_limit", 100_000)
    sb = Sandbox(":memory:", **sandbox_kw)
    try:
        if mode == "asgi":
            yield World(sb, mode, "http://sandbox/api/v1")
        else:
            with LiveServer(sb.app, log_level="warning") as live:
                yield World(sb, mode, live.url + "/api/v1")
    finally:
        sb.close()
