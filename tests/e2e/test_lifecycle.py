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
    [("sse", []), ("http", []), ("http", ["--stateless"]), ("http", ["--stateless", "--json-response"])],
    ids=["sse", "http", "http-stateless", "http-stateless-json"],
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


async def test_json_response_mode_answers_with_one_json_body() -> None:
    env = env_without_aural(AURAL_MCP_TOKEN=TOKEN)
    with serve_http("http", "--stateless", "--json-response", env=env) as server:
        async with create_mcp_http_client(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
            answer = await http.post(server.url, headers={"Accept": "application/json, text/event-stream"}, json={
                "jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})  # fmt: skip
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/json")
    assert answer.json()["result"]["serverInfo"]["name"] == "aural-mcp"
    assert "(stateless) (JSON)" in server.stderr()
