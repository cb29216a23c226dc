"""The interview lifecycle through a real MCP client over every transport, against `serve --sandbox`."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aural_e2e import run_lifecycle, serve_http
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from tests.support.processes import AURAL_MCP, env_without_aural

pytestmark = pytest.mark.anyio

TOKEN = "e2e-token-0123456789abcdef"


@contextlib.asynccontextmanager
async def connect(url: str, transport: str, token: str | None = None) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {token}"} if token else None
    if transport == "sse":
        async with Client(sse_client(url, headers=headers, timeout=10)) as client:
            yield client
    else:
        async with (
            create_mcp_http_client(headers=headers) as http,
            Client(streamable_http_client(url, http_client=http)) as client,
        ):
            yield client


async def test_lifecycle_over_stdio(tmp_path: Any) -> None:
    params = StdioServerParameters(
        command=AURAL_MCP[0], args=[*AURAL_MCP[1:], "serve", "--sandbox"], env=env_without_aural()
    )
    with open(tmp_path / "stderr.txt", "w") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            out = await run_lifecycle(client)
    assert len(out["sessionIds"]) == 2
    assert "Traceback" not in (tmp_path / "stderr.txt").read_text()


@pytest.mark.parametrize(
    ("transport", "flags"),
    [("sse", []), ("http", []), ("http", ["--stateless"])],
    ids=["sse", "http", "http-stateless"],
)
async def test_lifecycle_over_http(transport: str, flags: list[str]) -> None:
    env = env_without_aural(AURAL_MCP_TOKEN=TOKEN)
    with serve_http(transport, *flags, env=env) as server:
        async with connect(server.url, transport, TOKEN) as client:
            out = await run_lifecycle(client)
        assert len(out["sessionIds"]) == 2
        # a second connection sees the same sandbox (one runtime per server)
        async with connect(server.url, transport, TOKEN) as client:
            listed = await client.call_tool("list_sessions", {"interviewId": out["interviewId"]})
            assert not listed.is_error
            assert out["sessionIds"][0] in "".join(getattr(b, "text", "") for b in listed.content)
    assert "Traceback" not in server.stderr()
