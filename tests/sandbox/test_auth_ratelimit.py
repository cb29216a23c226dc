"""Key checks in the API's order, project scoping, roles, the fixed-window rate limiter and plan limits."""

import math
import re
import time

import httpx2
import pytest

from aural_mcp.sandbox import Sandbox
from aural_mcp.sandbox.ratelimit import FixedWindowLimiter

from .conftest import BASE, err, new_interview

pytestmark = pytest.mark.anyio
MISSING = "Missing or invalid API key. Use: Authorization: Bearer dlv_xxx"


def make_client(box: Sandbox, key: str | None = None) -> httpx2.AsyncClient:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx2.AsyncClient(transport=httpx2.ASGITransport(app=box.app), base_url=BASE, headers=headers)


async def test_key_format_and_storage(sb):
    k = sb.create_key()
    assert re.fullmatch(r"dlv_[a-z0-9]{32}", k)
    rows = sb.store.all("SELECT key_hash FROM api_keys")
    assert k not in str([tuple(r) for r in rows]) and len(rows[0]["key_hash"]) == 64


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, MISSING),
        ("", MISSING),
        ("bearer dlv_abc", MISSING),
        ("Bearer  dlv_abc", MISSING),
        ("Token dlv_abc", MISSING),
        ("Bearer abc", MISSING),
        ("Bearer dlv_", "Invalid or revoked API key."),
        ("Bearer dlv_unknownkeyunknownkeyunknownkey12", "Invalid or revoked API key."),
    ],
)
async def test_auth_header_checks(sb, header, message):
    async with make_client(sb) as c:
        r = await c.get("/api/v1/interviews", headers={"Authorization": header} if header is not None else {})
        assert err(r) == (401, "UNAUTHORIZED", message)


async def test_revoked_expired_and_no_org(sb):
    revoked, expired, both = sb.create_key(), sb.create_key(), sb.create_key()
    sb.revoke_key(revoked)
    sb.expire_key(expired)
    sb.revoke_key(both)
    sb.expire_key(both)
    future = sb.create_key(expires_at="2999-01-01T00:00:00.000000+00:00")
    orphan = sb.create_key(user=sb.create_user(organization=""))
    async with make_client(sb) as c:

        def h(k):
            return {"Authorization": f"Bearer {k}"}

        assert err(await c.get("/api/v1/usage", headers=h(revoked))) == (
            401,
            "UNAUTHORIZED",
            "Invalid or revoked API key.",
        )
        assert err(await c.get("/api/v1/usage", headers=h(expired))) == (
            401,
            "UNAUTHORIZED",
            "API key has expired.",
        )
        assert err(await c.get("/api/v1/usage", headers=h(both))) == (
            401,
            "UNAUTHORIZED",
            "Invalid or revoked API key.",
        )
        assert (await c.get("/api/v1/usage", headers=h(future))).status_code == 200
        r = await c.get("/api/v1/usage", headers=h(orphan))
        assert err(r) == (403, "FORBIDDEN", "No organization found for this API key user.")
    assert sb.store.key_row(future)["last_used_at"] is not None


async def test_rate_limit_429_body_headers_and_counting():
    box = Sandbox(rate_limit=3, rate_window=30)
    key = box.create_key()
    orphan = box.create_key(user=box.create_user(organization=""))
    async with make_client(box, key) as c:
        for _ in range(3):
            r = await c.get("/api/v1/usage")
            assert r.status_code == 200
            assert not [h for h in r.headers if h.lower().startswith(("x-ratelimit", "retry-after"))]
        t0 = time.time()
        r = await c.get("/api/v1/usage")
        assert r.status_code == 429
        body = r.json()
        ra = body["error"]["retry_after"]
        assert body == {
            "error": {
                "code": "RATE_LIMITED",
                "message": f"Too many requests. Retry after {ra}s.",
                "retry_after": ra,
            }
        }
        assert 1 <= ra <= 30
        assert r.headers["Retry-After"] == str(ra)
        assert r.headers["X-RateLimit-Limit"] == "3" and r.headers["X-RateLimit-Remaining"] == "0"
        assert abs(int(r.headers["X-RateLimit-Reset"]) - math.ceil(t0 + ra)) <= 2
        # bad keys are never counted or limited; the openapi document is never limited
        assert (await c.get("/api/v1/usage", headers={"Authorization": "Bearer dlv_zzz"})).status_code == 401
        assert (await c.get("/api/v1/openapi.json")).status_code == 200
        # sandbox endpoints are not rate-limited
        iv = box.store.one("SELECT 1")
        assert iv is not None
        # the limit is per key; a no-org key is counted before the organization check
        for _ in range(3):
            assert (
                await c.get("/api/v1/usage", headers={"Authorization": f"Bearer {orphan}"})
            ).status_code == 403
        assert (
            await c.get("/api/v1/usage", headers={"Authorization": f"Bearer {orphan}"})
        ).status_code == 429
    assert box.stats["rate_limited"] == 2
    box.close()


def test_fixed_window_semantics():
    now = [1000.0]
    lim = FixedWindowLimiter(2, 10, clock=lambda: now[0])
    assert [lim.hit("k").allowed for _ in range(4)] == [True, True, False, False]
    now[0] = 1009.2
    v = lim.hit("k")
    assert not v.allowed and v.retry_after == 1 and v.reset_epoch == 1010
    now[0] = 1010.0  # window ended: a new one starts with this request
    assert lim.hit("k").allowed and lim.hit("k").allowed and not lim.hit("k").allowed
    assert lim.hit("other").allowed


async def test_short_window_recovers():
    box = Sandbox(rate_limit=2, rate_window=0.3)
    now = [1000.0]
    box.limiter.clock = lambda: now[0]  # fake time: no blocking wait, no early window end when slow
    key = box.create_key()
    async with make_client(box, key) as c:
        codes = [(await c.get("/api/v1/usage")).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        now[0] += 0.35
        assert (await c.get("/api/v1/usage")).status_code == 200
    box.close()


async def test_plan_limits():
    box = Sandbox(plan="free")
    key = box.create_key()
    async with make_client(box, key) as c:
        ids = [(await new_interview(c, title=f"t{i}"))["id"] for i in range(3)]
        r = await c.post("/api/v1/interviews", json={"title": "fourth"})
        assert r.status_code == 403
        e = r.json()["error"]
        assert (e["code"], e["limit"], e["current"], e["max"]) == ("PLAN_LIMIT_EXCEEDED", "templates", 3, 3)
        assert e["upgrade_url"].startswith("https://") and e["message"]
        u = (await c.get("/api/v1/usage")).json()["data"]
        assert (
            u["plan"] == "free"
            and u["templates"] == {"used": 3, "limit": 3}
            and u["session_hours"]["limit"] == 1
        )
        await c.post(f"/api/v1/interviews/{ids[0]}/publish")
        await c.post(f"/api/v1/interviews/{ids[0]}/questions", json={"text": "q"})
        box.seed_sessions(ids[0], 61)  # 61 minutes of sessions
        r = await c.post(f"/api/v1/interviews/{ids[0]}/candidates", json={"name": "x"})
        e = r.json()["error"]
        assert r.status_code == 403 and (e["code"], e["limit"], e["max"]) == (
            "PLAN_LIMIT_EXCEEDED",
            "session_hours",
            1,
        )
        assert (await c.post(f"/sandbox/interviews/{ids[0]}/simulate", json={})).status_code == 403
        assert (await c.get("/api/v1/usage")).json()["data"]["session_hours"]["used"] == 1.02
    box.close()
    with pytest.raises(ValueError):
        Sandbox(plan="platinum")


async def test_project_scoping_and_member_lists(sb, key):
    me = sb.identity(key)["userId"]
    restricted = sb.create_project(name="Secret", members={me: "VIEWER"})
    hidden = sb.create_project(name="Hidden", members={sb.create_user(role="MEMBER"): "MEMBER"})
    assert sb.identity(key)["projects"][1:] == [restricted]
    assert hidden not in sb.identity(key)["projects"]
    member = sb.create_key("MEMBER")
    assert restricted not in sb.identity(member)["projects"]
    async with make_client(sb, key) as c:
        iv = await new_interview(c)
        assert iv["projectId"] == sb.identity(key)["projects"][0]  # first accessible project
        # move it into the restricted project: invisible to the MEMBER key (404 on scoped routes)
        row = sb.store.get("interviews", iv["id"])
        row["projectId"] = restricted
        sb.store.save_interview(row)
        h = {"Authorization": f"Bearer {member}"}
        assert err(await c.get(f"/api/v1/interviews/{iv['id']}", headers=h)) == (
            404,
            "NOT_FOUND",
            "Interview not found.",
        )
        assert err(await c.get(f"/api/v1/interviews/{iv['id']}/questions", headers=h))[0] == 403
        assert iv["id"] not in [
            d["id"] for d in (await c.get("/api/v1/interviews", headers=h)).json()["data"]
        ]
        assert (await c.get(f"/api/v1/interviews/{iv['id']}")).status_code == 200


async def test_lowest_org_id_is_used(sb):
    user = sb.create_user(organization="")
    orgs = sorted([sb.create_organization("X"), sb.create_organization("Y")])
    sb.add_member(orgs[1], user, "OWNER")
    sb.add_member(orgs[0], user, "MEMBER")
    assert sb.identity(sb.create_key(user=user))["organizationId"] == orgs[0]
