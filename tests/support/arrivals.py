"""An ASGI middleware in front of a sandbox that logs when each API request arrived, with which key:
what the per-key pacing checks (the team tests, and figure 9 of `bench/`) read back."""

from __future__ import annotations

import time
from typing import Any


class Arrivals:
    """ASGI middleware: (arrival time, bearer token) of every API request, then the sandbox."""

    def __init__(self, app: Any, window: float) -> None:
        self.app = app
        self.window = window  # the sandbox's rate window, in seconds
        self.seen: list[tuple[float, str]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/v1"):
            auth = dict(scope["headers"]).get(b"authorization", b"").decode()
            self.seen.append((time.monotonic(), auth.removeprefix("Bearer ")))
        await self.app(scope, receive, send)

    def most_in_a_window(self, key: str, since: float = 0.0) -> int:
        """The most requests of `key` (arrived at `since` or later, by `time.monotonic()`) within any
        window-long interval."""
        times = sorted(t for t, k in self.seen if k == key and t >= since)
        return max((sum(1 for u in times[i:] if u < t + self.window) for i, t in enumerate(times)), default=0)
