"""What every resource's handlers share: the request, the non-JSON 500, request-field tables and
the database's column rules.

A handler takes the resolved caller (`Ctx`) and the request (`Req`) and returns the JSON
document to send with status 200, or raises `ApiError` (an enveloped error) or `Unhandled` (the
framework's plain-text 500 for an exception the real route does not catch). The app runs each
call inside one database transaction, committed before the response is sent.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aural_mcp.sandbox import coerce as js
from aural_mcp.sandbox.auth import Ctx
from aural_mcp.sandbox.errors import bad_request, db_error


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


Handler = Callable[[Ctx, Req], Any]


# -- request fields as tables ---------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One check of one request field: a value failing `ok` is answered 400 with `message`.

    `message` is a text, or a function of the value where the API's message names what it got.
    A field may have several checks in a row, each seeing the value as sent; it is stored under
    `store_as` (default: the field's own name), converted by the `convert` of its last check
    (none: as sent).
    """

    field: str
    ok: Callable[[Any], bool]
    message: str | Callable[[Any], str]
    convert: Callable[[Any], Any] | None = None
    store_as: str | None = None
    required: bool = False  # checked when absent too (the value is then `MISSING`)


def read_fields(body: dict[str, Any], checks: tuple[Check, ...]) -> dict[str, Any]:
    """The fields of `body` that `checks` name, checked in table order (the first failure is the
    answer), keyed by the name each is stored under. Absent fields are left out."""
    out: dict[str, Any] = {}
    for check in checks:
        if check.field not in body and not check.required:
            continue
        value = body.get(check.field, js.MISSING)
        if not check.ok(value):
            raise bad_request(check.message(value) if callable(check.message) else check.message)
        out[check.store_as or check.field] = check.convert(value) if check.convert else value
    return out


def as_is(name: str) -> Check:
    """A field taken as sent, whatever its value."""
    return Check(name, lambda v: True, "")


def or_null(ok: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: v is None or ok(v)


def is_str(value: Any) -> bool:
    return isinstance(value, str)


def is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def not_null(value: Any) -> bool:
    return value is not None


def filled_str(value: Any) -> bool:
    return isinstance(value, str) and bool(js.trim(value))


def trim(value: str) -> str:
    return js.trim(value)


def zod_type(name: str, kind: str, ok: Callable[[Any], bool], *, nullable: bool) -> Check:
    """zod's type check: `Invalid input: expected <kind>, received <type>`."""
    return Check(name, or_null(ok) if nullable else ok, lambda v: js.expected(kind, v))


def zod_items(name: str, kind: str, ok: Callable[[Any], bool]) -> Check:
    """zod's check of each item of a list (or value of a record): the first bad one is named."""

    def items(v: Any) -> list[Any]:
        if isinstance(v, dict):
            return list(v.values())
        return v if isinstance(v, list) else []

    return Check(
        name,
        lambda v: all(ok(item) for item in items(v)),
        lambda v: js.expected(kind, next(item for item in items(v) if not ok(item))),
    )


def _finite_number(v: Any) -> bool:
    return js.is_number(v) and math.isfinite(v)


def zod_int(name: str, *, nullable: bool, convert: Callable[[Any], Any] | None = None) -> tuple[Check, ...]:
    """zod's `.int()`: a finite number, an integer, and a safe one (|v| <= 2**53 - 1)."""

    def guard(ok: Callable[[Any], bool]) -> Callable[[Any], bool]:
        return or_null(ok) if nullable else ok

    return (
        Check(name, guard(_finite_number), lambda v: js.expected("number", v)),
        Check(name, guard(js.is_json_int), lambda v: js.expected("int", v)),
        Check(
            name,
            guard(lambda v: v <= js.MAX_SAFE_INTEGER),
            f"Too big: expected int to be <={js.MAX_SAFE_INTEGER}",
        ),
        Check(
            name,
            guard(lambda v: v >= -js.MAX_SAFE_INTEGER),
            f"Too small: expected int to be >=-{js.MAX_SAFE_INTEGER}",
            convert,
        ),
    )


def int_or_null(value: Any) -> int | None:
    return None if value is None else int(value)


# -- list paging ----------------------------------------------------------------------------


def page_limit(raw: str | None) -> int:
    """`?limit=` of the cursor lists: its leading integer, 20 when absent or below 1, at most 100."""
    n = js.leading_int(raw)
    if n is None or n < 1:
        return 20
    return min(n, 100)


# -- the database's column rules --------------------------------------------------------------

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
