"""Grants, tokens and the store under them: sealed keys, hashed tokens, single-use codes and
refresh tokens, revocation, and the shared rate budget, on both stores: the embedded SQLite store
(a real file) and Redis (a real server started for the test). Two handles on one store stand for
two processes (replicas)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from tests.support.redis import redis_server

from aural_mcp.team.grants import SCOPE_ALL, SCOPE_READ, GrantBook
from aural_mcp.team.redis_store import RedisStore
from aural_mcp.team.secrets import SecretBox, SecretKeyError, generate_secret_key, token_hash
from aural_mcp.team.store import SqliteStore, TeamStore

pytestmark = pytest.mark.anyio

KEY = "dlv_" + "s3cr3t" * 6
RESOURCE = "https://mcp.example.com/mcp"

OpenStore = Callable[[], TeamStore]  # a new handle on the test's one store


@pytest.fixture(params=["sqlite", "redis"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenStore]:
    if request.param == "sqlite":
        yield lambda: SqliteStore(tmp_path / "team.db")
    else:
        with redis_server() as url:
            yield lambda: RedisStore(url)


def book(open_store: OpenStore, secret: str, **ttl: float) -> GrantBook:
    return GrantBook(open_store(), SecretBox.from_text(secret), base_url="http://127.0.0.1:9/api/v1", **ttl)


def sqlite_book(path: Path, secret: str) -> GrantBook:
    return book(lambda: SqliteStore(path), secret)


async def test_the_key_is_sealed_and_tokens_are_hashes_in_the_file(tmp_path: Path):
    secret = generate_secret_key()
    grants = sqlite_book(tmp_path / "team.db", secret)
    grant = await grants.create_grant(kind="oauth", name="Claude", scopes=[SCOPE_ALL], resource=RESOURCE, key=KEY, client_id="c1")
    issued = await grants.issue(grant)
    service = await grants.issue_service_token(await grants.create_grant(
        kind="service", name="ats", scopes=[SCOPE_READ], resource=RESOURCE, key=KEY))  # fmt: skip
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    for plain in (KEY, issued.access_token, issued.refresh_token or "", service, secret):
        assert plain.encode() not in raw, plain[:12]
    assert token_hash(issued.access_token).encode() in raw
    assert await grants.key_of(grant) == KEY
    resolved = await grants.resolve(issued.access_token)
    assert resolved is not None and resolved.grant.id == grant.id and resolved.resource == RESOURCE
    assert (await grants.resolve(service)).grant.read_only is True  # type: ignore[union-attr]
    assert await grants.resolve(issued.refresh_token or "") is None, "a refresh token is no access token"


async def redis_contents(url: str) -> bytes:
    """Every key of the Redis database and everything under it, as bytes to grep."""
    import redis.asyncio as aioredis

    out: list[bytes] = []
    async with aioredis.Redis.from_url(url) as client:
        async for name in client.scan_iter():
            out.append(name)
            kind = await client.type(name)
            if kind == b"string":
                out.append(await client.get(name))
            elif kind == b"zset":
                out.extend(member for member, _ in await client.zrange(name, 0, -1, withscores=True))
            else:
                raise AssertionError(f"unexpected Redis type {kind!r} of {name!r}")
    return b"\n".join(out)


async def test_the_key_is_sealed_and_tokens_are_hashes_in_redis():
    secret = generate_secret_key()
    with anyio.fail_after(20), redis_server() as url:
        store = RedisStore(url)
        grants = GrantBook(store, SecretBox.from_text(secret), base_url="http://127.0.0.1:9/api/v1")
        grant = await grants.create_grant(kind="oauth", name="Claude", scopes=[SCOPE_ALL], resource=RESOURCE, key=KEY, client_id="c1")
        issued = await grants.issue(grant)
        service = await grants.issue_service_token(await grants.create_grant(
            kind="service", name="ats", scopes=[SCOPE_READ], resource=RESOURCE, key=KEY))  # fmt: skip
        await store.reserve("acct", 5, 1.0)
        raw = await redis_contents(url)
        for plain in (KEY, issued.access_token, issued.refresh_token or "", service, secret):
            assert plain.encode() not in raw, plain[:12]
        assert token_hash(issued.access_token).encode() in raw
        assert (await grants.resolve(service)).grant.read_only is True  # type: ignore[union-attr]
        password = url.split(":")[2].split("@")[0]
        assert password not in repr(store) and "***" in repr(store), "the password is masked"
        await store.close()


async def test_a_sealed_key_opens_only_with_its_grant_and_a_configured_master_key(open_store: OpenStore):
    old, new = generate_secret_key(), generate_secret_key()
    grants = book(open_store, old)
    grant = await grants.create_grant(kind="service", name="ats", scopes=[SCOPE_ALL], resource=RESOURCE, key=KEY)
    with pytest.raises(ValueError, match="moved from another grant"):
        grants.box.open(grant.sealed_key, context="grt_other")
    with pytest.raises(ValueError, match="no longer holds"):
        SecretBox.from_text(new).open(grant.sealed_key, context=grant.id)
    rotated = book(open_store, f"{new},{old}")  # the new key first, the old one kept
    stored = await rotated.grant(grant.id)
    assert stored is not None and await rotated.key_of(stored) == KEY
    resealed = await rotated.grant(grant.id)
    assert resealed is not None and resealed.sealed_key.split(".")[1] == rotated.box.current
    assert await book(open_store, new).key_of(resealed) == KEY, "the old key is no longer needed"
    for bad in ("", "short", f"{new},nope"):
        with pytest.raises(SecretKeyError, match="AURAL_MCP_SECRET_KEY"):
            SecretBox.from_text(bad)


async def test_codes_and_refresh_tokens_work_once_and_a_replayed_refresh_revokes_the_grant(open_store: OpenStore):
    grants = book(open_store, generate_secret_key())
    other = book(open_store, generate_secret_key())  # a second handle on the store (codes are not sealed)
    grant = await grants.create_grant(kind="oauth", name="Claude", scopes=[SCOPE_ALL], resource=RESOURCE, key=KEY, client_id="c1")
    code = await grants.new_code(grant, client_id="c1", code_challenge="x", redirect_uri="http://127.0.0.1/cb")
    results = []

    async def take(b: GrantBook) -> None:
        results.append(await b.take_code(code))

    async with anyio.create_task_group() as tg:
        tg.start_soon(take, grants)
        tg.start_soon(take, other)
    assert sorted(r is None for r in results) == [False, True], "of two takes, one gets the code"

    first = await grants.issue(grant)
    second = await grants.refresh(first.refresh_token or "", "c1")
    assert second is not None and second.access_token != first.access_token
    assert await grants.refresh(second.refresh_token or "", "someone-else") is None
    assert await grants.resolve(second.access_token) is not None, "another client's attempt changes nothing"
    assert await grants.refresh(first.refresh_token or "", "c1") is None  # replayed
    assert await grants.resolve(second.access_token) is None, "the replay revoked the grant"


async def test_expired_and_revoked_tokens_resolve_to_nothing(open_store: OpenStore):
    grants = book(open_store, generate_secret_key(), access_ttl=0.3)
    grant = await grants.create_grant(kind="oauth", name="Claude", scopes=[SCOPE_ALL], resource=RESOURCE, key=KEY, client_id="c1")
    issued = await grants.issue(grant)
    assert await grants.resolve(issued.access_token) is not None
    await anyio.sleep(0.4)
    assert await grants.resolve(issued.access_token) is None
    again = await grants.issue(grant)
    await grants.revoke_token(again.refresh_token or "")
    assert await grants.resolve(again.access_token) is None and await grants.grant(grant.id) is None
    await grants.revoke_token("amcp_at_unknown")  # no error


async def test_a_token_resolved_before_is_refused_at_once_after_a_revocation_elsewhere(open_store: OpenStore):
    # Two replicas: each has resolved the tokens once (and keeps that resolution); revoking
    # through the other one must still be seen at the very next request.
    secret = generate_secret_key()
    here, there = book(open_store, secret), book(open_store, secret)
    service_grant = await here.create_grant(kind="service", name="ats", scopes=[SCOPE_READ], resource=RESOURCE, key=KEY)
    service = await here.issue_service_token(service_grant)
    oauth_grant = await here.create_grant(kind="oauth", name="Claude", scopes=[SCOPE_ALL], resource=RESOURCE, key=KEY, client_id="c1")
    issued = await here.issue(oauth_grant)
    for token in (service, issued.access_token):
        for replica in (here, there, here):  # the second time on `here` is served from what it kept
            assert await replica.resolve(token) is not None
    assert await there.revoke_grant(service_grant.id)
    assert await here.resolve(service) is None, "the grant is gone: refused on the other replica at once"
    await there.store.delete("token", token_hash(issued.access_token))  # the token alone gone, its grant kept
    assert await here.resolve(issued.access_token) is None
    assert await here.grant(oauth_grant.id) is not None


async def test_the_shared_budget_holds_across_handles(open_store: OpenStore):
    a, b = open_store(), open_store()
    waits = [await (a if i % 2 else b).reserve("acct", 5, 1.0) for i in range(7)]
    assert waits[:5] == [0.0] * 5 and all(0 < w <= 1.0 for w in waits[5:])
    await anyio.sleep(waits[-1] + 0.01)
    assert await a.reserve("acct", 5, 1.0) == 0.0
    assert await a.reserve("another-key", 5, 1.0) == 0.0, "budgets are per key"


async def test_a_held_slot_counts_from_its_settling(open_store: OpenStore):
    a, b = open_store(), open_store()
    assert await a.reserve("acct", 1, 0.5, slot="s1", hold=30.0) == 0.0
    assert await b.reserve("acct", 1, 0.5, slot="s2", hold=30.0) == float("inf"), "held: no known end"
    await anyio.sleep(0.6)
    assert await b.reserve("acct", 1, 0.5, slot="s2", hold=30.0) == float("inf"), "still held after a window"
    await a.settle("acct", "s1")  # its request ended: a window from now
    assert 0.4 < await b.reserve("acct", 1, 0.5, slot="s2", hold=30.0) <= 0.5
    await anyio.sleep(0.55)
    assert await b.reserve("acct", 1, 0.5, slot="s2", hold=0.0) == 0.0
    await b.settle("acct", "gone")  # an unknown slot: nothing happens


async def test_a_block_holds_the_budget_for_every_handle_until_it_ends(open_store: OpenStore):
    a, b = open_store(), open_store()
    await a.block("acct", 0.6)
    await a.block("acct", 0.1)  # a shorter block does not shorten it
    assert 0.4 < await b.reserve("acct", 5, 1.0) <= 0.6, "blocked: nothing taken, the seconds left"
    assert await b.reserve("another-key", 5, 1.0) == 0.0, "blocks are per key"
    await anyio.sleep(0.65)
    assert [await b.reserve("acct", 5, 1.0) for _ in range(5)] == [0.0] * 5, "the whole budget once it ends"


async def test_ttl_take_items_and_pubsub(open_store: OpenStore):
    store, other = open_store(), open_store()
    await store.put("pending", "p1", {"a": 1}, ttl=0.2)
    await store.put("grant", "g1", {"b": 2})
    await store.put("grant", "g2", {"b": 3}, ttl=0.2)
    await other.put("grant", "g0", {"b": 1})
    assert await store.items("grant") == [("g0", {"b": 1}), ("g1", {"b": 2}), ("g2", {"b": 3})]
    await anyio.sleep(0.3)
    assert await store.get("pending", "p1") is None and await store.take("pending", "p1") is None
    assert await other.items("grant") == [("g0", {"b": 1}), ("g1", {"b": 2})], "expired ones are gone"
    assert await other.take("grant", "g0") == {"b": 1} and await store.take("grant", "g0") is None
    assert await store.delete("grant", "g1") is True and await other.delete("grant", "g1") is False
    assert await store.items("grant") == []
    got: list[str] = []

    async def listen() -> None:
        async for message in store.subscribe("updates"):
            got.append(message)
            return

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(listen)
            await anyio.sleep(0.1)  # the subscription is made on the listener's first read
            # a replica's handle on SQLite reaches this process's subscribers; on Redis, everyone's
            await (store if isinstance(store, SqliteStore) else other).publish("updates", "aural://interviews/x")
    assert got == ["aural://interviews/x"]
    if isinstance(store, SqliteStore):
        await store.put("code", "c1", {"c": 3}, ttl=0.05)
        await anyio.sleep(0.1)
        assert await store.sweep() == 2  # the expired rows (g2 and the code), unread, are deleted


def test_a_redis_store_serves_one_event_loop_after_another():
    """A command-line tool may run several event loops in turn on one store (redis-py's connections
    belong to the loop that opened them)."""
    def run(call: Callable[..., Any], *args: Any) -> Any:
        async def bounded() -> Any:
            with anyio.fail_after(5):
                return await call(*args)

        return anyio.run(bounded)

    with redis_server() as url:
        store = RedisStore(url)
        run(store.put, "grant", "g1", {"b": 2})
        assert run(store.get, "grant", "g1") == {"b": 2}
        assert run(store.reserve, "acct", 1, 60.0) == 0.0
        run(store.close)
