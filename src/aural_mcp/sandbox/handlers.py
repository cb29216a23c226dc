"""The /api/v1 operations, one method each, following the contract's §7 step by step.

Every method takes the resolved caller (`Ctx`) and the request (`Req`) and returns the JSON
document to send with status 200, or raises `ApiError` (an enveloped error) or `Unhandled` (the
framework's non-JSON 500 of contract §4). The app runs each call inside one database
transaction, committed before the response is sent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from aural_mcp.operations import AI_TONES, FOLLOW_UP_DEPTHS, QUESTION_TYPES
from aural_mcp.sandbox import coerce as js
from aural_mcp.sandbox.auth import Ctx, pg_uuid, require_uuid
from aural_mcp.sandbox.coerce import MISSING
from aural_mcp.sandbox.errors import ApiError, bad_request, db_error, forbidden, not_found
from aural_mcp.sandbox.store import ROLES, Store, loads, new_id, token

PROFILE_FIELDS = ("gender", "birthday", "education", "school", "major", "graduationYear", "workExperience")
PLANS: dict[str, dict[str, float | None]] = {
    "free": {"templates": 3, "session_hours": 1, "ai_tokens": 100_000, "seats": 1},
    "starter": {"templates": 20, "session_hours": 10, "ai_tokens": 1_000_000, "seats": 3},
    "pro": {"templates": 100, "session_hours": 100, "ai_tokens": 10_000_000, "seats": 10},
    "unlimited": {"templates": None, "session_hours": None, "ai_tokens": None, "seats": None},
}
UPGRADE_URL = "https://aural-ai.com/pricing"


class Unhandled(Exception):  # noqa: N818 - mirrors an uncaught exception in the real server
    """An exception the real route does not catch: a 500 without the JSON envelope."""


@dataclass
class Req:
    params: dict[str, str]
    query: dict[str, str]
    body: bytes
    base_url: str = ""
    extras: dict[str, Any] = field(default_factory=dict)

    def json(self, invalid_message: str) -> Any:
        try:
            return js.parse_json(self.body)
        except ValueError:
            raise bad_request(invalid_message) from None


# -- resource shapes ------------------------------------------------------------------------


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


def question_row(interview_id: str, order: int, text: str, now: str) -> dict[str, Any]:
    """A new question row with the database's defaults."""
    return {
        "id": new_id(),
        "interviewId": interview_id,
        "order": order,
        "text": text,
        "type": "OPEN_ENDED",
        "isRequired": True,
        "probeOnShort": True,
        "options": None,
        "description": None,
        "timeLimitSeconds": None,
        "starterCode": None,
        "validationRules": None,
        "followUpPrompts": None,
        "showIf": None,
        "skipIf": None,
        "probeThreshold": None,
        "allowFileUpload": False,
        "allowedFileTypes": [],
        "createdAt": now,
        "updatedAt": now,
    }


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


# The session fields both shapes share, in the API's order (contract §6.3, §6.4).
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
    keys = _SESSION_FIELDS
    out = {k: row.get(k) for k in keys}
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
    keys = (
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
    out = {k: practice.get(k) for k in keys}
    out["interviewTitle"] = interview.get("title")
    out["attemptCount"] = len(rows)
    out["averageScore"] = sum(scores) / len(scores) if scores else None
    out["bestScore"] = max(scores) if scores else None
    out["questionCount"] = int(
        store.scalar("SELECT COUNT(*) FROM questions WHERE interview_id=?", practice["interviewId"])
    )
    return out


# -- validation helpers ----------------------------------------------------------------------


def _criteria_ok(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(c, dict) and isinstance(c.get("name"), str) and isinstance(c.get("description"), str)
        for c in value
    )


def _limit(raw: str | None) -> int:
    n = js.leading_int(raw)
    if n is None or n < 1:
        return 20
    return min(n, 100)


def _zod_question_extras(item: dict[str, Any]) -> dict[str, Any]:
    """The [official] extra question fields (§7.8): zod messages that do not name the field."""
    out: dict[str, Any] = {}
    for name in ("description", "starterCode", "validationRules", "followUpPrompts", "showIf", "skipIf"):
        if name not in item:
            continue
        v = item[name]
        if name == "description" and v is not None and not isinstance(v, str):
            raise bad_request(js.expected("string", v))
        if name == "starterCode" and v is not None:
            if not isinstance(v, dict):
                raise bad_request(js.expected("record", v))
            for code in v.values():
                if not isinstance(code, str):
                    raise bad_request(js.expected("string", code))
        out[name] = v
    if "probeThreshold" in item:
        v = item["probeThreshold"]
        if v is not None and not js.is_number(v):
            raise bad_request(js.expected("number", v))
        out["probeThreshold"] = v
    if "timeLimitSeconds" in item:
        v = item["timeLimitSeconds"]
        if v is not None:
            _zod_int(v)
            if v <= 0:
                raise bad_request("Too small: expected number to be >0")
            v = int(v)
        out["timeLimitSeconds"] = v
    if "allowFileUpload" in item:
        v = item["allowFileUpload"]
        if not isinstance(v, bool):
            raise bad_request(js.expected("boolean", v))
        out["allowFileUpload"] = v
    if "allowedFileTypes" in item:
        v = item["allowedFileTypes"]
        if not isinstance(v, list):
            raise bad_request(js.expected("array", v))
        for t in v:
            if not isinstance(t, str):
                raise bad_request(js.expected("string", t))
        out["allowedFileTypes"] = v
    return out


def _zod_int(v: Any) -> None:
    """zod's `.int()`: a finite number, an integer, and a safe one (|v| <= 2**53 - 1)."""
    if not js.is_number(v) or not math.isfinite(v):
        raise bad_request(js.expected("number", v))
    if not js.is_json_int(v):
        raise bad_request(js.expected("int", v))
    if v > js.MAX_SAFE_INTEGER:
        raise bad_request(f"Too big: expected int to be <={js.MAX_SAFE_INTEGER}")
    if v < -js.MAX_SAFE_INTEGER:
        raise bad_request(f"Too small: expected int to be >=-{js.MAX_SAFE_INTEGER}")


INT4 = (-(2**31), 2**31 - 1)
INT_COLUMNS = ("order", "timeLimitSeconds", "timeLimitMinutes", "graduationYear", "probeThreshold")


def int4_check(row: dict[str, Any]) -> dict[str, Any]:
    """Postgres column rules: out-of-range `integer` values and U+0000 in text are a database
    error (500)."""
    if _holds_nul(row):
        raise db_error("unsupported Unicode escape sequence")
    for name in INT_COLUMNS:
        v = row.get(name)
        if isinstance(v, int) and not isinstance(v, bool) and not INT4[0] <= v <= INT4[1]:
            raise db_error(f'value "{js.js_string(v)}" is out of range for type integer')
    return row


def _holds_nul(value: Any) -> bool:
    todo = [value]  # no recursion: values may be nested thousands deep
    while todo:
        item = todo.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            todo.extend(item.keys())
            todo.extend(item.values())
        elif isinstance(item, list):
            todo.extend(item)
    return False


def _store_extras(extras: dict[str, Any]) -> dict[str, Any]:
    pt = extras.get("probeThreshold")
    if pt is not None and not js.is_json_int(pt):
        raise db_error(f'invalid input syntax for type integer: "{js.js_string(pt)}"')
    if pt is not None:
        extras["probeThreshold"] = int(pt)
    return int4_check(extras)


def _zod_profile(item: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in PROFILE_FIELDS:
        if name not in item:
            continue
        v = item[name]
        if v is None:
            out[name] = None
        elif name == "graduationYear":
            _zod_int(v)
            out[name] = int(v)
        elif not isinstance(v, str):
            raise bad_request(js.expected("string", v))
        elif name == "birthday" and not js.iso_date_ok(v):
            raise bad_request("Invalid ISO date")
        else:
            out[name] = v
    return out


def _clean_str(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = js.trim(value)
    return value or None


# -- the operations --------------------------------------------------------------------------


class Api:
    def __init__(self, store: Store, plan: str | None = None) -> None:
        if plan is not None and plan not in PLANS:
            raise ValueError(f"unknown plan {plan!r}; choose one of {', '.join(PLANS)}")
        self.store = store
        self.plan = plan

    # plan limits (contract §8) -----------------------------------------------------------

    def _templates_used(self, ctx: Ctx) -> int:
        if not ctx.projects:
            return 0
        marks = ",".join("?" * len(ctx.projects))
        return int(
            self.store.scalar(f"SELECT COUNT(*) FROM interviews WHERE project_id IN ({marks})", *ctx.projects)
        )

    def session_hours_used(self, ctx: Ctx) -> float:
        if not ctx.projects:
            return 0
        marks = ",".join("?" * len(ctx.projects))
        seconds = self.store.scalar(
            f"SELECT COALESCE(SUM(s.duration), 0) FROM sessions s JOIN interviews i ON i.id = s.interview_id"
            f" WHERE i.project_id IN ({marks})",
            *ctx.projects,
        )
        return round(int(seconds) / 3600, 2)

    def check_plan(self, ctx: Ctx, limit: str) -> None:
        if self.plan is None:
            return
        maximum = PLANS[self.plan][limit]
        if maximum is None:
            return
        current = self._templates_used(ctx) if limit == "templates" else self.session_hours_used(ctx)
        if current >= maximum:
            what = "interview templates" if limit == "templates" else "session hours this month"
            raise ApiError(
                403,
                "PLAN_LIMIT_EXCEEDED",
                f"Your {self.plan} plan allows {_num(maximum)} {what}. Upgrade your plan to continue.",
                limit=limit,
                current=_num(current),
                max=_num(maximum),
                upgrade_url=UPGRADE_URL,
            )

    # interviews ---------------------------------------------------------------------------

    def _counts(self, iid: str) -> tuple[int, int]:
        q = self.store.scalar("SELECT COUNT(*) FROM questions WHERE interview_id=?", iid)
        s = self.store.scalar("SELECT COUNT(*) FROM sessions WHERE interview_id=?", iid)
        return int(q), int(s)

    def list_interviews(self, ctx: Ctx, req: Req) -> Any:
        if not ctx.projects:
            return {"data": [], "cursor": None}
        limit = _limit(req.query.get("limit"))
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
        title = body.get("title")
        if not isinstance(title, str) or not js.trim(title):
            raise bad_request("title is required.")
        crit = body.get("assessmentCriteria")
        if crit is not None and not _criteria_ok(crit):
            raise bad_request("assessmentCriteria must be an array of { name, description }.")
        tlm = body.get("timeLimitMinutes")
        if tlm is not None and not (js.is_json_int(tlm) and tlm >= 1):
            raise bad_request("timeLimitMinutes must be a positive integer.")
        self.check_plan(ctx, "templates")
        row = interview_row(ctx.projects[0], ctx.user_id, js.trim(title), self.store.now())
        for name in ("description", "objective"):
            if isinstance(body.get(name), str):
                row[name] = body[name]
        row["assessmentCriteria"] = crit
        for name in ("chatEnabled", "voiceEnabled", "videoEnabled", "antiCheatingEnabled"):
            if isinstance(body.get(name), bool):
                row[name] = body[name]
        for name, default in (("aiName", "Aural"), ("language", "en")):
            v = body.get(name)
            row[name] = js.trim(v) if isinstance(v, str) and js.trim(v) else default
        if body.get("aiTone") in AI_TONES:
            row["aiTone"] = body["aiTone"]
        if body.get("followUpDepth") in FOLLOW_UP_DEPTHS:
            row["followUpDepth"] = body["followUpDepth"]
        row["timeLimitMinutes"] = int(tlm) if tlm is not None else None
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
        changes: dict[str, Any] = {}
        if "title" in body:
            v = body["title"]
            if not isinstance(v, str) or not js.trim(v):
                raise bad_request("title must be a non-empty string.")
            changes["title"] = js.trim(v)
        for name in ("description", "objective"):
            if name in body:
                if body[name] is not None and not isinstance(body[name], str):
                    raise bad_request(f"{name} must be a string or null.")
                changes[name] = body[name]
        if "assessmentCriteria" in body:
            v = body["assessmentCriteria"]
            if v is not None and not _criteria_ok(v):
                raise bad_request("assessmentCriteria must be an array of { name, description }.")
            changes["assessmentCriteria"] = v
        for name in ("chatEnabled", "voiceEnabled", "videoEnabled"):
            if name in body:
                if not isinstance(body[name], bool):
                    raise bad_request(f"{name} must be a boolean.")
                changes[name] = body[name]
        if "aiName" in body:
            if body["aiName"] is not None and not isinstance(body["aiName"], str):
                raise bad_request("aiName must be a string or null.")
            changes["aiName"] = body["aiName"]
        if "aiTone" in body:
            if body["aiTone"] not in AI_TONES:
                raise bad_request("Invalid aiTone.")
            changes["aiTone"] = body["aiTone"]
        if "followUpDepth" in body:
            if body["followUpDepth"] not in FOLLOW_UP_DEPTHS:
                raise bad_request("Invalid followUpDepth.")
            changes["followUpDepth"] = body["followUpDepth"]
        if "language" in body:
            if body["language"] is not None and not isinstance(body["language"], str):
                raise bad_request("language must be a string or null.")
            changes["language"] = body["language"]
        if "timeLimitMinutes" in body:
            v = body["timeLimitMinutes"]
            if v is not None and not (js.is_json_int(v) and v >= 1):
                raise bad_request("timeLimitMinutes must be a positive integer or null.")
            changes["timeLimitMinutes"] = int(v) if v is not None else None
        if "antiCheatingEnabled" in body:
            if not isinstance(body["antiCheatingEnabled"], bool):
                raise bad_request("antiCheatingEnabled must be a boolean.")
            changes["antiCheatingEnabled"] = body["antiCheatingEnabled"]
        if not changes:
            raise bad_request("No valid fields to update.")
        row = ctx.scoped_interview(req.params["id"])
        for name in ("aiName", "language"):
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

    # questions ----------------------------------------------------------------------------

    def list_questions(self, ctx: Ctx, req: Req) -> Any:
        interview = ctx.interview_for_questions(req.params["id"])
        return {"data": self.store.questions_of(interview["id"])}

    def create_questions(self, ctx: Ctx, req: Req) -> Any:
        interview = ctx.interview_for_questions(req.params["id"])
        body = req.json("Invalid JSON body")
        if isinstance(body, list):
            items = body
            if not items:
                raise bad_request("At least one question is required")
        elif isinstance(body, dict):
            items = [body]
        else:
            raise bad_request("Expected JSON object or array")
        top = self.store.scalar("SELECT MAX(ord) FROM questions WHERE interview_id=?", interview["id"])
        counter = 0 if top is None else int(top) + 1
        now = self.store.now()
        if not all(isinstance(item, dict) for item in items):  # every shape before any field
            raise bad_request("Each question must be an object")
        rows = []
        for item in items:
            text = item.get("text")
            # A string is trimmed; anything else becomes String(value), untrimmed (0 -> "0").
            if text is None or not js.trim(js.js_string(text)):
                raise bad_request("Each question must have non-empty text")
            text = js.trim(text) if isinstance(text, str) else js.js_string(text)
            qtype = item.get("type")
            if qtype is None:
                qtype = "OPEN_ENDED"
            elif js.js_string(qtype) not in QUESTION_TYPES:
                raise bad_request(f"Invalid question type: {js.js_string(qtype)}")
            else:
                qtype = js.js_string(qtype)
            if item.get("order") is None:
                order = counter
                counter = order + 1
            else:
                parsed = js.as_int(js.js_number(item["order"]))
                if parsed is None or parsed < 0:
                    raise bad_request("order must be a non-negative integer")
                order = parsed
                counter = max(counter, order + 1)
            options = item.get("options")
            if options is not None and not (
                isinstance(options, list) and all(isinstance(o, str) for o in options)
            ):
                raise bad_request("options must be an array of strings")
            extras = _zod_question_extras(item)
            req_flag = item.get("required")
            follow = item.get("followUpEnabled")
            row = question_row(interview["id"], order, text, now)
            row["type"] = qtype
            row["isRequired"] = True if req_flag is None else js.truthy(req_flag)
            row["probeOnShort"] = True if follow is None else js.truthy(follow)
            row["options"] = options
            row.update(extras)
            rows.append(row)
        for row in rows:
            _store_extras(row)
            self.store.save_question(row, insert=True)
        return {"data": rows}

    def _question_in_scope(self, ctx: Ctx, qid: str) -> dict[str, Any]:
        qid = require_uuid(qid)
        row = self.store.get("questions", qid)
        if row is None:
            raise not_found("Question not found")
        interview = self.store.get("interviews", row["interviewId"]) or {}
        if not ctx.in_scope(interview.get("projectId")):
            raise forbidden("No access to this question")
        return row

    def update_question(self, ctx: Ctx, req: Req) -> Any:
        body = req.json("Invalid JSON body")
        if not isinstance(body, dict):
            raise bad_request("Expected JSON object")
        changes: dict[str, Any] = {}
        if "text" in body:
            if not isinstance(body["text"], str) or not js.trim(body["text"]):
                raise bad_request("text must be a non-empty string")
            changes["text"] = js.trim(body["text"])
        if "type" in body:
            if body["type"] is None:
                raise bad_request("type cannot be null")
            if js.js_string(body["type"]) not in QUESTION_TYPES:
                raise bad_request(f"Invalid question type: {js.js_string(body['type'])}")
            changes["type"] = js.js_string(body["type"])
        if "order" in body:
            if body["order"] is None:
                raise bad_request("order cannot be null")
            order = js.as_int(js.js_number(body["order"]))
            if order is None or order < 0:
                raise bad_request("order must be a non-negative integer")
            changes["order"] = order
        if "required" in body:
            if body["required"] is None:
                raise bad_request("required cannot be null")
            changes["isRequired"] = js.truthy(body["required"])
        if "options" in body:
            v = body["options"]
            if v is not None:
                if not isinstance(v, list):
                    raise bad_request("options must be an array of strings or null")
                if not all(isinstance(o, str) for o in v):
                    raise bad_request("options must be an array of strings")
            changes["options"] = v
        if "followUpEnabled" in body:
            if body["followUpEnabled"] is None:
                raise bad_request("followUpEnabled cannot be null")
            changes["probeOnShort"] = js.truthy(body["followUpEnabled"])
        changes.update(_zod_question_extras(body))
        if not changes:
            raise bad_request("No valid fields to update")
        row = self._question_in_scope(ctx, req.params["id"])
        row.update(_store_extras(changes))
        row["updatedAt"] = self.store.now()
        self.store.save_question(row)
        return {"data": row}

    def delete_question(self, ctx: Ctx, req: Req) -> Any:
        row = self._question_in_scope(ctx, req.params["id"])
        self.store.conn.execute("DELETE FROM practice_attempts WHERE question_id=?", (row["id"],))
        self.store.conn.execute("DELETE FROM questions WHERE id=?", (row["id"],))
        # The one response that echoes the path parameter as sent, not the stored id.
        return {"data": {"id": req.params["id"], "deleted": True}}

    # sessions -----------------------------------------------------------------------------

    def list_sessions(self, ctx: Ctx, req: Req) -> Any:
        interview = ctx.interview_for_records(req.params["id"])
        limit = _limit(req.query.get("limit"))
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
        sid = require_uuid(req.params["id"])
        row = self.store.get("sessions", sid)
        if row is None:
            raise not_found("Session not found")
        interview = self.store.get("interviews", row["interviewId"]) or {}
        if not ctx.in_scope(interview.get("projectId")):
            raise forbidden("You do not have access to this session")
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
        ids = body.get("ids", MISSING)
        if not isinstance(ids, list):
            raise bad_request(js.expected("array", ids))
        cleaned = []
        for item in ids:
            if not isinstance(item, str):
                raise bad_request(js.expected("string", item))
            if not js.trim(item):
                raise bad_request("Too small: expected string to have >=1 characters")
            cleaned.append(js.trim(item))
        if len(cleaned) < 1:
            raise bad_request("Too small: expected array to have >=1 items")
        if len(cleaned) > 100:
            raise bad_request("Too big: expected array to have <=100 items")
        dry = body.get("dryRun", MISSING)
        if dry is MISSING:
            dry = True
        elif not isinstance(dry, bool):
            raise bad_request(js.expected("boolean", dry))
        role = ctx.role_in(interview.get("projectId"))
        if ROLES.index(role) < ROLES.index("MEMBER"):
            raise forbidden(
                f"You need at least MEMBER permission to perform this action. Your current role is {role}."
            )
        results = []
        for sid in dict.fromkeys(cleaned):
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

    # candidates ---------------------------------------------------------------------------

    def list_candidates(self, ctx: Ctx, req: Req) -> Any:
        interview = ctx.interview_for_records(req.params["id"])
        rows = self.store.all(
            "SELECT data FROM candidates WHERE interview_id=? ORDER BY created_at DESC, rowid DESC",
            interview["id"],
        )
        return {"data": [candidate_list_shape(loads(r["data"])) for r in rows]}

    def create_candidates(self, ctx: Ctx, req: Req) -> Any:
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
            row.update(_zod_profile(item))
            rows.append(row)
        self.check_plan(ctx, "session_hours")
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
        changes = _zod_profile(body)  # the profile fields are validated before name and email
        if "name" in body:
            v = body["name"]
            if not isinstance(v, str):
                raise bad_request(js.expected("string", v))
            if not js.trim(v):
                raise bad_request("Too small: expected string to have >=1 characters")
            changes["name"] = js.trim(v)
        if "email" in body:
            v = body["email"]
            if v is not None:
                if not isinstance(v, str):
                    raise bad_request(js.expected("string", v))
                v = js.trim(v)
                if not js.email_ok(v):
                    raise bad_request("Invalid email address")
            changes["email"] = v
        for name in ("phone", "notes"):
            if name in body:
                v = body[name]
                if v is not None and not isinstance(v, str):
                    raise bad_request(js.expected("string", v))
                changes[name] = v
        if not changes:
            raise bad_request("No valid fields to update.")
        cid = require_uuid(req.params["candidateId"])
        row = self.store.get("candidates", cid)
        if row is None or row["interviewId"] != interview["id"]:
            raise not_found("Candidate not found.")
        row.update(changes)
        self.store.save_candidate(int4_check(row))
        keys = (
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
        return {
            "data": {
                **{k: row.get(k) for k in keys},
                "createdAt": row["createdAt"],
                "updatedAt": row["updatedAt"],
            }
        }

    # practices ----------------------------------------------------------------------------

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

    # usage --------------------------------------------------------------------------------

    def get_usage(self, ctx: Ctx, req: Req) -> Any:
        limits = (
            PLANS[self.plan]
            if self.plan
            else dict.fromkeys(("templates", "session_hours", "ai_tokens", "seats"))
        )
        return {
            "data": {
                "plan": self.plan or "self-hosted",
                "templates": {"used": self._templates_used(ctx), "limit": limits["templates"]},
                "session_hours": {
                    "used": _num(self.session_hours_used(ctx)) if self.plan else 0,
                    "limit": limits["session_hours"],
                },
                "ai_tokens": {"used": 0, "limit": limits["ai_tokens"]},
                "seats": {"used": self.store.seat_count(ctx.org_id), "limit": limits["seats"]},
            }
        }


def complete_session(store: Store, row: dict[str, Any]) -> None:
    """What bulk end does to an in-progress session (§7.14): no report is generated."""
    from aural_mcp.sandbox.store import iso, parse_iso

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


def _num(value: float | int | None) -> float | int | None:
    if isinstance(value, float) and value.is_integer() and math.isfinite(value):
        return int(value)
    return value
