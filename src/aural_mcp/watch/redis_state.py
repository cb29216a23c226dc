"""`RedisWatchState`: the watcher state of one account on Redis, so the team server's replicas share it.

It has `WatchState`'s interface and meaning (`state.WatchStore`): any replica can serve any
`wait_for_sessions` call of a user, a `since` cursor given by one replica works on every other, and
an interview's first pass is one silent baseline for all of them. Passes of two replicas over one
interview at once never double an event: `record` is one Lua script (atomic on the server) that
stores each event id once (`HSETNX`) and numbers the new ones with the account's one counter.

Layout (every name starts with `aural-mcp:watch:<account>:`, the account being the fingerprint of
the API base URL and key, never the key):

| name | type | holds |
| --- | --- | --- |
| `meta` | hash | `schema`, `state_id` (the cursors' prefix), `watch_all_since` |
| `baseline`, `polled` | hash | interview id -> when its first / last pass was written |
| `sessions:<interview>` | hash | session id -> its `SessionMark` as JSON |
| `open`, `open:<interview>` | set | session ids something may still happen to (all, of one interview) |
| `candidates:<interview>` | hash | candidate id -> its session id as JSON (`null` until it has one) |
| `events` | hash | event id -> the event as JSON (without its number) |
| `seq` | string | the last event number given |
| `order`, `order:<interview>` | sorted set | event ids scored with their numbers (all, of one interview) |

The callers (the detector, the watcher, the waiting tool) are synchronous, so this uses redis-py's
synchronous client, with short timeouts. The URL may hold a password: it is shown only masked.
The webhook bridge's outbox (`outbox.py`) is not used by the team server and stays on SQLite.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import redis

from aural_mcp.team.redis_store import PREFIX, masked_url
from aural_mcp.watch.events import Event
from aural_mcp.watch.state import (
    SCHEMA_VERSION,
    NewEvent,
    SessionMark,
    StateError,
    cursor_in,
    now_iso,
    seq_in,
    stored_event,
)

TIMEOUT_SECONDS = 3.0  # a Redis that does not answer this fast fails the call rather than stall the server

# KEYS: baseline, polled, sessions:<iid>, open:<iid>, open, candidates:<iid>, events, order, seq, then the
# `order:<interview>` of each event's interview, in the events' order.
# ARGV: interview id, the time, the number of sessions, then (id, mark JSON, '1' if final) for each;
# the number of candidates, then (id, session id JSON) for each; then (event id, event JSON) for each event.
# Returns (event id, number) for each event newly stored, in order.
_RECORD = """
local iid, at = ARGV[1], ARGV[2]
redis.call('HSETNX', KEYS[1], iid, at)
redis.call('HSET', KEYS[2], iid, at)
local i = 4
for _ = 1, tonumber(ARGV[3]) do
  redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
  if ARGV[i + 2] == '1' then
    redis.call('SREM', KEYS[4], ARGV[i])
    redis.call('SREM', KEYS[5], ARGV[i])
  else
    redis.call('SADD', KEYS[4], ARGV[i])
    redis.call('SADD', KEYS[5], ARGV[i])
  end
  i = i + 3
end
local candidates = tonumber(ARGV[i])
i = i + 1
for _ = 1, candidates do
  redis.call('HSET', KEYS[6], ARGV[i], ARGV[i + 1])
  i = i + 2
end
local stored = {}
local n = 10
while i <= #ARGV do
  if redis.call('HSETNX', KEYS[7], ARGV[i], ARGV[i + 1]) == 1 then
    local seq = redis.call('INCR', KEYS[9])
    redis.call('ZADD', KEYS[8], seq, ARGV[i])
    redis.call('ZADD', KEYS[n], seq, ARGV[i])
    table.insert(stored, ARGV[i])
    table.insert(stored, seq)
  end
  i = i + 2
  n = n + 1
end
return stored
"""


class RedisWatchState:
    """The watcher state of `account` on the Redis at `url`, shared by every process that opens both."""

    def __init__(self, url: str, account: str) -> None:
        self.url = url
        self.account = account
        self._prefix = f"{PREFIX}watch:{account}:"
        try:
            self._redis = redis.Redis.from_url(
                url, decode_responses=True, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS
            )
        except ValueError:  # redis-py's message may quote the URL, password and all
            raise StateError(
                f"--redis / AURAL_MCP_REDIS_URL {masked_url(url)!r} is not a usable Redis URL for the watch state, "
                "for example redis://:PASSWORD@127.0.0.1:6379/0"
            ) from None
        self._record = self._redis.register_script(_RECORD)
        with self._reaching():
            pipe = self._redis.pipeline(transaction=True)
            pipe.hsetnx(self._key("meta"), "schema", SCHEMA_VERSION)
            pipe.hsetnx(self._key("meta"), "state_id", uuid.uuid4().hex)
            pipe.hmget(self._key("meta"), ["schema", "state_id"])
            version, state_id = pipe.execute()[-1]
        if version != SCHEMA_VERSION:
            raise StateError(
                f"the watch state on Redis {masked_url(url)!r} has schema {version}, this aural-mcp reads "
                f"{SCHEMA_VERSION}: upgrade aural-mcp on every replica"
            )
        self.state_id: str = state_id

    def __repr__(self) -> str:
        return f"RedisWatchState({masked_url(self.url)!r}, {self.account!r})"

    def _key(self, *parts: str) -> str:
        return self._prefix + ":".join(parts)

    @contextmanager
    def _reaching(self) -> Iterator[None]:
        """Redis's errors as StateError, naming the masked URL and the error's type only (its text may name the URL)."""
        try:
            yield
        except redis.RedisError as exc:
            raise StateError(
                f"the watch state on Redis {masked_url(self.url)!r} cannot be used ({type(exc).__name__}): "
                "check that Redis is up and --redis / AURAL_MCP_REDIS_URL (its password too)"
            ) from None

    def close(self) -> None:
        self._redis.close()

    def meta_get(self, key: str) -> str | None:
        with self._reaching():
            return _text(self._redis.hget(self._key("meta"), key))

    def meta_set_once(self, key: str, value: str) -> str:
        """Set `key` unless it is set; returns its value now (the first writer's, when two race)."""
        with self._reaching():
            pipe = self._redis.pipeline(transaction=True)
            pipe.hsetnx(self._key("meta"), key, value)
            pipe.hget(self._key("meta"), key)
            return str(pipe.execute()[-1])

    # --- what is known ---------------------------------------------------------------------------

    def knows(self, interview_id: str) -> bool:
        with self._reaching():
            return bool(self._redis.hexists(self._key("polled"), interview_id))

    def polled_at(self, interview_id: str) -> str | None:
        """When the last pass over the interview was written (ISO), or None if there was none."""
        with self._reaching():
            return _text(self._redis.hget(self._key("polled"), interview_id))

    def interview_ids(self) -> list[str]:
        with self._reaching():
            baselines = _texts(self._redis.hgetall(self._key("baseline")))
        return [iid for iid, _ in sorted(baselines.items(), key=lambda item: (item[1], item[0]))]

    def sessions(self, interview_id: str) -> dict[str, SessionMark]:
        with self._reaching():
            rows = _texts(self._redis.hgetall(self._key("sessions", interview_id)))
        return {sid: SessionMark(**json.loads(text)) for sid, text in rows.items()}

    def candidates(self, interview_id: str) -> dict[str, str | None]:
        """Known candidate ids of the interview, each with its session id (None until it has one)."""
        with self._reaching():
            rows = _texts(self._redis.hgetall(self._key("candidates", interview_id)))
        return {cid: json.loads(text) for cid, text in rows.items()}

    def open_sessions(self, interview_id: str | None = None) -> int:
        """How many sessions (of one interview, or of all) something may still happen to."""
        with self._reaching():
            if interview_id is None:
                return int(self._redis.scard(self._key("open")))
            return int(self._redis.scard(self._key("open", interview_id)))

    # --- writing what a pass found -----------------------------------------------------------------

    def record(
        self,
        interview_id: str,
        *,
        sessions: Sequence[SessionMark] = (),
        candidates: dict[str, str | None] | None = None,
        events: Sequence[NewEvent] = (),
    ) -> list[Event]:
        """Write one pass over one interview, with the events it found, in one atomic step.

        Returns the events newly stored, in order; an event already stored (same id) is skipped.
        """
        at = now_iso()
        args: list[str] = [interview_id, at, str(len(sessions))]
        for mark in sessions:
            args += [mark.id, json.dumps(dataclasses.asdict(mark)), "1" if mark.final else "0"]
        args.append(str(len(candidates or {})))
        for cid, sid in (candidates or {}).items():
            args += [cid, json.dumps(sid)]
        by_id = {e.id: e for e in events}
        for e in events:
            stored_form = {"type": e.type, "interview_id": e.interview_id, "session_id": e.session_id,
                           "candidate_id": e.candidate_id, "detected_at": at, "data": e.data}  # fmt: skip
            args += [e.id, json.dumps(stored_form)]
        keys = [
            self._key("baseline"), self._key("polled"), self._key("sessions", interview_id),
            self._key("open", interview_id), self._key("open"), self._key("candidates", interview_id),
            self._key("events"), self._key("order"), self._key("seq"),
            *(self._key("order", e.interview_id) for e in events),
        ]  # fmt: skip
        with self._reaching():
            stored = self._record(keys=keys, args=args)
        out: list[Event] = []
        for event_id, seq in zip(stored[::2], stored[1::2], strict=True):
            e = by_id[event_id]
            out.append(Event(int(seq), e.id, e.type, e.interview_id, e.session_id, e.candidate_id, at, e.data))
        return out

    # --- reading events ------------------------------------------------------------------------------

    def last_seq(self) -> int:
        with self._reaching():
            return int(self._redis.get(self._key("seq")) or 0)

    def events_after(
        self, seq: int, *, interview_ids: Sequence[str] | None = None, limit: int = 1000
    ) -> list[Event]:
        """Events numbered above `seq`, oldest first (of these interviews only, when given)."""
        orders = [self._key("order")] if interview_ids is None else [self._key("order", i) for i in interview_ids]
        with self._reaching():
            pipe = self._redis.pipeline(transaction=False)
            for order in orders:
                pipe.zrangebyscore(order, f"({seq}", "+inf", start=0, num=limit, withscores=True)
            numbered = sorted(((int(score), eid) for page in pipe.execute() for eid, score in page))[:limit]
            if not numbered:
                return []
            texts = [_text(t) for t in self._redis.hmget(self._key("events"), [eid for _, eid in numbered])]
        # (an event whose text is gone, Redis having lost keys, is skipped)
        return [_event(number, eid, text) for (number, eid), text in zip(numbered, texts, strict=True) if text]

    def event(self, event_id: str) -> Event | None:
        with self._reaching():
            pipe = self._redis.pipeline(transaction=True)
            pipe.hget(self._key("events"), event_id)
            pipe.zscore(self._key("order"), event_id)
            text, score = pipe.execute()
        return None if text is None or score is None else _event(int(score), event_id, text)

    # --- cursors -----------------------------------------------------------------------------------

    def cursor(self, seq: int) -> str:
        return cursor_in(self.state_id, seq)

    def seq_of(self, cursor: str) -> int:
        return seq_in(self.state_id, cursor)


# The client decodes every answer (decode_responses): these only say so to the type checker.
def _text(value: bytes | str | None) -> str | None:
    return None if value is None else str(value)


def _texts(values: dict[bytes | str, bytes | str]) -> dict[str, str]:
    return {str(k): str(v) for k, v in values.items()}


def _event(seq: int, event_id: str, text: str) -> Event:
    return stored_event(seq, event_id, json.loads(text))
