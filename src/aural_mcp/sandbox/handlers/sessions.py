"""Sessions: list (keyset cursor), get with its messages, the report, and bulk end."""

from __future__ import annotations

from typing import Any

from aural_mcp.sandbox import coerce as js
from aural_mcp.sandbox.auth import Ctx, pg_uuid, require_uuid
from aural_mcp.sandbox.errors import bad_request, forbidden, not_found
from aural_mcp.sandbox.handlers.base import Check, Req, is_bool, page_limit, read_fields, zod_type
from aural_mcp.sandbox.store import ROLES, Store, iso, loads, parse_iso

# The session fields both shapes share, in the API's order.
_SESSION_FIELDS = (
    "id",
    "status",
    "participantName",
    "participantEmail",
    "summary",
    "insights",
    "themes",
    "sentiment",
    "totalDurationSeconds",
    "createdAt",
)


def session_list_shape(row: dict[str, Any], msg_count: int) -> dict[str, Any]:
    out = {k: row.get(k) for k in (*_SESSION_FIELDS, "updatedAt")}
    out["_count"] = {"messages": msg_count}
    return out


def session_detail(store: Store, row: dict[str, Any]) -> dict[str, Any]:
    out = {k: row.get(k) for k in _SESSION_FIELDS}
    out["messages"] = [
        {"id": m["id"], "role": m["role"], "content": m["content"], "timestamp": m["timestamp"]}
        for m in store.messages_of(row["id"])
    ]
    interview = store.get("interviews", row["interviewId"]) or {}
    out["interview"] = {
        "id": row["interviewId"],
        "title": interview.get("title"),
        "objective": interview.get("objective"),
    }
    return out


def complete_session(store: Store, row: dict[str, Any]) -> None:
    """What bulk end does to an in-progress session: completed now, and no report is generated.
    A timed simulated session's plan is dropped: its remaining messages never arrive."""
    now_text = store.now()
    now = parse_iso(now_text)
    first = store.scalar("SELECT MIN(ts) FROM messages WHERE session_id=?", row["id"])
    created = store.scalar("SELECT created_at FROM sessions WHERE id=?", row["id"])
    started = now
    for candidate in (first, row.get("startedAt"), row.get("createdAt"), created):
        if not isinstance(candidate, str):
            continue  # the first readable time: seeded rows may hold null or text that is not one
        try:
            started = parse_iso(candidate)
            break
        except ValueError:
            continue
    row["startedAt"] = iso(started)
    row["completedAt"] = now_text
    row["status"] = "COMPLETED"
    row["totalDurationSeconds"] = max(0, round((now - started).total_seconds()))
    row["updatedAt"] = now_text
    store.save_session(row)
    store.drop_plan(row["id"])


def _first_id_problem(ids: list[Any]) -> str | None:
    """zod's message for the first id that is not a non-empty string (after trimming)."""
    for item in ids:
        if not isinstance(item, str):
            return js.expected("string", item)
        if not js.trim(item):
            return "Too small: expected string to have >=1 characters"
    return None


_END_CHECKS = (
    Check("ids", lambda v: isinstance(v, list), lambda v: js.expected("array", v), required=True),
    Check("ids", lambda v: _first_id_problem(v) is None, lambda v: _first_id_problem(v) or ""),
    Check("ids", lambda v: len(v) >= 1, "Too small: expected array to have >=1 items"),
    Check(
        "ids",
        lambda v: len(v) <= 100,
        "Too big: expected array to have <=100 items",
        lambda v: [js.trim(i) for i in v],
    ),
    zod_type("dryRun", "boolean", is_bool, nullable=False),
)


class Sessions:
    def __init__(self, store: Store) -> None:
        self.store = store

    def list_sessions(self, ctx: Ctx, req: Req) -> Any:
        interview = ctx.interview_for_records(req.params["id"])
        limit = page_limit(req.query.get("limit"))
        sql = "SELECT data, msg_count FROM sessions WHERE interview_id=?"
        params: list[Any] = [interview["id"]]
        cursor = req.query.get("cursor") or ""
        if cursor:
            at = None
            if pg_uuid(cursor):
                at = self.store.one(
                    "SELECT created_at, id FROM sessions WHERE id=? AND interview_id=?",
                    pg_uuid(cursor),
                    interview["id"],
                )
            if at is None:
                raise bad_request("Invalid cursor")
            sql += " AND (created_at, id) < (?, ?)"
            params += [at["created_at"], at["id"]]
        sql += " ORDER BY created_at DESC, id DESC LIMIT ?"
        rows = self.store.all(sql, *params, limit + 1)
        more = len(rows) > limit
        data = [session_list_shape(loads(r["data"]), r["msg_count"]) for r in rows[:limit]]
        return {"data": data, "cursor": data[-1]["id"] if more else None}

    def get_session(self, ctx: Ctx, req: Req) -> Any:
        row = ctx.row_of_an_interview(
            "sessions", req.params["id"], "Session not found", "You do not have access to this session"
        )
        return {"data": session_detail(self.store, row)}

    def get_session_report(self, ctx: Ctx, req: Req) -> Any:
        sid = require_uuid(req.params["id"])
        row = self.store.get("sessions", sid)
        if row is None:
            raise not_found("Session not found.")
        interview = ctx.interview_for_records(row["interviewId"])
        messages = self.store.messages_of(sid)
        report = {
            "interviewTitle": interview.get("title"),
            "interviewObjective": interview.get("objective"),
            "participantName": row.get("participantName"),
            "participantEmail": row.get("participantEmail"),
            "status": row["status"],
            "createdAt": row["createdAt"],
            "summary": row.get("summary"),
            "insights": row.get("insights"),
            "themes": row.get("themes", []),
            "sentiment": row.get("sentiment"),
            "messages": messages,
            "totalDurationSeconds": row.get("totalDurationSeconds"),
            "audioRecordingUrl": None,
            "audioRecordings": [],
            "audioDuration": None,
            "screenshots": None,
            "antiCheatingLog": row.get("antiCheatingLog", []),
        }
        return {"data": report}

    def end_sessions(self, ctx: Ctx, req: Req) -> Any:
        interview = ctx.interview_for_records(req.params["id"])
        body = req.json("Invalid JSON body.")
        if not isinstance(body, dict):
            raise bad_request(js.expected("object", body))
        checked = read_fields(body, _END_CHECKS)
        ids: list[str] = checked["ids"]
        dry: bool = checked.get("dryRun", True)  # a dry run unless asked otherwise
        role = ctx.role_in(interview.get("projectId"))
        if ROLES.index(role) < ROLES.index("MEMBER"):
            raise forbidden(
                f"You need at least MEMBER permission to perform this action. Your current role is {role}."
            )
        results = []
        for sid in dict.fromkeys(ids):
            canonical = pg_uuid(sid)
            if canonical is None:
                results.append(
                    {"id": sid, "status": "failed", "reason": f'invalid input syntax for type uuid: "{sid}"'}
                )
                continue
            row = self.store.get("sessions", canonical)
            if row is None or row["interviewId"] != interview["id"] or row["status"] != "IN_PROGRESS":
                results.append(
                    {
                        "id": sid,
                        "status": "skipped",
                        "reason": "Session not found in interview or not in progress.",
                    }
                )
            elif dry:
                results.append({"id": sid, "status": "eligible"})
            else:
                complete_session(self.store, row)
                results.append({"id": sid, "status": "succeeded"})
        return {"data": {"dryRun": dry, "results": results}}
