"""What the `aural-mcp watch` tests share: a sandbox on a loopback port, a webhook receiver that
verifies every delivery with the independent `standardwebhooks` package, and the watch command."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
from standardwebhooks.webhooks import Webhook
from tests.support.processes import AURAL_MCP, env_without_aural
from tests.support.servers import LiveServer
from tests.watch.helpers import published_interview

from aural_mcp.api import AuralClient
from aural_mcp.webhooks import generate_secret


@dataclass
class Delivery:
    webhook_id: str
    payload: dict[str, Any]
    headers: dict[str, str]
    answered: int


@dataclass
class Receiver:
    """A webhook receiver on a loopback port. `answer(n)` decides the status of the n-th request
    (1, 2, ...); every request is verified first (a bad signature fails the test, with 400)."""

    secret: str
    answer: Callable[[int], int] = lambda n: 204
    requests: list[Delivery] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, body: bytes, headers: dict[str, str]) -> int:
        try:
            payload = Webhook(self.secret).verify(body, headers)
        except Exception as exc:  # the independent library's verdict: any failure is recorded
            with self._lock:
                self.rejected.append(f"{type(exc).__name__}: {exc}")
            return 400
        with self._lock:
            status = self.answer(len(self.requests) + 1)
            self.requests.append(Delivery(headers.get("webhook-id", ""), payload, headers, status))
        return status

    def acknowledged(self) -> list[Delivery]:
        """The requests answered 2xx, in arrival order."""
        with self._lock:
            return [d for d in self.requests if 200 <= d.answered < 300]

    def first_deliveries(self) -> dict[str, Delivery]:
        """The receiver's deduplicated view: each webhook-id's first acknowledged delivery, in order."""
        seen: dict[str, Delivery] = {}
        for d in self.acknowledged():
            seen.setdefault(d.webhook_id, d)
        return seen


@contextmanager
def receiving(receiver: Receiver, *, location: str | None = None) -> Iterator[Receiver]:
    """Serve `receiver` on 127.0.0.1 (a free port) for the block; with `location`, a 3xx answer
    carries that Location header."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            status = receiver.handle(body, {k.lower(): v for k, v in self.headers.items()})
            self.send_response(status)
            if location and 300 <= status < 400:
                self.send_header("location", location)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_port}/hooks/aural"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@dataclass
class SandboxWorld:
    sb: Any
    url: str  # the API base, .../api/v1
    root: str
    key: str

    def interview(self, title: str = "Watched interview") -> str:
        async def make() -> str:
            async with AuralClient(self.key, base_url=self.url) as client:
                return await published_interview(client, title)

        return anyio.run(make)

    def stats(self) -> dict[str, Any]:
        """The sandbox's own counters, read over HTTP (GET /sandbox/stats)."""
        import httpx2

        answer = httpx2.get(self.root + "/sandbox/stats", timeout=10, trust_env=False)
        answer.raise_for_status()
        data: dict[str, Any] = answer.json()
        return data


@contextmanager
def sandbox(rate_limit: int = 30, rate_window: float = 10.0) -> Iterator[SandboxWorld]:
    from aural_mcp.sandbox import Sandbox

    sb = Sandbox(":memory:", rate_limit=rate_limit, rate_window=rate_window)
    try:
        with LiveServer(sb.app) as live:
            yield SandboxWorld(sb, live.url + "/api/v1", live.url, sb.create_key())
    finally:
        sb.close()


def watch_env(world: SandboxWorld, secret: str | None = None, **extra: str) -> dict[str, str]:
    env = env_without_aural(
        AURAL_API_KEY=world.key,
        AURAL_BASE_URL=world.url,
        AURAL_RATE_LIMIT=f"{world.sb.limiter.limit}/{world.sb.limiter.window:g}",
        **extra,
    )
    if secret is not None:
        env["AURAL_WEBHOOK_SECRET"] = secret
    return env


def run_watch(args: list[str], env: dict[str, str], *, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """`aural-mcp watch ARGS` to its end (the real console script), output captured."""
    return subprocess.run(
        [*AURAL_MCP, "watch", *args], env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )


def new_secret() -> str:
    return generate_secret()


def wait_until(check: Callable[[], bool], timeout: float, what: str, poll: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(poll)
    raise AssertionError(f"not within {timeout} s: {what}")


def state_bytes(path: Path) -> bytes:
    """The state file with its WAL, as stored on disk."""
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def payload_types(deliveries: dict[str, Delivery]) -> list[tuple[str, str]]:
    return [(d.payload["type"], d.payload["data"].get("sessionId") or "") for d in deliveries.values()]


def compact(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
