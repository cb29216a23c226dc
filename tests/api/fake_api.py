"""A hostile fake Aural API for SDK tests: a Starlette app served by uvicorn on 127.0.0.1.

Each test sets `FakeAPI.answer`, a function of the request that returns a Starlette response
(or a JSON-able value, sent as a 200 JSON body). Every request is recorded. Slow and endless
answers (`trickle`, `endless`) stop when the client goes away, so the server always shuts down.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from tests.support.servers import LiveServer

from aural_mcp.api import AuralClient

Answer = Callable[[Request], Any]


@dataclass
class Seen:
    method: str
    path: str
    body: bytes


@dataclass
class FakeAPI:
    origin: str = ""
    answer: Answer = field(default=lambda request: {"data": {}})
    seen: list[Seen] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return self.origin + "/api/v1"

    def count(self, path_suffix: str = "") -> int:
        return sum(1 for s in self.seen if s.path.endswith(path_suffix))

    async def handle(self, request: Request) -> Response:
        self.seen.append(Seen(request.method, request.url.path, await request.body()))
        result = self.answer(request)
        if asyncio.iscoroutine(result):
            result = await result
        if isinstance(result, Response):
            return result
        return Response(json.dumps(result), 200, media_type="application/json")


def raw(body: str | bytes, status: int = 200, content_type: str = "application/json") -> Response:
    return Response(body, status, media_type=content_type)


def trickle(every: float = 0.5, status: int = 200) -> Response:
    """A 200 whose body arrives one byte every `every` seconds, forever."""

    async def drip() -> AsyncIterator[bytes]:
        yield b"{"
        while True:
            await asyncio.sleep(every)
            yield b" "

    return StreamingResponse(drip(), status, media_type="application/json")


def endless(chunk: int = 64 * 1024) -> Response:
    """A 200 streaming `chunk`-byte pieces of a JSON string without end and without a length."""

    async def flood() -> AsyncIterator[bytes]:
        yield b'{"data": {"id": "x", "title": "'
        piece = b"a" * chunk
        while True:
            yield piece
            await asyncio.sleep(0)

    return StreamingResponse(flood(), 200, media_type="application/json")


@contextmanager
def fake_api() -> Iterator[FakeAPI]:
    """Serve a FakeAPI on 127.0.0.1 and a free port (in a thread) until the block ends."""
    api = FakeAPI()
    app = Starlette(routes=[Route("/{path:path}", api.handle, methods=["GET", "POST", "PATCH", "DELETE"])])
    with LiveServer(app, log_level="warning") as live:
        api.origin = live.url
        yield api


def quick_client(api: FakeAPI, key: str, **kw: Any) -> AuralClient:
    """An SDK client of `api` whose retries back off in milliseconds, so tests wait for nothing."""
    kw.setdefault("backoff_base", 0.01)
    kw.setdefault("max_backoff", 0.02)
    kw.setdefault("timeout", 10)
    return AuralClient(key, base_url=api.base_url, **kw)
