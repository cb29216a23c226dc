"""SQLite storage for the sandbox.

One connection shared by every request, guarded by one re-entrant lock: request handlers run
their whole read-validate-write sequence inside `with store.tx():`, which commits before the
handler returns, so an acknowledged write is on disk (WAL, synchronous=NORMAL survives a killed
process; only a power cut could lose the last transactions).

Each resource row keeps its full API shape as a JSON document in `data`, next to the few columns
that queries filter and sort on (all indexed, so keyset pages are as fast deep as they are near
the top).
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import string
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from aural_mcp.sandbox import coerce as js

ALPHABET = string.ascii_lowercase + string.digits
ROLES = ("VIEWER", "MEMBER", "ADMIN", "OWNER")

SCHEMA = """
CREATE TABLE IF NOT EXISTS organizations (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, email TEXT, name TEXT, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS memberships (
  org_id TEXT NOT NULL, user_id TEXT NOT NULL, role TEXT NOT NULL, PRIMARY KEY (user_id, org_id));
CREATE TABLE IF NOT EXISTS projects (
  id TEXT PRIMARY KEY, org_id TEXT NOT NULL, name TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS projects_org ON projects (org_id);
CREATE TABLE IF NOT EXISTS project_members (
  project_id TEXT NOT NULL, user_id TEXT NOT NULL, role TEXT NOT NULL, PRIMARY KEY (project_id, user_id));
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY, key_hash TEXT NOT NULL UNIQUE, user_id TEXT NOT NULL, active INTEGER NOT NULL,
  expires_at TEXT, last_used_at TEXT, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS interviews (
  id TEXT PRIMARY KEY, project_id TEXT, public_slug TEXT, created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS interviews_project_updated ON interviews (project_id, updated_at);
CREATE INDEX IF NOT EXISTS interviews_updated ON interviews (updated_at);
CREATE INDEX IF NOT EXISTS interviews_slug ON interviews (public_slug);
CREATE TABLE IF NOT EXISTS questions (
  id TEXT PRIMARY KEY, interview_id TEXT NOT NULL, ord INTEGER NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS questions_interview ON questions (interview_id, ord);
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY, interview_id TEXT NOT NULL, created_at TEXT NOT NULL, status TEXT NOT NULL,
  msg_count INTEGER NOT NULL DEFAULT 0, duration INTEGER NOT NULL DEFAULT 0, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_keyset ON sessions (interview_id, created_at, id);
CREATE TABLE IF NOT EXISTS messages (
  id TEXT PRIMARY KEY, session_id TEXT NOT NULL, ts TEXT NOT NULL, seq INTEGER NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS messages_session ON messages (session_id, ts, seq);
CREATE TABLE IF NOT EXISTS candidates (
  id TEXT PRIMARY KEY, interview_id TEXT NOT NULL, created_at TEXT NOT NULL, invite_token TEXT NOT NULL,
  data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS candidates_interview ON candidates (interview_id, created_at);
CREATE INDEX IF NOT EXISTS candidates_token ON candidates (invite_token);
CREATE TABLE IF NOT EXISTS practices (
  id TEXT PRIMARY KEY, interview_id TEXT NOT NULL, user_id TEXT NOT NULL, created_at TEXT NOT NULL,
  data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS practices_interview_user ON practices (interview_id, user_id, created_at);
CREATE TABLE IF NOT EXISTS practice_attempts (
  id TEXT PRIMARY KEY, practice_id TEXT NOT NULL, question_id TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS attempts_practice ON practice_attempts (practice_id);
CREATE INDEX IF NOT EXISTS attempts_question ON practice_attempts (question_id);
CREATE TABLE IF NOT EXISTS session_plans (
  session_id TEXT PRIMARY KEY, next_due TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS session_plans_due ON session_plans (next_due);
CREATE TABLE IF NOT EXISTS candidate_pages (
  id TEXT PRIMARY KEY, session_id TEXT NOT NULL UNIQUE, start_key TEXT UNIQUE, data TEXT NOT NULL);
"""


def token(n: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(n))


def new_id() -> str:
    return str(uuid.uuid4())


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="microseconds")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def dumps(value: Any) -> str:
    # As the API sends a row to the database: JSON.stringify (Infinity is stored as null).
    # ensure_ascii keeps lone surrogates (valid in JSON strings) storable as text.
    return js.stringify(value, ensure_ascii=True)


def loads(text: str) -> Any:
    return js.loads(text)


class Store:
    """The sandbox database. Every public method is safe to call from any thread."""

    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        if path != ":memory:":
            self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA busy_timeout=5000")
        self.conn.executescript(SCHEMA)
        self._last_ts = datetime.now(UTC)
        self._depth = 0

    # -- plumbing -------------------------------------------------------------------------

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """A transaction (re-entrant: nested uses join the outer one). Commits on success."""
        with self.lock:
            outer = self._depth == 0
            if outer:
                self.conn.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self.conn
            except BaseException:
                self._depth -= 1
                if outer:
                    self.conn.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                self.conn.execute("COMMIT")

    def now(self) -> str:
        """A strictly increasing timestamp (microsecond resolution, +00:00 offset)."""
        with self.lock:
            t = datetime.now(UTC)
            if t <= self._last_ts:
                t = self._last_ts + timedelta(microseconds=1)
            self._last_ts = t
            return iso(t)

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    def one(self, sql: str, *params: Any) -> sqlite3.Row | None:
        with self.lock:
            row: sqlite3.Row | None = self.conn.execute(sql, params).fetchone()
            return row

    def all(self, sql: str, *params: Any) -> list[sqlite3.Row]:
        with self.lock:
            return self.conn.execute(sql, params).fetchall()

    def scalar(self, sql: str, *params: Any) -> Any:
        row = self.one(sql, *params)
        return None if row is None else row[0]

    # -- organizations, users, projects, keys ----------------------------------------------

    def create_organization(self, name: str) -> str:
        oid = new_id()
        with self.tx() as c:
            c.execute("INSERT INTO organizations VALUES (?,?,?)", (oid, name, self.now()))
        return oid

    def create_user(self, email: str | None = None, name: str | None = None) -> str:
        uid = new_id()
        with self.tx() as c:
            c.execute("INSERT INTO users VALUES (?,?,?,?)", (uid, email, name, self.now()))
        return uid

    def add_member(self, org_id: str, user_id: str, role: str = "MEMBER") -> None:
        _check_role(role)
        with self.tx() as c:
            c.execute("INSERT OR REPLACE INTO memberships VALUES (?,?,?)", (org_id, user_id, role))

    def create_project(self, org_id: str, name: str = "Default project") -> str:
        pid = new_id()
        with self.tx() as c:
            c.execute("INSERT INTO projects VALUES (?,?,?,?)", (pid, org_id, name, self.now()))
        return pid

    def set_project_members(self, project_id: str, members: dict[str, str]) -> None:
        """Give a project a member list (user id -> role). An empty dict removes the list."""
        for role in members.values():
            _check_role(role)
        with self.tx() as c:
            c.execute("DELETE FROM project_members WHERE project_id=?", (project_id,))
            c.executemany(
                "INSERT INTO project_members VALUES (?,?,?)", [(project_id, u, r) for u, r in members.items()]
            )

    def insert_key(self, user_id: str, *, expires_at: str | None = None) -> str:
        key = "dlv_" + token(32)
        with self.tx() as c:
            c.execute(
                "INSERT INTO api_keys VALUES (?,?,?,?,?,?,?)",
                (new_id(), hash_key(key), user_id, 1, expires_at, None, self.now()),
            )
        return key

    def key_count(self) -> int:
        return int(self.scalar("SELECT COUNT(*) FROM api_keys"))

    def key_row(self, key: str) -> sqlite3.Row | None:
        return self.one("SELECT * FROM api_keys WHERE key_hash=?", hash_key(key))

    def update_key(self, key: str, **cols: Any) -> None:
        sets = ", ".join(f"{k}=?" for k in cols)
        with self.tx() as c:
            c.execute(f"UPDATE api_keys SET {sets} WHERE key_hash=?", (*cols.values(), hash_key(key)))

    def organization_of(self, user_id: str) -> sqlite3.Row | None:
        """The membership the API uses: the one with the lowest organization id."""
        return self.one(
            "SELECT org_id, role FROM memberships WHERE user_id=? ORDER BY org_id LIMIT 1", user_id
        )

    def accessible_projects(self, org_id: str, user_id: str) -> list[str]:
        rows = self.all(
            """SELECT p.id FROM projects p WHERE p.org_id=? AND (
                 NOT EXISTS (SELECT 1 FROM project_members m WHERE m.project_id=p.id)
                 OR EXISTS (SELECT 1 FROM project_members m WHERE m.project_id=p.id AND m.user_id=?))
               ORDER BY p.rowid""",
            org_id,
            user_id,
        )
        return [r["id"] for r in rows]

    def project_role(self, project_id: str, user_id: str) -> str | None:
        role = self.scalar(
            "SELECT role FROM project_members WHERE project_id=? AND user_id=?", project_id, user_id
        )
        return None if role is None else str(role)

    def seat_count(self, org_id: str) -> int:
        return int(self.scalar("SELECT COUNT(*) FROM memberships WHERE org_id=?", org_id))

    # -- generic JSON rows ----------------------------------------------------------------

    def get(self, table: str, rid: str) -> dict[str, Any] | None:
        row = self.one(f"SELECT data FROM {table} WHERE id=?", rid)
        return None if row is None else loads(row["data"])

    # Updates keep an indexed column when the row's own value cannot fill it: seeded rows (made
    # outside the API) may hold null or odd values anywhere.

    def save_interview(self, data: dict[str, Any], *, insert: bool = False) -> None:
        cols = (
            _text(data.get("projectId")),
            _text(data.get("publicSlug")),
            _text(data.get("createdAt")),
            data["updatedAt"],
            dumps(data),
            data["id"],
        )
        with self.tx() as c:
            if insert:
                c.execute(
                    "INSERT INTO interviews (project_id, public_slug, created_at, updated_at, data, id)"
                    " VALUES (?,?,?,?,?,?)",
                    cols,
                )
            else:
                c.execute(
                    "UPDATE interviews SET project_id=?, public_slug=?, created_at=COALESCE(?, created_at),"
                    " updated_at=?, data=? WHERE id=?",
                    cols,
                )

    def save_question(self, data: dict[str, Any], *, insert: bool = False) -> None:
        with self.tx() as c:
            if insert:
                c.execute(
                    "INSERT INTO questions (interview_id, ord, data, id) VALUES (?,?,?,?)",
                    (data["interviewId"], data["order"], dumps(data), data["id"]),
                )
            else:
                order = data.get("order")
                ordinal = order if isinstance(order, int) and not isinstance(order, bool) else None
                c.execute(
                    "UPDATE questions SET ord=COALESCE(?, ord), data=? WHERE id=?",
                    (ordinal, dumps(data), data["id"]),
                )

    def questions_of(self, interview_id: str) -> list[dict[str, Any]]:
        rows = self.all("SELECT data FROM questions WHERE interview_id=? ORDER BY ord, rowid", interview_id)
        return [loads(r["data"]) for r in rows]

    def save_candidate(self, data: dict[str, Any], *, insert: bool = False) -> None:
        with self.tx() as c:
            if insert:
                c.execute(
                    "INSERT INTO candidates (interview_id, created_at, invite_token, data, id) VALUES (?,?,?,?,?)",
                    (data["interviewId"], data["createdAt"], data["inviteToken"], dumps(data), data["id"]),
                )
            else:
                c.execute("UPDATE candidates SET data=? WHERE id=?", (dumps(data), data["id"]))

    def save_session(
        self, data: dict[str, Any], *, insert: bool = False, msg_count: int | None = None
    ) -> None:
        seconds = data.get("totalDurationSeconds")
        duration = int(seconds) if isinstance(seconds, int | float) and not isinstance(seconds, bool) else 0
        with self.tx() as c:
            if insert:
                c.execute(
                    "INSERT INTO sessions (interview_id, created_at, status, msg_count, duration, data, id)"
                    " VALUES (?,?,?,?,?,?,?)",
                    (
                        data["interviewId"],
                        data["createdAt"],
                        data["status"],
                        msg_count or 0,
                        duration,
                        dumps(data),
                        data["id"],
                    ),
                )
            else:
                c.execute(
                    "UPDATE sessions SET status=COALESCE(?, status), duration=?, data=?,"
                    " msg_count=COALESCE(?, msg_count) WHERE id=?",
                    (_text(data.get("status")), duration, dumps(data), msg_count, data["id"]),
                )

    def insert_messages(self, session_id: str, messages: list[dict[str, Any]]) -> None:
        with self.tx() as c:
            base = int(
                self.scalar("SELECT COALESCE(MAX(seq), -1) FROM messages WHERE session_id=?", session_id)
            )
            c.executemany(
                "INSERT INTO messages (id, session_id, ts, seq, data) VALUES (?,?,?,?,?)",
                [
                    (m["id"], session_id, m["timestamp"], base + 1 + i, dumps(m))
                    for i, m in enumerate(messages)
                ],
            )
            c.execute(
                "UPDATE sessions SET msg_count=(SELECT COUNT(*) FROM messages WHERE session_id=?) WHERE id=?",
                (session_id, session_id),
            )

    def messages_of(self, session_id: str) -> list[dict[str, Any]]:
        rows = self.all("SELECT data FROM messages WHERE session_id=? ORDER BY ts, seq", session_id)
        return [loads(r["data"]) for r in rows]

    # -- the plans of simulated sessions that happen over time (see simulate.py) --------------

    def save_plan(self, session_id: str, next_due: str, plan: dict[str, Any]) -> None:
        with self.tx() as c:
            c.execute(
                "INSERT OR REPLACE INTO session_plans (session_id, next_due, data) VALUES (?,?,?)",
                (session_id, next_due, dumps(plan)),
            )

    def due_plans(self, now: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(session row, plan) of every plan with something due by `now` (an indexed lookup)."""
        rows = self.all(
            "SELECT s.data AS session, p.data AS plan FROM session_plans p"
            " JOIN sessions s ON s.id = p.session_id WHERE p.next_due <= ?",
            now,
        )
        return [(loads(r["session"]), loads(r["plan"])) for r in rows]

    def drop_plan(self, session_id: str) -> None:
        with self.tx() as c:
            c.execute("DELETE FROM session_plans WHERE session_id=?", (session_id,))

    def integrity_check(self) -> str:
        return str(self.scalar("PRAGMA integrity_check"))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
