"""Where the team server keeps what must outlive a request: `TeamStore`, and its embedded SQLite form.

Everything is a JSON object under a (kind, key) pair, optionally with a time to live:

| kind | key | value |
| --- | --- | --- |
| `client` | OAuth client id | the registered (or fetched metadata document) client |
| `pending` | consent request id | an authorization request waiting for the user's consent |
| `code` | hash of an authorization code | the code's grant, PKCE challenge and redirect URI (taken once) |
| `grant` | grant id | who consented: the sealed Aural key, scopes, client, resource |
| `token` | hash of an access, refresh or service token | its grant, kind, scopes, resource, expiry |

`take` reads and deletes in one step, so an authorization code or a refresh token is used at most
once even when two replicas race. `reserve` is the shared rate budget: one log of requests per
Aural key, each counted from its answer (`settle`), so replicas together stay within the key's limit;
`block` holds a key's budget after a 429, for every replica. `publish`/`subscribe` carry resource
updates between replicas.

`SqliteStore` is the default for one replica (nothing to install); `redis_store.RedisStore` is the
same on Redis for many. Values are never secrets in plain text: keys are sealed
(`secrets.SecretBox`) and tokens stored only by hash before they reach a store.
"""

from __future__ import annotations

import contextlib
import json
import math
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Protocol

import anyio
from anyio.streams.memory import MemoryObjectSendStream

KINDS = ("client", "pending", "code", "grant", "token")


class TeamStore(Protocol):
    async def put(self, kind: str, key: str, value: dict[str, Any], ttl: float | None = None) -> None:
        """Store `value`; with `ttl` (seconds) it is gone after that long."""

    async def get(self, kind: str, key: str) -> dict[str, Any] | None: ...

    async def take(self, kind: str, key: str) -> dict[str, Any] | None:
        """Read and delete in one atomic step: of two concurrent takes, one gets the value."""

    async def all_live(self, *names: tuple[str, str]) -> bool:
        """Whether every (kind, key) is there and unexpired: one read, without decoding values."""

    async def delete(self, kind: str, key: str) -> bool:
        """True when there was something to delete."""

    async def items(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        """Every live (key, value) of a kind (grants and service tokens: small sets)."""

    async def reserve(self, bucket: str, limit: int, window: float, *, slot: str = "", hold: float = 0.0) -> float:
        """Take a slot of `bucket`'s budget of `limit` per `window` seconds: 0.0 when taken, else
        the seconds until one frees (nothing taken; call again then), or inf while the budget waits
        on slots still held (call again shortly).

        A slot counts for `window` from `hold` seconds after now: a request in flight for at most
        `hold` seconds. `settle(bucket, slot)` when its answer has come counts it from then instead."""

    async def settle(self, bucket: str, slot: str) -> None:
        """Count the held `slot` (named in `reserve`) for `window` from now: its request has ended."""

    async def block(self, bucket: str, seconds: float) -> None:
        """Hold `bucket`'s budget for `seconds` from now (the API answered 429): until then `reserve`
        takes nothing and answers the seconds left. A block never shortens a longer one."""

    async def publish(self, channel: str, message: str) -> None: ...

    def subscribe(self, channel: str) -> AsyncIterator[str]:
        """The messages published to `channel` from now on, by any replica."""

    async def close(self) -> None: ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, expires_at REAL,
    PRIMARY KEY (kind, key)
);
CREATE TABLE IF NOT EXISTS budget (bucket TEXT NOT NULL, slot TEXT NOT NULL, sent_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS budget_bucket ON budget (bucket, sent_at);
CREATE TABLE IF NOT EXISTS budget_blocked (bucket TEXT PRIMARY KEY, until REAL NOT NULL);
"""


class SqliteStore:
    """`TeamStore` in one SQLite file (WAL; other processes on this machine, such as `aural-mcp
    tokens`, may use it at the same time). Pub/sub reaches this process's subscribers only."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        self._channels: dict[str, list[MemoryObjectSendStream[str]]] = {}

    def _tx(self, fn: Any) -> Any:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                out = fn(self._db)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            return out

    @staticmethod
    def _live(row: tuple[str, float | None] | None, now: float) -> dict[str, Any] | None:
        if row is None or (row[1] is not None and row[1] <= now):
            return None
        value: dict[str, Any] = json.loads(row[0])
        return value

    async def put(self, kind: str, key: str, value: dict[str, Any], ttl: float | None = None) -> None:
        expires = time.time() + ttl if ttl is not None else None
        text = json.dumps(value, sort_keys=True)
        self._tx(lambda db: db.execute(
            "INSERT INTO records (kind, key, value, expires_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
            (kind, key, text, expires)))  # fmt: skip

    async def get(self, kind: str, key: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT value, expires_at FROM records WHERE kind = ? AND key = ?", (kind, key)).fetchone()
        return self._live(row, time.time())

    async def all_live(self, *names: tuple[str, str]) -> bool:
        wanted = set(names)
        if not wanted:
            return True
        where = " OR ".join(["(kind = ? AND key = ?)"] * len(wanted))
        pairs = [part for name in wanted for part in name]
        with self._lock:
            (found,) = self._db.execute(
                f"SELECT COUNT(*) FROM records WHERE ({where}) AND (expires_at IS NULL OR expires_at > ?)",
                (*pairs, time.time()),
            ).fetchone()
        return bool(found == len(wanted))

    async def take(self, kind: str, key: str) -> dict[str, Any] | None:
        def take(db: sqlite3.Connection) -> Any:
            row = db.execute("SELECT value, expires_at FROM records WHERE kind = ? AND key = ?", (kind, key)).fetchone()
            db.execute("DELETE FROM records WHERE kind = ? AND key = ?", (kind, key))
            return row

        return self._live(self._tx(take), time.time())

    async def delete(self, kind: str, key: str) -> bool:
        cursor = self._tx(lambda db: db.execute("DELETE FROM records WHERE kind = ? AND key = ?", (kind, key)))
        return bool(cursor.rowcount)

    async def items(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        now = time.time()
        with self._lock:
            rows = self._db.execute(
                "SELECT key, value FROM records WHERE kind = ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY key",
                (kind, now),
            ).fetchall()
        return [(key, json.loads(value)) for key, value in rows]

    async def reserve(self, bucket: str, limit: int, window: float, *, slot: str = "", hold: float = 0.0) -> float:
        def reserve(db: sqlite3.Connection) -> float:
            now = time.time()
            blocked = db.execute("SELECT until FROM budget_blocked WHERE bucket = ?", (bucket,)).fetchone()
            if blocked is not None and blocked[0] > now:
                return float(blocked[0]) - now
            db.execute("DELETE FROM budget WHERE bucket = ? AND sent_at <= ?", (bucket, now - window))
            sent = [float(t) for (t,) in db.execute("SELECT sent_at FROM budget WHERE bucket = ? ORDER BY sent_at", (bucket,))]
            if len(sent) < limit:
                db.execute("INSERT INTO budget (bucket, slot, sent_at) VALUES (?, ?, ?)", (bucket, slot, now + hold))
                return 0.0
            freeing = sent[len(sent) - limit]
            return math.inf if freeing > now else max(0.001, freeing + window - now)

        wait: float = self._tx(reserve)
        return wait

    async def settle(self, bucket: str, slot: str) -> None:
        self._tx(lambda db: db.execute(
            "UPDATE budget SET sent_at = MIN(sent_at, ?) WHERE bucket = ? AND slot = ?", (time.time(), bucket, slot)))  # fmt: skip

    async def block(self, bucket: str, seconds: float) -> None:
        self._tx(lambda db: db.execute(
            "INSERT INTO budget_blocked (bucket, until) VALUES (?, ?) "
            "ON CONFLICT (bucket) DO UPDATE SET until = MAX(until, excluded.until)", (bucket, time.time() + seconds)))  # fmt: skip

    async def publish(self, channel: str, message: str) -> None:
        for stream in list(self._channels.get(channel, [])):
            # a slow or gone subscriber misses it, as with Redis pub/sub
            with contextlib.suppress(anyio.WouldBlock, anyio.BrokenResourceError, anyio.ClosedResourceError):
                stream.send_nowait(message)

    async def subscribe(self, channel: str) -> AsyncIterator[str]:
        send, receive = anyio.create_memory_object_stream[str](1000)
        self._channels.setdefault(channel, []).append(send)
        try:
            async with receive:
                async for message in receive:
                    yield message
        finally:
            self._channels[channel].remove(send)
            send.close()

    async def sweep(self) -> int:
        """Delete what has expired; the count."""
        cursor = self._tx(lambda db: db.execute("DELETE FROM records WHERE expires_at IS NOT NULL AND expires_at <= ?", (time.time(),)))
        return int(cursor.rowcount)

    async def close(self) -> None:
        with self._lock:
            self._db.close()
