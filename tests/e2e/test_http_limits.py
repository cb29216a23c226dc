"""Slow, stalled and greedy HTTP clients against real `aural-mcp serve` processes on loopback.

Every socket here is opened by the test to 127.0.0.1 and closed in a `finally`; every wait is
bounded by a deadline far above the server's limits, so a slow machine cannot make them flake.
"""

from __future__ import annotations

import contextlib
import select
import socket
import time
from collections.abc import AsyncIterator, Iterator

import anyio
import httpx2
import pytest
from aural_e2e import Proc, serve_http
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from tests.support.polling import wait_until
from tests.support.processes import env_without_aural
from tests.support.wire import INITIALIZE, STREAMABLE_HEADERS

pytestmark = pytest.mark.anyio

TOKEN = "limits-token-0123456789abcdef0123456789"
CAP = 32
STALLED = 60
WAIT = 20.0  # seconds a test waits for the server at most; the limits under test are 2 s


@contextlib.asynccontextmanager
async def mcp_client(server: Proc) -> AsyncIterator[Client]:
    async with (
        create_mcp_http_client(headers={"Authorization": f"Bearer {TOKEN}"}) as http,
        Client(streamable_http_client(server.url, http_client=http)) as client,
    ):
        yield client


@contextlib.contextmanager
def raw_sockets(port: int, count: int, first_bytes: bytes) -> Iterator[list[socket.socket]]:
    opened: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
            sock.sendall(first_bytes)
            opened.append(sock)
        yield opened
    finally:
        for sock in opened:
            sock.close()


def closed_by_server(sockets: list[socket.socket], want: int, settle: float = 0.0) -> set[socket.socket]:
    """The sockets the server has closed (readable: EOF, a reset, or a last answer).

    Waits until at least `want` are closed (at most WAIT seconds), then `settle` more seconds.
    """
    closed: set[socket.socket] = set()
    deadline = time.monotonic() + WAIT
    settled: float | None = None
    while time.monotonic() < deadline:
        if len(closed) >= want:
            settled = settled or time.monotonic() + settle
            if time.monotonic() >= settled:
                break
        readable, _, _ = select.select([s for s in sockets if s not in closed], [], [], 0.1)
        for sock in readable:
            sock.settimeout(WAIT)
            with contextlib.suppress(OSError):
                while sock.recv(65536):  # drain any 408/503 until EOF
                    pass
            closed.add(sock)
    return closed


def answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (bounded by WAIT)."""
    sock.settimeout(WAIT)
    data = b""
    with contextlib.suppress(OSError):
        while chunk := sock.recv(65536):
            data += chunk
    return data


@pytest.fixture(scope="module")
def capped() -> Iterator[Proc]:
    """A small connection cap and header deadlines far longer than any test here waits."""
    env = env_without_aural(
        AURAL_MCP_TOKEN=TOKEN, AURAL_MCP_MAX_CONNECTIONS=str(CAP), AURAL_MCP_HEADER_TIMEOUT="600"
    )
    with serve_http("http", env=env) as server:
        yield server


@pytest.fixture(scope="module")
def impatient() -> Iterator[Proc]:
    """Two-second deadlines for request headers and bodies."""
    env = env_without_aural(AURAL_MCP_TOKEN=TOKEN, AURAL_MCP_HEADER_TIMEOUT="2", AURAL_MCP_BODY_TIMEOUT="2")
    with serve_http("http", env=env) as server:
        yield server


async def test_stalled_connections_beyond_the_cap_cannot_lock_out_the_token_holder(capped: Proc) -> None:
    with raw_sockets(capped.port, STALLED, b"POST /mcp HTT") as stalled:
        # The cap holds: the longest-stalled connections were closed to make room for newer ones.
        assert len(closed_by_server(stalled, STALLED - CAP)) >= STALLED - CAP
        with anyio.fail_after(WAIT):
            async with mcp_client(capped) as client:
                tools = await client.list_tools()
                result = await client.call_tool("get_usage", {})
        assert tools.tools and not result.is_error
        # Fewer than CAP stalled ones are left: the client's own connections took the place of some.
        assert STALLED - len(closed_by_server(stalled, STALLED - CAP, settle=0.5)) < CAP
    assert httpx2.get(capped.base + "/healthz", timeout=WAIT).status_code == 200
    assert "Traceback" not in capped.stderr()


def test_half_sent_headers_are_closed_within_the_header_timeout(impatient: Proc) -> None:
    with raw_sockets(impatient.port, 10, b"GET /mcp HTTP/1.1\r\nHost: 127.0.0.1") as stalled:
        assert len(closed_by_server(stalled, len(stalled))) == len(stalled)
    # A connection that sends nothing at all is closed as well.
    with raw_sockets(impatient.port, 1, b"") as (silent,):
        assert answer(silent).startswith(b"HTTP/1.1 408")


def test_a_stalled_body_gets_408_and_the_connection_is_closed(impatient: Proc) -> None:
    head = (
        f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{impatient.port}\r\nAuthorization: Bearer {TOKEN}\r\n"
        "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
        "Content-Length: 200\r\n\r\n{"
    ).encode()
    with raw_sockets(impatient.port, 1, head) as (sock,):
        got = answer(sock)
    assert got.startswith(b"HTTP/1.1 408") and b"connection: close" in got.lower()
    assert b"within 2 seconds" in got


def test_an_unauthenticated_stalled_body_is_refused_without_waiting_for_it(impatient: Proc) -> None:
    head = (
        f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{impatient.port}\r\n"
        "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
    ).encode()
    with raw_sockets(impatient.port, 1, head) as (sock,):
        sock.settimeout(WAIT)
        assert sock.recv(65536).startswith(b"HTTP/1.1 401")  # answered before the body deadline


def test_a_keep_alive_connection_that_stalls_in_its_next_request_is_closed(impatient: Proc) -> None:
    first = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{impatient.port}\r\n\r\n".encode()
    with raw_sockets(impatient.port, 1, first) as (sock,):
        sock.settimeout(WAIT)
        first_answer = b""
        while not first_answer.endswith(b"\r\n\r\nok\n"):
            chunk = sock.recv(65536)
            assert chunk, first_answer
            first_answer += chunk
        assert first_answer.startswith(b"HTTP/1.1 200")
        sock.sendall(b"GET /heal")
        assert answer(sock).startswith(b"HTTP/1.1 408")


async def test_a_real_client_works_after_the_stalled_ones_are_gone(impatient: Proc) -> None:
    with anyio.fail_after(WAIT):
        async with mcp_client(impatient) as client:
            assert (await client.list_tools()).tools
    assert "Traceback" not in impatient.stderr()


def test_session_flood_through_a_real_server_is_capped_and_recovers() -> None:
    env = env_without_aural(
        AURAL_MCP_TOKEN=TOKEN,
        AURAL_MCP_MAX_SESSIONS="5",
        AURAL_MCP_SESSION_IDLE_TIMEOUT="5",
        AURAL_MCP_LOG_LEVEL="DEBUG",
    )
    headers = dict(STREAMABLE_HEADERS)
    with serve_http("http", env=env) as server, httpx2.Client(timeout=WAIT) as http:
        assert {http.post(server.url, json=INITIALIZE, headers=headers).status_code for _ in range(20)} == {401}
        headers["Authorization"] = f"Bearer {TOKEN}"
        answers = [http.post(server.url, json=INITIALIZE, headers=headers) for _ in range(6)]
        # the 401s above took no room; the sixth finds the cap reached (well within the idle timeout)
        assert [r.status_code for r in answers] == [200] * 5 + [503]
        session_ids = [r.headers["mcp-session-id"] for r in answers if r.status_code == 200]
        expired = wait_until(
            lambda: http.post(server.url, json=INITIALIZE, headers=headers).status_code == 200,
            timeout=WAIT,
            every=0.2,
        )
        assert expired, "sessions never expired"
        stderr = server.stderr()
    assert "idle timeout" in stderr  # the SDK logged the expiries, at INFO...
    for session_id in session_ids:  # ...without the ids that would let a log reader use a session
        assert session_id not in stderr
    assert "Traceback" not in stderr
