"""Questions: list, add (one object or a list, all or nothing), update, delete."""

from __future__ import annotations

from typing import Any

from aural_mcp.operations import QUESTION_TYPES
from aural_mcp.sandbox import coerce as js
from aural_mcp.sandbox.auth import Ctx
from aural_mcp.sandbox.errors import bad_request, db_error
from aural_mcp.sandbox.handlers.base import (
    Check,
    Req,
    as_is,
    filled_str,
    int4_check,
    int_or_null,
    is_bool,
    is_str,
    not_null,
    or_null,
    read_fields,
    trim,
    zod_int,
    zod_items,
    zod_type,
)
from aural_mcp.sandbox.store import Store, new_id


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


def _order(value: Any) -> int | None:
    """`Number(value)` when it is a whole number (so "2" and 2.0 are 2), else None."""
    return js.as_int(js.js_number(value))


def _is_list(value: Any) -> bool:
    return isinstance(value, list)


def _all_str(value: list[Any]) -> bool:
    return all(isinstance(o, str) for o in value)


# The further question fields, checked by zod, whose messages do not name the field.
_EXTRA_CHECKS = (
    zod_type("description", "string", is_str, nullable=True),
    zod_type("starterCode", "record", lambda v: isinstance(v, dict), nullable=True),
    zod_items("starterCode", "string", is_str),
    as_is("validationRules"),
    as_is("followUpPrompts"),
    as_is("showIf"),
    as_is("skipIf"),
    zod_type("probeThreshold", "number", js.is_number, nullable=True),
    *zod_int("timeLimitSeconds", nullable=True),
    Check("timeLimitSeconds", or_null(lambda v: v > 0), "Too small: expected number to be >0", int_or_null),
    zod_type("allowFileUpload", "boolean", is_bool, nullable=False),
    zod_type("allowedFileTypes", "array", _is_list, nullable=False),
    zod_items("allowedFileTypes", "string", is_str),
)

_ADD_CHECKS = (
    Check("options", or_null(lambda v: _is_list(v) and _all_str(v)), "options must be an array of strings"),
    *_EXTRA_CHECKS,
)

# Update checks each field sent, in this order; `required` and `followUpEnabled` are stored as
# `isRequired` and `probeOnShort`.
_UPDATE_CHECKS = (
    Check("text", filled_str, "text must be a non-empty string", trim),
    Check("type", not_null, "type cannot be null"),
    Check(
        "type",
        lambda v: js.js_string(v) in QUESTION_TYPES,
        lambda v: f"Invalid question type: {js.js_string(v)}",
        js.js_string,
    ),
    Check("order", not_null, "order cannot be null"),
    Check(
        "order",
        lambda v: (n := _order(v)) is not None and n >= 0,
        "order must be a non-negative integer",
        _order,
    ),
    Check("required", not_null, "required cannot be null", js.truthy, store_as="isRequired"),
    Check("options", or_null(_is_list), "options must be an array of strings or null"),
    Check("options", or_null(_all_str), "options must be an array of strings"),
    Check("followUpEnabled", not_null, "followUpEnabled cannot be null", js.truthy, store_as="probeOnShort"),
    *_EXTRA_CHECKS,
)


def _store_extras(extras: dict[str, Any]) -> dict[str, Any]:
    """The columns' rules for the checked fields: probeThreshold is an integer column."""
    pt = extras.get("probeThreshold")
    if pt is not None and not js.is_json_int(pt):
        raise db_error(f'invalid input syntax for type integer: "{js.js_string(pt)}"')
    if pt is not None:
        extras["probeThreshold"] = int(pt)
    return int4_check(extras)


class Questions:
    def __init__(self, store: Store) -> None:
        self.store = store

    def list_questions(self, ctx: Ctx, req: Req) -> Any:
        interview = ctx.interview_for_questions(req.params["id"])
        return {"data": self.store.questions_of(interview["id"])}

    def add_questions(self, ctx: Ctx, req: Req) -> Any:
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
            # Without an order a question goes after the highest one so far, in this list too.
            if item.get("order") is None:
                order = counter
                counter = order + 1
            else:
                parsed = _order(item["order"])
                if parsed is None or parsed < 0:
                    raise bad_request("order must be a non-negative integer")
                order = parsed
                counter = max(counter, order + 1)
            checked = read_fields(item, _ADD_CHECKS)
            req_flag = item.get("required")
            follow = item.get("followUpEnabled")
            row = question_row(interview["id"], order, text, now)
            row["type"] = qtype
            row["isRequired"] = True if req_flag is None else js.truthy(req_flag)
            row["probeOnShort"] = True if follow is None else js.truthy(follow)
            row.update(checked)
            rows.append(row)
        for row in rows:
            _store_extras(row)
            self.store.save_question(row, insert=True)
        return {"data": rows}

    def _question_in_scope(self, ctx: Ctx, qid: str) -> dict[str, Any]:
        return ctx.row_of_an_interview("questions", qid, "Question not found", "No access to this question")

    def update_question(self, ctx: Ctx, req: Req) -> Any:
        body = req.json("Invalid JSON body")
        if not isinstance(body, dict):
            raise bad_request("Expected JSON object")
        changes = read_fields(body, _UPDATE_CHECKS)
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
