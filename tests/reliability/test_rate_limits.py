"""Issue 4, item 1: rate limits.

The sandbox allows 10 requests per 1-second fixed window (the API's 60-per-minute limiter, scaled down).
The MCP server is built with the matching client pacing (10 per 1 s). A burst of three windows'
worth of tool calls, all sent at once through a real MCP client, must all succeed with no
error reaching the agent, and the sandbox must have had to send (almost) no 429: the client's
own pacing, not the server's refusals, is what keeps the key under its limit.
"""

from __future__ import annotations

import time
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client

from aural_mcp.sandbox import Sandbox

from .inprocess import server_for
from .results import record

LIMIT = 10
WINDOW = 1.0
BURST = 3 * LIMIT  # three windows' worth
MAX_429 = 3


@pytest.mark.anyio
async def test_burst_of_three_windows_all_succeed_with_few_429s() -> None:
    sandbox = Sandbox(rate_limit=LIMIT, rate_window=WINDOW)
    try:
        server = server_for(sandbox, rate_limit=LIMIT, rate_window=WINDOW)
        async with Client(server, mode="legacy", read_timeout_seconds=60) as client:
            # Setup (create one interview to read and write) is part of the measured run too.
            created = await client.call_tool("create_interview", {"title": "rate limit burst"})
            assert not created.is_error, created
            interview_id = created.structured_content["data"]["id"]  # type: ignore[index]

            calls: list[tuple[str, dict[str, Any]]] = []
            for i in range(BURST):
                kind = i % 5
                if kind == 0:
                    calls.append(("list_interviews", {"limit": 5}))
                elif kind == 1:
                    calls.append(("get_interview", {"interviewId": interview_id}))
                elif kind == 2:
                    calls.append(
                        ("add_questions", {"interviewId": interview_id, "questions": [{"text": f"Q{i}?"}]})
                    )
                elif kind == 3:
                    calls.append(("list_questions", {"interviewId": interview_id}))
                else:
                    calls.append(
                        ("update_interview", {"interviewId": interview_id, "description": f"burst {i}"})
                    )

            results: list[types.CallToolResult | None] = [None] * BURST

            async def one(i: int, name: str, args: dict[str, Any]) -> None:
                results[i] = await client.call_tool(name, args)

            started = time.monotonic()
            with anyio.fail_after(60):
                async with anyio.create_task_group() as tg:
                    for i, (name, args) in enumerate(calls):
                        tg.start_soon(one, i, name, args)
            elapsed = time.monotonic() - started

        errors = [(calls[i][0], r) for i, r in enumerate(results) if r is None or r.is_error]
        assert not errors, f"{len(errors)} calls surfaced an error to the agent: {errors[:3]}"
        stats = sandbox.stats
        sent_429 = stats["rate_limited"]
        figures = {
            "limit": f"{LIMIT}/{WINDOW:g}s",
            "tool_calls": BURST + 1,
            "api_requests": stats["api_requests"],
            "rate_limited_429": sent_429,
            "by_status": stats["by_status"],
            "burst_seconds": round(elapsed, 2),
        }
        record("rate-limits", figures)
        print(f"rate limits: {figures}")
        assert sent_429 <= MAX_429, (
            f"the sandbox had to send {sent_429} 429s (pacing should keep it near zero)"
        )
        # Pacing, not luck: three windows' worth cannot finish inside two windows.
        assert elapsed >= (BURST + 1) / LIMIT * WINDOW - 2 * WINDOW, elapsed
    finally:
        sandbox.close()
