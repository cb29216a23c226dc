"""`AuralClient.watch()` and `iter_sessions(since=...)` against a real sandbox over loopback HTTP."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import anyio
import pytest
from tests.api.sandbox_fixtures import world
from tests.watch.helpers import backdate, published_interview

from aural_mcp.api.errors import ConfigurationError
from aural_mcp.watch import StateError, WatchState


@pytest.fixture
def live() -> Any:
    with world("http") as w:
        yield w


def test_watch_yields_new_events_and_continues_after_a_cursor(live: Any, tmp_path: Any) -> None:
    path = tmp_path / "state.sqlite3"
    got: list[Any] = []

    async def main() -> None:
        async with live.client() as client:
            iid = await published_interview(client)
            live.sb.simulate_session(iid, seed=11)  # before watching: the baseline

            async def candidate_finishes() -> None:
                await anyio.sleep(0.3)
                live.sb.simulate_session(iid, seed=13, profile="strong")

            async with anyio.create_task_group() as tg:
                tg.start_soon(candidate_finishes)
                with anyio.fail_after(20):
                    async for event in client.watch([iid], state=path, poll_seconds=0.05):
                        got.append(event)
                        if event.type == "session.analyzed" or len(got) == 10:
                            break

    anyio.run(main)
    assert [e.type for e in got] == ["session.started", "session.completed", "session.analyzed"]
    state = WatchState(path)
    assert [e.id for e in state.events_after(0)] == [e.id for e in got]  # the baseline was never announced
    cursor = state.cursor(got[0].seq)
    state.close()

    async def resume() -> None:
        async with live.client() as client:
            with anyio.fail_after(10):
                async for event in client.watch(None, state=path, since=cursor, poll_seconds=0.05):
                    assert event.id == got[1].id  # continues right after the cursor
                    break

    anyio.run(resume)


def test_watch_rejects_a_foreign_cursor_and_an_unusable_state(live: Any, tmp_path: Any) -> None:
    async def main() -> None:
        async with live.client() as client:
            with pytest.raises(ValueError, match="another watcher state"):
                async for _ in client.watch([], state=tmp_path / "a.sqlite3", since="0123456789ab.5"):
                    pass
            with pytest.raises(ValueError, match="not a cursor"):
                async for _ in client.watch([], state=tmp_path / "a.sqlite3", since="yesterday"):
                    pass

    anyio.run(main)
    (tmp_path / "folder").mkdir()
    with pytest.raises(StateError, match="--state"):
        WatchState(tmp_path / "folder")
    (tmp_path / "text").write_text("not a database, " * 100)
    with pytest.raises(StateError, match="--state"):
        WatchState(tmp_path / "text")


def test_iter_sessions_since_stops_at_the_first_older_session(live: Any) -> None:
    async def main() -> None:
        async with live.client() as client:
            iid = await published_interview(client)
            for sid in live.sb.seed_sessions(iid, 5):
                backdate(live.sb, sid, "2026-01-01T09:00:00.000Z")
            cut = datetime(2026, 6, 1, tzinfo=UTC)
            newer = live.sb.seed_sessions(iid, 3)
            seen = [s.id async for s in client.iter_sessions(iid, page_size=2, since=cut)]
            assert sorted(seen) == sorted(newer)
            seen = [s.id async for s in client.iter_sessions(iid, since=cut.isoformat().replace("+00:00", "Z"))]
            assert sorted(seen) == sorted(newer)
            assert len([s async for s in client.iter_sessions(iid)]) == 8
            for bad in ("last week", datetime(2026, 1, 1)):
                with pytest.raises(ConfigurationError, match="since"):
                    async for _ in client.iter_sessions(iid, since=bad):  # type: ignore[arg-type]
                        pass

    anyio.run(main)
