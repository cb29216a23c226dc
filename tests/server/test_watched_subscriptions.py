"""`notifications/resources/updated` from the session watcher: a subscribed client hears of a
session that changed outside the server (through the sandbox itself or another API client),
without any tool call of its own; over resources/subscribe and over subscriptions/listen; and
with two connections to one HTTP server, one watcher loop that outlives the first connection.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from mcp.client import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.subscriptions import ResourceUpdated
from tests.server.conftest import sandbox_client, setup_interview
from tests.server.http_inprocess import serve_in_process
from tests.server.test_subscriptions import updates_collector
from tests.support.polling import wait_until_async

from aural_mcp.server.app import build_server
from aural_mcp.settings import Settings

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning"),
]
POLL = 0.5  # the watcher's interval in these tests (30 s by default)
WAIT = 30.0


def _settings(**more: Any) -> Settings:
    return Settings(sandbox=True, rate_limit=600, **more)


def _fast(server: Any) -> Any:
    server.runtime.watching.poll_seconds = POLL  # before the watcher opens
    return server


async def test_a_legacy_subscriber_hears_of_a_session_ended_by_another_api_client():
    updates, on_message = updates_collector()
    server = _fast(build_server(_settings()))
    async with Client(server, mode="legacy", message_handler=on_message) as client:
        iid = (await setup_interview(client))["interviewId"]
        sandbox = server.runtime.sandbox
        running = sandbox.simulate_session(iid, seed=1, status="IN_PROGRESS")["id"]
        await client.subscribe_resource(f"aural://sessions/{running}")
        watching = server.runtime.watching
        # The session's interview is read once (get_session) and watched; its first pass is a baseline.
        assert await wait_until_async(lambda: watching.state is not None and watching.state.knows(iid), timeout=WAIT)
        assert updates == []

        async with sandbox_client(sandbox, server.runtime.api_key) as other:  # not this server
            await other.call("end_sessions", {"interviewId": iid, "ids": [running], "dryRun": False})
        assert await wait_until_async(lambda: f"aural://sessions/{running}" in updates, timeout=WAIT)

        # A candidate added by another client: the interview's candidates resource is updated.
        invites = f"aural://interviews/{iid}/invites.csv"
        await client.subscribe_resource(invites)
        async with sandbox_client(sandbox, server.runtime.api_key) as other:
            await other.call("add_candidates", {"interviewId": iid, "candidates": [{"name": "Grace"}]})
        assert await wait_until_async(lambda: invites in updates, timeout=WAIT)

        # Unsubscribed: the interview is no longer watched, and nothing more is sent.
        await client.unsubscribe_resource(f"aural://sessions/{running}")
        await client.unsubscribe_resource(invites)
        assert await wait_until_async(lambda: iid not in watching.watcher.interview_ids, timeout=WAIT)


async def test_a_listen_stream_hears_of_a_new_session_and_of_nothing_it_did_not_ask_for():
    server = _fast(build_server(_settings()))
    async with Client(server) as client:  # 2026-07-28: subscriptions/listen
        iid = (await setup_interview(client))["interviewId"]
        other = (await setup_interview(client, title="Not listened to"))["interviewId"]
        sandbox = server.runtime.sandbox
        watching = server.runtime.watching
        uri = f"aural://interviews/{iid}"
        seen: list[str] = []
        with anyio.fail_after(WAIT):
            async with client.listen(resource_subscriptions=[uri]) as stream:
                assert await wait_until_async(lambda: watching.state is not None and watching.state.knows(iid), timeout=WAIT)
                assert watching.watcher.interview_ids == [iid]  # only what the stream asked for
                sandbox.simulate_session(other, seed=2)
                sid = sandbox.simulate_session(iid, seed=1)["id"]
                async for event in stream:
                    assert isinstance(event, ResourceUpdated)
                    seen.append(event.uri)
                    break
        assert seen == [uri]
        # The stream is closed: nobody needs the interview any more.
        assert await wait_until_async(lambda: watching.watcher.interview_ids == [], timeout=WAIT)
        assert watching.state.events_after(0)[-1].session_id == sid


@contextlib.asynccontextmanager
async def sse(url: str, on_message: Any) -> AsyncIterator[Client]:
    async with Client(sse_client(url, timeout=WAIT), message_handler=on_message, mode="legacy") as client:
        yield client


async def test_two_connections_share_one_loop_and_the_second_keeps_hearing_after_the_first_leaves():
    first_updates, on_first = updates_collector()
    second_updates, on_second = updates_collector()
    with serve_in_process(_settings(transport="sse")) as running:
        server = _fast(running.server)
        watching = server.runtime.watching
        subscribed, leave, gone = anyio.Event(), anyio.Event(), anyio.Event()
        ids: dict[str, str] = {}

        async def first_connection() -> None:
            # SSE runs the lifespan per connection: this first one's host takes the loop's lock.
            async with sse(running.url, on_first) as first:
                ids["interview"] = (await setup_interview(first))["interviewId"]
                await first.subscribe_resource(f"aural://interviews/{ids['interview']}")
                subscribed.set()
                await leave.wait()
            gone.set()

        with anyio.fail_after(WAIT * 2):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(first_connection)
                await subscribed.wait()
                iid, sandbox = ids["interview"], server.runtime.sandbox
                uri = f"aural://interviews/{iid}"
                async with sse(running.url, on_second) as second:
                    await second.subscribe_resource(uri)
                    assert await wait_until_async(lambda: watching.state is not None and watching.state.knows(iid), timeout=WAIT)
                    assert watching.loops == 1  # two connections, each with a host task: one loop
                    sandbox.simulate_session(iid, seed=1)
                    assert await wait_until_async(lambda: uri in first_updates and uri in second_updates, timeout=WAIT)

                    leave.set()  # the holder's connection ends; the second's host takes over
                    await gone.wait()
                    second_updates.clear()
                    sandbox.simulate_session(iid, seed=2)
                    assert await wait_until_async(lambda: uri in second_updates, timeout=WAIT)
                    assert watching.loops == 1


async def test_streamable_http_sessions_hear_of_changes_and_the_loop_parks_when_none_needs_it():
    updates, on_message = updates_collector()
    with serve_in_process(_settings(transport="http")) as running:
        server = _fast(running.server)
        watching = server.runtime.watching
        with anyio.fail_after(WAIT * 2):
            async with (
                create_mcp_http_client() as http,
                Client(streamable_http_client(running.url, http_client=http), message_handler=on_message, mode="legacy") as client,
            ):
                iid = (await setup_interview(client))["interviewId"]
                uri = f"aural://interviews/{iid}"
                await client.subscribe_resource(uri)
                assert await wait_until_async(lambda: watching.state is not None and watching.state.knows(iid), timeout=WAIT)
                server.runtime.sandbox.simulate_session(iid, seed=1)
                assert await wait_until_async(lambda: uri in updates, timeout=WAIT)
            # The client left: its subscription went with it, and the loop sends nothing more.
            assert await wait_until_async(lambda: watching.watcher.interview_ids == [], timeout=WAIT)
            before = watching.watcher.detector.requests
            await anyio.sleep(POLL * 4)
            assert watching.watcher.detector.requests == before


async def test_a_stateless_server_waits_within_a_request_and_watches_nothing_between_requests():
    with serve_in_process(_settings(transport="http", stateless=True)) as running:
        server = _fast(running.server)
        watching = server.runtime.watching
        with anyio.fail_after(WAIT * 2):
            async with (
                create_mcp_http_client() as http,
                Client(streamable_http_client(running.url, http_client=http)) as client,
            ):
                iid = (await setup_interview(client))["interviewId"]
                sandbox = server.runtime.sandbox

                async def later() -> None:
                    await anyio.sleep(1.0)
                    sandbox.simulate_session(iid, seed=1, completeAfterSeconds=1)

                async with anyio.create_task_group() as tasks:
                    tasks.start_soon(later)
                    result = await client.call_tool("wait_for_sessions", {"interviewId": iid, "timeoutSeconds": 20})
                assert result.structured_content["met"] is True, result
                # Between requests nobody needs the interview: no loop polls it.
                assert watching.watcher.interview_ids == []
                before = watching.watcher.detector.requests
                await anyio.sleep(POLL * 4)
                assert watching.watcher.detector.requests == before
