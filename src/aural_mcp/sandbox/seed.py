"""Seeding rows the API never writes itself: interviews, questions, candidates and sessions as
Aural's dashboard, templates and AI question generator store them (the file format is described
in the package docstring).

Column values are stored verbatim: the only checks are that the document has the right
containers (objects and lists where rows and row lists belong) and that given ids are UUIDs, so
a seed can hold what the API would refuse (`options` as an object, unknown enum values, nulls).
Columns a row leaves out get the database's defaults. Rows whose id already exists are left
untouched, so seeding the same file again (every restart with the same database) adds nothing
and never undoes changes made through the API since.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from aural_mcp.sandbox.auth import pg_uuid
from aural_mcp.sandbox.handlers import candidate_row, interview_row, question_row
from aural_mcp.sandbox.simulate import message_row
from aural_mcp.sandbox.store import Store, dumps, iso, parse_iso

TOP_LEVEL = ("key", "interviews")
CHILDREN = ("questions", "candidates", "sessions")
KINDS = ("interviews", "questions", "candidates", "sessions", "messages")
# Ids left out of the file are derived from the row's place and content, so they are the same
# on every run of the same file.
_ID_NAMESPACE = uuid.UUID("8a0d7c39-3f6e-4f4c-9b53-2f0b3c1d5e71")


class SeedError(ValueError):
    """A seed document that cannot be applied; the message names the place and the problem."""


def load_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The JSON document of a seed file (SeedError naming the file otherwise)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as e:
        raise SeedError(f"{path}: cannot read the seed file: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise SeedError(f"{path}: the seed file is not UTF-8 text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise SeedError(f"{path}: not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    except RecursionError:
        raise SeedError(f"{path}: the JSON is nested too deeply") from None
    if not isinstance(data, dict):
        raise SeedError(f'{path}: the seed file must hold a JSON object such as {{"interviews": [...]}}')
    return data


def _rows(parent: dict[str, Any], name: str, where: str) -> list[dict[str, Any]]:
    rows = parent.get(name, [])
    if not isinstance(rows, list):
        raise SeedError(f"{where}.{name}: must be a list of objects")
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise SeedError(f"{where}.{name}[{i}]: must be an object")
    return rows


def _id(raw: dict[str, Any], where: str, derived_from: str) -> str:
    if "id" not in raw:
        content = json.dumps(raw, sort_keys=True, ensure_ascii=True, default=str)
        return str(uuid.uuid5(_ID_NAMESPACE, f"{derived_from}:{content}"))
    canonical = pg_uuid(raw["id"])
    if canonical is None:
        raise SeedError(f"{where}.id: must be a UUID such as 3f2b8c1e-1d2a-4c3b-9e8f-0a1b2c3d4e5f")
    return canonical


def _text(value: Any, fallback: str) -> str:
    """A value for an indexed column (sorting, lookups): the raw value if it is text."""
    return value if isinstance(value, str) else fallback


def check(data: Any) -> None:
    """Raise SeedError unless `data` has the containers of a seed document."""
    if not isinstance(data, dict):
        raise SeedError('the seed must be a JSON object such as {"interviews": [...]}')
    for name in data:
        if name not in TOP_LEVEL:
            raise SeedError(f"unknown top-level field {name!r}; a seed holds only {' and '.join(TOP_LEVEL)}")
    if "key" in data and not isinstance(data["key"], str):
        raise SeedError("key: must be the text of a dlv_ key of this sandbox")
    for i, interview in enumerate(_rows(data, "interviews", "seed")):
        where = f"interviews[{i}]"
        for name in CHILDREN:
            for j, session in enumerate(_rows(interview, name, where)):
                if name == "sessions":
                    _rows(session, "messages", f"{where}.sessions[{j}]")


def apply(store: Store, data: dict[str, Any], project_id: str, user_id: str) -> dict[str, Any]:
    """Insert the document's rows (already `check`ed) into `project_id`, created by `user_id`.

    Returns {"interviewIds": [...], "added": {kind: n}, "existing": {kind: n}}."""
    added = dict.fromkeys(KINDS, 0)
    existing = dict.fromkeys(KINDS, 0)
    interview_ids = []

    def insert(kind: str, sql: str, params: tuple[Any, ...]) -> None:
        inserted = store.conn.execute(sql, params).rowcount == 1
        (added if inserted else existing)[kind] += 1

    with store.tx():
        for i, raw in enumerate(data.get("interviews", [])):
            where = f"interviews[{i}]"
            columns = {k: v for k, v in raw.items() if k not in CHILDREN}
            iid = _id(columns, where, f"{project_id}:interview:{i}")
            now = store.now()
            row = interview_row(project_id, user_id, "Seeded interview", now)
            row["publicSlug"] = None  # dashboard-made interviews have no slug until published
            row.update(columns)
            row["id"] = iid
            interview_ids.append(iid)
            insert(
                "interviews",
                "INSERT OR IGNORE INTO interviews (id, project_id, public_slug, created_at, updated_at, data)"
                " VALUES (?,?,?,?,?,?)",
                (
                    iid,
                    _text(row.get("projectId"), "") or None,
                    _text(row.get("publicSlug"), "") or None,
                    _text(row.get("createdAt"), now),
                    _text(row.get("updatedAt"), now),
                    dumps(row),
                ),
            )
            for j, qraw in enumerate(raw.get("questions", [])):
                qid = _id(qraw, f"{where}.questions[{j}]", f"{iid}:question:{j}")
                q = question_row(iid, j, "Seeded question", now)
                q.update(qraw)
                q["id"], q["interviewId"] = qid, iid
                order = q.get("order")
                ordinal = order if isinstance(order, int) and not isinstance(order, bool) else j
                insert(
                    "questions",
                    "INSERT OR IGNORE INTO questions (id, interview_id, ord, data) VALUES (?,?,?,?)",
                    (qid, iid, ordinal, dumps(q)),
                )
            for j, craw in enumerate(raw.get("candidates", [])):
                cid = _id(craw, f"{where}.candidates[{j}]", f"{iid}:candidate:{j}")
                c = candidate_row(iid, "", now)
                c.update(craw)
                c["id"], c["interviewId"] = cid, iid
                insert(
                    "candidates",
                    "INSERT OR IGNORE INTO candidates (id, interview_id, created_at, invite_token, data)"
                    " VALUES (?,?,?,?,?)",
                    (cid, iid, _text(c.get("createdAt"), now), _text(c.get("inviteToken"), ""), dumps(c)),
                )
            for j, sraw in enumerate(raw.get("sessions", [])):
                _seed_session(store, iid, sraw, f"{where}.sessions[{j}]", j, insert)
    return {"interviewIds": interview_ids, "added": added, "existing": existing}


Insert = Callable[[str, str, tuple[Any, ...]], None]  # (kind, SQL, parameters): one counted row


def _seed_session(
    store: Store, iid: str, raw: dict[str, Any], where: str, index: int, insert: Insert
) -> None:
    columns = {k: v for k, v in raw.items() if k != "messages"}
    sid = _id(columns, where, f"{iid}:session:{index}")
    messages_raw = raw.get("messages", [])
    now = store.now()
    # Left-out times follow the messages: a session starts with its first and ends with its last.
    stamps = [m.get("timestamp") for m in messages_raw]
    first = _text(stamps[0], now) if stamps else now
    created = _text(columns.get("createdAt"), "") or first
    try:
        start = parse_iso(created)
    except ValueError:
        start = parse_iso(now)
    last = _text(stamps[-1], created) if stamps else created
    status = columns.get("status", "COMPLETED")
    duration: int | None = None
    if status != "IN_PROGRESS":
        try:
            duration = max(0, round((parse_iso(last) - start).total_seconds()))
        except ValueError:
            duration = None
    session: dict[str, Any] = {
        "id": sid,
        "interviewId": iid,
        "candidateId": None,
        "status": status,
        "participantName": None,
        "participantEmail": None,
        "summary": None,
        "insights": None,
        "themes": [],
        "sentiment": None,
        "totalDurationSeconds": duration,
        "startedAt": created,
        "completedAt": last if status == "COMPLETED" else None,
        "antiCheatingLog": [],
        "createdAt": created,
        "updatedAt": last,
    }
    session.update(columns)
    session["id"], session["interviewId"] = sid, iid
    duration = session.get("totalDurationSeconds")
    seconds = int(duration) if isinstance(duration, int | float) and not isinstance(duration, bool) else 0
    messages = []
    for k, mraw in enumerate(messages_raw):
        mid = _id(mraw, f"{where}.messages[{k}]", f"{sid}:message:{k}")
        m = message_row(sid, "USER", "", start + timedelta(seconds=k))
        m.update(mraw)
        m["id"], m["sessionId"] = mid, sid
        messages.append(m)
    insert(
        "sessions",
        "INSERT OR IGNORE INTO sessions (id, interview_id, created_at, status, msg_count, duration, data)"
        " VALUES (?,?,?,?,?,?,?)",
        (sid, iid, created, _text(session.get("status"), ""), len(messages), seconds, dumps(session)),
    )
    for k, m in enumerate(messages):
        insert(
            "messages",
            "INSERT OR IGNORE INTO messages (id, session_id, ts, seq, data) VALUES (?,?,?,?,?)",
            (m["id"], sid, _text(m.get("timestamp"), iso(start)), k, dumps(m)),
        )
    store.conn.execute(  # the list's message count is the number of messages the detail returns
        "UPDATE sessions SET msg_count=(SELECT COUNT(*) FROM messages WHERE session_id=?) WHERE id=?",
        (sid, sid),
    )
