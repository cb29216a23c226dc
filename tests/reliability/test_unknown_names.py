"""Issue 4, item 3 (names half): a tool, prompt or resource that does not exist, on both wires.

Agents mistype names. A missing tool is a tool error naming it (design: user-fixable errors are
tool errors); a missing prompt or resource is the JSON-RPC error -32602 Invalid params (the MCP
spec; SEP-2164 for resources), never an internal error, and the session goes on.
"""

from __future__ import annotations

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from tests.support.results import text_of

from aural_mcp.server.app import build_server
from aural_mcp.settings import Settings

INVALID_PARAMS = -32602
WIRES = ["legacy", "2026-07-28"]


@pytest.fixture(scope="module")
def server():
    return build_server(Settings.from_env(env={}, sandbox=True, rate_limit=1_000_000, rate_window=1.0))


@pytest.mark.anyio
@pytest.mark.parametrize("mode", WIRES)
async def test_unknown_tool_is_a_tool_error_naming_it(server, mode: str) -> None:
    async with Client(server, mode=mode) as client:
        result = await client.call_tool("create_intreview", {"title": "typo"})
        assert result.is_error
        assert "create_intreview" in text_of(result)
        assert not (await client.call_tool("get_usage", {})).is_error


@pytest.mark.anyio
@pytest.mark.parametrize("mode", WIRES)
async def test_unknown_resource_is_invalid_params(server, mode: str) -> None:
    async with Client(server, mode=mode) as client:
        with pytest.raises(MCPError) as caught:
            await client.read_resource("aural://docs/nope.txt")
        assert caught.value.error.code == INVALID_PARAMS, caught.value.error
        assert (await client.list_resources()).resources


@pytest.mark.anyio
@pytest.mark.parametrize("mode", WIRES)
async def test_unknown_prompt_is_invalid_params(server, mode: str) -> None:
    async with Client(server, mode=mode) as client:
        with pytest.raises(MCPError) as caught:
            await client.get_prompt("design_intreview")
        error = caught.value.error
        assert error.code == INVALID_PARAMS, f"unknown prompt answered {error.code} {error.message!r}"
        assert "design_intreview" in error.message
        assert (await client.list_prompts()).prompts
