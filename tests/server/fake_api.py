"""A fake Aural API on loopback that answers canned envelopes, and the MCP server pointed at it.

For rows and text the sandbox never produces: dashboard-made questions, hostile names, huge
fields. Real HTTP (uvicorn on 127.0.0.1, a free port) between the server's SDK and the fake.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from mcp.client import Client
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from tests.support.servers import LiveServer

from aural_mcp.server.app import build_server
from aural_mcp.settings import Settings

KEY = "dlv_" + "f4k3ap1k3y0123456789abcdefghijkl"


class FakeApi:
    """`answers[(method, path)]` is the JSON body (with its status and headers) returned for that
    request; paths under /api/v1."""

    def __init__(self) -> None:
        self.answers: dict[tuple[str, str], tuple[Any, int, dict[str, str]]] = {}
        self.origin = ""

    def answer(
        self, method: str, path: str, body: Any, *, status: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        self.answers[(method, path)] = (body, status, headers or {})

    async def _handle(self, request: Request) -> JSONResponse:
        path = request.url.path.removeprefix("/api/v1")
        answer = self.answers.get((request.method, path))
        if answer is None:
            return JSONResponse({"error": {"code": "NOT_FOUND", "message": "Not found"}}, status_code=404)
        body, status, headers = answer
        return JSONResponse(body, status_code=status, headers=headers)

    def app(self) -> Starlette:
        methods = ["GET", "POST", "PATCH", "DELETE"]
        return Starlette(routes=[Route("/{path:path}", self._handle, methods=methods)])


@contextmanager
def fake_api() -> Iterator[FakeApi]:
    api = FakeApi()
    with LiveServer(api.app(), log_level="warning") as live:
        api.origin = live.url
        yield api


@asynccontextmanager
async def client_of(api: FakeApi, **overrides: Any) -> AsyncIterator[Client]:
    """A real MCP client of the real server, whose SDK talks HTTP to the fake API."""
    settings = Settings(api_key=KEY, base_url=api.origin + "/api/v1", rate_limit=100_000, timeout=10)
    for name, value in overrides.items():
        setattr(settings, name, value)
    async with Client(build_server(settings)) as client:
        yield client
