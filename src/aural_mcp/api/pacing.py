"""Client-side pacing: at most `limit` requests per `window` seconds, under concurrency.

The API's successes carry no rate-limit headers, so the client counts its own requests. The
server counts requests per fixed window from their arrival; the client cannot see arrival times,
only that each arrival lies between the moment a request was sent and the moment its answer came
back. So a slot is held from send until the answer, and then for one more `window` from the
answer. That way no `window`-long interval ever sees more than `limit` arrivals at the server,
whatever the network latency, and a burst of N * limit requests finishes in a little over
(N - 1) windows.

A 429 (another client on the same key, a restarted counter) blocks every request until the
server's `retry_after` has passed: `block(seconds)`, or `rate_limited(seconds)`, which also holds
the shared budget, so every replica of the key waits instead of meeting a 429 of its own.

Background requests (the session watcher's polls) take second place: one is sent only while no
foreground request is waiting, and at most `background_share` of the limit (at least one slot)
are background ones in any window. So foreground requests that stay within the rest of the limit
never wait because of background work.

Replicas of a team server each hold their own client of one Aural key, but the API counts the
key's requests together. A `SharedBudget` (a bucket in the team store: Redis for many replicas)
keeps the same log for all of them: after the local pacer finds a free slot, the shared budget
must grant one too, or the request waits and asks again. A shared slot is held in the same way,
from send until the answer (`settle`), then for one more `window`; if the answer is never
reported (a replica died), it is held until the client's timeout has passed, then for a window.
"""

from __future__ import annotations

import math
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Protocol

import anyio

from . import errors

__all__ = ["DEFAULT_BACKGROUND_SHARE", "BudgetStore", "OnWait", "Pacer", "SharedBudget"]

DEFAULT_BACKGROUND_SHARE = 0.2  # of the rate limit, for the session watcher
WAIT_REPORT_SECONDS = 1.0  # waits longer than this are reported to `acquire(on_wait=...)`, about this often
SETTLE_SECONDS = 5.0  # the most a request's end waits to tell the shared budget

# Told the seconds left of a wait for a slot (an MCP tool sends them as progress notifications).
OnWait = Callable[[float], Awaitable[None]]


class BudgetStore(Protocol):
    """Where shared budgets are kept: `aural_mcp.team.store.TeamStore.reserve` (SQLite or Redis)."""

    async def reserve(self, bucket: str, limit: int, window: float, *, slot: str, hold: float) -> float: ...

    async def settle(self, bucket: str, slot: str) -> None: ...

    async def block(self, bucket: str, seconds: float) -> None: ...


class SharedBudget:
    """One key's budget of `limit` requests per `window` seconds, kept in `store` under `bucket` for
    every client (replica) of that key. `bucket` names the account (its fingerprint), never the key.
    `hold`: the longest a request can be in flight (the client's timeout)."""

    def __init__(self, store: BudgetStore, bucket: str, limit: int, window: float, *, hold: float) -> None:
        self.store = store
        self.bucket = bucket
        self.limit = limit
        self.window = window
        self.hold = hold

    def __repr__(self) -> str:
        return f"SharedBudget(bucket={self.bucket!r}, limit={self.limit}, window={self.window})"

    async def reserve(self, slot: str) -> float:
        """0.0 when `slot` is taken, else the seconds until one may free up (inf: when requests in
        flight end); nothing is taken then."""
        try:
            return await self.store.reserve(self.bucket, self.limit, self.window, slot=slot, hold=self.hold)
        except Exception as exc:  # the store's errors name no secret (the URL is not in them)
            raise errors.TransportError(
                f"The shared rate budget in the team store is out of reach ({type(exc).__name__}: {exc}); "
                "the request was not sent. Check that the store (--redis) is up, then try again."
            ) from exc

    async def settle(self, slot: str) -> None:
        """`slot`'s request has ended: count it from now. Best effort: if the store cannot be
        reached, the slot stays held until `hold` has passed (slower, never over the limit)."""
        with anyio.CancelScope(shield=True), anyio.move_on_after(SETTLE_SECONDS), suppress(Exception):
            await self.store.settle(self.bucket, slot)

    async def block(self, seconds: float) -> None:
        """Hold the budget for `seconds` for every client of the key (the API answered 429). Best
        effort: if the store cannot be reached, the other replicas meet the 429 themselves."""
        with anyio.CancelScope(shield=True), anyio.move_on_after(SETTLE_SECONDS), suppress(Exception):
            await self.store.block(self.bucket, seconds)


class Pacer:
    """A sliding-log limiter for one event loop. `acquire()` before sending, `release()` after.

    With a `shared_budget`, a slot is taken only when the shared budget grants one too."""

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        background_share: float = DEFAULT_BACKGROUND_SHARE,
        clock: Callable[[], float] = time.monotonic,
        shared_budget: SharedBudget | None = None,
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
        self.shared_budget = shared_budget
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

    async def acquire(self, *, background: bool = False, on_wait: OnWait | None = None) -> str | None:
        """Wait for a free slot and take it. Cancellation-safe: nothing is taken if cancelled.
        With a shared budget, the shared slot's name: `settle` it when the request has ended.

        `on_wait(seconds_left)` is awaited when the wait is known to last more than a second, then
        about every second until the slot is taken (a wait on in-flight requests has no known end
        and is not reported). A wait for the shared budget is reported the same way."""
        started: float | None = None
        reporting = False
        try:
            while True:
                wait = self.delay(background=background)
                shared_wait = False
                if wait <= 0:
                    self._take(background)
                    if self.shared_budget is None:
                        return None
                    slot = uuid.uuid4().hex
                    try:
                        wait = await self.shared_budget.reserve(slot)
                    except BaseException:
                        self._give_back(background)
                        raise
                    if wait <= 0:
                        return slot
                    self._give_back(background)  # others here may go meanwhile; the shared budget decides
                    shared_wait = True
                if not background and started is None:
                    started = self._clock()
                    self._foreground_waiting += 1
                    self.stats["foreground_waits"] += 1
                timeout = None if math.isinf(wait) else wait
                if on_wait is not None and timeout is not None and (reporting or wait > WAIT_REPORT_SECONDS):
                    reporting = True
                    await on_wait(wait)
                    timeout = min(timeout, WAIT_REPORT_SECONDS)
                if shared_wait:  # local changes cannot shorten it: ask the shared budget again then
                    if timeout is None:  # until requests in flight (on any replica) end: look again soon
                        timeout = min(WAIT_REPORT_SECONDS, self.window / 20)
                    await anyio.sleep(timeout)
                    continue
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

    def _take(self, background: bool) -> None:
        self._in_flight += 1
        if background:
            self._background_in_flight += 1

    def _give_back(self, background: bool) -> None:
        """Undo `_take`: the slot was never used."""
        self._in_flight -= 1
        if background:
            self._background_in_flight -= 1
        self._notify()

    def release(self, *, background: bool = False) -> None:
        """The answer (or failure) of a request taken with `acquire()` has arrived."""
        now = self._clock()
        self._in_flight = max(0, self._in_flight - 1)
        self._done.append(now)
        if background:
            self._background_in_flight = max(0, self._background_in_flight - 1)
            self._background_done.append(now)
        self._notify()

    async def settle(self, slot: str | None) -> None:
        """After `release()`: the shared budget's `slot` (from `acquire()`) counts from now."""
        if slot is not None and self.shared_budget is not None:
            await self.shared_budget.settle(slot)

    def block(self, seconds: float) -> None:
        """Hold every request for `seconds` (after a 429)."""
        self._blocked_until = max(self._blocked_until, self._clock() + max(0.0, seconds))
        self._notify()

    async def rate_limited(self, seconds: float) -> None:
        """The API answered 429 with this wait: `block(seconds)` here and, with a shared budget, on
        every replica of the key."""
        self.block(seconds)
        if self.shared_budget is not None:
            await self.shared_budget.block(seconds)

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = None
