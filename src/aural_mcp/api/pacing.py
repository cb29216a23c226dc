"""Client-side pacing: at most `limit` requests per `window` seconds, under concurrency.

The API's successes carry no rate-limit headers, so the client counts its own requests. The
server counts requests per fixed window from their arrival; the client cannot see arrival times,
only that each arrival lies between the moment a request was sent and the moment its answer came
back. So a slot is held from send until the answer, and then for one more `window` from the
answer. That way no `window`-long interval ever sees more than `limit` arrivals at the server,
whatever the network latency, and a burst of N * limit requests finishes in a little over
(N - 1) windows.

A 429 (another client on the same key, a restarted counter) blocks every request until the
server's `retry_after` has passed: `block(seconds)`.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

import anyio

__all__ = ["Pacer"]


class Pacer:
    """A sliding-log limiter for one event loop. `acquire()` before sending, `release()` after."""

    def __init__(self, limit: int, window: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1 or not (math.isfinite(window) and window > 0):
            raise ValueError("rate limit needs limit >= 1 and a finite window > 0, for example 60 per 60.0 s")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._done: deque[float] = deque()  # answer times of the last <= limit requests
        self._in_flight = 0
        self._blocked_until = 0.0
        self._changed: anyio.Event | None = None

    def __repr__(self) -> str:
        return f"Pacer(limit={self.limit}, window={self.window})"

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def _expire(self, now: float) -> None:
        while self._done and self._done[0] + self.window <= now:
            self._done.popleft()

    def delay(self) -> float:
        """Seconds until a request could be sent now (0 if one can; inf if waiting on in-flight ones)."""
        now = self._clock()
        self._expire(now)
        if self._blocked_until > now:
            return self._blocked_until - now
        if self._in_flight + len(self._done) < self.limit:
            return 0.0
        if self._done:
            return self._done[0] + self.window - now
        return math.inf

    async def acquire(self) -> None:
        """Wait for a free slot and take it. Cancellation-safe: nothing is taken if cancelled."""
        while True:
            wait = self.delay()
            if wait <= 0:
                self._in_flight += 1
                return
            if self._changed is None:
                self._changed = anyio.Event()
            event = self._changed
            with anyio.move_on_after(None if math.isinf(wait) else wait):
                await event.wait()

    def release(self) -> None:
        """The answer (or failure) of a request taken with `acquire()` has arrived."""
        self._in_flight = max(0, self._in_flight - 1)
        self._done.append(self._clock())
        self._notify()

    def block(self, seconds: float) -> None:
        """Hold every request for `seconds` (after a 429)."""
        self._blocked_until = max(self._blocked_until, self._clock() + max(0.0, seconds))
        self._notify()

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = None
