"""One exception hierarchy for everything the Aural API (or the road to it) can answer.

Branch on the class (or `code` / `status`), never on `message`: the API's texts vary by route.
"""

from __future__ import annotations

import json
import math
from typing import Any

# A wait the API asks for beyond this (or one that is not a finite, non-negative number) is not a
# real schedule: the error says so instead of carrying the number, and nothing waits for it.
MAX_RETRY_AFTER = 86_400.0


class AuralError(Exception):
    """Base of every error the SDK raises."""

    code: str = "ERROR"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        body: dict[str, Any] | None = None,
        operation: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        if code is not None:
            self.code = code
        self.body = body
        self.operation = operation

    def __str__(self) -> str:
        where = f" ({self.operation})" if self.operation else ""
        status = f"{self.status} " if self.status is not None else ""
        return f"{status}{self.code}{where}: {self.message}"


class ConfigurationError(AuralError, ValueError):
    """The client cannot be used as configured (for example, no API key). Raised before any request."""

    code = "CONFIGURATION"


class APIError(AuralError):
    """The API answered with an error status."""


class BadRequestError(APIError):
    code = "BAD_REQUEST"


class UnauthorizedError(APIError):
    code = "UNAUTHORIZED"


class ForbiddenError(APIError):
    code = "FORBIDDEN"


class NotFoundError(APIError):
    code = "NOT_FOUND"


class ConflictError(APIError):
    code = "CONFLICT"


class RateLimitedError(APIError):
    """429. `retry_after` is seconds to wait (a finite number from 0 to a day) or None.

    `wait_too_long` is True when the API asked for a wait that is absurd (over a day, infinite,
    not a number, negative): nothing retries it, and the message says so.
    """

    code = "RATE_LIMITED"

    def __init__(
        self, message: str, *, retry_after: float | None = None, wait_too_long: bool = False, **kw: Any
    ) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after
        self.wait_too_long = wait_too_long


class PlanLimitExceededError(ForbiddenError):
    """A plan quota is used up. Not a permission problem: upgrading or waiting fixes it."""

    code = "PLAN_LIMIT_EXCEEDED"

    def __init__(
        self,
        message: str,
        *,
        limit: str | None = None,
        current: float | None = None,
        max: float | None = None,  # noqa: A002 - the API's field name
        upgrade_url: str | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(message, **kw)
        self.limit = limit
        self.current = current
        self.max = max
        self.upgrade_url = upgrade_url


class ServerError(APIError):
    """5xx, including bodies that are not JSON."""

    code = "INTERNAL_ERROR"


class ResponseTooLargeError(AuralError):
    """The answer was larger than the client's `max_response_bytes`; it was not read to the end."""

    code = "RESPONSE_TOO_LARGE"


class TransportError(AuralError):
    """The request could not be completed over the network and was safe to report as failed.

    `may_have_applied` is True when an attempt of an idempotent write (PATCH, DELETE, publish,
    bulk end) may have reached the server before the connection failed: repeating it is safe,
    but it may already have taken effect.
    """

    code = "TRANSPORT"
    may_have_applied: bool = False
    # The last attempt ran out of time (`timeout`), rather than failing to connect or breaking off.
    timed_out: bool = False
    # What happened on the wire in the last attempt, e.g. "ConnectError: connection refused".
    reason: str = ""


class OutcomeUnknownError(AuralError):
    """A create may have reached the server, but no answer came back. It was not repeated.

    `check` says how to find out whether it took effect before trying again.
    """

    code = "OUTCOME_UNKNOWN"
    # What happened on the wire, e.g. "ReadError: connection reset" or "a proxy answered 502".
    reason: str = ""

    def __init__(self, message: str, *, check: str, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.check = check


_BY_CODE: dict[str, type[APIError]] = {
    "BAD_REQUEST": BadRequestError,
    "UNAUTHORIZED": UnauthorizedError,
    "FORBIDDEN": ForbiddenError,
    "NOT_FOUND": NotFoundError,
    "CONFLICT": ConflictError,
    "RATE_LIMITED": RateLimitedError,
    "PLAN_LIMIT_EXCEEDED": PlanLimitExceededError,
    "INTERNAL_ERROR": ServerError,
    "INTERNAL_SERVER_ERROR": ServerError,
}

_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    405: NotFoundError,
    409: ConflictError,
    429: RateLimitedError,
}


def _number(value: Any) -> float | None:
    """A finite float from a JSON number or numeric text; None for anything else (no overflow)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):  # OverflowError: an integer of hundreds of digits
        return None
    return number if math.isfinite(number) else None


def parse_retry_after(value: Any) -> tuple[float | None, bool]:
    """(seconds, absurd) from a `retry_after` field or a `Retry-After` header value.

    Missing or unreadable text gives (None, False). A value that is infinite, NaN, negative,
    over a day or too big for a float gives (None, True): a wait longer than anyone will wait.
    """
    if value is None or isinstance(value, bool) or (isinstance(value, str) and not value.strip()):
        return None, False
    if isinstance(value, int | float | str):
        try:
            number = float(value)
        except OverflowError:
            return None, True
        except ValueError:
            return None, False
        if math.isnan(number) or number < 0 or number > MAX_RETRY_AFTER:
            return None, True
        return number, False
    return None, False


def shown_value(value: Any, limit: int = 40) -> str:
    """A bad value as an error message may quote it: short, one line."""
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def json_kind(value: Any) -> str:
    """The kind of a JSON value as a message names it: null, an object, a list, a string, ..."""
    if value is None:
        return "null"
    named = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(type(value))
    if named:
        return named
    return "a number" if isinstance(value, int | float) else f"a {type(value).__name__}"


def error_from_response(
    status: int, content: bytes, headers: dict[str, str] | None = None, *, operation: str | None = None
) -> APIError:
    """Build the typed error for an error response, whether or not its body is the JSON envelope."""
    try:
        payload = json.loads(content) if content else None
    except (ValueError, UnicodeDecodeError, RecursionError):
        payload = None
    return error_from_payload(status, payload, headers, operation=operation)


def error_from_payload(
    status: int, payload: Any, headers: dict[str, str] | None = None, *, operation: str | None = None
) -> APIError:
    """The typed error for an error response whose body is already parsed (None if not JSON)."""
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    body: dict[str, Any] | None = None
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        body = payload["error"]

    if body is not None:
        code = str(body.get("code") or "")
        message = str(body.get("message") or code or f"HTTP {status}")
    else:
        code = ""
        message = f"HTTP {status} with a body that is not the API's JSON error envelope"

    cls = _BY_CODE.get(code) or _BY_STATUS.get(status) or (ServerError if status >= 500 else APIError)
    common: dict[str, Any] = {"status": status, "body": body, "operation": operation}
    if code:
        common["code"] = code
    elif cls is APIError:
        common["code"] = f"HTTP_{status}"
    if cls is RateLimitedError:
        raw = (body or {}).get("retry_after")
        retry, absurd = parse_retry_after(raw)
        if retry is None and not absurd:
            raw = headers.get("retry-after")
            retry, absurd = parse_retry_after(raw)
        if absurd:
            message += (
                f" (The API asked to wait {shown_value(raw)} seconds, which is not a usable wait: "
                "treat it as longer than aural-mcp will wait and try again much later.)"
            )
        return RateLimitedError(message, retry_after=retry, wait_too_long=absurd, **common)
    if cls is PlanLimitExceededError:
        b = body or {}
        return PlanLimitExceededError(
            message,
            limit=b.get("limit"),
            current=_number(b.get("current")),
            max=_number(b.get("max")),
            upgrade_url=b.get("upgrade_url"),
            **common,
        )
    return cls(message, **common)
