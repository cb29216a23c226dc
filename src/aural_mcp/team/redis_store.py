"""`RedisStore`: the `TeamStore` on Redis, so that many replicas share grants, tokens, the rate budget
of each Aural key and resource updates.

Layout (every name starts with `aural-mcp:`):

| Redis key | type | holds |
| --- | --- | --- |
| `aural-mcp:<kind>:<key>` | string, with a TTL when given one | the JSON value |
| `aural-mcp:budget:<bucket>` | sorted set | the bucket's slots (requests), scored with the time each counts from |
| `aural-mcp:budget-blocked:<bucket>` | string, expiring with the block | the time (Redis's clock) the bucket is held until after a 429 |
| `aural-mcp:channel:<channel>` | pub/sub channel | the messages of `publish`/`subscribe` |

`take` is `GETDEL`: of two replicas taking one authorization code, one gets it. `items` scans the
kind's keys (grants and service tokens are small sets; Redis drops expired keys itself). `reserve`,
`settle` and `block` are Lua scripts (atomic on the server) on Redis's own clock, so the replicas' clocks
need not agree.

The URL may hold a password: it is shown only masked (`masked_url`).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis.asyncio as aioredis

PREFIX = "aural-mcp:"

# KEYS[1] the bucket's sorted set of slots, each scored with the time it counts from; KEYS[2] the
# time the bucket is blocked until (after a 429), if it is.
# ARGV limit, window (s), the slot's name, hold (s). Returns the wait as a string (Lua numbers become
# integers on the way out): '0' when taken, 'inf' while the slot to free next is still held.
_RESERVE = """
local time = redis.call('TIME')
local now = tonumber(time[1]) + tonumber(time[2]) / 1000000
local blocked = tonumber(redis.call('GET', KEYS[2]) or '0')
if blocked > now then
  return tostring(blocked - now)
end
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  local hold = tonumber(ARGV[4])
  redis.call('ZADD', KEYS[1], now + hold, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil((window + hold) * 1000))
  return '0'
end
local freeing = tonumber(redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')[2])
if freeing > now then
  return 'inf'
end
return tostring(math.max(0.001, freeing + window - now))
"""

# KEYS[1] the bucket's sorted set; ARGV the slot. Counts a held slot from now (never later than before).
_SETTLE = """
local time = redis.call('TIME')
local now = tonumber(time[1]) + tonumber(time[2]) / 1000000
local held = redis.call('ZSCORE', KEYS[1], ARGV[1])
if held and tonumber(held) > now then
  redis.call('ZADD', KEYS[1], now, ARGV[1])
end
return 0
"""


# KEYS[1] the time the bucket is blocked until; ARGV seconds from now. A later block extends it, an
# earlier one leaves it; the key expires with the block.
_BLOCK = """
local time = redis.call('TIME')
local now = tonumber(time[1]) + tonumber(time[2]) / 1000000
local seconds = tonumber(ARGV[1])
if now + seconds > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], tostring(now + seconds), 'PX', math.max(1, math.ceil(seconds * 1000)))
end
return 0
"""


def masked_url(url: str) -> str:
    """`url` with its password (if any) replaced by `***`: the form for errors, logs and reprs."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    except ValueError:  # unparsable: show the scheme at most
        return url.split(":", 1)[0] + "://***"


class RedisStore:
    """`TeamStore` on one Redis database, shared by every replica that opens the same URL."""

    def __init__(self, url: str) -> None:
        scheme = url.split("://", 1)[0] if "://" in url else ""
        if scheme not in ("redis", "rediss", "unix"):
            raise ValueError(
                f"--redis / AURAL_MCP_REDIS_URL {masked_url(url)!r} must be a redis:// (or rediss://, unix://) URL, "
                "for example redis://:PASSWORD@127.0.0.1:6379/0"
            )
        self.url = url
        try:
            self._connect()
        except ValueError:
            # redis-py's message may quote the URL, password and all
            raise ValueError(
                f"--redis / AURAL_MCP_REDIS_URL {masked_url(url)!r} is not a usable Redis URL, "
                "for example redis://:PASSWORD@127.0.0.1:6379/0"
            ) from None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _connect(self) -> None:
        self._client = aioredis.Redis.from_url(self.url, decode_responses=True)
        self._reserve = self._client.register_script(_RESERVE)
        self._settle = self._client.register_script(_SETTLE)
        self._block = self._client.register_script(_BLOCK)

    @property
    def _redis(self) -> aioredis.Redis:
        """The client of the running event loop: redis-py's connections belong to the loop that
        opened them, and a command-line tool may run several loops, one after another, on one store."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            if self._loop is not None:  # an earlier loop (a command's, ended): its connections are gone
                self._connect()
            self._loop = loop
        return self._client

    def __repr__(self) -> str:
        return f"RedisStore({masked_url(self.url)!r})"

    @staticmethod
    def _name(kind: str, key: str) -> str:
        return f"{PREFIX}{kind}:{key}"

    async def put(self, kind: str, key: str, value: dict[str, Any], ttl: float | None = None) -> None:
        text = json.dumps(value, sort_keys=True)
        # a TTL under a millisecond still expires (PX 0 is refused)
        await self._redis.set(self._name(kind, key), text, px=max(1, round(ttl * 1000)) if ttl is not None else None)

    @staticmethod
    def _value(text: str | bytes | None) -> dict[str, Any] | None:
        if text is None:
            return None
        value: dict[str, Any] = json.loads(text)
        return value

    async def get(self, kind: str, key: str) -> dict[str, Any] | None:
        return self._value(await self._redis.get(self._name(kind, key)))

    async def all_live(self, *names: tuple[str, str]) -> bool:
        wanted = {self._name(kind, key) for kind, key in names}
        # EXISTS counts the names that are there; an expired one is gone
        return not wanted or int(await self._redis.exists(*wanted)) == len(wanted)

    async def take(self, kind: str, key: str) -> dict[str, Any] | None:
        return self._value(await self._redis.getdel(self._name(kind, key)))

    async def delete(self, kind: str, key: str) -> bool:
        return bool(await self._redis.delete(self._name(kind, key)))

    async def items(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        prefix = self._name(kind, "")
        names = sorted({str(name) async for name in self._redis.scan_iter(match=prefix + "*", count=1000)})
        if not names:
            return []
        texts = await self._redis.mget(names)  # one that expired since the scan reads as None
        return [(name[len(prefix):], json.loads(text)) for name, text in zip(names, texts, strict=True) if text is not None]

    async def reserve(self, bucket: str, limit: int, window: float, *, slot: str = "", hold: float = 0.0) -> float:
        client = self._redis
        wait = await self._reserve(
            keys=[f"{PREFIX}budget:{bucket}", f"{PREFIX}budget-blocked:{bucket}"],
            args=[limit, repr(float(window)), slot or uuid.uuid4().hex, repr(float(hold))],
            client=client,
        )
        return float(wait)

    async def settle(self, bucket: str, slot: str) -> None:
        client = self._redis
        await self._settle(keys=[f"{PREFIX}budget:{bucket}"], args=[slot], client=client)

    async def block(self, bucket: str, seconds: float) -> None:
        client = self._redis
        await self._block(keys=[f"{PREFIX}budget-blocked:{bucket}"], args=[repr(float(seconds))], client=client)

    async def publish(self, channel: str, message: str) -> None:
        await self._redis.publish(f"{PREFIX}channel:{channel}", message)

    async def subscribe(self, channel: str) -> AsyncIterator[str]:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(f"{PREFIX}channel:{channel}")
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    yield str(message["data"])
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        await self._redis.aclose()
