"""JavaScript-flavoured coercions and zod-style messages, so validation answers like the API.

The real server is TypeScript: `String(x)`, `Number(x)`, truthiness and zod 4 messages leak into
its behaviour (String() of a question's text and type, Number() of an order or a list limit,
truthiness of `required`, zod's messages for the extra question, profile and bulk-end fields).
These helpers reproduce them.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from datetime import date
from json import decoder, encoder
from typing import Any, cast

MISSING: Any = object()
MAX_SAFE_INTEGER = 2**53 - 1  # Number.MAX_SAFE_INTEGER


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


# ASCII digits only, as in JavaScript (Python's \d and int() also take other scripts' digits).
_NUM_RE = re.compile(r"^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|Infinity)$", re.ASCII)
_RADIX_DIGITS = {16: re.compile("[0-9a-fA-F]+"), 8: re.compile("[0-7]+"), 2: re.compile("[01]+")}


def js_number(value: Any) -> float:
    """`Number(value)`."""
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        s = trim(value)
        if s == "":
            return 0.0
        low = s.lower()
        for prefix, base in (("0x", 16), ("0o", 8), ("0b", 2)):
            if low.startswith(prefix):
                digits = s[2:]
                return float(int(digits, base)) if _RADIX_DIGITS[base].fullmatch(digits) else math.nan
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


# JavaScript's String.prototype.trim: WhiteSpace (Unicode Zs plus TAB, VT, FF, U+FEFF) and line
# terminators. Python's str.strip() differs: it also removes U+001C-U+001F and U+0085, and keeps
# U+FEFF.
JS_WHITESPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
)


def trim(text: str) -> str:
    """`text.trim()`."""
    return text.strip(JS_WHITESPACE)


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def _js_int(digits: str) -> int | float:
    # JS numbers are doubles: a literal too long for one is Infinity (or a rounded value), never
    # an error. Python refuses to parse more than 4300 digits as an int.
    return int(digits) if len(digits) <= 300 else float(digits)


def parse_json(raw: bytes) -> Any:
    """`JSON.parse` of the body: raises ValueError when it is not JSON (NaN/Infinity included).

    Like the API's body parser: a leading UTF-8 BOM is dropped, huge numbers become Infinity,
    and nesting of any depth parses."""
    text = raw.decode("utf-8", errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        return json.loads(text, parse_constant=_reject_constant, parse_int=_js_int)
    except RecursionError:
        return _parse_nested(text)


# scanstring(text, index after the opening quote, strict) -> (string, index after the closing one)
_scan_string = cast(Callable[[str, int, bool], tuple[str, int]], decoder.scanstring)  # type: ignore[attr-defined]
_JSON_WS = re.compile(r"[ \t\n\r]*")
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?")
_JSON_WORDS = (("true", True), ("false", False), ("null", None))


def _parse_nested(text: str) -> Any:
    """A JSON parser without recursion, for documents nested deeper than `json` can go."""
    stack: list[Any] = []  # the open arrays and objects, innermost last
    keys: list[str | None] = []  # for each open object, the key whose value comes next
    pos = _JSON_WS.match(text, 0).end()  # type: ignore[union-attr]
    while True:
        if pos >= len(text):
            raise ValueError("unexpected end of JSON")
        ch = text[pos]
        value: Any
        if ch in "[{":
            pos = _JSON_WS.match(text, pos + 1).end()  # type: ignore[union-attr]
            if text.startswith("]" if ch == "[" else "}", pos):
                value, pos = ([] if ch == "[" else {}), pos + 1
            else:
                stack.append([] if ch == "[" else {})
                key = None
                if ch == "{":
                    key, pos = _object_key(text, pos)
                keys.append(key)
                continue
        elif ch == '"':
            value, pos = _scan_string(text, pos + 1, True)
        elif m := _JSON_NUMBER.match(text, pos):
            number = m.group(0)
            value = float(number) if m.group(1) or m.group(2) else _js_int(number)
            pos = m.end()
        else:
            for word, word_value in _JSON_WORDS:
                if text.startswith(word, pos):
                    value, pos = word_value, pos + len(word)
                    break
            else:
                raise ValueError(f"unexpected character at {pos}")
        while True:  # attach the value to its container; close the containers that end here
            pos = _JSON_WS.match(text, pos).end()  # type: ignore[union-attr]
            if not stack:
                if pos != len(text):
                    raise ValueError(f"extra data at {pos}")
                return value
            top = stack[-1]
            if isinstance(top, list):
                top.append(value)
            else:
                top[keys[-1]] = value
            if text.startswith(",", pos):
                pos = _JSON_WS.match(text, pos + 1).end()  # type: ignore[union-attr]
                if isinstance(top, dict):
                    keys[-1], pos = _object_key(text, pos)
                break
            if not text.startswith("]" if isinstance(top, list) else "}", pos):
                raise ValueError(f"expected , or a closing bracket at {pos}")
            value, pos = stack.pop(), pos + 1
            keys.pop()


def loads(text: str) -> Any:
    """A JSON document this module wrote (any depth)."""
    try:
        return json.loads(text)
    except RecursionError:
        return _parse_nested(text)


def stringify(value: Any, *, ensure_ascii: bool = False) -> str:
    """`JSON.stringify(value)`, compact: non-finite numbers become null, and any depth works."""
    try:
        return json.dumps(value, ensure_ascii=ensure_ascii, separators=(",", ":"), allow_nan=False)
    except (ValueError, RecursionError):  # ValueError: a non-finite number
        return _stringify_nested(value, ensure_ascii)


class _Literal(str):
    """A piece of output text on the to-do stack of `_stringify_nested`, not a value."""


def _stringify_nested(value: Any, ensure_ascii: bool) -> str:
    quote = encoder.encode_basestring_ascii if ensure_ascii else encoder.encode_basestring
    parts: list[str] = []
    todo: list[Any] = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, _Literal):
            parts.append(item)
        elif isinstance(item, list | dict):
            entries = list(item.items()) if isinstance(item, dict) else list(enumerate(item))
            parts.append("{" if isinstance(item, dict) else "[")
            todo.append(_Literal("}" if isinstance(item, dict) else "]"))
            for i in range(len(entries) - 1, -1, -1):  # pushed in reverse, so popped in order
                name, entry = entries[i]
                todo.append(entry)
                if isinstance(item, dict):
                    todo.append(_Literal(quote(str(name)) + ":"))
                if i:
                    todo.append(_Literal(","))
        elif isinstance(item, float) and not math.isfinite(item):
            parts.append("null")
        else:
            parts.append(json.dumps(item, ensure_ascii=ensure_ascii))
    return "".join(parts)


def _object_key(text: str, pos: int) -> tuple[str, int]:
    if not text.startswith('"', pos):
        raise ValueError(f"expected a key at {pos}")
    key, pos = _scan_string(text, pos + 1, True)
    pos = _JSON_WS.match(text, pos).end()  # type: ignore[union-attr]
    if not text.startswith(":", pos):
        raise ValueError(f"expected : at {pos}")
    return key, _JSON_WS.match(text, pos + 1).end()  # type: ignore[union-attr]


def leading_int(text: str | None) -> int | None:
    """`parseInt(text, 10)`: the leading integer, or None (NaN)."""
    if text is None:
        return None
    m = re.match(r"[+-]?[0-9]+", text.lstrip(JS_WHITESPACE))
    return int(m.group(0)) if m else None


def iso_date_ok(value: str) -> bool:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
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
