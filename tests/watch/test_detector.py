"""The watcher's change detection against a real sandbox over loopback HTTP: what it announces,
what it never repeats, what it re-reads, and what survives a restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import pytest
from tests.api.sandbox_fixtures import world
from tests.watch.helpers import backdate, published_interview

from aural_mcp.watch import Detector, Watcher, WatchState
from aural_mcp.watch.detector import PAGE


@pytest.fixture
def live() -> Any:
    with world("http") as w:
        yield w




def _types(events: list[Any]) -> list[tuple[str, str | None]]:
    return [(e.type, e.session_id or e.candidate_id) for e in events]


def test_baseline_is_silent_then_each_change_is_announced_once(live: Any, tmp_path: Any) -> None:
    async def main() -> None:
        async with live.client() as client:
            iid = await published_interview(client)
            old = live.sb.simulate_session(iid, seed=1)["id"]
            running = live.sb.simulate_session(iid, seed=2, status="IN_PROGRESS")["id"]
            state = WatchState(tmp_path / "w.sqlite3")
            detector = Detector(client, state)
            assert await detector.poll(iid) == []  # what existed is the baseline
            assert state.open_sessions(iid) == 1  # only the running one will be read again

            cand = (await client.call("add_candidates", {"interviewId": iid, "candidates": [{"name": "Ada", "email": "ada@example.com"}]}))["data"]
            cid = cand["candidates"][0]["id"] if "candidates" in cand else cand[0]["id"]
            new = live.sb.simulate_session(iid, seed=3)["id"]
            await client.call("end_sessions", {"interviewId": iid, "ids": [running], "dryRun": False})
            found = await detector.poll(iid)
            assert _types(found)[0] == ("candidate.created", cid)
            # in order per session; sessions in the order they started
            assert [t for t, sid in _types(found) if sid == running] == ["session.completed"]
            assert [t for t, sid in _types(found) if sid == new] == [
                "session.started", "session.completed", "session.analyzed"
            ]
            assert len(found) == 5
            assert old not in {e.session_id for e in found}
            seqs = [e.seq for e in found]
            assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
            completed = next(e for e in found if e.type == "session.completed" and e.session_id == new)
            assert completed.data["status"] == "COMPLETED" and completed.data["interviewId"] == iid
            assert completed.data["links"]["resource"] == f"aural://sessions/{new}"
            assert "messages" not in completed.data and "summary" not in completed.data
            assert await detector.poll(iid) == []  # nothing moved: nothing announced again
            state.close()

            # A restart on the same file: no old event again, and what happened meanwhile is found.
            again = WatchState(tmp_path / "w.sqlite3")
            later = live.sb.simulate_session(iid, seed=4, status="ABANDONED")["id"]
            found = await Detector(client, again).poll(iid)
            assert _types(found) == [("session.started", later), ("session.abandoned", later)]
            assert again.events_after(0)[-1].id == found[-1].id
            again.close()

    anyio.run(main)


def test_event_ids_are_stable_across_states_so_receivers_can_deduplicate(live: Any) -> None:
    async def main() -> None:
        async with live.client() as client:
            iid = await published_interview(client)
            a, b = WatchState(), WatchState()
            await Detector(client, a).poll(iid)
            await Detector(client, b).poll(iid)
            live.sb.simulate_session(iid, seed=5)
            ids_a = [e.id for e in await Detector(client, a).poll(iid)]
            ids_b = [e.id for e in await Detector(client, b).poll(iid)]
            assert ids_a == ids_b and len(ids_a) == 3

    anyio.run(main)


def test_new_sessions_beyond_a_page_are_all_found(live: Any) -> None:
    async def main() -> None:
        async with live.client() as client:
            iid = await published_interview(client)
            state = WatchState()
            detector = Detector(client, state)
            await detector.poll(iid)
            live.sb.seed_sessions(iid, PAGE + 30, "IN_PROGRESS")
            found = await detector.poll(iid)
            assert len([e for e in found if e.type == "session.started"]) == PAGE + 30
            assert state.open_sessions(iid) == PAGE + 30

    anyio.run(main)


def _ago(minutes: float) -> str:
    at = datetime.now(UTC) - timedelta(minutes=minutes)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_open_sessions_deep_in_the_list_are_read_one_by_one_not_by_paging(live: Any) -> None:
    async def main() -> None:
        async with live.client() as client:
            iid = await published_interview(client)
            running = live.sb.simulate_session(iid, seed=7, status="IN_PROGRESS")["id"]
            backdate(live.sb, running, _ago(100))  # started 100 minutes ago: not yet stale
            for sid in live.sb.seed_sessions(iid, 3 * PAGE, "COMPLETED"):  # newer, and final
                backdate(live.sb, sid, _ago(90))
            state = WatchState()
            detector = Detector(client, state)
            await detector.poll(iid)
            assert state.open_sessions(iid) == 1
            before = detector.requests
            await client.call("end_sessions", {"interviewId": iid, "ids": [running], "dryRun": False})
            found = await detector.poll(iid)
            assert ("session.completed", running) in _types(found)
            # the first sessions page + one get_session, not four pages (and no candidates list:
            # no new session, and not a 4th pass)
            assert detector.requests - before == 2

    anyio.run(main)


def test_sessions_open_for_hours_are_re_read_on_every_fourth_pass_only(live: Any) -> None:
    async def main() -> None:
        async with live.client() as client:
            iid = await published_interview(client)
            stale = live.sb.simulate_session(iid, seed=7, status="IN_PROGRESS")["id"]
            backdate(live.sb, stale, _ago(60 * 5))  # open for five hours
            for sid in live.sb.seed_sessions(iid, PAGE, "COMPLETED"):
                backdate(live.sb, sid, _ago(60 * 4))
            detector = Detector(client, WatchState())
            await detector.poll(iid)  # pass 1
            await client.call("end_sessions", {"interviewId": iid, "ids": [stale], "dryRun": False})
            counts, found = [], []
            for _ in range(3):  # passes 2-4: the first page only
                before = detector.requests
                found += await detector.poll(iid)
                counts.append(detector.requests - before)
            assert counts == [1, 1, 1] and found == []
            found = await detector.poll(iid)  # pass 5 reads it (and the candidates)
            assert [e.type for e in found] == ["session.completed"] and found[0].session_id == stale

    anyio.run(main)


def test_a_session_written_with_an_earlier_start_behind_a_full_page_is_still_found(live: Any) -> None:
    async def main() -> None:
        async with live.client() as client:
            iid = await published_interview(client)
            detector = Detector(client, WatchState())
            await detector.poll(iid)
            live.sb.seed_sessions(iid, PAGE + 5, "COMPLETED")  # a full page of sessions that started a minute ago
            await detector.poll(iid)
            late = live.sb.simulate_session(iid, seed=1)["id"]  # the sandbox dates it from its start
            backdate(live.sb, late, _ago(5))  # behind the whole first page
            found = await detector.poll(iid)
            assert [e.type for e in found if e.session_id == late] == [
                "session.started", "session.completed", "session.analyzed"
            ]  # fmt: skip

    anyio.run(main)


def test_a_session_completed_long_ago_without_analysis_is_not_awaited(live: Any) -> None:
    async def main() -> None:
        async with live.client() as client:
            iid = await published_interview(client)
            sid = live.sb.seed_sessions(iid, 1, "COMPLETED")[0]
            row = live.sb.store.get("sessions", sid)
            row.update(summary=None, insights=None, updatedAt=_ago(60 * 48))
            live.sb.store.save_session(row)
            state = WatchState()
            await Detector(client, state).poll(iid)
            assert state.open_sessions(iid) == 0  # ended two days ago: no analysis is coming

    anyio.run(main)


def test_watcher_passes_are_background_requests_within_the_share(live: Any) -> None:
    async def main() -> None:
        async with live.client(rate_limit=10, rate_window=60.0, background_share=0.2) as client:
            ids = [await published_interview(client, f"I{i}") for i in range(3)]
            watcher = Watcher(client, WatchState(), interviews=ids, poll_seconds=0.05)
            with anyio.move_on_after(1.0):
                await watcher.run()
            # 10 per minute, 20%: two background requests in the window, however often it is due
            assert watcher.detector.requests <= 2
            assert client.stats["rate_limited"] == 0

    anyio.run(main)


def test_quiet_interviews_are_polled_less_and_less_busy_ones_at_the_short_interval(live: Any) -> None:
    async def main() -> None:
        async with live.client() as client:
            quiet = await published_interview(client, "Quiet")
            busy = await published_interview(client, "Busy")
            live.sb.simulate_session(busy, seed=2, status="IN_PROGRESS")  # open: may still change
            watcher = Watcher(client, WatchState(), interviews=[quiet, busy], poll_seconds=0.05)
            passes = {quiet: 0, busy: 0}
            real_poll = watcher.detector.poll

            async def counting_poll(iid: str, **kw: Any) -> Any:
                passes[iid] += 1
                return await real_poll(iid, **kw)

            watcher.detector.poll = counting_poll  # type: ignore[method-assign]
            with anyio.move_on_after(1.6):
                await watcher.run()
            # quiet: due at 0, .05, .15, .35, .75, 1.55 s (the interval doubles up to 16x)
            assert 4 <= passes[quiet] <= 7, passes
            assert passes[busy] >= 3 * passes[quiet], passes

    anyio.run(main)


def test_watching_all_announces_a_new_interview_whole_and_takes_old_ones_as_a_baseline(live: Any) -> None:
    async def main() -> None:
        async with live.client() as client:
            old = await published_interview(client, "Old")
            live.sb.simulate_session(old, seed=1)
            watcher = Watcher(client, WatchState(), interviews=None, poll_seconds=0.05, discover_seconds=0.1)
            assert await watcher.run_pass() == []  # the first listing: what exists is the baseline
            assert watcher.interview_ids == [old]
            new = await published_interview(client, "Created while watching")
            sid = live.sb.simulate_session(new, seed=3)["id"]  # before the watcher saw the interview
            await anyio.sleep(0.15)
            found = await watcher.run_pass(everything=True)
            assert [(e.type, e.session_id) for e in found] == [
                ("session.started", sid), ("session.completed", sid), ("session.analyzed", sid)
            ]  # fmt: skip
            assert sorted(watcher.interview_ids) == sorted([old, new])

    anyio.run(main)


def test_an_interview_that_goes_away_is_no_longer_watched(live: Any) -> None:
    async def main() -> None:
        async with live.client() as client:
            gone = "00000000-0000-4000-8000-000000000000"
            watcher = Watcher(client, WatchState(), interviews=[gone], poll_seconds=0.05)
            assert await watcher.run_pass() == []
            assert watcher.interview_ids == [] and "not found" in watcher.errors[gone].lower()

    anyio.run(main)


def test_rows_of_unexpected_shapes_never_fail_a_pass(live: Any) -> None:
    """Sessions made outside the API may hold anything: a pass reads them and goes on."""
    import json
    import uuid

    async def main() -> None:
        async with live.client() as client:
            iid = await published_interview(client)
            detector = Detector(client, WatchState())
            await detector.poll(iid)
            odd = [
                {"status": 42, "createdAt": None, "summary": ["not", "text"], "participantName": {"a": 1}},
                {"status": "REVIEWING", "createdAt": "yesterday", "insights": "text", "totalDurationSeconds": True},
                {"status": None, "participantEmail": 7, "updatedAt": []},
            ]
            ids = []
            with live.sb.store.tx() as db:
                for i, row in enumerate(odd):
                    sid = str(uuid.uuid4())
                    ids.append(sid)
                    db.execute(
                        "INSERT INTO sessions (interview_id, created_at, status, msg_count, duration, data, id) "
                        "VALUES (?,?,?,?,?,?,?)",
                        (iid, f"2026-11-0{i + 1}T00:00:00.000Z", "IN_PROGRESS", 0, 0,
                         json.dumps({"id": sid, "interviewId": iid, **row}), sid),
                    )  # fmt: skip
            found = await detector.poll(iid)
            assert sorted(e.session_id for e in found if e.type == "session.started") == sorted(ids)
            for event in found:
                assert event.data["participantName"] is None or isinstance(event.data["participantName"], str)
                assert event.data["totalDurationSeconds"] is None
            assert not any(e.type == "session.analyzed" for e in found)  # neither a list summary nor text insights is an analysis
            assert await detector.poll(iid) == []

    anyio.run(main)


def test_a_quiet_pass_is_one_request_and_new_candidates_are_found_within_four_passes(live: Any) -> None:
    async def main() -> None:
        async with live.client() as client:
            iid = await published_interview(client)
            detector = Detector(client, WatchState())
            await detector.poll(iid)  # pass 1 reads the candidates list too
            await client.call("add_candidates", {"interviewId": iid, "candidates": [{"name": "Grace", "email": "g@example.com"}]})
            counts, found = [], []
            for _ in range(3):  # passes 2, 3, 4: the sessions list only
                before = detector.requests
                found += await detector.poll(iid)
                counts.append(detector.requests - before)
            assert counts == [1, 1, 1] and found == []
            before = detector.requests
            found = await detector.poll(iid)  # pass 5
            assert detector.requests - before == 2
            assert [e.type for e in found] == ["candidate.created"]
            assert found[0].data["name"] == "Grace" and "inviteToken" not in found[0].data

    anyio.run(main)
