"""One rate budget per Aural key across replicas: three `AuralClient`s of one key (three replicas, each
with its own handle on one real Redis) against one real sandbox over loopback HTTP, whose limiter
counts per key. The sandbox records when each request arrived and with which key."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio
import pytest
from tests.support.arrivals import Arrivals
from tests.support.redis import redis_server
from tests.support.servers import LiveServer

from aural_mcp.api import AuralClient, errors
from aural_mcp.sandbox import Sandbox
from aural_mcp.team.redis_store import RedisStore

pytestmark = pytest.mark.anyio

LIMIT, WINDOW = 10, 2.0


@contextmanager
def sandbox() -> Iterator[tuple[Sandbox, Arrivals, str]]:
    box = Sandbox(":memory:", rate_limit=LIMIT, rate_window=WINDOW)
    arrivals = Arrivals(box.app, WINDOW)
    try:
        with LiveServer(arrivals, log_level="warning") as live:
            yield box, arrivals, live.url + "/api/v1"
    finally:
        box.close()


def replica(key: str, base_url: str, redis_url: str | None, **kw: Any) -> AuralClient:
    store = RedisStore(redis_url) if redis_url else None
    return AuralClient(key, base_url=base_url, rate_limit=LIMIT, rate_window=WINDOW, budget_store=store, **kw)


async def burst(clients: list[AuralClient], count: int) -> list[float]:
    """`count` get_usage calls, dealt round-robin to `clients`, all at once; when each finished."""
    started = time.monotonic()
    finished: list[float] = []

    async def one(client: AuralClient) -> None:
        await client.get_usage()
        finished.append(time.monotonic() - started)

    async with anyio.create_task_group() as tg:
        for i in range(count):
            tg.start_soon(one, clients[i % len(clients)])
    return finished


async def test_three_replicas_of_one_key_stay_within_its_limit_and_another_key_keeps_its_own():
    with anyio.fail_after(60), redis_server() as redis_url, sandbox() as (box, arrivals, base_url):
        key, other_key = box.create_key(), box.create_key()
        replicas = [replica(key, base_url, redis_url) for _ in range(3)]
        other = replica(other_key, base_url, redis_url)
        waits: list[float] = []

        async def on_wait(seconds: float) -> None:
            waits.append(seconds)

        async def reported() -> None:  # one request of the key that must wait behind the burst
            await anyio.sleep(0.3)
            await replicas[0].call("get_usage", {}, on_wait=on_wait)

        results: dict[str, list[float]] = {}

        async def run(name: str, clients: list[AuralClient], count: int) -> None:
            results[name] = await burst(clients, count)

        async with anyio.create_task_group() as tg:
            tg.start_soon(run, "key", replicas, 3 * LIMIT)  # three windows' worth, on three replicas
            tg.start_soon(run, "other", [other], LIMIT)
            tg.start_soon(reported)

        assert box.stats["rate_limited"] == 0, box.stats
        assert sum(c.stats["rate_limited"] for c in [*replicas, other]) == 0
        assert len([k for _, k in arrivals.seen if k == key]) == 3 * LIMIT + 1
        assert arrivals.most_in_a_window(key) <= LIMIT
        assert arrivals.most_in_a_window(other_key) == LIMIT
        assert max(results["key"]) > 2 * WINDOW, "three windows' worth cannot finish within two windows"
        assert other.pacer.stats["foreground_waits"] == 0, "the other key's budget is its own: nothing waited"
        assert max(results["other"]) < WINDOW
        assert waits and max(waits) > 1.0, "the wait for the shared budget was reported"
        for client in [*replicas, other]:
            await client.aclose()


async def test_without_the_shared_budget_three_clients_of_one_key_are_refused():
    """The check above can fail: three clients pacing only themselves send three times the limit."""
    with anyio.fail_after(30), sandbox() as (box, arrivals, base_url):
        key = box.create_key()
        clients = [replica(key, base_url, None, max_retries=0) for _ in range(3)]
        with pytest.raises(ExceptionGroup) as refused:
            await burst(clients, 3 * LIMIT)
        assert refused.group_contains(errors.RateLimitedError)
        assert box.stats["rate_limited"] > 0 and arrivals.most_in_a_window(key) > LIMIT
        for client in clients:
            await client.aclose()


async def test_an_unreachable_store_fails_the_request_with_a_clear_error_and_no_password():
    with anyio.fail_after(20), sandbox() as (box, arrivals, base_url):
        with redis_server() as redis_url:
            pass  # started and stopped: nothing listens there any more
        client = replica(box.create_key(), base_url, redis_url, max_retries=0)
        with pytest.raises(errors.TransportError, match="shared rate budget") as failed:
            await client.get_usage()
        password = redis_url.split(":")[2].split("@")[0]
        assert password not in str(failed.value) and arrivals.seen == [], "nothing was sent"
        await client.aclose()


async def test_a_429_seen_by_one_replica_holds_the_others_requests_of_that_key_until_its_retry_after():
    # The sandbox allows fewer requests than the replicas' budget (a key whose real limit is lower
    # than configured): replica A's burst meets a 429; replica B's next call then waits it out
    # instead of meeting one of its own.
    box = Sandbox(":memory:", rate_limit=3, rate_window=WINDOW)
    with anyio.fail_after(30), redis_server() as redis_url, LiveServer(box.app, log_level="warning") as live:
        key, base_url = box.create_key(), live.url + "/api/v1"
        a, b = replica(key, base_url, redis_url), replica(key, base_url, redis_url)
        try:
            async with anyio.create_task_group() as tg:
                for _ in range(4):
                    tg.start_soon(a.get_usage)
                while a.stats["rate_limited"] == 0:
                    await anyio.sleep(0.01)
                started = time.monotonic()
                await b.get_usage()
                waited = time.monotonic() - started
        finally:
            await a.aclose()
            await b.aclose()
        assert (a.stats["rate_limited"], b.stats["rate_limited"]) == (1, 0), "only A met a 429"
        assert box.stats["rate_limited"] == 1
        assert waited > 0.5, "B waited for the end of A's Retry-After"
    box.close()
