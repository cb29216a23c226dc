"""The API's fixed-window rate limiter, counted per key string, in memory.

A window starts with the first request after the previous one ended. Requests 1..limit pass;
later ones are rejected and still counted. Only 429 responses carry rate-limit headers.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Verdict:
    allowed: bool
    retry_after: int = 0
    reset_epoch: int = 0


class FixedWindowLimiter:
    def __init__(self, limit: int = 60, window: float = 60.0, clock: Callable[[], float] = time.time) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("rate limit needs limit >= 1 and window > 0")
        self.limit = limit
        self.window = window
        self.clock = clock
        self._windows: dict[str, tuple[float, int]] = {}  # key -> (window end, count)
        self._lock = threading.Lock()

    def hit(self, key: str) -> Verdict:
        now = self.clock()
        with self._lock:
            end, count = self._windows.get(key, (0.0, 0))
            if now >= end:
                end, count = now + self.window, 0
            count += 1
            self._windows[key] = (end, count)
            if len(self._windows) > 10_000:  # bounded memory: forget finished windows
                self._windows = {k: v for k, v in self._windows.items() if v[0] > now}
        if count <= self.limit:
            return Verdict(True)
        return Verdict(False, max(1, math.ceil(end - now)), math.ceil(end))

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()
