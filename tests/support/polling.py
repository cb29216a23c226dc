"""Waiting for a condition with a deadline: blocking for sync tests, `anyio.sleep` for async ones
(a blocking sleep in an async test stalls everything else on its event loop)."""

from __future__ import annotations

import time
from collections.abc import Callable

import anyio


def wait_until(condition: Callable[[], object], *, timeout: float, every: float = 0.05) -> bool:
    """True as soon as `condition()` is true; False if it is still false after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(every)
    return True


async def wait_until_async(condition: Callable[[], object], *, timeout: float, every: float = 0.05) -> bool:
    """`wait_until` for async tests: sleeps with `anyio.sleep`, so the event loop runs meanwhile."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        await anyio.sleep(every)
    return True
