"""Key handling: validated before any request, never printed."""

from __future__ import annotations

import logging

import httpx2
import pytest

from aural_mcp.api import AuralClient, errors
from aural_mcp.settings import Settings

from .helpers import BASE, KEY, client, err, ok, uid

pytestmark = pytest.mark.anyio


def test_missing_key_says_how_to_fix(monkeypatch):
    monkeypatch.delenv("AURAL_API_KEY", raising=False)
    with pytest.raises(errors.ConfigurationError) as info:
        AuralClient()
    assert "AURAL_API_KEY" in str(info.value)
    assert "dlv_" in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("bad", ["sk_live_abcdef", "Bearer dlv_abc", "dlv_ has space", "DLV_abc", "dlv_"])
def test_malformed_key_rejected_without_echoing_it(bad):
    with pytest.raises(errors.ConfigurationError) as info:
        AuralClient(bad)
    text = str(info.value) + repr(info.value) + repr(info.value.args)
    if bad != "dlv_":
        assert bad not in text
    assert "dlv_" in text and "AURAL_API_KEY" in text


def test_key_and_base_url_from_environment(monkeypatch):
    monkeypatch.setenv("AURAL_API_KEY", f"  {KEY}\n")
    monkeypatch.setenv("AURAL_BASE_URL", "http://127.0.0.1:9/api/v1/")
    c = AuralClient()
    assert c.base_url == "http://127.0.0.1:9/api/v1"
    assert c.root_url == "http://127.0.0.1:9"


def test_explicit_base_url_wins_and_default_is_hosted(monkeypatch):
    monkeypatch.delenv("AURAL_BASE_URL", raising=False)
    assert AuralClient(KEY).base_url == "https://aural-ai.com/api/v1"
    monkeypatch.setenv("AURAL_BASE_URL", "http://elsewhere/api/v1")
    assert AuralClient(KEY, base_url="https://self.hosted/x/api/v1").root_url == "https://self.hosted/x"


def test_bad_base_url():
    with pytest.raises(errors.ConfigurationError, match="http"):
        AuralClient(KEY, base_url="aural-ai.com/api/v1")


def test_from_settings():
    s = Settings(api_key=KEY, base_url="http://sb/api/v1", rate_limit=7, rate_window=3.0, timeout=5.0)
    c = AuralClient.from_settings(s)
    assert (c.base_url, c.rate_limit, c.rate_window, c.timeout) == ("http://sb/api/v1", 7, 3.0, 5.0)
    with pytest.raises(errors.ConfigurationError):
        AuralClient.from_settings(Settings(api_key=None), transport=httpx2.MockTransport(lambda r: ok({})))


def test_repr_hides_key():
    c = AuralClient(KEY, base_url=BASE)
    assert KEY not in repr(c) and KEY[4:] not in repr(c)
    assert KEY[4:] not in repr(c.pacer)


async def test_key_sent_as_bearer_header_only_when_keyed():
    c, rec = client(
        lambda r: ok({"plan": "x"}) if r.url.path.endswith("usage") else httpx2.Response(200, json={})
    )
    await c.get_usage()
    await c.openapi()
    assert rec.requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert "authorization" not in rec.requests[1].headers
    assert rec.requests[1].url == httpx2.URL(BASE + "/openapi.json")


async def test_key_never_in_logs_errors_or_reprs(caplog):
    caplog.set_level(logging.DEBUG, logger="aural_mcp.api")
    calls = iter(
        [
            err(401, "UNAUTHORIZED", "Invalid or revoked API key."),
            httpx2.Response(500, text="<html>oops</html>"),
            err(429, "RATE_LIMITED", "Too many requests. Retry after 0s.", retry_after=0),
            err(403, "PLAN_LIMIT_EXCEEDED", "limit", limit="templates", current=3, max=3, upgrade_url="u"),
        ]
    )

    def answer(request):
        nxt = next(calls, None)
        if nxt is None:
            raise httpx2.ReadError("connection reset", request=request)
        return nxt

    c, _ = client(answer, max_retries=0)
    seen: list[BaseException] = []
    for coro in (
        c.get_usage(),
        c.get_usage(),
        c.get_usage(),
        c.create_interview("t"),
        c.create_interview("t"),
        c.get_interview("not-a-uuid"),
        c.get_usage(),
    ):
        with pytest.raises(errors.AuralError) as info:
            await coro
        seen.append(info.value)
    assert {type(e) for e in seen} >= {
        errors.UnauthorizedError,
        errors.ServerError,
        errors.RateLimitedError,
        errors.PlanLimitExceededError,
        errors.OutcomeUnknownError,
        errors.BadRequestError,
        errors.TransportError,
    }
    secret = KEY[4:]
    for e in seen:
        for text in (str(e), repr(e), repr(e.args), str(vars(e)), repr(e.__cause__), repr(e.__context__)):
            assert secret not in text
    assert caplog.records, "debug lines are expected"
    for record in caplog.records:
        assert secret not in record.getMessage()
        assert secret not in repr(record.args)
    await c.aclose()


async def test_debug_log_lines_name_method_path_status_attempt(caplog):
    caplog.set_level(logging.DEBUG, logger="aural_mcp.api")
    c, _ = client(lambda r: ok([]))
    iid = uid()
    await c.list_questions(iid)
    messages = [r.getMessage() for r in caplog.records if r.name == "aural_mcp.api"]
    assert any(f"GET /api/v1/interviews/{iid}/questions -> 200 (attempt 1)" in m for m in messages)


async def test_context_manager_closes():
    c, _ = client(lambda r: ok({}))
    async with c as same:
        assert same is c
        await c.get_usage()
    assert c.is_closed
