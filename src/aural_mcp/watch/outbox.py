"""The durable outbox of `aural-mcp watch`: which events each delivery target still has to get.

Its tables live in the watcher's state file, next to the events:
- `outbox_targets`: each target (a webhook URL or an `--exec` command, by a fingerprint) with a
  cursor, the last event number queued for it. Queuing reads the events table after that cursor
  and advances it in the same transaction, so an event stored by a pass is queued even when the
  process is killed in between. A target seen for the first time starts at the current last
  event: it gets what happens from now on, never the history.
- `outbox`: the events queued and not yet delivered or dead, with their attempts and next try.
- `deliveries`: one row per event delivered (the answer's status, when, after how many attempts).
- `dead_letters`: events that failed for `retry_for` seconds from their first try, with their
  last error.

One process delivers to a target from a file at a time: `claim()` records it (host and PID) in
the target's row, and a second process is refused while the first is alive (on this host, by its
PID; on another, until its claim, renewed as it runs, is LEASE_SECONDS old). A process killed
with SIGKILL leaves its claim behind; the next one sees the PID is gone and takes over.

Order per session: only the oldest queued event of each session (or candidate) is ever due, so
a session's later event waits until the earlier one is delivered or dead, while other sessions'
events go on. An event is marked delivered only after the target acknowledged it (2xx, exit 0),
in one transaction: a kill between the acknowledgement and the commit re-sends that one event
(at least once; receivers deduplicate on the event id).
"""

from __future__ import annotations

import hashlib
import os
import random
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aural_mcp.watch.events import Event
from aural_mcp.watch.state import WatchState

FIRST_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 600.0  # at most ten minutes between two tries
RETRY_FOR_SECONDS = 86_400.0  # an event failing for a day is a dead letter
JITTER = 0.25  # each delay is drawn from +-25% around its doubling step
LEASE_SECONDS = 300.0  # a claim not renewed for this long is free (it matters only across hosts)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox_targets (
    target TEXT PRIMARY KEY,        -- 'webhook:<hash of the URL>' or 'exec:<hash of the command>'
    label TEXT NOT NULL,            -- what logs show: scheme://host/path, or the program's name
    cursor INTEGER NOT NULL,        -- events up to this seq are queued (or were not for this target)
    created_at REAL NOT NULL,
    holder TEXT,                    -- 'host:pid' of the process delivering to it, if any
    held_until REAL                 -- unix time its claim lasts to, renewed as it runs
);
CREATE TABLE IF NOT EXISTS outbox (
    target TEXT NOT NULL,
    event_seq INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    order_key TEXT NOT NULL,        -- the session (or candidate) whose events go in order
    attempts INTEGER NOT NULL DEFAULT 0,
    first_try_at REAL,              -- unix time of the first try; retries stop retry_for after it
    next_try_at REAL NOT NULL,
    last_error TEXT,
    PRIMARY KEY (target, event_seq)
);
CREATE INDEX IF NOT EXISTS outbox_heads ON outbox (target, order_key, event_seq);
CREATE TABLE IF NOT EXISTS deliveries (
    target TEXT NOT NULL,
    event_id TEXT NOT NULL,
    delivered_at REAL NOT NULL,
    attempts INTEGER NOT NULL,
    answer TEXT NOT NULL,           -- 'HTTP 204', 'exit status 0'
    PRIMARY KEY (target, event_id)
);
CREATE TABLE IF NOT EXISTS dead_letters (
    target TEXT NOT NULL,
    event_seq INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    first_try_at REAL NOT NULL,
    died_at REAL NOT NULL,
    last_error TEXT NOT NULL,
    PRIMARY KEY (target, event_id)
);
"""


def target_key(kind: str, spec: str) -> str:
    """A target's id in the state file. A hash, so the file never holds a URL's query or credentials."""
    return f"{kind}:{hashlib.sha256(spec.encode()).hexdigest()[:24]}"


def retry_delay(attempts: int, rng: Callable[[], float] = random.random) -> float:
    """Seconds before the next try after `attempts` failed ones: about 1 s after the first, then
    doubling, with jitter (so many failing events do not retry in lockstep), never above 10 minutes."""
    step = FIRST_RETRY_SECONDS * 2.0 ** min(max(attempts, 1) - 1, 30)
    return min(MAX_RETRY_SECONDS, step * (1 - JITTER + 2 * JITTER * rng()))


def order_key(event: Event) -> str:
    if event.session_id:
        return f"session:{event.session_id}"
    return f"candidate:{event.candidate_id or event.id}"


class TargetBusyError(Exception):
    """Another live process delivers to this target from this state file."""


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(holder: str) -> bool:
    """Whether the process that made a claim may still run (a claim from another host: yes)."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process by that number
        return True
    return True


@dataclass(frozen=True)
class Pending:
    """A queued event: the event itself, and how its delivery has gone so far."""

    event: Event
    attempts: int
    first_try_at: float | None
    next_try_at: float
    last_error: str | None


@dataclass(frozen=True)
class Counts:
    queued: int  # waiting, not tried yet
    retrying: int  # tried, failed, to be tried again
    delivered: int
    dead: int


class Outbox:
    """The outbox of one target in one state file. `clock` is unix time (a test may pass its own)."""

    def __init__(
        self,
        state: WatchState,
        target: str,
        label: str,
        *,
        interview_ids: Sequence[str] | None = None,
        retry_for: float = RETRY_FOR_SECONDS,
        clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.state = state
        self.target = target
        self.label = label
        self.interview_ids = list(interview_ids) if interview_ids is not None else None
        self.retry_for = retry_for
        self.clock = clock
        self.rng = rng
        self._holder: str | None = None
        db = state.connection
        db.executescript(_SCHEMA)  # idempotent
        with state.transaction() as tx:
            tx.execute(
                "INSERT OR IGNORE INTO outbox_targets (target, label, cursor, created_at) VALUES (?,?,?,?)",
                (target, label, state.last_seq(), clock()),
            )
            tx.execute("UPDATE outbox_targets SET label=? WHERE target=?", (label, target))

    # --- who delivers ------------------------------------------------------------------------------

    def claim(self, holder: str | None = None) -> None:
        """Become the process that delivers to this target, or raise TargetBusyError naming the one that does."""
        holder = holder or this_process()
        now = self.clock()
        with self.state.transaction() as db:
            current, until = db.execute(
                "SELECT holder, held_until FROM outbox_targets WHERE target=?", (self.target,)
            ).fetchone()
            if current and current != holder and (until or 0) > now and _alive(current):
                host, _, pid = current.rpartition(":")
                raise TargetBusyError(
                    f"another aural-mcp watch (PID {pid} on {host}) delivers to {self.label} from {self.state.path}: "
                    "stop it first, or give this one another --state"
                )
            db.execute(
                "UPDATE outbox_targets SET holder=?, held_until=? WHERE target=?",
                (holder, now + LEASE_SECONDS, self.target),
            )
        self._holder = holder

    def renew(self) -> None:
        """Keep the claim (called as the process runs)."""
        with self.state.transaction() as db:
            db.execute(
                "UPDATE outbox_targets SET held_until=? WHERE target=? AND holder=?",
                (self.clock() + LEASE_SECONDS, self.target, self._holder),
            )

    def release(self) -> None:
        with self.state.transaction() as db:
            db.execute(
                "UPDATE outbox_targets SET holder=NULL, held_until=NULL WHERE target=? AND holder=?",
                (self.target, self._holder),
            )

    # --- queuing ---------------------------------------------------------------------------------

    def enqueue(self) -> int:
        """Queue the events stored since the target's cursor (of the watched interviews); how many."""
        queued = 0
        with self.state.transaction() as db:
            cursor = int(db.execute("SELECT cursor FROM outbox_targets WHERE target=?", (self.target,)).fetchone()[0])
            while True:
                batch = self.state.events_after(cursor, limit=500)
                if not batch:
                    break
                now = self.clock()
                rows = [
                    (self.target, e.seq, e.id, order_key(e), now)
                    for e in batch
                    if self.interview_ids is None or e.interview_id in self.interview_ids
                ]
                db.executemany(
                    "INSERT OR IGNORE INTO outbox (target, event_seq, event_id, order_key, next_try_at) "
                    "VALUES (?,?,?,?,?)",
                    rows,
                )
                queued += len(rows)
                cursor = batch[-1].seq
            db.execute("UPDATE outbox_targets SET cursor=? WHERE target=?", (cursor, self.target))
        return queued

    # --- what is due -----------------------------------------------------------------------------

    def due(self, limit: int = 100) -> list[Pending]:
        """Queued events whose try is due, oldest first: only each session's oldest queued event."""
        rows = self.state.connection.execute(
            "SELECT o.event_id, o.attempts, o.first_try_at, o.next_try_at, o.last_error FROM outbox o "
            "WHERE o.target=? AND o.next_try_at <= ? AND o.event_seq = "
            "(SELECT min(h.event_seq) FROM outbox h WHERE h.target=o.target AND h.order_key=o.order_key) "
            "ORDER BY o.event_seq LIMIT ?",
            (self.target, self.clock(), limit),
        ).fetchall()
        return self._pending(rows)

    def _pending(self, rows: Sequence[tuple[str, int, float | None, float, str | None]]) -> list[Pending]:
        found = []
        for event_id, attempts, first, next_try, error in rows:
            event = self.state.event(event_id)
            if event is not None:
                found.append(Pending(event, attempts, first, next_try, error))
        return found

    def next_due_in(self) -> float | None:
        """Seconds until a queued event is due (0 if one is), None if nothing is queued."""
        row = self.state.connection.execute(
            "SELECT min(o.next_try_at) FROM outbox o WHERE o.target=? AND o.event_seq = "
            "(SELECT min(h.event_seq) FROM outbox h WHERE h.target=o.target AND h.order_key=o.order_key)",
            (self.target,),
        ).fetchone()
        if row[0] is None:
            return None
        return max(0.0, float(row[0]) - float(self.clock()))

    # --- recording an attempt --------------------------------------------------------------------

    def delivered(self, event: Event, answer: str) -> None:
        """The target acknowledged the event: it leaves the queue (or the dead letters) for good."""
        with self.state.transaction() as db:
            row = db.execute(
                "SELECT attempts FROM outbox WHERE target=? AND event_id=?", (self.target, event.id)
            ).fetchone()
            attempts = (int(row[0]) if row else 0) + 1
            db.execute("DELETE FROM outbox WHERE target=? AND event_id=?", (self.target, event.id))
            db.execute("DELETE FROM dead_letters WHERE target=? AND event_id=?", (self.target, event.id))
            db.execute(
                "INSERT INTO deliveries (target, event_id, delivered_at, attempts, answer) VALUES (?,?,?,?,?) "
                "ON CONFLICT(target, event_id) DO UPDATE SET delivered_at=excluded.delivered_at, "
                "attempts=deliveries.attempts + excluded.attempts, answer=excluded.answer",
                (self.target, event.id, self.clock(), attempts, answer),
            )

    def failed(self, event: Event, error: str, *, tried_at: float) -> bool:
        """A try of a queued event failed: schedule the next try, or make it a dead letter once it
        has failed for `retry_for` seconds. True if it is dead now."""
        with self.state.transaction() as db:
            row = db.execute(
                "SELECT attempts, first_try_at FROM outbox WHERE target=? AND event_id=?", (self.target, event.id)
            ).fetchone()
            if row is None:
                return False  # not queued (a replay of a delivered or dead event): nothing to schedule
            attempts = int(row[0]) + 1
            first = float(row[1]) if row[1] is not None else tried_at
            now = self.clock()
            deadline = first + self.retry_for
            if now >= deadline:
                db.execute("DELETE FROM outbox WHERE target=? AND event_id=?", (self.target, event.id))
                db.execute(
                    "INSERT OR REPLACE INTO dead_letters (target, event_seq, event_id, attempts, first_try_at, "
                    "died_at, last_error) VALUES (?,?,?,?,?,?,?)",
                    (self.target, event.seq, event.id, attempts, first, now, error),
                )
                return True
            next_try = min(now + retry_delay(attempts, self.rng), deadline)  # the last try falls on the deadline
            db.execute(
                "UPDATE outbox SET attempts=?, first_try_at=?, next_try_at=?, last_error=? "
                "WHERE target=? AND event_id=?",
                (attempts, first, next_try, error, self.target, event.id),
            )
            return False

    # --- reading ---------------------------------------------------------------------------------

    def counts(self) -> Counts:
        db = self.state.connection
        queued, retrying = db.execute(
            "SELECT coalesce(sum(attempts = 0), 0), coalesce(sum(attempts > 0), 0) FROM outbox WHERE target=?",
            (self.target,),
        ).fetchone()
        delivered = db.execute("SELECT count(*) FROM deliveries WHERE target=?", (self.target,)).fetchone()[0]
        dead = db.execute("SELECT count(*) FROM dead_letters WHERE target=?", (self.target,)).fetchone()[0]
        return Counts(int(queued), int(retrying), int(delivered), int(dead))

    def dead_letters(self) -> list[tuple[str, int, str]]:
        """(event id, attempts, last error) of each dead letter, oldest first."""
        rows = self.state.connection.execute(
            "SELECT event_id, attempts, last_error FROM dead_letters WHERE target=? ORDER BY event_seq",
            (self.target,),
        )
        return [(r[0], int(r[1]), r[2]) for r in rows]
