"""Standard Webhooks signing and verification (aural_mcp.webhooks): the specification's test
vector, interoperability both ways with the independent `standardwebhooks` package (also over a
real loopback HTTP POST), every failed check with its message, and the secret never in one."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime
from typing import Any

import httpx2
import pytest
import standardwebhooks
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from tests.support.servers import LiveServer

from aural_mcp.webhooks import (
    WebhookSecretError,
    WebhookVerificationError,
    generate_secret,
    parse_secret,
    sign,
    signed_headers,
    verify,
)

# The test vector every Standard Webhooks library is tested against: repository
# standard-webhooks/standard-webhooks, libraries/python/tests/test_webhooks.py (test_sign_function;
# the same values are in libraries/go/webhook_test.go and libraries/javascript/src/webhook.test.ts).
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

BODY = json.dumps(
    {"type": "session.completed", "data": {"sessionId": "ses_1"}}, separators=(",", ":")
).encode()


def secret_fragments(secret: str) -> list[str]:
    """What a leak of `secret` would look like: whole, without its prefix, and its key bytes."""
    encoded = secret.removeprefix("whsec_")
    return [secret, encoded, encoded.rstrip("="), parse_secret(secret).hex()]


def verification_error(body: bytes | str, headers: dict[str, str], secret: str, **options: Any) -> str:
    """verify()'s failure message, checked to contain neither the secret nor the expected signature."""
    with pytest.raises(WebhookVerificationError) as caught:
        verify(body, headers, secret, **options)
    message = str(caught.value)
    for fragment in secret_fragments(secret):
        assert fragment not in message
    raw = body.encode() if isinstance(body, str) else body
    timestamp = headers.get("webhook-timestamp", "")
    if headers.get("webhook-id") and timestamp.isdigit():
        expected = sign(secret, headers["webhook-id"], int(timestamp), raw)
        assert expected not in message and expected.removeprefix("v1,") not in message
    return message


# --- the specification's vector and the independent implementation -------------------------


def test_sign_reproduces_the_specification_test_vector() -> None:
    assert sign(VECTOR_SECRET, VECTOR_MSG_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE


def test_verify_accepts_the_specification_test_vector() -> None:
    headers = {
        "webhook-id": VECTOR_MSG_ID,
        "webhook-timestamp": str(VECTOR_TIMESTAMP),
        "webhook-signature": VECTOR_SIGNATURE,
    }
    assert verify(VECTOR_BODY, headers, VECTOR_SECRET, now=VECTOR_TIMESTAMP + 10) == {"test": 2432232314}
    # One bit off in the vector's signature (the library tests' own invalid example) does not verify.
    headers["webhook-signature"] = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="
    message = verification_error(VECTOR_BODY, headers, VECTOR_SECRET, now=VECTOR_TIMESTAMP + 10)
    assert message.startswith("no matching signature in webhook-signature")


def test_what_we_sign_the_standardwebhooks_package_verifies() -> None:
    secret = generate_secret()
    headers = signed_headers(secret, "evt_01", BODY)
    assert standardwebhooks.Webhook(secret).verify(BODY, headers) == json.loads(BODY)
    # ... and it rejects our signature of that body under another secret.
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(generate_secret()).verify(BODY, headers)


def test_what_the_standardwebhooks_package_signs_we_verify() -> None:
    secret = generate_secret()
    now = int(time.time())
    signature = standardwebhooks.Webhook(secret).sign(
        msg_id="evt_02", timestamp=datetime.fromtimestamp(now, tz=UTC), data=BODY.decode()
    )
    headers = {"webhook-id": "evt_02", "webhook-timestamp": str(now), "webhook-signature": signature}
    assert signature == sign(secret, "evt_02", now, BODY)
    assert verify(BODY, headers, secret) == json.loads(BODY)
    verification_error(BODY, headers, generate_secret())


def test_a_signed_post_over_loopback_http_verifies_with_both_implementations() -> None:
    """The headers survive a real HTTP round trip (where names arrive in whatever case the
    server gives them) and the receiver verifies the raw body it read."""
    secret = generate_secret()
    results: dict[str, Any] = {}

    async def receive(request: Request) -> JSONResponse:
        body = await request.body()
        headers = dict(request.headers)
        results["ours"] = verify(body, request.headers, secret)
        results["standardwebhooks"] = standardwebhooks.Webhook(secret).verify(body, headers)
        results["content-type"] = request.headers["content-type"]
        return JSONResponse({"ok": True})

    app = Starlette(routes=[Route("/hook", receive, methods=["POST"])])
    with LiveServer(app) as live:
        answer = httpx2.post(f"{live.url}/hook", content=BODY, headers=signed_headers(secret, "evt_03", BODY))
    assert answer.status_code == 200
    assert results == {
        "ours": json.loads(BODY),
        "standardwebhooks": json.loads(BODY),
        "content-type": "application/json",
    }


# --- secrets -------------------------------------------------------------------------------


def test_generated_secrets_are_whsec_base64_of_32_random_bytes() -> None:
    made = {generate_secret() for _ in range(20)}
    assert len(made) == 20
    for secret in made:
        assert secret.startswith("whsec_")
        assert base64.b64decode(secret.removeprefix("whsec_"), validate=True) == parse_secret(secret)
        assert len(parse_secret(secret)) == 32


def test_parse_secret_accepts_unpadded_base64_as_other_libraries_do() -> None:
    padded = "whsec_" + base64.b64encode(b"k" * 25).decode()
    assert padded.endswith("=")
    assert parse_secret(padded.rstrip("=")) == parse_secret(padded) == b"k" * 25


@pytest.mark.parametrize(
    ("secret", "fragment"),
    [
        ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "must have the form whsec_<base64>"),  # no prefix
        ("whsk_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "must have the form whsec_<base64>"),  # asymmetric form
        ("", "must have the form whsec_<base64>"),
        ("whsec_", "decodes to 0 bytes"),
        ("whsec_not*base64!here-at-all-sorry!", "is not valid base64"),
        ("whsec_" + base64.b64encode(b"s" * 16).decode(), "decodes to 16 bytes, and must be 24 to 64"),
        ("whsec_" + base64.b64encode(b"s" * 65).decode(), "decodes to 65 bytes, and must be 24 to 64"),
    ],
)
def test_malformed_secrets_are_refused_with_the_form_and_how_to_make_one(secret: str, fragment: str) -> None:
    for call in (
        lambda: parse_secret(secret),
        lambda: sign(secret, "evt_1", 1, BODY),
        lambda: verify(
            BODY, {"webhook-id": "evt_1", "webhook-timestamp": "1", "webhook-signature": "v1,x"}, secret
        ),
    ):
        with pytest.raises(WebhookSecretError) as caught:
            call()
        message = str(caught.value)
        assert fragment in message
        assert "aural-mcp watch --new-secret" in message
        secret_text = secret.removeprefix("whsec_")
        if secret_text:
            assert secret_text not in message
    assert issubclass(WebhookSecretError, ValueError)
    assert not issubclass(WebhookSecretError, WebhookVerificationError)


def test_a_message_id_that_would_make_the_signed_content_ambiguous_is_refused() -> None:
    secret = generate_secret()
    for msg_id in ("", "evt.1", "evt\n1", "évt_1"):
        with pytest.raises(ValueError, match="msg_id"):
            sign(secret, msg_id, 1, BODY)
    for timestamp in (-1, True):
        with pytest.raises(ValueError, match="timestamp"):
            sign(secret, "evt_1", timestamp, BODY)


# --- each failed check ---------------------------------------------------------------------


def test_signed_headers_are_the_three_standard_ones_and_the_content_type() -> None:
    secret = generate_secret()
    before = int(time.time())
    headers = signed_headers(secret, "evt_1", BODY)
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature", "content-type"}
    assert headers["webhook-id"] == "evt_1"
    assert before <= int(headers["webhook-timestamp"]) <= int(time.time())
    assert headers["webhook-signature"] == sign(secret, "evt_1", int(headers["webhook-timestamp"]), BODY)
    assert signed_headers(secret, "evt_1", BODY, timestamp=1_700_000_000)["webhook-timestamp"] == "1700000000"


def test_header_names_are_matched_case_insensitively_and_str_bodies_are_accepted() -> None:
    secret = generate_secret()
    headers = {name.upper(): value for name, value in signed_headers(secret, "evt_1", BODY).items()}
    assert verify(BODY.decode(), headers, secret) == json.loads(BODY)


def test_a_tampered_body_id_or_timestamp_has_no_matching_signature() -> None:
    secret = generate_secret()
    now = int(time.time())
    headers = signed_headers(secret, "evt_1", BODY, timestamp=now)
    tampered_body = BODY.replace(b"ses_1", b"ses_2")
    assert verification_error(tampered_body, headers, secret).startswith(
        "no matching signature in webhook-signature"
    )
    for name, value in (("webhook-id", "evt_2"), ("webhook-timestamp", str(now - 1))):
        changed = {**headers, name: value}
        assert "no matching signature" in verification_error(BODY, changed, secret)


def test_a_wrong_secret_has_no_matching_signature() -> None:
    headers = signed_headers(generate_secret(), "evt_1", BODY)
    message = verification_error(BODY, headers, generate_secret())
    assert "no matching signature" in message and "the secret is not the sender's" in message


def test_old_and_future_timestamps_are_refused_in_both_directions() -> None:
    secret = generate_secret()
    sent = 1_700_000_000
    headers = signed_headers(secret, "evt_1", BODY, timestamp=sent)
    # Inside the tolerance on either side, and at its edges, the delivery verifies.
    for now in (sent - 300, sent - 1, sent, sent + 299, sent + 300):
        assert verify(BODY, headers, secret, now=now) == json.loads(BODY)

    old = verification_error(BODY, headers, secret, now=sent + 301)
    assert old.startswith("webhook-timestamp is too old: 301 s ago, beyond the tolerance of 300 s")
    new = verification_error(BODY, headers, secret, now=sent - 301)
    assert new.startswith("webhook-timestamp is too new: 301 s in the future, beyond the tolerance of 300 s")

    # The tolerance is the caller's to choose.
    assert verify(BODY, headers, secret, now=sent + 3_000, tolerance_seconds=3_600) == json.loads(BODY)
    assert "too old" in verification_error(BODY, headers, secret, now=sent + 11, tolerance_seconds=10)
    # With the default `now`, a delivery signed an hour ago is a replay.
    stale = signed_headers(secret, "evt_1", BODY, timestamp=int(time.time()) - 3_600)
    assert "too old" in verification_error(BODY, stale, secret)


@pytest.mark.parametrize("value", ["soon", "1.5", "-5", "", "9" * 40, "١٧٠٠٠٠٠٠٠٠"])
def test_a_timestamp_that_is_not_integer_seconds_is_named(value: str) -> None:
    secret = generate_secret()
    headers = {**signed_headers(secret, "evt_1", BODY), "webhook-timestamp": value}
    message = verification_error(BODY, headers, secret)
    assert message in (
        "webhook-timestamp is not an integer of unix seconds",
        "missing header webhook-timestamp",
    )


@pytest.mark.parametrize(
    "removed",
    [["webhook-id"], ["webhook-timestamp"], ["webhook-signature"], ["webhook-id", "webhook-signature"]],
)
def test_missing_headers_are_named(removed: list[str]) -> None:
    secret = generate_secret()
    headers = {k: v for k, v in signed_headers(secret, "evt_1", BODY).items() if k not in removed}
    assert verification_error(BODY, headers, secret) == f"missing header {', '.join(removed)}"
    # An empty value is as missing as no header.
    emptied = {**signed_headers(secret, "evt_1", BODY), **dict.fromkeys(removed, "")}
    assert verification_error(BODY, emptied, secret) == f"missing header {', '.join(removed)}"


def test_rotated_secrets_any_v1_signature_matches_and_other_versions_are_ignored() -> None:
    old_secret, new_secret = generate_secret(), generate_secret()
    now = int(time.time())
    old_signature = sign(old_secret, "evt_1", now, BODY)
    new_signature = sign(new_secret, "evt_1", now, BODY)
    # During rotation the sender signs with both; a receiver holding either secret verifies.
    rotating = {
        "webhook-id": "evt_1",
        "webhook-timestamp": str(now),
        "webhook-signature": f"{old_signature} {new_signature}",
    }
    assert verify(BODY, rotating, old_secret) == verify(BODY, rotating, new_secret) == json.loads(BODY)
    assert standardwebhooks.Webhook(new_secret).verify(BODY, rotating) == json.loads(BODY)
    assert "no matching signature" in verification_error(BODY, rotating, generate_secret())

    # Other versions (v1a is the asymmetric one) and malformed entries are skipped, not errors.
    mixed = {
        **rotating,
        "webhook-signature": f"v1a,{new_signature[3:]} v2,{new_signature[3:]} v1,not*base64 junk {new_signature}",
    }
    assert verify(BODY, mixed, new_secret) == json.loads(BODY)
    # Our signature under a version other than v1 does not count.
    only_other_versions = {**rotating, "webhook-signature": f"v1a,{new_signature[3:]} v2,{new_signature[3:]}"}
    assert (
        verification_error(BODY, only_other_versions, new_secret) == "webhook-signature has no v1 signature"
    )


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"session completed", "body is not JSON: Expecting value at line 1 column 1"),
        (b'{"type": "session.completed"', "body is not JSON: Expecting ',' delimiter at line 1 column 29"),
        (b'{"name": "\xc3\x28"}', "body is not JSON: it is not UTF-8 text"),
        (b"[1, 2]", "body is JSON but not an object (it is a list)"),
        (b"", "body is not JSON: Expecting value at line 1 column 1"),
    ],
)
def test_a_signed_body_that_is_not_a_json_object_is_named(body: bytes, fragment: str) -> None:
    secret = generate_secret()
    message = verification_error(body, signed_headers(secret, "evt_1", body), secret)
    assert message == fragment
    if len(body) > 3:
        assert body.decode(errors="ignore")[:8] not in message  # the body's text is not echoed


def test_no_message_of_any_failure_contains_the_secret() -> None:
    """Every failure above, gathered over one secret whose text is easy to find."""
    secret = "whsec_" + base64.b64encode(b"a-memorable-secret-of-32-bytes!!").decode()
    good = signed_headers(secret, "evt_1", BODY)
    cases: list[tuple[bytes, dict[str, str], dict[str, Any]]] = [
        (BODY + b" ", good, {}),
        (BODY, {**good, "webhook-id": "evt_2"}, {}),
        (BODY, {**good, "webhook-timestamp": "12"}, {}),
        (BODY, {**good, "webhook-timestamp": str(int(time.time()) + 10_000)}, {}),
        (BODY, {k: v for k, v in good.items() if k != "webhook-id"}, {}),
        (BODY, {**good, "webhook-signature": "v1a,abc"}, {}),
        (b"nope", signed_headers(secret, "evt_1", b"nope"), {}),
    ]
    messages = [verification_error(body, headers, secret, **options) for body, headers, options in cases]
    for message in messages:
        assert "memorable" not in message
        assert good["webhook-signature"] not in message


# --- round trip ----------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=12,
)


@given(
    payload=st.dictionaries(st.text(), json_values, max_size=6),
    ensure_ascii=st.booleans(),
    indent=st.none() | st.integers(min_value=0, max_value=3),
    msg_id=st.from_regex(r"\A[A-Za-z0-9_-]{1,40}\Z"),
    timestamp=st.integers(min_value=0, max_value=4_000_000_000),
)
def test_sign_then_verify_round_trips_any_json_object_body(
    payload: dict[str, Any], ensure_ascii: bool, indent: int | None, msg_id: str, timestamp: int
) -> None:
    secret = generate_secret()
    body = json.dumps(payload, ensure_ascii=ensure_ascii, indent=indent).encode()
    headers = signed_headers(secret, msg_id, body, timestamp=timestamp)
    assert verify(body, headers, secret, now=timestamp) == json.loads(body)
    # The independent implementation computes the same signature over the same bytes.
    assert (
        standardwebhooks.Webhook(secret).sign(
            msg_id=msg_id,
            timestamp=datetime.fromtimestamp(timestamp, tz=UTC),
            data=body.decode(),
        )
        == headers["webhook-signature"]
    )
    # One byte more is a different message.
    with pytest.raises(WebhookVerificationError, match="no matching signature"):
        verify(body + b"\n", headers, secret, now=timestamp)
