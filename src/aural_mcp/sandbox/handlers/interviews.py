"""Interviews: list (keyset on updatedAt), get, create, update, archive, publish."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aural_mcp.operations import AI_TONES, FOLLOW_UP_DEPTHS
from aural_mcp.sandbox import coerce as js
from aural_mcp.sandbox.auth import Ctx, pg_uuid
from aural_mcp.sandbox.errors import bad_request, db_error, not_found
from aural_mcp.sandbox.handlers.base import (
    Check,
    Req,
    Unhandled,
    filled_str,
    int4_check,
    int_or_null,
    is_bool,
    is_str,
    or_null,
    page_limit,
    read_fields,
    trim,
)
from aural_mcp.sandbox.handlers.plans import PlanLimits
from aural_mcp.sandbox.store import Store, loads, new_id, token


def interview_row(project_id: str | None, user_id: str, title: str, now: str) -> dict[str, Any]:
    """A new interview row with the database's defaults."""
    return {
        "id": new_id(),
        "title": title,
        "description": None,
        "objective": None,
        "assessmentCriteria": None,
        "chatEnabled": True,
        "voiceEnabled": False,
        "videoEnabled": False,
        "antiCheatingEnabled": False,
        "aiName": "Aural",
        "aiTone": "PROFESSIONAL",
        "followUpDepth": "MODERATE",
        "language": "en",
        "timeLimitMinutes": None,
        "isActive": True,
        "requireInvite": True,
        "publicSlug": token(10),
        "projectId": project_id,
        "userId": user_id,
        "mode": "CHAT",
        "allowModeSwitch": True,
        "aiPersona": None,
        "llmProvider": None,
        "llmModel": None,
        "customBranding": None,
        "invitedEmails": [],
        "videoMode": False,
        "jobDescription": None,
        "resumeText": None,
        "parsedResume": None,
        "companyName": None,
        "roleTitle": None,
        "createdAt": now,
        "updatedAt": now,
    }


def _criteria_ok(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(c, dict) and isinstance(c.get("name"), str) and isinstance(c.get("description"), str)
        for c in value
    )


def _positive_int(value: Any) -> bool:
    return js.is_json_int(value) and value >= 1


def _one_of(values: tuple[str, ...]) -> Callable[[Any], bool]:
    return lambda v: v in values


_CRITERIA_MESSAGE = "assessmentCriteria must be an array of { name, description }."

# Create rejects only these; any other field of the wrong type is ignored (see _CREATE_TAKES).
_CREATE_CHECKS = (
    Check("title", filled_str, "title is required.", trim, required=True),
    Check("assessmentCriteria", or_null(_criteria_ok), _CRITERIA_MESSAGE),
    Check(
        "timeLimitMinutes",
        or_null(_positive_int),
        "timeLimitMinutes must be a positive integer.",
        int_or_null,
    ),
)

# The fields create takes when they have the right kind of value; otherwise the column default stays.
_CREATE_TAKES: tuple[tuple[str, Callable[[Any], bool]], ...] = (
    ("description", is_str),
    ("objective", is_str),
    ("chatEnabled", is_bool),
    ("voiceEnabled", is_bool),
    ("videoEnabled", is_bool),
    ("antiCheatingEnabled", is_bool),
    ("aiTone", _one_of(AI_TONES)),
    ("followUpDepth", _one_of(FOLLOW_UP_DEPTHS)),
)

# Update checks each field sent, in this order (the API's), and changes only those.
_UPDATE_CHECKS = (
    Check("title", filled_str, "title must be a non-empty string.", trim),
    Check("description", or_null(is_str), "description must be a string or null."),
    Check("objective", or_null(is_str), "objective must be a string or null."),
    Check("assessmentCriteria", or_null(_criteria_ok), _CRITERIA_MESSAGE),
    Check("chatEnabled", is_bool, "chatEnabled must be a boolean."),
    Check("voiceEnabled", is_bool, "voiceEnabled must be a boolean."),
    Check("videoEnabled", is_bool, "videoEnabled must be a boolean."),
    Check("aiName", or_null(is_str), "aiName must be a string or null."),
    Check("aiTone", _one_of(AI_TONES), "Invalid aiTone."),
    Check("followUpDepth", _one_of(FOLLOW_UP_DEPTHS), "Invalid followUpDepth."),
    Check("language", or_null(is_str), "language must be a string or null."),
    Check(
        "timeLimitMinutes",
        or_null(_positive_int),
        "timeLimitMinutes must be a positive integer or null.",
        int_or_null,
    ),
    Check("antiCheatingEnabled", is_bool, "antiCheatingEnabled must be a boolean."),
)
_NOT_NULL_COLUMNS = ("aiName", "language")  # update accepts null for them; the database does not


class Interviews:
    def __init__(self, store: Store, limits: PlanLimits) -> None:
        self.store = store
        self.limits = limits

    def _counts(self, iid: str) -> tuple[int, int]:
        q = self.store.scalar("SELECT COUNT(*) FROM questions WHERE interview_id=?", iid)
        s = self.store.scalar("SELECT COUNT(*) FROM sessions WHERE interview_id=?", iid)
        return int(q), int(s)

    def list_interviews(self, ctx: Ctx, req: Req) -> Any:
        if not ctx.projects:
            return {"data": [], "cursor": None}
        limit = page_limit(req.query.get("limit"))
        marks = ",".join("?" * len(ctx.projects))
        sql = f"SELECT data FROM interviews WHERE project_id IN ({marks})"
        params: list[Any] = list(ctx.projects)
        cursor = req.query.get("cursor") or ""
        if pg_uuid(cursor):
            at = self.store.scalar("SELECT updated_at FROM interviews WHERE id=?", pg_uuid(cursor))
            if at is not None:
                sql += " AND updated_at <= ?"
                params.append(at)
        sql += " ORDER BY updated_at DESC LIMIT ?"
        rows = [loads(r["data"]) for r in self.store.all(sql, *params, limit + 1)]
        more = len(rows) > limit
        rows = rows[:limit]
        for row in rows:
            q, s = self._counts(row["id"])
            row["_count"] = {"questions": q, "sessions": s}
        return {"data": rows, "cursor": rows[-1]["id"] if more else None}

    def create_interview(self, ctx: Ctx, req: Req) -> Any:
        if not ctx.projects:
            raise bad_request("No accessible project found for this API key.")
        body = req.json("Invalid JSON body.")
        if body is None:
            raise Unhandled("Cannot read properties of null (reading 'title')")
        if not isinstance(body, dict):
            body = {}
        checked = read_fields(body, _CREATE_CHECKS)
        self.limits.check(ctx, "templates")
        row = interview_row(ctx.projects[0], ctx.user_id, checked["title"], self.store.now())
        for name, takes in _CREATE_TAKES:
            if takes(body.get(name)):
                row[name] = body[name]
        for name, default in (("aiName", "Aural"), ("language", "en")):
            v = body.get(name)
            row[name] = js.trim(v) if isinstance(v, str) and js.trim(v) else default
        row.update(checked)
        self.store.save_interview(int4_check(row), insert=True)
        return {"data": row}

    def get_interview(self, ctx: Ctx, req: Req) -> Any:
        row = ctx.scoped_interview(req.params["id"])
        row["questions"] = self.store.questions_of(row["id"])
        row["_count"] = {"sessions": self._counts(row["id"])[1]}
        return {"data": row}

    def update_interview(self, ctx: Ctx, req: Req) -> Any:
        if not ctx.projects:
            raise not_found("Interview not found.")
        body = req.json("Invalid JSON body.")
        if isinstance(body, list):
            raise bad_request("No valid fields to update.")
        if not isinstance(body, dict):
            raise Unhandled("Cannot use 'in' operator to search for 'title' in a non-object body")
        changes = read_fields(body, _UPDATE_CHECKS)
        if not changes:
            raise bad_request("No valid fields to update.")
        row = ctx.scoped_interview(req.params["id"])
        for name in _NOT_NULL_COLUMNS:
            if name in changes and changes[name] is None:
                raise db_error(
                    f'null value in column "{name}" of relation "interviews" violates not-null constraint'
                )
        row.update(changes)
        row["updatedAt"] = self.store.now()
        self.store.save_interview(int4_check(row))
        return {"data": row}

    def archive_interview(self, ctx: Ctx, req: Req) -> Any:
        row = ctx.scoped_interview(req.params["id"])
        row["isActive"] = False
        row["updatedAt"] = self.store.now()
        self.store.save_interview(row)
        return {"data": {"id": row["id"], "archived": True}}

    def publish_interview(self, ctx: Ctx, req: Req) -> Any:
        row = ctx.scoped_interview(req.params["id"])
        row["isActive"] = True
        row["requireInvite"] = False
        if not (isinstance(row.get("publicSlug"), str) and js.trim(row["publicSlug"])):
            row["publicSlug"] = token(10)
        row["updatedAt"] = self.store.now()
        self.store.save_interview(row)
        url = f"{req.base_url}/i/{row['publicSlug']}"
        return {"data": {"id": row["id"], "publicSlug": row["publicSlug"], "url": url}}
