"""Tool error texts: what went wrong and how to fix it, for an agent to act on.

Every SDK error becomes one short paragraph: the API's code and message, then the fix. Nothing
here is retried (an ambiguous create least of all), and no text ever carries the API key.
"""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

from aural_mcp.api.errors import (
    AuralError,
    ConfigurationError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    OutcomeUnknownError,
    PlanLimitExceededError,
    RateLimitedError,
    ResponseTooLargeError,
    ServerError,
    TransportError,
    UnauthorizedError,
)
from aural_mcp.operations import BY_NAME, ID_KINDS, Operation
from aural_mcp.server.tools.arguments import type_words, types_of

logger = logging.getLogger("aural_mcp.server")

_API_MESSAGE_CHARS = 300  # the API's message is third-party text and may echo what it was sent


def _api(exc: AuralError) -> str:
    status = f"{exc.status} " if exc.status is not None else ""
    message = str(exc.message)
    if len(message) > _API_MESSAGE_CHARS:
        message = message[: _API_MESSAGE_CHARS - 1] + "…"
    return f"{status}{exc.code}: {message}"


def _missing_id(args: dict[str, Any], message: str) -> tuple[str, str, str] | None:
    """(kind, id, listing tool) of the id the not-found is about."""
    ids = [kind for name, kind in ID_KINDS.items() if name in args]
    if not ids:
        return None
    text = message.lower()
    chosen = next((k for k in ids if k.noun in text), ids[0])
    return chosen.noun, str(args[chosen.arg]), chosen.list_operation


def _num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "?" if value is None else str(value)


def explain(op_name: str, args: dict[str, Any], exc: AuralError, *, outcome_check: str | None = None) -> str:
    """The isError text for an SDK error raised while running `op_name`.

    `outcome_check` is how to check after an unknown outcome for a tool that is no registry
    operation; a registry operation's check is the one the SDK put on the error.
    """
    api = _api(exc)
    op = BY_NAME.get(op_name)
    if isinstance(exc, OutcomeUnknownError):
        check = outcome_check or exc.check or "read the current state"
        why = exc.reason or (f"HTTP {exc.status}" if exc.status else "the connection failed")
        return (
            f"The outcome is unknown: the request may have reached Aural but no usable answer came back ({why}). "
            f"It was not retried. Check with the list tool first, so nothing is created twice: {check}."
        )
    if isinstance(exc, PlanLimitExceededError):
        quota = exc.limit or "a plan quota"
        used = f" ({_num(exc.current)} of {_num(exc.max)} used)" if exc.current is not None or exc.max else ""
        upgrade = (
            f" Upgrade at {exc.upgrade_url}, or free" if exc.upgrade_url else " Upgrade the plan, or free"
        )
        return (
            f"Plan limit reached for {quota}{used}: {api}.{upgrade} capacity (for templates: archive is not "
            "enough, interviews still count). `get_usage` shows every quota. Do not retry unchanged."
        )
    if isinstance(exc, RateLimitedError) and exc.wait_too_long:
        return (
            f"Rate limited ({api}), and the API asked for a wait far too long to honour (over a day). "
            "Nothing was changed by this call. Stop calling for now and check the key's usage with "
            "`get_usage` later; if it persists, the key may be blocked."
        )
    if isinstance(exc, RateLimitedError):
        wait = f"{exc.retry_after:g} s" if exc.retry_after is not None else "about a minute"
        return (
            f"Rate limited ({api}). Wait {wait} before the next call, then continue at most 60 calls a "
            "minute per key. Nothing was changed by this call."
        )
    if isinstance(exc, NotFoundError):
        missing = _missing_id(args, exc.message)
        if missing:
            kind, ident, source = missing
            extra = " It may have been deleted." if kind == "question" else ""
            return f"No {kind} {ident} in the projects this key can access ({api}); `{source}` shows the ids.{extra}"
        return f"Not found ({api})."
    if isinstance(exc, UnauthorizedError):
        return (
            f"The API key was rejected ({api}). Check AURAL_API_KEY (keys start with dlv_ and are shown once "
            "when created in Settings → API Keys); `aural-mcp doctor` checks the key and base URL."
        )
    if isinstance(exc, ForbiddenError):
        role = f" This operation needs the {op.min_role} role or higher." if op and op.min_role else ""
        return (
            f"Access denied ({api}).{role} The resource may be in a project outside this key's scope; "
            "`list_interviews` shows what the key can reach."
        )
    if isinstance(exc, ConflictError):
        return f"Conflict ({api}). Re-read the current state (get_* or list_* tools) and adjust the request."
    if isinstance(exc, ServerError):
        safe = (
            "Reads are safe to retry once."
            if op and op.read_only
            else ("Before retrying a write, read the current state to see whether it took effect.")
        )
        return f"Aural had an internal error ({api}). {safe}"
    if isinstance(exc, TransportError):
        if exc.may_have_applied:
            return (
                f"The connection to the Aural API failed after the request was sent ({exc.message}), so it may "
                "already have taken effect. This call is safe to repeat; read the current state first if it "
                "matters. If it keeps failing, check the network and AURAL_BASE_URL (`aural-mcp doctor`)."
            )
        return (
            f"Could not reach the Aural API ({exc.message}). Nothing was changed. Check AURAL_BASE_URL and the "
            "network (`aural-mcp doctor`), then try again."
        )
    if isinstance(exc, ConfigurationError):
        return (
            f"aural-mcp is not configured to call the API: {exc.message}. Set AURAL_API_KEY (or serve with "
            "--sandbox to rehearse without an account) and restart the server."
        )
    if isinstance(exc, ResponseTooLargeError):
        narrower = " Ask for a smaller page with `limit`." if op and any(a.name == "limit" for a in op.args) else ""
        return (
            f"Aural's answer was larger than this server reads ({api}), so it was not read to the end.{narrower} "
            "The operator can raise AURAL_MAX_RESPONSE_BYTES (default 16 MiB) and restart the server."
        )
    if exc.code == "BAD_REQUEST" or exc.status == 400:
        return f"Aural rejected the request ({api}). {_bad_request_hint(op, str(exc.message))}"
    return f"Aural returned an error ({api})."


_MALFORMED = (
    "The request body was malformed, which aural-mcp should have prevented; call again, and report it "
    "if it persists."
)
# 400 messages that name no argument (or name it in the API's words), with the fix for each. The
# API's text varies across routes, so each pattern is a lower-case fragment.
_BAD_REQUEST_FIXES: tuple[tuple[str, str], ...] = (
    (
        "cursor",
        "Use the cursor returned by the previous page of the same interview, or omit it to start over.",
    ),
    (
        "no accessible project",
        "The key has no project to create in; create a project in Aural or use a key of another member.",
    ),
    ("no valid fields", "Send at least one field to change besides the id."),
    (
        "already has a session",
        "That candidate already has a session; simulate without `candidateId`, or pick a candidate whose "
        "sessionId is empty (`list_candidates`).",
    ),
    ("is archived", "Call `publish_interview` to re-activate the interview, then call again."),
    ("not a candidate of this interview", "`list_candidates` with this interviewId shows its candidates."),
    ("invalid iso date", "`birthday` must be a real calendar date YYYY-MM-DD, or null to clear it."),
    ("invalid email", "`email` must be a valid address, or null to clear it."),
    ("maximum 500", "Split the list into calls of at most 500 items."),
    ("at least one", "Send at least one item in the list."),
    ("invalid json", _MALFORMED),
    ("expected json object", _MALFORMED),
    ("expected a json object", _MALFORMED),
    ("must be an object", _MALFORMED),
)
# The API's schema-library messages ("Too small: expected number to be >0") name no field.
_UNNAMED_FIELD = re.compile(r"^(too small|too big|invalid input|invalid option|expected)\b", re.IGNORECASE)


def _bad_request_hint(op: Operation | None, message: str) -> str:
    text = message.lower()
    for fragment, fix in _BAD_REQUEST_FIXES:
        if fragment in text:
            return fix
    if _UNNAMED_FIELD.match(message.strip()):
        fields = (_fields_to_check(op) if op else None) or "the arguments against this tool's schema"
        return f"Aural's message does not name the field; check {fields}, then call again."
    named = _argument_named(op, message) if op else None
    if named:
        return f"Fix `{named}` as the message says and call again."
    return (
        "Aural's message does not say which argument is wrong; compare the arguments with this tool's schema, "
        "change the one that does not fit, and call again."
    )


def _fields_to_check(op: Operation) -> str | None:
    """The fields a message that names none may be about, each with its type and bounds.

    The fields of each item of the body list, or else the arguments outside the path; plain
    strings are summed up as "the others strings".
    """
    list_arg = op.arg(op.body_list_arg) if op.body_list_arg else None
    if list_arg is not None:
        fields = dict(list_arg.schema.get("items", {}).get("properties", {}))
    else:
        fields = {a.name: a.schema for a in op.args if a.where != "path"}
    if not fields:
        return None
    described = [w for w in (_field_words(name, schema) for name, schema in fields.items()) if w]
    plain = len(described) < len(fields)
    if plain:
        described.append("the others strings" if described else "strings")
    return f"the fields ({', '.join(described)})"


_FORMAT_WORDS = {"date": "YYYY-MM-DD", "email": "an email address", "uuid": "a UUID"}


def _bounds(low: Any, high: Any, at_least: str, at_most: str) -> str:
    """'1-100', or one side in its own words, or '' when the schema has neither."""
    if low is not None and high is not None:
        return f"{low}-{high}"
    if low is not None:
        return at_least.format(low)
    return at_most.format(high) if high is not None else ""


def _field_words(name: str, schema: dict[str, Any]) -> str | None:
    """`name` with what it must be, e.g. "order an integer >= 0"; None for a plain string."""
    kind = next((t for t in types_of(schema) if t != "null"), "")
    if "enum" in schema:
        return f"{name} one of {', '.join(str(v) for v in schema['enum'])}"
    if kind == "string":
        fmt = _FORMAT_WORDS.get(schema.get("format", ""))
        return f"{name} {fmt}" if fmt else None
    if kind in ("integer", "number"):
        bounds = _bounds(schema.get("minimum"), schema.get("maximum"), ">= {}", "<= {}")
        return f"{name} {type_words([kind])}{' ' + bounds if bounds else ''}"
    if kind == "array":
        items = schema.get("items") or {}
        item_kind = next((t for t in types_of(items) if t != "null"), "")
        what = "UUIDs" if items.get("format") == "uuid" else f"{item_kind or 'value'}s"
        count = _bounds(schema.get("minItems") or None, schema.get("maxItems"), "at least {}", "at most {}")
        return f"{name} a list of {count + ' ' if count else ''}{what}"
    if kind == "object":
        return f"{name} an object of strings" if schema.get("additionalProperties") else f"{name} an object"
    return f"{name} {type_words([kind])}" if kind else None


def _argument_named(op: Operation, message: str) -> str | None:
    """The argument (or list-item field) of `op` that the API's message names, if any."""
    names: list[str] = []
    for arg in op.args:
        names.append(arg.name)
        item = arg.schema.get("items") or {}
        names += list((item.get("properties") or {}) if isinstance(item, dict) else ())
    words = set(re.findall(r"[A-Za-z]+", message))
    return next((n for n in names if n in words), None)


def unexpected(op_name: str, exc: BaseException, secret: str | None) -> str:
    """Log the traceback (without the key) and return the short text the agent sees."""
    trace = "".join(traceback.format_exception(exc))
    logger.error("tool %s failed unexpectedly:\n%s", op_name, redact(trace, secret))
    return (
        f"`{op_name}` failed with an unexpected error inside aural-mcp ({type(exc).__name__}; logged on the "
        "server). Nothing suggests the request was wrong; try once more, and report it if it persists."
    )


def redact(text: str, secret: str | None) -> str:
    """Belt and braces: no result text may ever contain the key."""
    if secret and len(secret) >= 8 and secret in text:
        return text.replace(secret, "dlv_…")
    return text
