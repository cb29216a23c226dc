"""The subscription bus across replicas: two `Subscriptions` (two replicas' servers) sharing one
account's updates on one real Redis. Each replica's subscribers hear the other's announcements
once, their own once, and another account's never."""

from __future__ import annotations

import anyio
import pytest
from tests.support.redis import redis_server

from aural_mcp.server.subscriptions import Subscriptions
from aural_mcp.team.redis_store import RedisStore

pytestmark = pytest.mark.anyio

URI = "aural://interviews/4f0c2a56-8a0e-4d0e-9a34-5b1c7f0e2d11"
OTHER_URI = "aural://interviews/9d2b8c1e-3f4a-4b5c-8d6e-7f8091a2b3c4"


class Connection:
    """Stands for a client's connection: what the server sent it."""

    def __init__(self) -> None:
        self.updated: list[str] = []

    async def send_resource_updated(self, uri: str) -> None:
        self.updated.append(uri)


async def until(check: object, seconds: float = 3.0) -> None:
    with anyio.fail_after(seconds):
        while not check():  # type: ignore[operator]
            await anyio.sleep(0.01)


async def test_two_replicas_on_redis_hear_each_others_announcements_of_their_account_only():
    with anyio.fail_after(20), redis_server() as url:
        first, second, stranger = Subscriptions(), Subscriptions(), Subscriptions()
        a, b, c = Connection(), Connection(), Connection()
        first.add(URI, a)
        second.add(URI, b)
        second.add(OTHER_URI, b)
        stranger.add(URI, c)
        async with (
            first.shared(RedisStore(url), "acct1"),
            second.shared(RedisStore(url), "acct1"),
            stranger.shared(RedisStore(url), "acct2"),  # another account, on the same Redis
        ):
            await first.announce(URI)
            await until(lambda: b.updated == [URI])
            await second.announce(OTHER_URI)  # nobody on the first replica wants it
            await second.announce(URI)
            await until(lambda: a.updated == [URI, URI])
            await anyio.sleep(0.2)  # anything extra would have come by now
        assert a.updated == [URI, URI], "once from itself, once from the other replica"
        assert b.updated == [URI, OTHER_URI, URI]
        assert c.updated == [], "another account's updates never arrive"
        assert first.relay is None, "after the block, announcements stay on this replica"
        await first.announce(URI)
        await anyio.sleep(0.2)
        assert b.updated == [URI, OTHER_URI, URI]


async def test_a_replica_whose_redis_is_down_fails_to_share_at_start():
    with redis_server() as url:
        pass  # started and stopped: nothing listens there any more
    subscriptions = Subscriptions()
    with anyio.fail_after(10), pytest.raises(ConnectionError, match="other replicas.*out of reach") as failed:
        async with subscriptions.shared(RedisStore(url), "acct1"):
            pass
    password = url.split(":")[2].split("@")[0]
    assert "127.0.0.1" in str(failed.value) and password not in str(failed.value)
    assert subscriptions.relay is None
