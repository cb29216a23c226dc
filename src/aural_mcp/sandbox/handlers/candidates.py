"""Candidates: list, add (one object or a list of up to 500), update."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from aural_mcp.sandbox import coerce as js
from aural_mcp.sandbox.auth import Ctx, require_uuid
from aural_mcp.sandbox.errors import bad_request, forbidden, not_found
from aural_mcp.sandbox.handlers.base import (
    Check,
    Req,
    filled_str,
    int4_check,
    int_or_null,
    is_str,
    or_null,
    read_fields,
    trim,
    zod_int,
    zod_type,
)
from aural_mcp.sandbox.handlers.plans import PlanLimits
from aural_mcp.sandbox.store import ROLES, Store, loads, new_id, token

PROFILE_FIELDS = ("gender", "birthday", "education", "school", "major", "graduationYear", "workExperience")


def candidate_row(interview_id: str, name: str, now: str) -> dict[str, Any]:
    """A new candidate row with the database's defaults and a fresh invite token."""
    return {
        "id": new_id(),
        "interviewId": interview_id,
        "name": name,
        "email": None,
        "phone": None,
        "notes": None,
        "inviteToken": token(12),
        "sessionId": None,
        **dict.fromkeys(PROFILE_FIELDS),
        "createdAt": now,
        "updatedAt": now,
    }


def candidate_list_shape(row: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "name", "email", "phone", "notes", "inviteToken", "sessionId", *PROFILE_FIELDS, "createdAt")
    return {k: row.get(k) for k in keys}


def invite_url(base: str, invite_token: str) -> str:
    return f"{base}/i/invite/{quote(invite_token, safe='')}"


def _zod_string(name: str) -> Check:
    return zod_type(name, "string", is_str, nullable=True)


# The profile fields, zod-checked (null clears one); add and update both check them first.
_PROFILE_CHECKS = (
    _zod_string("gender"),
    _zod_string("birthday"),
    Check("birthday", or_null(js.iso_date_ok), "Invalid ISO date"),
    _zod_string("education"),
    _zod_string("school"),
    _zod_string("major"),
    *zod_int("graduationYear", nullable=True, convert=int_or_null),
    _zod_string("workExperience"),
)


def _trimmed_email_ok(value: Any) -> bool:
    return value is None or js.email_ok(js.trim(value))


def _trim_or_null(value: str | None) -> str | None:
    return None if value is None else js.trim(value)


_UPDATE_CHECKS = (
    *_PROFILE_CHECKS,
    Check("name", is_str, lambda v: js.expected("string", v)),
    Check("name", filled_str, "Too small: expected string to have >=1 characters", trim),
    _zod_string("email"),
    Check("email", _trimmed_email_ok, "Invalid email address", _trim_or_null),
    _zod_string("phone"),
    _zod_string("notes"),
)

_ROW_KEYS = (
    "id",
    "interviewId",
    "name",
    "email",
    "phone",
    "notes",
    "inviteToken",
    "sessionId",
    *PROFILE_FIELDS,
)


def _clean_str(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = js.trim(value)
    return value or None


class Candidates:
    def __init__(self, store: Store, limits: PlanLimits) -> None:
        self.store = store
        self.limits = limits

    def list_candidates(self, ctx: Ctx, req: Req) -> Any:
        interview = ctx.interview_for_records(req.params["id"])
        rows = self.store.all(
            "SELECT data FROM candidates WHERE interview_id=? ORDER BY created_at DESC, rowid DESC",
            interview["id"],
        )
        return {"data": [candidate_list_shape(loads(r["data"])) for r in rows]}

    def add_candidates(self, ctx: Ctx, req: Req) -> Any:
        interview = ctx.interview_for_records(req.params["id"])
        body = req.json("Invalid JSON body")
        items = body if isinstance(body, list) else [body]
        if not items:
            raise bad_request("At least one candidate is required")
        if len(items) > 500:
            raise bad_request("Maximum 500 candidates per request")
        now = self.store.now()
        rows = []
        for item in items:
            if isinstance(item, list):
                raise bad_request(js.expected("object", item))
            if not isinstance(item, dict):
                raise bad_request("Each candidate must be an object")
            name = item.get("name")
            email = _clean_str(item.get("email"))
            row = candidate_row(interview["id"], js.trim(name) if isinstance(name, str) else "", now)
            row["email"] = email.lower() if email else None
            row["phone"] = _clean_str(item.get("phone"))
            row["notes"] = _clean_str(item.get("notes"))
            row.update(read_fields(item, _PROFILE_CHECKS))
            rows.append(row)
        self.limits.check(ctx, "session_hours")
        out = []
        for row in rows:
            self.store.save_candidate(int4_check(row), insert=True)
            shaped = candidate_list_shape(row)
            shaped["updatedAt"] = row["updatedAt"]
            shaped["inviteUrl"] = invite_url(req.base_url, row["inviteToken"])
            out.append(shaped)
        return {"data": out}

    def update_candidate(self, ctx: Ctx, req: Req) -> Any:
        interview = ctx.interview_for_records(req.params["id"])
        role = ctx.role_in(interview.get("projectId"))
        if ROLES.index(role) < ROLES.index("MEMBER"):
            raise forbidden("MEMBER role or higher required.")
        body = req.json("Invalid JSON body.")
        if not isinstance(body, dict):
            raise bad_request(js.expected("object", body))
        changes = read_fields(body, _UPDATE_CHECKS)
        if not changes:
            raise bad_request("No valid fields to update.")
        cid = require_uuid(req.params["candidateId"])
        row = self.store.get("candidates", cid)
        if row is None or row["interviewId"] != interview["id"]:
            raise not_found("Candidate not found.")
        row.update(changes)
        self.store.save_candidate(int4_check(row))
        return {
            "data": {
                **{k: row.get(k) for k in _ROW_KEYS},
                "createdAt": row["createdAt"],
                "updatedAt": row["updatedAt"],
            }
        }
