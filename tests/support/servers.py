"""An ASGI app served by uvicorn in a thread on a real loopback socket, for the length of a block."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn


class LiveServer:
    """`with LiveServer(app) as live:` serves `app` on `sock` (default: 127.0.0.1, a port the OS
    picks) at `live.url` until the block ends. `config` goes to `uvicorn.Config` (defaults: no
    lifespan, no access log, critical log lines only — the fault tests break connections on
    purpose, and each would log a traceback — and open connections get 2 s to finish at the end,
    so an endless stream cannot hold the exit). Entering waits until uvicorn serves; leaving asks it
    to exit and joins its thread."""

    def __init__(
        self,
        app: Any,
        *,
        sock: socket.socket | None = None,
        start_timeout: float = 20.0,
        stop_timeout: float = 10.0,
        **config: Any,
    ) -> None:
        if sock is None:
            sock = socket.socket()
            # Accepted connections inherit it: keep-alive requests do not wait ~40 ms on Nagle.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.bind(("127.0.0.1", 0))
        self.sock = sock
        self.port: int = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        defaults: dict[str, Any] = {
            "lifespan": "off",
            "log_level": "critical",
            "access_log": False,
            "timeout_graceful_shutdown": 2,
        }
        self.server = uvicorn.Server(uvicorn.Config(app, **{**defaults, **config}))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, name="test-uvicorn", daemon=True
        )

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + self.start_timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError(f"uvicorn did not start within {self.start_timeout} s")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(self.stop_timeout)
        self.sock.close()
