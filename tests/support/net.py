"""Loopback ports, and waiting until a server on one answers."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from typing import Any

import httpx2


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (bound by the OS, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_until_answers(
    url: str,
    *,
    timeout: float = 30.0,
    proc: subprocess.Popen[Any] | None = None,
    log: Callable[[], str] = lambda: "",
) -> None:
    """Poll GET `url` until it answers 200. Fails when `proc` exits first or `timeout` passes; the
    message ends with `log()` (a server's output, say)."""
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode} before {url} answered\n{log()}")
        try:
            status = httpx2.get(url, timeout=2).status_code
            if status == 200:
                return
            last = f"status {status}"
        except httpx2.TransportError as exc:
            last = repr(exc)
        time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer 200 within {timeout} s (last: {last})\n{log()}")
