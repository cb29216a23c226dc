"""The connection cap when every connection is busy: a real loopback socket, the real protocol."""

from __future__ import annotations

import contextlib
import socket
import time

import httpx2
from tests.server.http_inprocess import serve_in_process

from aural_mcp.settings import Settings

WAIT = 20.0  # seconds any step waits at most


def test_when_every_connection_is_busy_a_new_one_gets_503_and_room_comes_back() -> None:
    settings = Settings(sandbox=True, transport="sse", max_connections=3)
    with serve_in_process(settings) as running, contextlib.ExitStack() as streams:
        http = streams.enter_context(httpx2.Client(timeout=WAIT))
        clients = [streams.enter_context(httpx2.Client(timeout=WAIT)) for _ in range(3)]
        opened = [
            streams.enter_context(c.stream("GET", running.url, headers={"Accept": "text/event-stream"}))
            for c in clients
        ]
        assert [s.status_code for s in opened] == [200, 200, 200]  # three SSE streams: all busy

        with socket.create_connection(("127.0.0.1", running.port), timeout=WAIT) as sock:
            answer = b""
            with contextlib.suppress(OSError):
                while chunk := sock.recv(65536):
                    answer += chunk
        assert answer.startswith(b"HTTP/1.1 503") and b"Too many open connections" in answer

        opened[0].close()
        clients[0].close()
        for _ in range(int(WAIT / 0.05)):  # the server notices the closed stream
            try:
                if http.get(running.base + "/healthz").status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            time.sleep(0.05)
        assert http.get(running.base + "/healthz").status_code == 200
