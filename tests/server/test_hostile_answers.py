"""Hostile answers from the API reach the agent as errors that say what to do, over real HTTP
to a fake API on loopback and a real MCP client: an absurd Retry-After, an answer larger than
the server reads."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.server.conftest import text
from tests.server.fake_api import FakeApi, client_of, fake_api

pytestmark = pytest.mark.anyio

IID = "11111111-1111-4111-8111-111111111111"


@pytest.fixture
def api() -> Iterator[FakeApi]:
    with fake_api() as running:
        yield running


async def test_an_absurd_retry_after_is_a_wait_too_long_not_a_crash(api: FakeApi) -> None:
    limited = {"error": {"code": "RATE_LIMITED", "message": "Too many requests.", "retry_after": "9" * 400}}
    api.answer("GET", "/usage", limited, status=429, headers={"Retry-After": "1e308"})
    async with client_of(api) as mcp:
        result = await mcp.call_tool("get_usage", {})
    out = text(result)
    assert result.is_error and "far too long to honour" in out and "Nothing was changed" in out, out
    assert "9" * 50 not in out and len(out) < 600


async def test_an_answer_over_the_cap_names_the_setting_and_a_narrower_call(api: FakeApi) -> None:
    rows = [{"id": f"{i:08d}-1111-4111-8111-111111111111", "title": "t" * 2000} for i in range(40)]
    api.answer("GET", "/interviews", {"data": rows, "cursor": None})
    async with client_of(api, max_response_bytes=16 * 1024) as mcp:
        result = await mcp.call_tool("list_interviews", {"limit": 40})
    out = text(result)
    assert result.is_error and "AURAL_MAX_RESPONSE_BYTES" in out and "`limit`" in out, out
