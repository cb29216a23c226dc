"""Grants, tokens and the store under them: sealed keys, hashed tokens, single-use codes and
refresh tokens, revocation, and the shared rate budget, on the embedded SQLite store (a real
file; two handles on it stand for two processes)."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from aural_mcp.team.grants import SCOPE_ALL, SCOPE_READ, GrantBook
from aural_mcp.team.secrets import SecretBox, SecretKeyError, generate_secret_key, token_hash
from aural_mcp.team.store import SqliteStore

pytestmark = pytest.mark.anyio

KEY = "dlv_" + "s3cr3t" * 6
RESOURCE = "https://mcp.example.com/mcp"


def book(path: Path, secret: str, **ttl: float) -> GrantBook:
    return GrantBook(SqliteStore(path), SecretBox.from_text(secret), base_url="http://127.0.0.1:9/api/v1", **ttl)


async def test_the_key_is_sealed_and_tokens_are_hashes_in_the_file(tmp_path: Path):
    secret = generate_secret_key()
    grants = book(tmp_path / "team.db", secret)
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


async def test_a_sealed_key_opens_only_with_its_grant_and_a_configured_master_key(tmp_path: Path):
    old, new = generate_secret_key(), generate_secret_key()
    grants = book(tmp_path / "team.db", old)
    grant = await grants.create_grant(kind="service", name="ats", scopes=[SCOPE_ALL], resource=RESOURCE, key=KEY)
    with pytest.raises(ValueError, match="moved from another grant"):
        grants.box.open(grant.sealed_key, context="grt_other")
    with pytest.raises(ValueError, match="no longer holds"):
        SecretBox.from_text(new).open(grant.sealed_key, context=grant.id)
    rotated = book(tmp_path / "team.db", f"{new},{old}")  # the new key first, the old one kept
    stored = await rotated.grant(grant.id)
    assert stored is not None and await rotated.key_of(stored) == KEY
    resealed = await rotated.grant(grant.id)
    assert resealed is not None and resealed.sealed_key.split(".")[1] == rotated.box.current
    assert await book(tmp_path / "team.db", new).key_of(resealed) == KEY, "the old key is no longer needed"
    for bad in ("", "short", f"{new},nope"):
        with pytest.raises(SecretKeyError, match="AURAL_MCP_SECRET_KEY"):
            SecretBox.from_text(bad)


async def test_codes_and_refresh_tokens_work_once_and_a_replayed_refresh_revokes_the_grant(tmp_path: Path):
    grants = book(tmp_path / "team.db", generate_secret_key())
    other = book(tmp_path / "team.db", generate_secret_key())  # a second handle on the file (codes are not sealed)
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


async def test_expired_and_revoked_tokens_resolve_to_nothing(tmp_path: Path):
    grants = book(tmp_path / "team.db", generate_secret_key(), access_ttl=0.3)
    grant = await grants.create_grant(kind="oauth", name="Claude", scopes=[SCOPE_ALL], resource=RESOURCE, key=KEY, client_id="c1")
    issued = await grants.issue(grant)
    assert await grants.resolve(issued.access_token) is not None
    await anyio.sleep(0.4)
    assert await grants.resolve(issued.access_token) is None
    again = await grants.issue(grant)
    await grants.revoke_token(again.refresh_token or "")
    assert await grants.resolve(again.access_token) is None and await grants.grant(grant.id) is None
    await grants.revoke_token("amcp_at_unknown")  # no error


async def test_the_shared_budget_holds_across_handles(tmp_path: Path):
    a, b = SqliteStore(tmp_path / "team.db"), SqliteStore(tmp_path / "team.db")
    waits = [await (a if i % 2 else b).reserve("acct", 5, 1.0) for i in range(7)]
    assert waits[:5] == [0.0] * 5 and all(0 < w <= 1.0 for w in waits[5:])
    await anyio.sleep(waits[-1] + 0.01)
    assert await a.reserve("acct", 5, 1.0) == 0.0
    assert await a.reserve("another-key", 5, 1.0) == 0.0, "budgets are per key"


async def test_ttl_take_items_and_pubsub(tmp_path: Path):
    store = SqliteStore(tmp_path / "team.db")
    await store.put("pending", "p1", {"a": 1}, ttl=0.2)
    await store.put("grant", "g1", {"b": 2})
    assert await store.items("grant") == [("g1", {"b": 2})]
    await anyio.sleep(0.3)
    assert await store.get("pending", "p1") is None and await store.take("pending", "p1") is None
    got: list[str] = []

    async def listen() -> None:
        async for message in store.subscribe("updates"):
            got.append(message)
            return

    async with anyio.create_task_group() as tg:
        tg.start_soon(listen)
        await anyio.sleep(0.05)
        await store.publish("updates", "aural://interviews/x")
    assert got == ["aural://interviews/x"]
    await store.put("code", "c1", {"c": 3}, ttl=0.05)
    await anyio.sleep(0.1)
    assert await store.sweep() == 1  # the expired row, unread, is deleted
