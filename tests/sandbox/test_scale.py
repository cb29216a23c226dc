"""Keyset paging stays index-driven: page 200 of 10,000 sessions costs what page 1 costs."""

from __future__ import annotations

import time

import pytest

from .conftest import new_interview

pytestmark = pytest.mark.anyio


async def test_deep_session_page_uses_the_keyset_index(client, sb):
    iv = await new_interview(client)
    other = await new_interview(client)
    sb.seed_sessions(other["id"], 500)
    t0 = time.monotonic()
    ids = sb.seed_sessions(iv["id"], 10_000)
    seeded = time.monotonic() - t0
    newest_first = ids[::-1]
    base = f"/api/v1/interviews/{iv['id']}/sessions?limit=50"

    t0 = time.monotonic()
    first = (await client.get(base)).json()
    t_first = time.monotonic() - t0
    assert [s["id"] for s in first["data"]] == newest_first[:50]
    cursor = newest_first[199 * 50 - 1]  # the cursor that opens page 200
    t0 = time.monotonic()
    deep = (await client.get(f"{base}&cursor={cursor}")).json()
    t_deep = time.monotonic() - t0
    assert [s["id"] for s in deep["data"]] == newest_first[199 * 50 : 200 * 50]
    assert deep["cursor"] is None  # page 200 is the last one

    plan = " ".join(
        str(tuple(r))
        for r in sb.store.all(
            "EXPLAIN QUERY PLAN SELECT data, msg_count FROM sessions WHERE interview_id=? AND (created_at, id) < (?, ?)"
            " ORDER BY created_at DESC, id DESC LIMIT ?",
            iv["id"],
            "x",
            "y",
            51,
        )
    )
    assert "sessions_keyset" in plan and "TEMP B-TREE" not in plan, plan
    print(f"seeded 10,000 in {seeded:.2f}s; page 1 {t_first * 1000:.1f} ms, page 200 {t_deep * 1000:.1f} ms")


async def test_interview_list_query_uses_an_index(sb):
    plan = " ".join(
        str(tuple(r))
        for r in sb.store.all(
            "EXPLAIN QUERY PLAN SELECT data FROM interviews WHERE project_id IN (?) AND updated_at <= ?"
            " ORDER BY updated_at DESC LIMIT ?",
            "p",
            "t",
            21,
        )
    )
    assert "interviews_project_updated" in plan, plan
