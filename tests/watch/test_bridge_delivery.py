"""The bridge's promise, end to end: `aural-mcp watch` (the real console script) against a real
sandbox over loopback HTTP at a short rate limit, delivering to a receiver that verifies every
request with the independent `standardwebhooks` package.

Twenty sessions happen over time (timed sandbox sessions that complete or are abandoned by
themselves), the receiver answers 500 for the first seconds, and the watcher is SIGKILLed twice
mid-run and restarted on the same state file. In the end the receiver's deduplicated view holds
every event of the twenty sessions exactly once and nothing else, each session's events arrived
in order, the only duplicates are re-sends of an id (at most one per kill), and the sandbox
answered no 429.
"""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from tests.support.processes import AURAL_MCP, stop_process
from tests.watch.bridge_helpers import Receiver, receiving, sandbox, wait_until, watch_env

from aural_mcp.watch.detector import analyzed
from aural_mcp.watch.events import event_id
from aural_mcp.webhooks import generate_secret

SESSIONS = 20
FAILING_SECONDS = 3.0  # the receiver answers 500 this long from its first request


def baseline_done(state: Path, interview_id: str) -> bool:
    """The watcher has recorded its first (silent) look at the interview."""
    if not state.exists():
        return False
    with sqlite3.connect(f"file:{state}?mode=ro", uri=True, timeout=5) as db:
        try:
            return db.execute("SELECT 1 FROM interviews WHERE id=?", (interview_id,)).fetchone() is not None
        except sqlite3.OperationalError:  # the tables are not made yet
            return False


def _expected(sb: Any, session_ids: list[str]) -> dict[str, list[str]]:
    """Each session's events, in order, as its final state in the sandbox calls for them."""
    expected: dict[str, list[str]] = {}
    for sid in session_ids:
        row = sb.store.get("sessions", sid)
        kinds = ["session.started"]
        kinds += {"COMPLETED": ["session.completed"], "ABANDONED": ["session.abandoned"]}.get(row["status"], [])
        if analyzed(row):
            kinds.append("session.analyzed")
        expected[sid] = [event_id(k, sid) for k in kinds]
    return expected


def test_every_event_of_twenty_sessions_arrives_once_through_failures_and_kills(tmp_path: Path) -> None:
    secret = generate_secret()
    state = tmp_path / "state.sqlite3"
    first_request: list[float] = []

    def answer(n: int) -> int:
        if not first_request:
            first_request.append(time.monotonic())
        return 500 if time.monotonic() - first_request[0] < FAILING_SECONDS else 204

    receiver = Receiver(secret, answer=answer)
    procs: list[subprocess.Popen[bytes]] = []
    logs: list[Path] = []
    rng = random.Random(11)
    session_ids: list[str] = []
    started_at = time.monotonic()

    with sandbox(rate_limit=30, rate_window=10.0) as world, receiving(receiver):
        iid = world.interview()
        # 9 of the 30 requests per 10 s (the default is a fifth), so passes come often enough that the
        # kills fall while sessions are still happening. Not more than a third: a restarted watcher
        # does not know what the killed one sent, and all three may fall in one window of the limit.
        env = watch_env(world, secret, AURAL_WATCH_SHARE="0.3")
        argv = [*AURAL_MCP, "watch", "--interview", iid, "--webhook", receiver.url, "--state", str(state),
                "--poll-seconds", "0.3"]  # fmt: skip

        def start() -> subprocess.Popen[bytes]:
            log = tmp_path / f"watch-{len(logs)}.log"
            logs.append(log)
            with log.open("wb") as err:
                proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
            procs.append(proc)
            return proc

        def log_text() -> str:
            return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')}" for p in logs)

        def candidates_arrive() -> None:
            for i in range(SESSIONS):
                ending = "abandonAfterSeconds" if i % 4 == 3 else "completeAfterSeconds"
                session = world.sb.simulate_session(iid, seed=i, **{ending: round(rng.uniform(0.5, 4.0), 2)})
                session_ids.append(session["id"])
                time.sleep(0.5)

        arrivals = threading.Thread(target=candidates_arrive, daemon=True)
        try:
            watcher = start()
            wait_until(lambda: baseline_done(state, iid), 30, f"the watcher's first pass\n{log_text()}")
            arrivals.start()  # sessions from now on are new: every one of them is announced

            # Kill it mid-run twice, once while the receiver still fails and once while it delivers.
            wait_until(lambda: len(receiver.requests) >= 2, 30, f"the first deliveries\n{log_text()}")
            watcher.send_signal(signal.SIGKILL)
            watcher.wait(10)
            watcher = start()
            restarted = time.monotonic()
            wait_until(
                lambda: len(receiver.acknowledged()) >= 4 and time.monotonic() - restarted > 1.5,
                30,
                f"deliveries after a restart\n{log_text()}",
            )
            watcher.send_signal(signal.SIGKILL)
            watcher.wait(10)
            watcher = start()

            arrivals.join(30)
            assert len(session_ids) == SESSIONS

            def everything_delivered() -> bool:
                expected = _expected(world.sb, session_ids)
                final = all(world.sb.store.get("sessions", s)["status"] != "IN_PROGRESS" for s in session_ids)
                wanted = {e for ids in expected.values() for e in ids}
                return final and wanted <= receiver.first_deliveries().keys()

            wait_until(everything_delivered, 40, f"every event at the receiver\n{log_text()}", poll=0.2)
            watcher.send_signal(signal.SIGTERM)
            assert watcher.wait(15) == 0, log_text()
            stats = world.stats()
        finally:
            for proc in procs:
                stop_process(proc)

        expected = _expected(world.sb, session_ids)

    first = receiver.first_deliveries()
    wanted = [e for ids in expected.values() for e in ids]
    assert receiver.rejected == []  # every request verified with standardwebhooks
    assert sorted(first) == sorted(wanted) and len(wanted) >= 2 * SESSIONS  # exactly these, nothing else
    order = list(first)
    for sid, ids in expected.items():  # per session, in first-delivery order
        assert sorted(ids, key=order.index) == ids, sid
    acknowledged = receiver.acknowledged()
    payloads: dict[str, Any] = {}
    for d in acknowledged:  # a duplicate is a re-send of the same event, byte for byte the same payload
        assert payloads.setdefault(d.webhook_id, d.payload) == d.payload
    assert len(acknowledged) - len(first) <= 2  # at most the one in flight at each of the two kills
    assert any(d.answered == 500 for d in receiver.requests)  # the receiver did fail at first
    assert stats["rate_limited"] == 0 and "429" not in stats["by_status"], stats
    assert time.monotonic() - started_at < 90
