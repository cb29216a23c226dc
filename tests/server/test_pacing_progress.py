"""A tool call that the key's pacing holds sends progress notifications while it waits, over a
real Streamable HTTP connection to the server on a loopback socket, with a tiny rate limit
(2 requests per 3 s): only when the client asked for progress, and only for calls that wait."""

from __future__ import annotations

import re
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from tests.server.http_inprocess import serve_in_process

from aural_mcp.settings import Settings

pytestmark = pytest.mark.anyio

TOKEN = "pacing-progress-token-0123456789abcdef0123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
WAITING = re.compile(r"waiting (\d+) s for the rate limit \(2 requests per 3 s\)")


def settings() -> Settings:
    return Settings(sandbox=True, transport="http", auth_token=TOKEN, rate_limit=2, rate_window=3.0)


async def test_the_call_pacing_holds_reports_its_wait_and_the_others_send_no_progress() -> None:
    on_the_wire: list[Any] = []  # every progress notification the client received

    async def on_message(message: Any) -> None:
        if "progress" in type(getattr(message, "root", message)).__name__.lower():
            on_the_wire.append(getattr(message, "root", message))

    with serve_in_process(settings()) as running:
        with anyio.fail_after(60):
            async with (
                create_mcp_http_client(headers=AUTH) as http,
                Client(
                    streamable_http_client(running.url, http_client=http), message_handler=on_message
                ) as client,
            ):
                calls: list[list[tuple[float, float | None, str | None]]] = []

                async def usage(*, ask: bool) -> tuple[Any, float]:
                    seen: list[tuple[float, float | None, str | None]] = []
                    calls.append(seen)

                    async def on_progress(done: float, total: float | None, message: str | None) -> None:
                        seen.append((done, total, message))

                    started = anyio.current_time()
                    result = await client.call_tool(
                        "get_usage", {}, progress_callback=on_progress if ask else None
                    )
                    assert not result.is_error, result.content
                    return result, anyio.current_time() - started

                await usage(ask=True)
                await usage(ask=True)  # the two requests the window allows: no wait
                _, waited = await usage(ask=True)  # held until the first answer is 3 s old
                # The second answer came about one call's latency after the first, so this one
                # waits well under a second: too short to report.
                _, waited_briefly = await usage(ask=True)
                _, waited_unasked = await usage(ask=False)  # held for seconds, but no token was sent

    first, second, third, brief, fifth = calls
    assert first == [] and second == []  # calls that do not wait send none
    assert waited > 1.0 and waited_unasked > 1.0
    assert waited_briefly < 1.0 and brief == []
    assert len(third) >= 2, third  # one at the start of the wait, then about every second
    for done, total, message in third:
        assert message is not None and WAITING.fullmatch(message), message
        assert total is not None and 1 <= total <= 3 and 0 <= done <= total
    assert [d for d, _, _ in third] == sorted(d for d, _, _ in third)
    seconds = [int(WAITING.fullmatch(m or "").group(1)) for _, _, m in third]  # type: ignore[union-attr]
    assert seconds == sorted(seconds, reverse=True)  # counting down
    # Without a token: none. Every notification that arrived is one of the third call's, by its token.
    assert fifth == []
    assert len(on_the_wire) == len(third) and len({n.params.progress_token for n in on_the_wire}) == 1


async def test_a_job_tool_reports_the_pacing_waits_of_all_its_requests_as_one_rising_count() -> None:
    with serve_in_process(settings()) as running:
        sandbox = running.server.runtime.open_sandbox()  # type: ignore[attr-defined]
        with anyio.fail_after(60):
            async with (
                create_mcp_http_client(headers=AUTH) as http,
                Client(streamable_http_client(running.url, http_client=http)) as client,
            ):
                created = await client.call_tool("create_interview", {"title": "Paced review"})
                iid = created.structured_content["data"]["id"]  # type: ignore[index]
                row = sandbox.store.get("interviews", iid)  # open to anyone, without the publish request
                sandbox.store.save_interview({**row, "requireInvite": False})
                for seed in (1, 2, 3):
                    sandbox.simulate_session(iid, seed=seed, status="COMPLETED")
                seen: list[tuple[float, float | None, str | None]] = []

                async def on_progress(done: float, total: float | None, message: str | None) -> None:
                    seen.append((done, total, message))

                # One list and three reads at 2 requests per 3 s: the call waits twice.
                result = await client.call_tool("compare_sessions", {"interviewId": iid}, progress_callback=on_progress)
                assert not result.is_error, result.content
    assert len(seen) >= 2, seen
    assert all(m is not None and WAITING.fullmatch(m) for _, _, m in seen), seen
    assert [d for d, _, _ in seen] == sorted(d for d, _, _ in seen)  # one count for the whole call


async def test_list_interviews_paging_reports_its_pacing_wait_too() -> None:
    with serve_in_process(settings()) as running:
        with anyio.fail_after(60):
            async with (
                create_mcp_http_client(headers=AUTH) as http,
                Client(streamable_http_client(running.url, http_client=http)) as client,
            ):
                seen: list[str | None] = []

                async def on_progress(done: float, total: float | None, message: str | None) -> None:
                    seen.append(message)

                for _ in range(2):  # the two requests the window allows
                    assert not (await client.call_tool("list_interviews", {})).is_error
                result = await client.call_tool("list_interviews", {}, progress_callback=on_progress)
                assert not result.is_error, result.content
    assert seen and all(m is not None and WAITING.fullmatch(m) for m in seen), seen
