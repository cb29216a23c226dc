"""The watcher's memory, in SQLite: what it has seen of each interview, and the events it found.

One file per account (API base URL and key), in the user's data folder unless a path is given.
Everything a pass learns is written in one transaction with the events it found, so a watcher
killed at any point restarts from the last pass it finished: it neither announces an event twice
(events have stable ids, inserted once) nor misses a change (the next pass compares the API with
the last state written). Two processes may share a file: SQLite serialises their writes.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from aural_mcp.watch.events import Event

SCHEMA_VERSION = "1"
MEMORY = ":memory:"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS interviews (
    id TEXT PRIMARY KEY,
    baseline_at TEXT NOT NULL,  -- when what already existed was recorded (announced by no event)
    polled_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    interview_id TEXT NOT NULL,
    status TEXT NOT NULL,
    analyzed INTEGER NOT NULL,
    final INTEGER NOT NULL,         -- nothing more will happen to it: not re-read
    created_at TEXT NOT NULL,       -- the API's createdAt (the list's order), '' when missing
    candidate_id TEXT,
    completed_seen_at TEXT          -- when it was first seen COMPLETED (how long analysis is awaited)
);
CREATE INDEX IF NOT EXISTS sessions_open ON sessions (interview_id, final, created_at);
CREATE TABLE IF NOT EXISTS candidates (
    id TEXT PRIMARY KEY,
    interview_id TEXT NOT NULL,
    session_id TEXT
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    interview_id TEXT NOT NULL,
    session_id TEXT,
    candidate_id TEXT,
    detected_at TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_interview ON events (interview_id, seq);
"""


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def data_folder() -> Path:
    """This user's data folder for aural-mcp (XDG on Linux, Application Support on macOS, LOCALAPPDATA on Windows)."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = str(Path.home() / "Library" / "Application Support")
    else:
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "aural-mcp"


def default_state_path(account: str) -> Path:
    """The state file of the account whose `AuralClient.account` is `account`."""
    return data_folder() / f"watch-{account}.sqlite3"


def state_location(settings: Any, account: str | None) -> str:
    """Where a command's watcher state lives: `--state` (AURAL_WATCH_STATE), else memory for the
    in-memory sandbox (its ids are gone at exit), else the account's file in the data folder."""
    if settings.watch_state:
        return str(settings.watch_state)
    if getattr(settings, "sandbox", False) and getattr(settings, "sandbox_db", None) in (None, MEMORY):
        return MEMORY
    if account is None:
        raise ValueError("the account is needed to find its default watcher state")
    return str(default_state_path(account))


@dataclass
class SessionMark:
    """What the watcher last knew of one session."""

    id: str
    status: str
    analyzed: bool
    final: bool
    created_at: str
    candidate_id: str | None = None
    completed_seen_at: str | None = None


@dataclass(frozen=True)
class NewEvent:
    """An event found by a pass, before the state numbers it."""

    id: str
    type: str
    interview_id: str
    session_id: str | None
    candidate_id: str | None
    data: dict[str, Any]


class StateError(Exception):
    """The state cannot be used; the message names where it is (a path, or a masked Redis URL) and the fix."""


class WatchStore(Protocol):
    """What the detector, the watcher and the server need of a watcher state: `WatchState` (SQLite,
    one file per account) or `RedisWatchState` (redis_state.py: shared by the team server's replicas)."""

    state_id: str

    def close(self) -> None: ...
    def meta_get(self, key: str) -> str | None: ...
    def meta_set_once(self, key: str, value: str) -> str: ...
    def knows(self, interview_id: str) -> bool: ...
    def polled_at(self, interview_id: str) -> str | None: ...
    def interview_ids(self) -> list[str]: ...
    def sessions(self, interview_id: str) -> dict[str, SessionMark]: ...
    def candidates(self, interview_id: str) -> dict[str, str | None]: ...
    def open_sessions(self, interview_id: str | None = None) -> int: ...
    def record(
        self,
        interview_id: str,
        *,
        sessions: Sequence[SessionMark] = (),
        candidates: dict[str, str | None] | None = None,
        events: Sequence[NewEvent] = (),
    ) -> list[Event]: ...
    def last_seq(self) -> int: ...
    def events_after(
        self, seq: int, *, interview_ids: Sequence[str] | None = None, limit: int = 1000
    ) -> list[Event]: ...
    def event(self, event_id: str) -> Event | None: ...
    def cursor(self, seq: int) -> str: ...
    def seq_of(self, cursor: str) -> int: ...


def cursor_in(state_id: str, seq: int) -> str:
    """An opaque position in a state's events: `<state>.<seq>`."""
    return f"{state_id[:12]}.{seq}"


def seq_in(state_id: str, cursor: str) -> int:
    """The event number a `cursor_in(state_id, ...)` stands for; ValueError (saying what to do) for any other text."""
    state, _, number = cursor.partition(".")
    if not number.isascii() or not number.isdigit() or len(number) > 18:
        raise ValueError("is not a cursor this server gave: pass the `since` of an earlier result, or omit it")
    if state != state_id[:12]:
        raise ValueError(
            "comes from another watcher state (another account, or a state file or Redis that was replaced): "
            "omit it to start from now"
        )
    return int(number)


class WatchState:
    """The watcher state in one SQLite file (or in memory, with `":memory:"`)."""

    def __init__(self, path: str | os.PathLike[str] = MEMORY) -> None:
        self.path = str(path)
        try:
            if self.path != MEMORY:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10)
            self._db.row_factory = sqlite3.Row
            if self.path != MEMORY:
                self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")  # an acknowledged pass survives a power cut
            self._db.executescript(_SCHEMA)  # idempotent; executescript runs outside transaction()
            with self.transaction() as db:
                db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
                db.execute("INSERT OR IGNORE INTO meta VALUES ('state_id', ?)", (uuid.uuid4().hex,))
                version = db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()[0]
            if version != SCHEMA_VERSION:
                raise StateError(
                    f"watch state {self.path!r} has schema {version}, this aural-mcp reads {SCHEMA_VERSION}: "
                    "upgrade aural-mcp, or point --state at a new file"
                )
            self.state_id: str = self._db.execute("SELECT value FROM meta WHERE key='state_id'").fetchone()[0]
        except (sqlite3.Error, OSError) as exc:
            raise StateError(
                f"cannot use {self.path!r} as the watch state ({exc}); choose another file with --state"
            ) from None

    def close(self) -> None:
        self._db.close()

    @property
    def connection(self) -> sqlite3.Connection:
        """The open connection, for modules that keep their own tables in the same file (the outbox)."""
        return self._db

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: everything in it is written, or nothing is."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def meta_get(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def meta_set_once(self, key: str, value: str) -> str:
        """Set `key` unless it is set; returns its value now (the first writer's, when two race)."""
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)", (key, value))
            return str(db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()[0])

    # --- what is known ---------------------------------------------------------------------------

    def knows(self, interview_id: str) -> bool:
        return self._db.execute("SELECT 1 FROM interviews WHERE id=?", (interview_id,)).fetchone() is not None

    def polled_at(self, interview_id: str) -> str | None:
        """When the last pass over the interview was written (ISO), or None if there was none."""
        row = self._db.execute("SELECT polled_at FROM interviews WHERE id=?", (interview_id,)).fetchone()
        return None if row is None else str(row[0])

    def interview_ids(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT id FROM interviews ORDER BY baseline_at, id")]

    def sessions(self, interview_id: str) -> dict[str, SessionMark]:
        rows = self._db.execute(
            "SELECT id, status, analyzed, final, created_at, candidate_id, completed_seen_at FROM sessions "
            "WHERE interview_id=?",
            (interview_id,),
        )
        return {
            r["id"]: SessionMark(
                r["id"], r["status"], bool(r["analyzed"]), bool(r["final"]), r["created_at"],
                r["candidate_id"], r["completed_seen_at"],
            )
            for r in rows
        }  # fmt: skip

    def candidates(self, interview_id: str) -> dict[str, str | None]:
        """Known candidate ids of the interview, each with its session id (None until it has one)."""
        rows = self._db.execute("SELECT id, session_id FROM candidates WHERE interview_id=?", (interview_id,))
        return {r["id"]: r["session_id"] for r in rows}

    def open_sessions(self, interview_id: str | None = None) -> int:
        """How many sessions (of one interview, or of all) something may still happen to."""
        if interview_id is None:
            return int(self._db.execute("SELECT count(*) FROM sessions WHERE final=0").fetchone()[0])
        return int(
            self._db.execute(
                "SELECT count(*) FROM sessions WHERE interview_id=? AND final=0", (interview_id,)
            ).fetchone()[0]
        )

    # --- writing what a pass found -----------------------------------------------------------------

    def record(
        self,
        interview_id: str,
        *,
        sessions: Sequence[SessionMark] = (),
        candidates: dict[str, str | None] | None = None,
        events: Sequence[NewEvent] = (),
    ) -> list[Event]:
        """Write one pass over one interview, with the events it found, in one transaction.

        Returns the events newly stored, in order; an event already stored (same id) is skipped.
        """
        at = now_iso()
        stored: list[Event] = []
        with self.transaction() as db:
            db.execute(
                "INSERT INTO interviews (id, baseline_at, polled_at) VALUES (?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET polled_at=excluded.polled_at",
                (interview_id, at, at),
            )
            db.executemany(
                "INSERT INTO sessions (id, interview_id, status, analyzed, final, created_at, candidate_id, "
                "completed_seen_at) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET "
                "status=excluded.status, analyzed=excluded.analyzed, final=excluded.final, "
                "created_at=excluded.created_at, candidate_id=excluded.candidate_id, "
                "completed_seen_at=excluded.completed_seen_at",
                [
                    (s.id, interview_id, s.status, int(s.analyzed), int(s.final), s.created_at,
                     s.candidate_id, s.completed_seen_at)
                    for s in sessions
                ],
            )  # fmt: skip
            if candidates:
                db.executemany(
                    "INSERT INTO candidates (id, interview_id, session_id) VALUES (?,?,?) "
                    "ON CONFLICT(id) DO UPDATE SET session_id=excluded.session_id",
                    [(cid, interview_id, sid) for cid, sid in candidates.items()],
                )
            for e in events:
                cursor = db.execute(
                    "INSERT OR IGNORE INTO events (id, type, interview_id, session_id, candidate_id, "
                    "detected_at, data) VALUES (?,?,?,?,?,?,?)",
                    (e.id, e.type, e.interview_id, e.session_id, e.candidate_id, at, json.dumps(e.data)),
                )
                if cursor.rowcount == 1:
                    stored.append(
                        Event(
                            int(cursor.lastrowid or 0), e.id, e.type, e.interview_id, e.session_id,
                            e.candidate_id, at, e.data,
                        )
                    )  # fmt: skip
        return stored

    # --- reading events ------------------------------------------------------------------------------

    def last_seq(self) -> int:
        return int(self._db.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0])

    def events_after(
        self, seq: int, *, interview_ids: Sequence[str] | None = None, limit: int = 1000
    ) -> list[Event]:
        """Events numbered above `seq`, oldest first (of these interviews only, when given)."""
        sql = "SELECT * FROM events WHERE seq > ?"
        params: list[Any] = [seq]
        if interview_ids is not None:
            sql += f" AND interview_id IN ({','.join('?' * len(interview_ids))})"
            params += list(interview_ids)
        rows = self._db.execute(sql + " ORDER BY seq LIMIT ?", [*params, limit])
        return [_event(r) for r in rows]

    def event(self, event_id: str) -> Event | None:
        row = self._db.execute("SELECT * FROM events WHERE id=?", (event_id,)).fetchone()
        return _event(row) if row is not None else None

    # --- cursors -----------------------------------------------------------------------------------

    def cursor(self, seq: int) -> str:
        return cursor_in(self.state_id, seq)

    def seq_of(self, cursor: str) -> int:
        return seq_in(self.state_id, cursor)


def stored_event(seq: int, event_id: str, fields: Mapping[str, Any]) -> Event:
    """An event read back from a state (SQLite or Redis): `fields` as stored, `type`, `interview_id`
    and `detected_at` always, `session_id`, `candidate_id` and `data` (decoded) when there are any;
    data that is not an object reads as none."""
    data = fields.get("data")
    return Event(
        seq, event_id, fields["type"], fields["interview_id"], fields.get("session_id"), fields.get("candidate_id"),
        fields["detected_at"], data if isinstance(data, dict) else {},
    )  # fmt: skip


def _event(row: sqlite3.Row) -> Event:
    try:
        data = json.loads(row["data"])
    except ValueError:
        data = {}
    return stored_event(row["seq"], row["id"], {**dict(row), "data": data})
