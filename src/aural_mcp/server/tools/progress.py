"""Progress notifications while the key's pacing holds a tool call's API requests."""

from __future__ import annotations

import math
from contextlib import suppress
from typing import Any

from aural_mcp.api.pacing import OnWait, Pacer


def pacing_progress(context: Any, pacer: Pacer) -> OnWait:
    """An `on_wait` for `AuralClient.call` that reports a pacing wait through the request's MCP
    context (a no-op for a request without a progressToken). Progress is the seconds waited, of
    the whole wait; it never goes back, even when a 429 lengthens the wait."""
    waited = 0.0
    total: float | None = None

    async def on_wait(seconds_left: float) -> None:
        nonlocal waited, total
        if total is None or waited + seconds_left > total:
            total = float(math.ceil(waited + seconds_left))
        waited = max(waited, total - seconds_left)
        message = (
            f"waiting {math.ceil(seconds_left)} s for the rate limit "
            f"({pacer.limit} requests per {pacer.window:g} s)"
        )
        with suppress(Exception):  # a client that went away must not fail the call
            await context.report_progress(waited, total, message)

    return on_wait
