"""`wait_for_sessions` through a real MCP client against the server's in-process sandbox: what it
waits for, what it returns, its cursor, its errors, and that a cancelled wait stops at once.

Sessions are made "outside the server": through the sandbox itself (its Python twin of the
simulate route) or another API client, never through this client's own tool calls.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from mcp.client import Client
from tests.server.conftest import MISSING, call, setup_interview, text
from tests.support.polling import wait_until_async

from aural_mcp.server.app import build_server
from aural_mcp.settings import Settings

pytestmark = pytest.mark.anyio

FAST = {"sandbox": True, "rate_limit": 600}  # pacing is tested elsewhere; 20% of 600 leaves room for polls


def _server(**settings: Any) -> Any:
    return build_server(Settings(**{**FAST, **settings}))


async def wait(client: Client, args: dict[str, Any], progress: list[Any] | None = None) -> Any:
    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        if progress is not None:
            progress.append((done, total, message))

    return await client.call_tool("wait_for_sessions", args, progress_callback=on_progress)


async def after(seconds: float, action: Any) -> None:
    await anyio.sleep(seconds)
    action()


async def test_a_wait_returns_with_the_session_that_completed_meanwhile_then_times_out_from_its_cursor():
    server = _server()
    async with Client(server) as client:
        iid = (await setup_interview(client))["interviewId"]
        sandbox = server.runtime.sandbox
        progress: list[Any] = []
        made: list[str] = []
        with anyio.fail_after(60):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(after, 1.0, lambda: made.append(
                    sandbox.simulate_session(iid, participantName="Ada <b>#1</b>", participantEmail="ada@example.com", seed=1)["id"]))  # fmt: skip
                result = await wait(client, {"interviewId": iid, "timeoutSeconds": 30}, progress)
        assert not result.is_error, text(result)
        got = result.structured_content
        assert got["met"] is True and [s["sessionId"] for s in got["sessions"]] == made
        assert got["sessions"][0]["status"] == "COMPLETED" and got["sessions"][0]["participantEmail"] == "ada@example.com"
        assert got["next"] == {"tool": "compare_sessions", "arguments": {"interviewId": iid}}
        # Its other events: the session started and was analysed (the sandbox analyses at once).
        assert {e["type"] for e in got["otherEvents"]} == {"session.started", "session.analyzed"}
        body = text(result)
        assert made[0] in body and f"compare_sessions with interviewId `{iid}`" in body
        marker = body.split("Text inside ")[1].split(">")[0] + ">"  # <untrusted-NONCE>
        assert f"{marker}Ada <b>#1</b> ada@example.com</untrusted-" in body  # the name is marked as untrusted
        assert progress and all(total == 30 for _, total, _ in progress)
        assert progress[0][2] == "0 of 1 COMPLETED so far"  # the first look: a silent baseline
        assert [p for p, _, _ in progress] == sorted(p for p, _, _ in progress)

        # From its cursor nothing more happens: a short wait times out, says so, and gives a cursor.
        later = await wait(client, {"interviewId": iid, "since": got["since"], "timeoutSeconds": 2})
        assert not later.is_error, text(later)
        again = later.structured_content
        assert again["met"] is False and again["sessions"] == [] and again["since"] == got["since"]
        assert again["waitedSeconds"] == pytest.approx(2, abs=0.5)
        assert text(later).startswith("# Timed out after 2 s waiting for 1 COMPLETED session")
        assert again["next"]["tool"] == "wait_for_sessions" and again["next"]["arguments"]["since"] == got["since"]


async def test_count_waits_for_that_many_distinct_sessions_and_each_status_counts_its_own():
    server = _server()
    async with Client(server) as client:
        iid = (await setup_interview(client))["interviewId"]
        sandbox = server.runtime.sandbox
        start = (await wait(client, {"interviewId": iid, "timeoutSeconds": 1})).structured_content["since"]
        first = sandbox.simulate_session(iid, seed=1)["id"]
        progress: list[Any] = []
        with anyio.fail_after(60):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(after, 3.0, lambda: sandbox.simulate_session(iid, seed=2))
                result = await wait(client, {"interviewId": iid, "count": 2, "since": start, "timeoutSeconds": 30}, progress)
        got = result.structured_content
        assert got["met"] is True and len(got["sessions"]) == 2 and got["sessions"][0]["sessionId"] == first
        assert any(message.startswith("1 of 2 COMPLETED") for _, _, message in progress)  # it went on after one

        # From the same cursor, each status: one session abandoned, one still running.
        abandoned = sandbox.simulate_session(iid, seed=3, status="ABANDONED")["id"]
        running = sandbox.simulate_session(iid, seed=4, status="IN_PROGRESS")["id"]
        since = got["since"]

        async def sessions(status: str, count: int = 1) -> list[str]:
            r = await wait(client, {"interviewId": iid, "status": status, "count": count, "since": since, "timeoutSeconds": 5})
            assert not r.is_error and r.structured_content["met"], text(r)
            return sorted(s["sessionId"] for s in r.structured_content["sessions"])

        assert await sessions("ABANDONED") == [abandoned]
        assert await sessions("IN_PROGRESS", 2) == sorted([abandoned, running])  # IN_PROGRESS: those that started
        assert await sessions("ANY", 2) == sorted([abandoned, running])
        r = await wait(client, {"interviewId": iid, "status": "ANALYZED", "since": since, "timeoutSeconds": 2})
        assert r.structured_content["met"] is False  # neither was analysed
        assert r.structured_content["openSessions"] == 1  # the running one
        r = await wait(client, {"interviewId": iid, "status": "ANALYZED", "since": start, "timeoutSeconds": 2})
        assert len(r.structured_content["sessions"]) == 2  # the two completed ones were
        assert r.structured_content["next"] == {"tool": "compare_sessions", "arguments": {"interviewId": iid}}
        r = await wait(client, {"interviewId": iid, "status": "ABANDONED", "since": since, "timeoutSeconds": 2})
        assert r.structured_content["next"] == {"tool": "get_transcript", "arguments": {"sessionId": abandoned}}


async def test_bad_arguments_foreign_cursors_and_unknown_interviews_are_clear_errors():
    async with Client(_server()) as client, Client(_server()) as other:
        iid = (await setup_interview(client))["interviewId"]
        bad = await wait(client, {"interviewId": "nope", "status": "DONE", "count": 0, "timeoutSeconds": 301, "extra": 1})
        assert bad.is_error
        body = text(bad)
        for field in ("`interviewId` must be a UUID", "`status` must be one of COMPLETED, ABANDONED, IN_PROGRESS, ANALYZED, ANY",
                      "`count` must be at least 1", "`timeoutSeconds` must be at most 300", "unknown argument `extra`"):  # fmt: skip
            assert field in body, body

        oid = (await setup_interview(other))["interviewId"]
        foreign = (await wait(other, {"interviewId": oid, "timeoutSeconds": 1})).structured_content["since"]
        for cursor, says in ((foreign, "comes from another watcher state"), ("12345", "is not a cursor this server gave")):
            r = await wait(client, {"interviewId": iid, "since": cursor, "timeoutSeconds": 1})
            assert r.is_error and text(r).startswith("Invalid arguments for `wait_for_sessions`:\n- `since` " + says), text(r)

        # An interview that does not exist, or that this key cannot see: the tools' own 404 wording, at once.
        with anyio.fail_after(10):
            r = await wait(client, {"interviewId": MISSING, "timeoutSeconds": 300})
        assert r.is_error and text(r) == text(await client.call_tool("list_sessions", {"interviewId": MISSING}))
        with anyio.fail_after(10):
            r = await wait(client, {"interviewId": oid, "timeoutSeconds": 300})
        assert r.is_error and "`list_interviews` shows the ids" in text(r)


async def test_a_cancelled_wait_stops_at_once_and_the_interview_is_no_longer_watched():
    server = _server()
    async with Client(server, mode="legacy") as client:  # notifications/cancelled over JSON-RPC
        iid = (await setup_interview(client))["interviewId"]
        watching = server.runtime.watching
        with anyio.fail_after(20):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(wait, client, {"interviewId": iid, "timeoutSeconds": 300})
                assert await wait_until_async(lambda: watching.watcher is not None and iid in watching.watcher.interview_ids, timeout=5)
                await anyio.sleep(0.5)
                tasks.cancel_scope.cancel()
            # The server ended the call: nobody waits on the interview any more.
            assert await wait_until_async(lambda: iid not in watching.watcher.interview_ids, timeout=3)
        assert not (await call(client, "get_interview", {"interviewId": iid})).is_error  # the connection goes on


async def test_a_server_that_never_waits_opens_no_state_file_and_sends_no_watcher_request(tmp_path):
    state = tmp_path / "watch.sqlite3"
    server = _server(watch_state=str(state))
    async with Client(server) as client:
        iid = (await setup_interview(client))["interviewId"]
        await call(client, "simulate_session", {"interviewId": iid})
        await call(client, "compare_sessions", {"interviewId": iid})
        await anyio.sleep(0.5)
        assert server.runtime.watching.watcher is None and not state.exists()
        r = await wait(client, {"interviewId": iid, "timeoutSeconds": 1})
        assert not r.is_error and state.exists()  # the first wait opens it, where --state says


async def test_a_wait_and_the_watcher_loop_never_poll_the_same_interview_twice_in_a_row():
    server = _server()
    async with Client(server) as client:
        iid = (await setup_interview(client))["interviewId"]
        r = await wait(client, {"interviewId": iid, "timeoutSeconds": 5})
        assert not r.is_error
        # The wait hurries the loop and polls itself every 2 s: passes at about 0, 2 and 4 s, the
        # first reading candidates and sessions, the quiet ones sessions only. The loop's own
        # hurried pass found a fresh one and sent nothing.
        assert server.runtime.watching.watcher.detector.requests <= 2 + 1 + 1
