"""Run the sandbox for SDK tests: in-process (ASGITransport) or over real loopback HTTP (uvicorn)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx2
import uvicorn

from aural_mcp.api import AuralClient


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on 127.0.0.1 and a free port, in a thread; yield its origin."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="off",
        access_log=False,
        timeout_graceful_shutdown=2,  # endless streaming answers must not hold the exit
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="test-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


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
            with serve(sb.app) as origin:
                yield World(sb, mode, origin + "/api/v1")
    finally:
        sb.close()
