"""The outbox of `aural-mcp watch` on a real state file, with a clock the test moves: the retry
schedule, dead letters after the retry window, order per session, and where a new target starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aural_mcp.watch import WatchState
from aural_mcp.watch.events import SESSION_COMPLETED, SESSION_STARTED, event_id
from aural_mcp.watch.outbox import MAX_RETRY_SECONDS, Outbox, retry_delay, target_key
from aural_mcp.watch.state import NewEvent


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def store(state: WatchState, interview: str, *pairs: tuple[str, str]) -> None:
    """Store events (kind, session id) as a pass would."""
    events = [
        NewEvent(event_id(kind, sid), kind, interview, sid, None, {"sessionId": sid}) for kind, sid in pairs
    ]
    state.record(interview, events=events)


@pytest.fixture
def state(tmp_path: Path) -> Any:
    s = WatchState(tmp_path / "state.sqlite3")
    yield s
    s.close()


def test_retry_delays_start_near_a_second_double_and_stop_at_ten_minutes() -> None:
    assert retry_delay(1, lambda: 0.5) == 1.0
    assert [retry_delay(n, lambda: 0.5) for n in range(1, 6)] == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert retry_delay(1, lambda: 0.0) == 0.75 and retry_delay(1, lambda: 1.0) == 1.25  # jitter: +-25%
    assert retry_delay(10, lambda: 1.0) == MAX_RETRY_SECONDS  # 512 s * 1.25 is capped
    assert retry_delay(60, lambda: 0.0) == MAX_RETRY_SECONDS  # no overflow far out
    assert all(0.75 <= retry_delay(1) <= 1.25 for _ in range(200))


def test_a_new_target_starts_at_the_last_event_and_queues_later_ones(state: WatchState) -> None:
    store(state, "iv", (SESSION_STARTED, "old"))
    outbox = Outbox(state, target_key("webhook", "http://r/"), "http://r/", clock=Clock())
    assert outbox.enqueue() == 0  # history is not replayed to a target seen for the first time
    store(state, "iv", (SESSION_STARTED, "s1"), (SESSION_STARTED, "s2"))
    assert outbox.enqueue() == 2
    assert outbox.enqueue() == 0  # the cursor moved in the same transaction
    again = Outbox(state, target_key("webhook", "http://r/"), "http://r/", clock=Clock())  # a restart
    assert [p.event.data["sessionId"] for p in again.due()] == ["s1", "s2"]


def test_only_watched_interviews_are_queued(state: WatchState) -> None:
    outbox = Outbox(state, "webhook:x", "x", interview_ids=["a"], clock=Clock())
    store(state, "a", (SESSION_STARTED, "s1"))
    store(state, "b", (SESSION_STARTED, "s2"))
    assert outbox.enqueue() == 1
    assert [p.event.interview_id for p in outbox.due()] == ["a"]


def test_a_sessions_later_event_waits_for_the_earlier_one_and_others_go_on(state: WatchState) -> None:
    clock = Clock()
    outbox = Outbox(state, "webhook:x", "x", clock=clock, rng=lambda: 0.5)
    store(state, "iv", (SESSION_STARTED, "a"), (SESSION_STARTED, "b"), (SESSION_COMPLETED, "a"))
    outbox.enqueue()
    due = outbox.due()
    assert [(p.event.type, p.event.session_id) for p in due] == [(SESSION_STARTED, "a"), (SESSION_STARTED, "b")]
    a_started, b_started = due[0].event, due[1].event
    assert outbox.failed(a_started, "HTTP 500", tried_at=clock.now) is False
    outbox.delivered(b_started, "HTTP 204")
    assert outbox.due() == []  # a's completion waits behind a's failed start; b is done
    assert outbox.next_due_in() == pytest.approx(1.0)
    clock.now += 1.0
    assert [p.event.id for p in outbox.due()] == [a_started.id]
    assert outbox.due()[0].attempts == 1 and outbox.due()[0].last_error == "HTTP 500"
    outbox.delivered(a_started, "HTTP 204")
    assert [(p.event.type, p.event.session_id) for p in outbox.due()] == [(SESSION_COMPLETED, "a")]
    counts = outbox.counts()
    assert (counts.queued, counts.retrying, counts.delivered, counts.dead) == (1, 0, 2, 0)


def test_an_event_failing_for_the_retry_window_is_a_dead_letter_and_the_session_goes_on(state: WatchState) -> None:
    clock = Clock()
    outbox = Outbox(state, "webhook:x", "x", clock=clock, rng=lambda: 0.5)
    store(state, "iv", (SESSION_STARTED, "a"), (SESSION_COMPLETED, "a"))
    outbox.enqueue()
    first = clock.now
    tries: list[float] = []
    started = outbox.due()[0].event
    while True:
        due = outbox.due()
        if not due or due[0].event.id != started.id:
            break
        tries.append(clock.now - first)
        if outbox.failed(started, f"HTTP 503 at {clock.now - first:g}", tried_at=clock.now):
            break
        clock.now += outbox.next_due_in() or 0.0
    gaps = [b - a for a, b in zip(tries, tries[1:], strict=False)]
    assert gaps[:5] == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert max(gaps) == MAX_RETRY_SECONDS
    assert tries[-1] == 86_400.0  # the last try falls on the end of the day, then it is dead
    dead = outbox.dead_letters()
    assert [(d[0], d[2]) for d in dead] == [(started.id, "HTTP 503 at 86400")]
    assert dead[0][1] == len(tries)
    assert [p.event.type for p in outbox.due()] == [SESSION_COMPLETED]  # the session's next event goes on
    assert outbox.counts().dead == 1
    outbox.delivered(started, "HTTP 204")  # a replay that succeeded
    assert outbox.dead_letters() == [] and outbox.counts().delivered == 1


def test_the_state_file_holds_no_url_only_its_hash(state: WatchState, tmp_path: Path) -> None:
    url = "https://user:pw@example.com/hook?token=s3cret"
    Outbox(state, target_key("webhook", url), "https://example.com/hook", clock=Clock())
    rows = state.connection.execute("SELECT target, label FROM outbox_targets").fetchall()
    assert [tuple(r) for r in rows] == [(target_key("webhook", url), "https://example.com/hook")]
    assert "s3cret" not in repr(rows) and "pw@" not in repr(rows)
