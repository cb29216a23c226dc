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

Background requests (the session watcher's polls) take second place: one is sent only while no
foreground request is waiting, and at most `background_share` of the limit (at least one slot)
are background ones in any window. So foreground requests that stay within the rest of the limit
never wait because of background work.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Awaitable, Callable

import anyio

__all__ = ["DEFAULT_BACKGROUND_SHARE", "OnWait", "Pacer"]

DEFAULT_BACKGROUND_SHARE = 0.2  # of the rate limit, for the session watcher
WAIT_REPORT_SECONDS = 1.0  # waits longer than this are reported to `acquire(on_wait=...)`, about this often

# Told the seconds left of a wait for a slot (an MCP tool sends them as progress notifications).
OnWait = Callable[[float], Awaitable[None]]


class Pacer:
    """A sliding-log limiter for one event loop. `acquire()` before sending, `release()` after."""

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        background_share: float = DEFAULT_BACKGROUND_SHARE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1 or not (math.isfinite(window) and window > 0):
            raise ValueError("rate limit needs limit >= 1 and a finite window > 0, for example 60 per 60.0 s")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._done: deque[float] = deque()  # answer times of the last <= limit requests
        self._in_flight = 0
        self._background_done: deque[float] = deque()  # the same, of background requests only
        self._background_in_flight = 0
        self._foreground_waiting = 0
        self._blocked_until = 0.0
        self._changed: anyio.Event | None = None
        self.background_share = background_share
        # Foreground acquires that found no free slot, and the seconds they waited (429 blocks included).
        self.stats: dict[str, float] = {"foreground_waits": 0, "foreground_wait_seconds": 0.0}

    @property
    def background_share(self) -> float:
        return self._background_share

    @background_share.setter
    def background_share(self, share: float) -> None:
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 1:
            raise ValueError(f"background share must be a fraction in (0, 1], for example 0.2; got {share!r}")
        self._background_share = float(share)

    @property
    def background_limit(self) -> int:
        """Background requests allowed per window: the share of the limit, at least one."""
        return max(1, math.floor(self.limit * self._background_share))

    def __repr__(self) -> str:
        return f"Pacer(limit={self.limit}, window={self.window})"

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def _expire(self, now: float) -> None:
        for done in (self._done, self._background_done):
            while done and done[0] + self.window <= now:
                done.popleft()

    def delay(self, *, background: bool = False) -> float:
        """Seconds until a request could be sent now (0 if one can; inf if waiting on in-flight ones
        or, for a background request, on waiting foreground ones)."""
        now = self._clock()
        self._expire(now)
        if self._blocked_until > now:
            return self._blocked_until - now
        wait = self._wait(self._in_flight, self._done, self.limit, now)
        if background:
            if self._foreground_waiting:
                return math.inf
            own = self._wait(self._background_in_flight, self._background_done, self.background_limit, now)
            wait = max(wait, own)
        return wait

    def _wait(self, in_flight: int, done: deque[float], limit: int, now: float) -> float:
        if in_flight + len(done) < limit:
            return 0.0
        if done:
            return done[0] + self.window - now
        return math.inf

    async def acquire(self, *, background: bool = False, on_wait: OnWait | None = None) -> None:
        """Wait for a free slot and take it. Cancellation-safe: nothing is taken if cancelled.

        `on_wait(seconds_left)` is awaited when the wait is known to last more than a second, then
        about every second until the slot is taken (a wait on in-flight requests has no known end
        and is not reported)."""
        started: float | None = None
        reporting = False
        try:
            while True:
                wait = self.delay(background=background)
                if wait <= 0:
                    self._in_flight += 1
                    if background:
                        self._background_in_flight += 1
                    return
                if not background and started is None:
                    started = self._clock()
                    self._foreground_waiting += 1
                    self.stats["foreground_waits"] += 1
                timeout = None if math.isinf(wait) else wait
                if on_wait is not None and timeout is not None and (reporting or wait > WAIT_REPORT_SECONDS):
                    reporting = True
                    await on_wait(wait)
                    timeout = min(timeout, WAIT_REPORT_SECONDS)
                if self._changed is None:
                    self._changed = anyio.Event()
                event = self._changed
                with anyio.move_on_after(timeout):
                    await event.wait()
        finally:
            if started is not None:
                self._foreground_waiting -= 1
                self.stats["foreground_wait_seconds"] += self._clock() - started
                self._notify()  # a background request may go now

    def release(self, *, background: bool = False) -> None:
        """The answer (or failure) of a request taken with `acquire()` has arrived."""
        now = self._clock()
        self._in_flight = max(0, self._in_flight - 1)
        self._done.append(now)
        if background:
            self._background_in_flight = max(0, self._background_in_flight - 1)
            self._background_done.append(now)
        self._notify()

    def block(self, seconds: float) -> None:
        """Hold every request for `seconds` (after a 429)."""
        self._blocked_until = max(self._blocked_until, self._clock() + max(0.0, seconds))
        self._notify()

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = None
