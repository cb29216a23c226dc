"""Fault injection for the sandbox's /api/v1 keyed requests.

Spec string: ``RATE[:KINDS[:SEED]]``, e.g. ``0.2:drop_before,drop_after,500,502,503,latency:7``.
With probability RATE a request gets one fault kind, chosen uniformly from KINDS (default: all):

========== ================ ==================================================================
kind       when             what the client sees
========== ================ ==================================================================
drop_before before handling the connection breaks (response started, then aborted); nothing
                            is processed or stored
drop_after after handling   the request is processed and committed, then the connection breaks
                            with no response: the write exists although the client saw a failure
500        before handling  500 ``INTERNAL_ERROR`` envelope (a failed, rolled-back transaction);
                            nothing is stored
502        before handling  502 with a plain-text gateway body (not JSON); nothing is stored
503        before handling  503 with a plain-text body and ``Retry-After: 1``; nothing is stored
latency    before handling  an added delay (up to ``max_latency`` seconds), then normal handling
========== ================ ==================================================================

So only ``drop_after`` leaves a write whose outcome the client cannot know; every other kind
guarantees nothing happened. A dropped connection looks like a broken connection to a real HTTP
client over uvicorn, and is raised as ``DroppedConnection`` (an ``httpx2.RemoteProtocolError``)
through ``httpx2.ASGITransport`` in-process.
"""

from __future__ import annotations

import asyncio
import random
import threading
from dataclasses import dataclass, field
from typing import Any

import httpx2

KINDS = ("drop_before", "drop_after", "500", "502", "503", "latency")


class DroppedConnection(httpx2.RemoteProtocolError):
    """The sandbox dropped the connection on purpose (fault injection)."""


@dataclass(frozen=True)
class FaultSpec:
    rate: float
    kinds: tuple[str, ...] = KINDS
    seed: int | None = None
    max_latency: float = 0.3

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"fault rate must be between 0 and 1, not {self.rate}")
        bad = [k for k in self.kinds if k not in KINDS]
        if bad or not self.kinds:
            raise ValueError(
                f"fault kinds must be some of {', '.join(KINDS)}; got {', '.join(bad) or 'none'}"
            )

    @classmethod
    def parse(cls, text: str) -> FaultSpec:
        parts = text.strip().split(":")
        try:
            rate = float(parts[0])
            kinds = tuple(k.strip() for k in parts[1].split(",") if k.strip()) if len(parts) > 1 else KINDS
            seed = int(parts[2]) if len(parts) > 2 and parts[2] else None
        except (ValueError, IndexError):
            raise ValueError(
                f"faults {text!r} must look like RATE[:KINDS[:SEED]], e.g. 0.2:drop_before,500,latency:7"
            ) from None
        return cls(rate, kinds or KINDS, seed)


@dataclass
class FaultInjector:
    spec: FaultSpec
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.spec.seed)
        self._lock = threading.Lock()

    def pick(self) -> str | None:
        with self._lock:
            if self._rng.random() >= self.spec.rate:
                return None
            kind = self._rng.choice(self.spec.kinds)
            self.counts[kind] = self.counts.get(kind, 0) + 1
            return kind

    def latency(self) -> float:
        with self._lock:
            return self._rng.uniform(0.02, self.spec.max_latency)


async def drop(send: Any, when: str) -> None:
    """Start a response and abort it: uvicorn closes the socket mid-response."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"1000")],
        }
    )
    await asyncio.sleep(0)
    raise DroppedConnection(f"sandbox fault injection: connection dropped {when} processing")
