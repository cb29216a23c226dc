"""Streamable HTTP sessions under a flood of bare `initialize` calls, on a real loopback socket."""

from __future__ import annotations

import gc
import weakref

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from tests.server.http_inprocess import Running, serve_in_process
from tests.support.polling import wait_until, wait_until_async
from tests.support.wire import INITIALIZE, STREAMABLE_HEADERS

from aural_mcp.settings import Settings

pytestmark = pytest.mark.anyio

TOKEN = "sessions-token-0123456789abcdef01234567"
CAP = 20
WAIT = 30.0  # the longest any step waits; the idle timeout under test is 2 s
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def bare_initialize(http: httpx2.Client, running: Running, headers: dict[str, str]) -> httpx2.Response:
    return http.post(running.url, json=INITIALIZE, headers={**STREAMABLE_HEADERS, **headers})


def settings(idle_timeout: float) -> Settings:
    return Settings(
        sandbox=True, transport="http", auth_token=TOKEN, max_sessions=CAP, session_idle_timeout=idle_timeout
    )


def test_a_flood_of_bare_initializes_is_capped_and_delete_frees_room() -> None:
    with serve_in_process(settings(600.0)) as running, httpx2.Client(timeout=WAIT) as http:
        # Without the token nothing is created: the guard answers before the SDK sees the request.
        assert {bare_initialize(http, running, {}).status_code for _ in range(50)} == {401}
        assert running.open_sessions() == 0

        answers = [bare_initialize(http, running, AUTH) for _ in range(60)]
        statuses = [r.status_code for r in answers]
        assert statuses.count(200) == CAP and statuses.count(503) == 60 - CAP
        assert "Too many open sessions" in answers[-1].text
        assert running.open_sessions() == CAP

        # DELETE ends a session at once and frees its memory; a new client then gets in.
        manager = running.server._lowlevel_server.session_manager
        ids = [r.headers["mcp-session-id"] for r in answers if r.status_code == 200]
        deleted = [weakref.ref(manager._server_instances[i]) for i in ids[:5]]
        for session_id in ids[:5]:
            r = http.delete(running.url, headers={**AUTH, "mcp-session-id": session_id})
            assert r.status_code < 300, r.text
        # (the SDK forgets a session just after answering its DELETE)
        assert wait_until(lambda: running.open_sessions() == CAP - 5, timeout=WAIT)
        r = http.post(running.url, json=INITIALIZE, headers={**STREAMABLE_HEADERS, **AUTH, "mcp-session-id": ids[0]})
        assert r.status_code == 404
        assert wait_until(lambda: gc.collect() >= 0 and all(ref() is None for ref in deleted), timeout=WAIT)
        assert bare_initialize(http, running, AUTH).status_code == 200


async def test_idle_sessions_end_and_a_new_client_gets_in() -> None:
    with serve_in_process(settings(2.0)) as running, httpx2.Client(timeout=WAIT) as http:
        # Fill the cap (on a slow machine the first sessions may already be expiring meanwhile).
        opened = 0
        for _ in range(3 * CAP):
            opened += bare_initialize(http, running, AUTH).status_code == 200
            if running.open_sessions() == CAP:
                break
        assert opened >= CAP
        manager = running.server._lowlevel_server.session_manager
        transports = [weakref.ref(t) for t in manager._server_instances.values()]

        # The bare sessions end after the idle timeout, and their memory goes with them.
        assert await wait_until_async(lambda: running.open_sessions() == 0, timeout=WAIT)
        assert await wait_until_async(
            lambda: gc.collect() >= 0 and all(ref() is None for ref in transports), timeout=WAIT
        )

        with anyio.fail_after(WAIT):
            async with (
                create_mcp_http_client(headers=AUTH) as client_http,
                Client(streamable_http_client(running.url, http_client=client_http)) as client,
            ):
                assert (await client.list_tools()).tools
                # A connected client keeps its GET stream open, so it is never idle.
                await anyio.sleep(3)
                assert not (await client.call_tool("get_usage", {})).is_error
