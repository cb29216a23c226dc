"""`logging/setLevel` is per client: it changes what THAT client receives as notifications/message,
never another client's, never the server's stderr level. Two real clients on one real Streamable
HTTP server, and a real stdio server."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aural_e2e import KEY, serve_http
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from tests.support.processes import AURAL_MCP, env_without_aural

pytestmark = [
    pytest.mark.anyio,
    # logging/setLevel is the 2025 protocols' logging; the SDK warns that it is legacy
    pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning"),
]

TOKEN = "client-logging-token-0123456789abcdef"
API_DEBUG_LINE = "GET /api/v1/usage -> 200"  # what the SDK logs at DEBUG for each API call


class Received:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def __call__(self, params: Any) -> None:
        self.messages.append(params)

    def text(self) -> str:
        return "\n".join(f"{m.level} {m.logger} {m.data}" for m in self.messages)


@contextlib.asynccontextmanager
async def http_client(url: str, received: Received, **options: Any) -> AsyncIterator[Client]:
    """A legacy (2025 handshake) client, where logging/setLevel exists, unless `options` say otherwise."""
    options.setdefault("mode", "legacy")
    async with (
        create_mcp_http_client(headers={"Authorization": f"Bearer {TOKEN}"}) as http,
        Client(streamable_http_client(url, http_client=http), logging_callback=received, **options) as client,
    ):
        yield client


async def test_set_level_changes_only_that_clients_notifications() -> None:
    with serve_http("http", env=env_without_aural(AURAL_MCP_TOKEN=TOKEN)) as server:
        chatty, quiet, silent, modern = Received(), Received(), Received(), Received()
        async with (
            http_client(server.url, chatty) as a,
            http_client(server.url, quiet) as b,
            http_client(server.url, silent) as c,
            # 2026-07-28 has no setLevel: each request opts in with a level in its _meta
            http_client(server.url, modern, mode="auto", log_level="debug") as d,
        ):
            await a.set_logging_level("debug")
            await b.set_logging_level("error")
            for client in (a, b, c, d, a, b, c):
                assert not (await client.call_tool("get_usage", {})).is_error
            failed = await b.call_tool("get_interview", {"interviewId": "00000000-0000-4000-8000-000000000000"})
            assert failed.is_error
        assert chatty.text().count(API_DEBUG_LINE) == 2, chatty.text()  # its own two calls, no one else's
        assert all(m.level == "debug" and m.logger.startswith("aural_mcp") for m in chatty.messages)
        assert quiet.messages == [], quiet.text()  # only errors asked for; nothing logged at error
        assert silent.messages == [], silent.text()  # never asked: nothing
        assert modern.text().count(API_DEBUG_LINE) == 1, modern.text()
        assert not KEY.search(chatty.text()) and TOKEN not in chatty.text()
        stderr = server.stderr()
    assert API_DEBUG_LINE not in stderr and " DEBUG " not in stderr, stderr  # stderr stays at WARNING


async def test_set_level_over_stdio_leaves_stderr_at_the_log_level(tmp_path: Path) -> None:
    received = Received()
    params = StdioServerParameters(
        command=AURAL_MCP[0], args=[*AURAL_MCP[1:], "serve", "--sandbox"], env=env_without_aural()
    )
    with open(tmp_path / "stderr.txt", "w") as errlog:
        async with Client(stdio_client(params, errlog=errlog), logging_callback=received, mode="legacy") as client:
            assert not (await client.call_tool("get_usage", {})).is_error
            assert received.messages == []  # nothing before the client asks
            await client.set_logging_level("debug")
            assert not (await client.call_tool("get_usage", {})).is_error
            await client.set_logging_level("warning")
            assert not (await client.call_tool("get_usage", {})).is_error
    assert received.text().count(API_DEBUG_LINE) == 1, received.text()
    assert not KEY.search(received.text())
    stderr = (tmp_path / "stderr.txt").read_text()
    assert API_DEBUG_LINE not in stderr and " DEBUG " not in stderr, stderr
