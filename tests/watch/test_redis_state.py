"""The watcher state on a real Redis (`RedisWatchState`), driven by the real detector against a real
sandbox over loopback HTTP: the same behaviour as the SQLite state (a silent baseline, each event
once with its stable id, cursors, paging), shared by every state opened on one Redis for one
account (one sequence, one state id), and two replicas' detectors passing over one interview at
once never double an event."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from tests.api.sandbox_fixtures import world
from tests.support.net import free_port
from tests.support.redis import redis_server
from tests.watch.helpers import published_interview

from aural_mcp.watch import Detector, StateError, Watcher, WatchState
from aural_mcp.watch.events import event_id
from aural_mcp.watch.redis_state import RedisWatchState
from aural_mcp.watch.state import NewEvent, SessionMark

pytestmark = pytest.mark.anyio

ACCOUNT = "acct0123456789abcdef"


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture
def live() -> Any:
    with world("http") as w:
        yield w


def _types(events: list[Any]) -> list[tuple[str, str | None]]:
    return [(e.type, e.session_id or e.candidate_id) for e in events]


def _account(name: str) -> str:
    return f"{ACCOUNT}-{name}-{free_port()}"  # each test its own keys on the module's Redis


async def test_baseline_is_silent_then_each_change_is_announced_once_and_survives_a_restart(live: Any, redis_url: str):
    account = _account("baseline")
    with anyio.fail_after(30):
        async with live.client() as client:
            iid = await published_interview(client)
            old = live.sb.simulate_session(iid, seed=1)["id"]
            running = live.sb.simulate_session(iid, seed=2, status="IN_PROGRESS")["id"]
            state = RedisWatchState(redis_url, account)
            detector = Detector(client, state)
            assert not state.knows(iid) and state.polled_at(iid) is None
            assert await detector.poll(iid) == []  # what existed is the baseline
            assert state.knows(iid) and state.interview_ids() == [iid]
            assert state.open_sessions(iid) == 1 == state.open_sessions()  # only the running one is read again
            assert set(state.sessions(iid)) == {old, running}

            cand = (await client.call("add_candidates", {"interviewId": iid, "candidates": [{"name": "Ada", "email": "ada@example.com"}]}))["data"]
            cid = cand["candidates"][0]["id"] if "candidates" in cand else cand[0]["id"]
            new = live.sb.simulate_session(iid, seed=3)["id"]
            await client.call("end_sessions", {"interviewId": iid, "ids": [running], "dryRun": False})
            found = await detector.poll(iid)
            assert _types(found)[0] == ("candidate.created", cid)
            assert [t for t, sid in _types(found) if sid == running] == ["session.completed"]
            assert [t for t, sid in _types(found) if sid == new] == ["session.started", "session.completed", "session.analyzed"]
            assert len(found) == 5 and old not in {e.session_id for e in found}
            assert [e.seq for e in found] == [1, 2, 3, 4, 5]
            assert all(e.id == event_id(e.type, e.session_id or e.candidate_id or "") for e in found)  # stable ids
            assert cid in state.candidates(iid)
            assert state.open_sessions(iid) == sum(not m.final for m in state.sessions(iid).values())
            assert state.event(found[2].id) == found[2]
            assert state.event("evt_" + "0" * 24) is None
            assert await detector.poll(iid) == []  # nothing moved: nothing announced again
            state.close()

            # A restart (another process, the same Redis and account): no old event again, what happened meanwhile is found.
            again = RedisWatchState(redis_url, account)
            assert again.state_id == state.state_id and again.events_after(0) == found
            later = live.sb.simulate_session(iid, seed=4, status="ABANDONED")["id"]
            more = await Detector(client, again).poll(iid)
            assert _types(more) == [("session.started", later), ("session.abandoned", later)]
            assert [e.seq for e in more] == [6, 7] and again.last_seq() == 7
            again.close()


async def test_cursors_paging_and_a_foreign_cursor(redis_url: str):
    state = RedisWatchState(redis_url, _account("cursors"))
    other = RedisWatchState(redis_url, _account("other"))
    try:
        assert state.last_seq() == 0 and state.events_after(0) == []
        events = [NewEvent(f"evt_{n:024x}", "session.started", "iv-a" if n % 2 else "iv-b", f"s{n}", None, {"n": n})
                  for n in range(1, 8)]  # fmt: skip
        stored = state.record("iv-a", sessions=[SessionMark("s1", "IN_PROGRESS", False, False, "2026-01-01")],
                              candidates={"c1": None, "c2": "s1"}, events=events)  # fmt: skip
        assert [e.seq for e in stored] == list(range(1, 8)) and stored[0].data == {"n": 1}
        assert state.record("iv-a", events=events) == []  # stored once: the same ids again are skipped
        assert state.candidates("iv-a") == {"c1": None, "c2": "s1"}
        assert state.sessions("iv-a") == {"s1": SessionMark("s1", "IN_PROGRESS", False, False, "2026-01-01")}
        # paging: oldest first, `limit` at a time, of some interviews only when asked
        assert [e.seq for e in state.events_after(0, limit=3)] == [1, 2, 3]
        assert [e.seq for e in state.events_after(3, limit=3)] == [4, 5, 6]
        assert [e.seq for e in state.events_after(6, limit=3)] == [7]
        assert [e.seq for e in state.events_after(0, interview_ids=["iv-b"])] == [2, 4, 6]
        assert [e.seq for e in state.events_after(2, interview_ids=["iv-a", "iv-b"], limit=4)] == [3, 4, 5, 6]
        assert state.events_after(0, interview_ids=[]) == []
        cursor = state.cursor(state.last_seq())
        assert state.seq_of(cursor) == 7
        with pytest.raises(ValueError, match="comes from another watcher state"):
            other.seq_of(cursor)  # another account's
        with pytest.raises(ValueError, match="is not a cursor this server gave"):
            state.seq_of("12345")
        assert other.last_seq() == 0 and other.interview_ids() == []  # accounts never share a thing
    finally:
        state.close()
        other.close()


async def test_two_states_of_one_account_on_one_redis_share_one_sequence_and_their_cursors(redis_url: str):
    account = _account("shared")
    first, second = RedisWatchState(redis_url, account), RedisWatchState(redis_url, account)
    try:
        assert first.state_id == second.state_id
        a = first.record("iv", events=[NewEvent("evt_" + "a" * 24, "session.started", "iv", "s1", None, {})])
        b = second.record("iv", events=[NewEvent("evt_" + "b" * 24, "session.started", "iv", "s2", None, {})])
        assert [e.seq for e in a + b] == [1, 2]
        assert second.seq_of(first.cursor(1)) == 1 and [e.id for e in second.events_after(0)] == [a[0].id, b[0].id]
        assert first.meta_set_once("watch_all_since", "2026-01-01T00:00:00Z") == "2026-01-01T00:00:00Z"
        assert second.meta_set_once("watch_all_since", "2027-01-01T00:00:00Z") == "2026-01-01T00:00:00Z"  # the first's
        assert second.meta_get("watch_all_since") == "2026-01-01T00:00:00Z" and second.meta_get("nothing") is None
    finally:
        first.close()
        second.close()


async def test_two_replicas_detectors_over_one_interview_at_once_store_each_event_once(live: Any, redis_url: str):
    account = _account("race")
    with anyio.fail_after(30):
        async with live.client() as one, live.client() as two:
            iid = await published_interview(one)
            replicas = [Detector(one, RedisWatchState(redis_url, account)),
                        Detector(two, RedisWatchState(redis_url, account))]  # fmt: skip
            await replicas[0].poll(iid)  # the baseline, shared
            for seed in range(10, 14):
                live.sb.simulate_session(iid, seed=seed)
            found: list[list[Any]] = [[], []]
            offered: list[set[str]] = [set(), set()]  # the events each pass asked its state to record

            def offering(n: int) -> None:
                state = replicas[n].state
                record = state.record

                def recording(interview_id: str, **kw: Any) -> list[Any]:
                    offered[n] |= {e.id for e in kw.get("events", ())}
                    return record(interview_id, **kw)

                state.record = recording  # type: ignore[method-assign]

            async def pass_of(n: int) -> None:
                found[n] = await replicas[n].poll(iid)

            for n in (0, 1):
                offering(n)
            async with anyio.create_task_group() as tg:  # each pass awaits the API between reading and recording
                tg.start_soon(pass_of, 0)
                tg.start_soon(pass_of, 1)
            stored = replicas[0].state.events_after(0)
            assert len(stored) >= 8 and len({e.id for e in stored}) == len(stored)  # 4 sessions started and completed
            assert offered[0] == offered[1] == {e.id for e in stored}, "both passes found every event"
            assert [e.seq for e in stored] == list(range(1, len(stored) + 1))
            returned = found[0] + found[1]
            assert sorted(e.id for e in returned) == sorted(e.id for e in stored), "each event returned by one pass only"
            for detector in replicas:
                assert await detector.poll(iid) == []
                detector.state.close()


async def test_the_watcher_keeps_when_it_began_watching_all_on_redis(live: Any, redis_url: str):
    account = _account("all")
    with anyio.fail_after(30):
        async with live.client() as client:
            state = RedisWatchState(redis_url, account)
            await Watcher(client, state).run_pass()
            since = state.meta_get("watch_all_since")
            assert since is not None
            await Watcher(client, RedisWatchState(redis_url, account)).run_pass()  # another replica: the same start
            assert state.meta_get("watch_all_since") == since
            state.close()


def test_sqlite_and_redis_states_agree_on_the_meta_methods(redis_url: str, tmp_path: Any):
    for state in (WatchState(tmp_path / "w.sqlite3"), RedisWatchState(redis_url, _account("meta"))):
        assert state.meta_get("k") is None
        assert state.meta_set_once("k", "first") == "first" and state.meta_set_once("k", "second") == "first"
        assert state.meta_get("k") == "first"
        state.close()


@pytest.mark.parametrize("wrong", ["password", "port"])
def test_an_unusable_redis_is_a_clear_error_without_its_password(redis_url: str, wrong: str):
    password = redis_url.split(":")[2].split("@")[0]
    url = redis_url.replace(password, "hunter2hunter2") if wrong == "password" else (
        f"redis://:{password}@127.0.0.1:{free_port()}/0")  # fmt: skip
    with pytest.raises(StateError) as failed:
        RedisWatchState(url, _account("bad"))
    message = str(failed.value)
    assert "cannot be used" in message and "AURAL_MCP_REDIS_URL" in message and "***" in message
    assert "hunter2" not in message and password not in message
    assert password not in repr(RedisWatchState(redis_url, _account("repr")))
