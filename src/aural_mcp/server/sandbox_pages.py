"""`serve --sandbox`: the in-process sandbox's candidate pages on a loopback port, so the public
and invite links its API hands out open in a browser.

The socket is bound before the sandbox is made, so the sandbox's links can name the real port
(a free one unless `--sandbox-port` chooses it). uvicorn serves it from a thread, the way it would
serve any ASGI app, independent of the MCP transport's own event loop. Only the candidate pages
(`/i/...`: GET and HEAD, and the POSTs of their forms) are served there; the sandbox's API stays
in-process, behind its key.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

from aural_mcp.server.console import say
from aural_mcp.server.render.safe import flat

PAGES_PREFIX = "/i/"
SHOWN_LINKS = 3  # per call: add_candidates may add hundreds


def announce_links(links: list[tuple[str, str]]) -> None:
    """One stderr line per link the sandbox hands out (the first few), to open in a browser."""
    for whose, url in links[:SHOWN_LINKS]:
        say(f"sandbox: take the interview as a candidate at {url} ({flat(whose, 80)})")
    if len(links) > SHOWN_LINKS:
        say(f"sandbox: … and {len(links) - SHOWN_LINKS} more invite links (list_candidates shows them)")


class PagesServer:
    def __init__(self, port: int) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._sock.bind(("127.0.0.1", port))
        except OSError as exc:
            self._sock.close()
            raise ValueError(
                f"--sandbox-port {port}: cannot listen on 127.0.0.1:{port} ({exc.strerror}); "
                "choose another port, or leave it out for a free one"
            ) from None
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self, sandbox_app: Any) -> None:
        import uvicorn

        async def pages_only(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] == "http" and not (
                scope["path"].startswith(PAGES_PREFIX) and scope["method"] in ("GET", "HEAD", "POST")
            ):
                await send({"type": "http.response.start", "status": 404, "headers": [(b"content-type", b"text/plain")]})
                await send({"type": "http.response.body", "body": b"Not found: only /i/... candidate pages are here"})
                return
            await sandbox_app(scope, receive, send)

        config = uvicorn.Config(pages_only, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, name="sandbox-pages", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._sock.close()
