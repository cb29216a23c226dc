"""JavaScript-flavoured coercions and zod-style messages, so validation answers like the API.

The real server is TypeScript: `String(x)`, `Number(x)`, truthiness and zod 4 messages leak into
its behaviour (contract §7.8, §7.9, §7.14, §7.16, §10.9). These helpers reproduce them.
"""

from __future__ import annotations

import json
import math
import re
from datetime import date
from typing import Any

MISSING: Any = object()


def js_type(value: Any) -> str:
    """The type name zod puts in `received <type>`."""
    if value is MISSING:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "NaN" if isinstance(value, float) and math.isnan(value) else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def expected(kind: str, value: Any) -> str:
    return f"Invalid input: expected {kind}, received {js_type(value)}"


def truthy(value: Any) -> bool:
    if value is None or value is False:
        return False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value != 0 and not (isinstance(value, float) and math.isnan(value))
    if isinstance(value, str):
        return value != ""
    return True


def js_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if abs(value) < 10**21 else _js_float(float(value))
    if isinstance(value, float):
        return _js_float(value)
    if isinstance(value, list):
        return ",".join("" if v is None else js_string(v) for v in value)
    return "[object Object]"


def _js_float(f: float) -> str:
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "Infinity" if f > 0 else "-Infinity"
    if f.is_integer() and abs(f) < 1e21:
        return str(int(f))
    text = repr(f)
    if "e" in text:
        mant, exp = text.split("e")
        sign = "+" if not exp.startswith("-") else "-"
        return f"{mant}e{sign}{exp.lstrip('+-').lstrip('0') or '0'}"
    return text


_NUM_RE = re.compile(r"^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|Infinity)$")


def js_number(value: Any) -> float:
    """`Number(value)`."""
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        s = value.strip()
        if s == "":
            return 0.0
        low = s.lower()
        for prefix, base in (("0x", 16), ("0o", 8), ("0b", 2)):
            if low.startswith(prefix):
                try:
                    return float(int(s[2:], base))
                except ValueError:
                    return math.nan
        if _NUM_RE.match(s):
            return float(s.replace("Infinity", "inf"))
        return math.nan
    if isinstance(value, list):
        if not value:
            return 0.0
        if len(value) == 1:
            return js_number(js_string(value[0]) if not isinstance(value[0], str) else value[0])
        return math.nan
    return math.nan


def as_int(f: float) -> int | None:
    """The integer value of `f` when `Number.isInteger(f)`, else None."""
    if math.isnan(f) or math.isinf(f) or not f.is_integer():
        return None
    return int(f)


def is_json_int(value: Any) -> bool:
    """A JSON number that is an integer (JS has one number type: 2.0 counts)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return isinstance(value, int) or (math.isfinite(value) and value.is_integer())


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def parse_json(raw: bytes) -> Any:
    """`JSON.parse` of the body: raises ValueError when it is not JSON (NaN/Infinity included)."""
    text = raw.decode("utf-8", errors="replace")
    if text.startswith("\ufeff"):
        raise ValueError("BOM")

    def reject(name: str) -> Any:
        raise ValueError(name)

    return json.loads(text, parse_constant=reject)


def leading_int(text: str | None) -> int | None:
    """`parseInt(text, 10)`: the leading integer, or None (NaN)."""
    if text is None:
        return None
    m = re.match(r"^\s*([+-]?\d+)", text)
    return int(m.group(1)) if m else None


def iso_date_ok(value: str) -> bool:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


EMAIL_RE = re.compile(
    r"^(?!\.)(?!.*\.\.)([A-Za-z0-9_'+\-\.]*)[A-Za-z0-9_+-]@([A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}$"
)


def email_ok(value: str) -> bool:
    return bool(EMAIL_RE.match(value))
