"""The pacer's shared budget on a real team store (the embedded SQLite file; two pacers on it stand
for two replicas): a slot is held until its request is settled, then a window; waits for it are
reported; a cancelled wait takes nothing; without one, nothing changes."""

from __future__ import annotations

import time
from pathlib import Path

import anyio
import pytest

from aural_mcp.api.pacing import Pacer, SharedBudget
from aural_mcp.team.store import SqliteStore

pytestmark = pytest.mark.anyio


def replicas(path: Path, limit: int, window: float) -> tuple[Pacer, Pacer]:
    return (
        Pacer(limit, window, shared_budget=SharedBudget(SqliteStore(path), "rate:acct", limit, window, hold=30.0)),
        Pacer(limit, window, shared_budget=SharedBudget(SqliteStore(path), "rate:acct", limit, window, hold=30.0)),
    )


async def test_a_replica_waits_for_the_others_slots_to_end_and_then_a_window(tmp_path: Path):
    first, second = replicas(tmp_path / "team.db", 2, 1.5)
    with anyio.fail_after(10):
        slots = [await first.acquire(), await first.acquire()]
        assert all(slots) and first.in_flight == 2
        reported: list[float] = []

        async def on_wait(seconds: float) -> None:
            reported.append(seconds)

        started = time.monotonic()
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: second.acquire(on_wait=on_wait))
            await anyio.sleep(0.5)  # the first replica's requests are still in flight: no known end
            assert second.in_flight == 0 and reported == []
            for slot in slots:
                first.release()
                await first.settle(slot)
        waited = time.monotonic() - started
        assert 0.5 + 1.5 - 0.1 < waited < 0.5 + 1.5 + 0.5, waited
        assert reported and 1.0 < reported[0] <= 1.5, "the wait for the shared budget was reported"
        assert second.in_flight == 1


async def test_a_cancelled_wait_for_the_shared_budget_takes_nothing(tmp_path: Path):
    first, second = replicas(tmp_path / "team.db", 1, 1.0)
    with anyio.fail_after(10):
        await first.acquire()
        with anyio.move_on_after(0.3):
            await second.acquire()
        assert second.in_flight == 0 and second.delay() == 0.0, "nothing held locally"


async def test_without_a_shared_budget_acquire_takes_a_local_slot_only():
    pacer = Pacer(2, 1.0)
    with anyio.fail_after(5):
        assert await pacer.acquire() is None and pacer.in_flight == 1
        await pacer.settle(None)  # nothing to tell anyone
