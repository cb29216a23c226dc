"""Hostile answers over real loopback HTTP: the key echoed back, bodies past the size cap, absurd
Retry-After values; and the SDK's own checks of its constructor and of ids before sending."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from starlette.requests import Request
from starlette.responses import Response

from aural_mcp.api import AuralClient, errors
from aural_mcp.server.tools.errors import explain
from aural_mcp.settings import DEFAULT_MAX_RESPONSE_BYTES, Settings, mask_secret

from .fake_api import FakeAPI, endless, fake_api, quick_client, raw
from .helpers import KEY

pytestmark = pytest.mark.anyio

MASKED = mask_secret(KEY)
IID = str(uuid.uuid4())


@pytest.fixture(scope="module")
def api() -> Iterator[FakeAPI]:
    with fake_api() as server:
        yield server


def new_client(api: FakeAPI, **kw: Any) -> AuralClient:
    return quick_client(api, KEY, **kw)


def _escaped(text: str) -> str:
    """`text` as a JSON string literal with its first letter written as a \\u escape."""
    return f'"\\u{ord(text[0]):04x}{text[1:]}"'


# --- the key echoed in a 200 body ---------------------------------------------------------------


def echo(request: Request) -> Any:
    """Every field an API or proxy might echo the key into, in plain and escaped JSON."""
    bearer = request.headers.get("authorization", "")
    if request.url.path.endswith("/questions"):
        return raw(json.dumps({"error": {"code": "BAD_REQUEST", "message": f"bad header {bearer}"}}), 400)
    if request.url.path.endswith("/openapi.json"):
        return {"info": {"title": f"echo {KEY}"}}
    if request.url.path.startswith("/sandbox/"):
        return {"data": {"received": bearer}}
    row = (
        f'{{"id": "{IID}", "title": "leaked {KEY}", "description": "{bearer}", "aiName": {_escaped(KEY)}, '
        f'"questions": [{{"id": "{IID}", "text": "say {KEY}", "options": ["{KEY}", "x"]}}], '
        f'"proxy": {{"{KEY}": ["{bearer}", {{"deep": [[["{KEY}"]]]}}]}}}}'
    )
    listed = request.method == "GET" and request.url.path.endswith("/interviews")
    return raw(f'{{"data": [{row}], "cursor": "{KEY}"}}' if listed else f'{{"data": {row}}}')


async def test_an_echoed_key_is_masked_before_anyone_sees_it(api: FakeAPI) -> None:
    api.answer = echo
    async with new_client(api) as c:
        seen: list[str] = []
        envelope = await c.call("get_interview", {"interviewId": IID})
        seen.append(json.dumps(envelope, ensure_ascii=False))
        iv = await c.get_interview(IID)
        seen.append(iv.model_dump_json(by_alias=True))
        seen.append(repr(iv))
        assert iv.title == f"leaked {MASKED}" and iv.description == f"Bearer {MASKED}" and iv.aiName == MASKED
        assert iv.questions[0].options == [MASKED, "x"]
        assert envelope["data"]["proxy"] == {MASKED: [f"Bearer {MASKED}", {"deep": [[[MASKED]]]}]}
        page = await c.list_interviews()
        assert page.cursor == MASKED
        seen.append(page.model_dump_json())
        updated = await c.update_interview(IID, title="T")
        seen.append(updated.model_dump_json())
        seen.append(json.dumps(await c.raw_request("GET", "/sandbox/echo", idempotent=True)))
        seen.append(json.dumps(await c.openapi()))
        with pytest.raises(errors.BadRequestError) as info:
            await c.list_questions(IID)
        seen += [str(info.value), info.value.message, json.dumps(info.value.body), repr(info.value)]
        assert info.value.message == f"bad header Bearer {MASKED}"
    text = "\n".join(seen)
    assert KEY not in text and KEY[4:] not in text
    assert text.count(MASKED) > 10


# --- the size cap -------------------------------------------------------------------------------------


async def test_an_endless_answer_stops_at_the_cap(api: FakeAPI) -> None:
    api.answer = lambda request: endless()
    before = api.count()
    async with new_client(api, max_response_bytes=256 * 1024) as c:
        with anyio.fail_after(30), pytest.raises(errors.ResponseTooLargeError) as info:
            await c.get_interview(IID)
        message = info.value.message
        assert "max_response_bytes (262144 bytes)" in message and "AURAL_MAX_RESPONSE_BYTES" in message
        assert info.value.code == "RESPONSE_TOO_LARGE" and api.count() == before + 1  # not retried
        with anyio.fail_after(30), pytest.raises(errors.OutcomeUnknownError) as unknown:
            await c.create_interview("Backend screen")
        assert "max_response_bytes" in unknown.value.reason and api.count() == before + 2


async def test_a_declared_length_over_the_cap_is_refused_unread(api: FakeAPI) -> None:
    big = json.dumps({"data": {"id": IID, "title": "x" * 200_000}})
    api.answer = lambda request: raw(big)
    async with new_client(api, max_response_bytes=100_000) as c:
        with pytest.raises(errors.ResponseTooLargeError, match="max_response_bytes"):
            await c.call("get_interview", {"interviewId": IID})
    async with new_client(api, max_response_bytes=len(big)) as c:  # exactly the cap is fine
        assert len((await c.get_interview(IID)).title or "") == 200_000


async def test_an_error_answer_over_the_cap_is_still_its_status(api: FakeAPI) -> None:
    api.answer = lambda request: raw("x" * 300_000, 500, "text/plain")
    async with new_client(api, max_response_bytes=1000, max_retries=0) as c:
        with pytest.raises(errors.ServerError) as info:
            await c.get_usage()
        assert info.value.status == 500


def test_the_cap_comes_from_the_environment() -> None:
    env = {"AURAL_API_KEY": KEY, "AURAL_BASE_URL": "http://127.0.0.1:9/api/v1"}
    assert AuralClient.from_settings(Settings.from_env(env)).max_response_bytes == DEFAULT_MAX_RESPONSE_BYTES
    settings = Settings.from_env({**env, "AURAL_MAX_RESPONSE_BYTES": "4096"})
    assert AuralClient.from_settings(settings).max_response_bytes == 4096
    with pytest.raises(ValueError, match="AURAL_MAX_RESPONSE_BYTES='0' must be a whole number of at least 1024"):
        Settings.from_env({**env, "AURAL_MAX_RESPONSE_BYTES": "0"})
    with pytest.raises(errors.ConfigurationError, match="max_response_bytes"):
        AuralClient(KEY, base_url="http://127.0.0.1:9/api/v1", max_response_bytes=0)


# --- absurd Retry-After -------------------------------------------------------------------------------


def _limited(retry_after_json: str | None = None, header: str | None = None) -> Response:
    extra = f', "retry_after": {retry_after_json}' if retry_after_json is not None else ""
    body = f'{{"error": {{"code": "RATE_LIMITED", "message": "Too many requests."{extra}}}}}'
    return raw(body, 429) if header is None else Response(body, 429, {"Retry-After": header}, "application/json")


ABSURD = {
    "400-digit retry_after": dict(retry_after_json="1" + "0" * 399),
    "retry_after 1e308": dict(retry_after_json="1e308"),
    "negative retry_after": dict(retry_after_json="-5"),
    "Retry-After 1e308": dict(header="1e308"),
    "Retry-After inf": dict(header="inf"),
    "Retry-After nan": dict(header="nan"),
    "Retry-After -1": dict(header="-1"),
    "Retry-After 400 digits": dict(header="9" * 400),
}


@pytest.mark.parametrize("name", sorted(ABSURD))
async def test_an_absurd_retry_after_is_a_wait_too_long(api: FakeAPI, name: str) -> None:
    api.answer = lambda request: _limited(**ABSURD[name])
    before = api.count()
    async with new_client(api) as c:
        with anyio.fail_after(30), pytest.raises(errors.RateLimitedError) as info:
            await c.get_usage()
    exc = info.value
    assert api.count() == before + 1  # nothing waits for it or retries it
    assert exc.wait_too_long is True and exc.retry_after is None
    assert "not a usable wait" in exc.message and "try again much later" in exc.message
    assert len(exc.message) < 300  # the absurd value is shown shortened
    assert "RATE_LIMITED" in str(exc)
    assert "Rate limited" in explain("get_usage", {}, exc)  # the MCP error text builds too


async def test_a_sane_retry_after_still_waits_and_retries(api: FakeAPI) -> None:
    answers = iter([_limited(retry_after_json="0"), _limited(header="0.1")])
    api.answer = lambda request: next(answers, {"data": {"plan": "free"}})
    async with new_client(api) as c:
        assert (await c.get_usage()).plan == "free"
        assert c.stats["rate_limited"] == 2


async def test_a_nan_retry_after_on_a_503_is_ignored(api: FakeAPI) -> None:
    answers = iter([Response("busy", 503, {"Retry-After": "nan"}), Response("busy", 503, {"Retry-After": "1e999"})])
    api.answer = lambda request: next(answers, {"data": {"plan": "free"}})
    async with new_client(api) as c:
        assert (await c.get_usage()).plan == "free"
        assert c.stats["retries"] == 2


# --- the constructor ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("rate_limit", 0),
        ("rate_limit", -1),
        ("rate_limit", 2.5),
        ("rate_limit", True),
        *[("rate_window", v) for v in (math.inf, math.nan, 0, -1, "60")],
        *[("timeout", v) for v in (math.inf, math.nan, 0, -1, None)],
        *[("max_response_bytes", v) for v in (0, -1, 1.5, math.inf)],
        ("max_retries", -1),
        ("max_backoff", math.nan),
        ("max_retry_wait", -1),
    ],
)
def test_constructor_rejects_unusable_numbers(name: str, value: Any) -> None:
    with pytest.raises(ValueError) as info:
        AuralClient(KEY, base_url="http://127.0.0.1:9/api/v1", **{name: value})
    assert isinstance(info.value, errors.ConfigurationError)
    message = str(info.value)
    assert f"{name} must be" in message and f"Pass {name}=" in message and "for example" in message


# --- ids on the wire -------------------------------------------------------------------------------------


async def test_ids_are_checked_whole_before_anything_is_sent(api: FakeAPI) -> None:
    api.answer = lambda request: {"data": {"id": IID}}
    before = api.count()
    async with new_client(api) as c:
        for bad in (IID + "\n", " " + IID, IID.replace("-", "", 1), IID + "/../usage"):
            with pytest.raises(errors.BadRequestError, match="`interviewId` must be a UUID"):
                await c.get_interview(bad)
        with pytest.raises(errors.BadRequestError, match="`candidateId` must be a UUID"):
            await c.update_candidate(IID, IID + "\n", name="Ada")
        with pytest.raises(errors.BadRequestError) as info:
            await c.get_session("x" * 5000)
        assert len(info.value.message) < 250 and "x" * 98 in info.value.message and "x" * 100 not in info.value.message
        with pytest.raises(errors.BadRequestError) as keyed:
            await c.get_session(KEY)  # a key pasted as an id is not echoed
        assert KEY not in str(keyed.value)
    assert api.count() == before
