"""Practice runs: the caller's own runs of an interview, listed and read one by one."""

from __future__ import annotations

from typing import Any

from aural_mcp.sandbox import coerce as js
from aural_mcp.sandbox.auth import Ctx, require_uuid
from aural_mcp.sandbox.errors import bad_request, not_found
from aural_mcp.sandbox.handlers.base import Req
from aural_mcp.sandbox.store import Store, loads

_SUMMARY_FIELDS = (
    "id",
    "interviewId",
    "mode",
    "status",
    "timed",
    "durationLimitMinutes",
    "startedAt",
    "lastActivityAt",
    "completedAt",
    "totalDurationSeconds",
    "createdAt",
)


def practice_report(store: Store, practice: dict[str, Any]) -> dict[str, Any]:
    interview = store.get("interviews", practice["interviewId"]) or {}
    rows = store.all("SELECT data FROM practice_attempts WHERE practice_id=? ORDER BY rowid", practice["id"])
    return {
        "session": practice,
        "interview": {k: interview.get(k) for k in ("id", "title", "description", "objective", "language")},
        "questions": store.questions_of(practice["interviewId"]),
        "attempts": [loads(r["data"]) for r in rows],
    }


def practice_summary(store: Store, practice: dict[str, Any]) -> dict[str, Any]:
    interview = store.get("interviews", practice["interviewId"]) or {}
    rows = store.all("SELECT data FROM practice_attempts WHERE practice_id=?", practice["id"])
    scores = [s for s in (loads(r["data"]).get("score") for r in rows) if s is not None]
    out = {k: practice.get(k) for k in _SUMMARY_FIELDS}
    out["interviewTitle"] = interview.get("title")
    out["attemptCount"] = len(rows)
    out["averageScore"] = sum(scores) / len(scores) if scores else None
    out["bestScore"] = max(scores) if scores else None
    out["questionCount"] = int(
        store.scalar("SELECT COUNT(*) FROM questions WHERE interview_id=?", practice["interviewId"])
    )
    return out


class Practices:
    def __init__(self, store: Store) -> None:
        self.store = store

    def list_practices(self, ctx: Ctx, req: Req) -> Any:
        interview = ctx.interview_for_records(req.params["id"])
        raw = req.query.get("limit")
        limit = 100
        if raw is not None:
            n = js.as_int(js.js_number(raw))
            if n is None or not 1 <= n <= 500:
                raise bad_request("limit must be between 1 and 500.")
            limit = n
        rows = self.store.all(
            "SELECT data FROM practices WHERE interview_id=? AND user_id=? ORDER BY created_at DESC LIMIT ?",
            interview["id"],
            ctx.user_id,
            limit,
        )
        return {"data": [practice_summary(self.store, loads(r["data"])) for r in rows]}

    def get_practice(self, ctx: Ctx, req: Req) -> Any:
        pid = require_uuid(req.params["id"])
        row = self.store.get("practices", pid)
        if row is None or row["userId"] != ctx.user_id:
            raise not_found("Practice not found.")
        ctx.interview_for_records(row["interviewId"])
        return {"data": practice_report(self.store, row)}
