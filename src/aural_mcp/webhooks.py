"""Standard Webhooks signatures: what `aural-mcp watch` signs its deliveries with, and what a
Python receiver verifies them with.

A delivery is an HTTP POST whose body is the event's JSON, with three headers:
`webhook-id` (the event's stable id: deduplicate on it), `webhook-timestamp` (unix seconds of
this attempt) and `webhook-signature` (`v1,<base64 HMAC-SHA256>` of `"{id}.{timestamp}.{body}"`
keyed with the bytes of the `whsec_` secret, several space-separated when the sender rotates
secrets). Any Standard Webhooks library verifies them; this module is one, standard library only.

A receiver passes the raw body (bytes, exactly as received: never re-serialised JSON) and the
headers to `verify`, which checks the timestamp is within the tolerance (replay protection),
finds a matching signature and returns the parsed payload::

    from aural_mcp.webhooks import WebhookVerificationError, verify

    def handle(body: bytes, headers: dict[str, str]) -> int:
        try:
            event = verify(body, headers, os.environ["AURAL_WEBHOOK_SECRET"])
        except WebhookVerificationError as error:
            log.warning("rejected webhook: %s", error)
            return 400
        if not seen_before(headers["webhook-id"]):
            process(event)
        return 204

`WebhookSecretError` (a `ValueError`) means the secret itself is malformed: a configuration
error of the receiver, not a bad request, so it is deliberately not a `WebhookVerificationError`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from typing import Any

SECRET_PREFIX = "whsec_"
# A signing key shorter than 192 bits is too weak, and HMAC-SHA256 gains nothing past 512.
MIN_SECRET_BYTES = 24
MAX_SECRET_BYTES = 64
DEFAULT_TOLERANCE_SECONDS = 300

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
SIGNATURE_VERSION = "v1"
# Twelve digits reach past the year 33000; more is not a time, and int() of a huge digit string is slow.
_MAX_TIMESTAMP_DIGITS = 12

_HOW_TO_MAKE_ONE = "make one with `aural-mcp watch --new-secret`"


class WebhookSecretError(ValueError):
    """The secret is not a `whsec_` secret. The message never contains the secret."""


class WebhookVerificationError(Exception):
    """A delivery failed verification; the message says which check failed (never the secret or
    the expected signature)."""


def generate_secret() -> str:
    """A new random signing secret: `whsec_` and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def parse_secret(secret: str) -> bytes:
    """The key bytes of a `whsec_<base64>` secret (padding optional, 24 to 64 bytes)."""
    if not isinstance(secret, str) or not secret.startswith(SECRET_PREFIX):
        raise WebhookSecretError(
            f"the webhook secret must have the form {SECRET_PREFIX}<base64>; {_HOW_TO_MAKE_ONE}"
        )
    encoded = secret[len(SECRET_PREFIX) :].rstrip("=")
    try:
        # Unpadded base64 is common (other libraries accept it), so padding is restored here.
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise WebhookSecretError(
            f"the webhook secret after {SECRET_PREFIX} is not valid base64; {_HOW_TO_MAKE_ONE}"
        ) from None
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        raise WebhookSecretError(
            f"the webhook secret decodes to {len(key)} bytes, and must be {MIN_SECRET_BYTES} to "
            f"{MAX_SECRET_BYTES}; {_HOW_TO_MAKE_ONE}"
        )
    return key


def _signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> bytes:
    signed_content = f"{msg_id}.{timestamp}.".encode() + body
    return hmac.new(key, signed_content, hashlib.sha256).digest()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256>` of `"{msg_id}.{timestamp}.{body}"`, keyed with the secret."""
    # A "." in the id would make "{id}.{timestamp}.{body}" ambiguous; it also goes into a header.
    if not msg_id or "." in msg_id or not (msg_id.isascii() and msg_id.isprintable()):
        raise ValueError("msg_id must be a non-empty printable ASCII id without '.'")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise ValueError("timestamp must be a non-negative integer of unix seconds")
    digest = _signature(parse_secret(secret), msg_id, timestamp, body)
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def signed_headers(secret: str, msg_id: str, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    """The headers of one delivery attempt of `body`; the timestamp defaults to now."""
    attempt_time = int(time.time()) if timestamp is None else timestamp
    return {
        ID_HEADER: msg_id,
        TIMESTAMP_HEADER: str(attempt_time),
        SIGNATURE_HEADER: sign(secret, msg_id, attempt_time, body),
        "content-type": "application/json",
    }


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _timestamp(value: str, tolerance_seconds: float, now: float) -> int:
    value = value.strip()
    if not (value.isascii() and value.isdigit() and len(value) <= _MAX_TIMESTAMP_DIGITS):
        raise WebhookVerificationError(f"{TIMESTAMP_HEADER} is not an integer of unix seconds")
    timestamp = int(value)
    if timestamp < now - tolerance_seconds:
        raise WebhookVerificationError(
            f"{TIMESTAMP_HEADER} is too old: {int(now - timestamp)} s ago, beyond the tolerance of "
            f"{tolerance_seconds:g} s (a replayed or long-delayed delivery)"
        )
    if timestamp > now + tolerance_seconds:
        raise WebhookVerificationError(
            f"{TIMESTAMP_HEADER} is too new: {int(timestamp - now)} s in the future, beyond the "
            f"tolerance of {tolerance_seconds:g} s (check the sender's and receiver's clocks)"
        )
    return timestamp


def _v1_signatures(header: str) -> list[bytes]:
    """The decoded `v1` signatures of the header. Other versions (`v1a` is the asymmetric
    scheme) are another sender's business, and a malformed entry cannot match: both are skipped."""
    found = []
    for entry in header.split():
        version, _, encoded = entry.partition(",")
        if version != SIGNATURE_VERSION:
            continue
        try:
            found.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue
    return found


def verify(
    body: bytes | str,
    headers: Mapping[str, str],
    secret: str,
    *,
    tolerance_seconds: float = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> dict[str, Any]:
    """Check a delivery and return its JSON payload.

    `body` is the raw request body; `headers` any mapping of the request's headers (names
    matched case-insensitively). The timestamp must lie within `tolerance_seconds` of `now`
    (default: the current time) in either direction. Raises `WebhookVerificationError` naming the
    failed check, or `WebhookSecretError` if `secret` is malformed.
    """
    key = parse_secret(secret)
    if tolerance_seconds < 0:
        raise ValueError("tolerance_seconds must be 0 or more")
    raw = body.encode() if isinstance(body, str) else body

    msg_id = _header(headers, ID_HEADER)
    timestamp_value = _header(headers, TIMESTAMP_HEADER)
    signature_value = _header(headers, SIGNATURE_HEADER)
    if not (msg_id and timestamp_value and signature_value):
        missing = [
            name
            for name, value in (
                (ID_HEADER, msg_id),
                (TIMESTAMP_HEADER, timestamp_value),
                (SIGNATURE_HEADER, signature_value),
            )
            if not value
        ]
        raise WebhookVerificationError(f"missing header {', '.join(missing)}")

    timestamp = _timestamp(timestamp_value, tolerance_seconds, time.time() if now is None else now)

    candidates = _v1_signatures(signature_value)
    if not candidates:
        raise WebhookVerificationError(f"{SIGNATURE_HEADER} has no {SIGNATURE_VERSION} signature")
    expected = _signature(key, msg_id, timestamp, raw)
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise WebhookVerificationError(
            f"no matching signature in {SIGNATURE_HEADER}: the body, {ID_HEADER} or {TIMESTAMP_HEADER} "
            "changed on the way, or the secret is not the sender's"
        )

    # Parsed only once authentic; the messages name the position, never the body's text.
    try:
        payload = json.loads(raw)
    except json.JSONDecodeError as error:
        raise WebhookVerificationError(
            f"body is not JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    except UnicodeDecodeError:
        raise WebhookVerificationError("body is not JSON: it is not UTF-8 text") from None
    if not isinstance(payload, dict):
        raise WebhookVerificationError(f"body is JSON but not an object (it is a {type(payload).__name__})")
    return payload
