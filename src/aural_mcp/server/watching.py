"""`Watching`: a Runtime's one session watcher, shared by every connection of that Runtime (the
server's; in the team server, each user's tenant has its own, on that user's key).

What it watches is what someone needs right now: the interviews behind the URIs subscribed to
(`resources/subscribe`, or a `subscriptions/listen` filter; for a session, its interview, read
once with `get_session` and remembered) and the interviews a `wait_for_sessions` call is waiting
on. An interview nobody needs any more is dropped. Each event the watcher stores is announced as
`notifications/resources/updated` for the resources it changes.

It is opened lazily: a server that never waits and never gets a subscription opens no state file
and sends no watcher request. Its state is the account's on Redis when the team server runs on
`settings.redis_url` (shared by its replicas), else `settings.watch_state`, else in memory when
serving the in-memory sandbox, else this account's file in the user's data folder.

The loop runs while a connection is open: each connection's MCP lifespan runs `host()`, which
takes one shared lock and runs the loop while holding it, so exactly one loop runs, and when the
holder's connection ends another connection's host takes over. (Streamable HTTP enters the
lifespan once for all its sessions; there the loop runs only while some open connection needs
it, and not at all between requests of a stateless server.) The loop parks while nothing is
watched.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import anyio

from aural_mcp.api import AuralClient
from aural_mcp.api.errors import AuralError, NotFoundError
from aural_mcp.operations import is_uuid
from aural_mcp.server.subscriptions import Subscriptions
from aural_mcp.settings import Settings

if TYPE_CHECKING:
    from aural_mcp.watch import Event, Watcher
    from aural_mcp.watch.state import WatchStore

logger = logging.getLogger("aural_mcp.server")

FRESH_SECONDS = 1.5  # a pass over an interview this recent is enough for a wait or the loop: never doubled
RETRY_SECONDS = 30.0  # a session whose interview could not be read is tried again after this

_INTERVIEW_URI = re.compile(r"aural://interviews/([^/]+)(?:/invites\.csv)?")
_SESSION_URI = re.compile(r"aural://sessions/([^/]+)(?:/transcript)?")


def uris_of(event: Event) -> list[str]:
    """The resources an event changes."""
    iid = event.interview_id
    if event.session_id:
        sid = event.session_id
        return [f"aural://sessions/{sid}", f"aural://sessions/{sid}/transcript", f"aural://interviews/{iid}"]
    return [f"aural://interviews/{iid}", f"aural://interviews/{iid}/invites.csv"]  # candidate.created


class _CurrentClient:
    """The runtime's client as the watcher sees it: whichever client the runtime has open now
    (a new one after the last connection closed and another opened)."""

    def __init__(self, client: Callable[[], AuralClient]) -> None:
        self._client = client
        self.base_url = ""  # for event links; set from the open client before each call

    async def call(self, operation: str, args: dict[str, Any] | None = None, *, background: bool = False) -> dict[str, Any]:
        client = self._client()
        self.base_url = client.base_url
        return await client.call(operation, args, background=background)


class Watching:
    """The runtime's watcher, its state, what it watches and its one loop.

    `client()` is the runtime's open client (it raises when there is none, or no key);
    `subscriptions` says which URIs connections want, and announces changes to them.
    """

    def __init__(
        self,
        settings: Settings,
        client: Callable[[], AuralClient],
        subscriptions: Subscriptions,
        account: Callable[[], str] | None = None,
    ) -> None:
        self.settings = settings
        self.client = client
        self.account = account or (lambda: client().account)  # names the default state file
        self.subscriptions = subscriptions
        self.poll_seconds: float | None = None  # the watcher's interval; None: its default (30 s)
        self.state: WatchStore | None = None
        self.watcher: Watcher | None = None
        self.loops = 0  # loops running now: 0 or 1
        self._loop_lock = anyio.Lock()
        self._wake = anyio.Event()
        self._waits: Counter[str] = Counter()  # interview id -> wait_for_sessions calls waiting on it
        self._interview_of: dict[str, str | None] = {}  # session id -> its interview (None: none found)
        self._unresolved_since: dict[str, float] = {}  # session id -> when reading it last failed
        self._gone: set[str] = set()  # interviews the API said do not exist: not polled again while wanted
        subscriptions.on_change = self.changed

    # --- opening ------------------------------------------------------------------------------------

    def open(self) -> Watcher:
        """The watcher, opened on first use. Raises StateError (the file cannot be used) or the
        client's ConfigurationError (no key)."""
        if self.watcher is not None:
            return self.watcher
        from aural_mcp.watch import Watcher, WatchState
        from aural_mcp.watch.state import state_location

        state: WatchStore
        if self.settings.redis_url:  # the team server's replicas on Redis share each account's state there
            from aural_mcp.watch.redis_state import RedisWatchState

            state = RedisWatchState(self.settings.redis_url, self.account())
        else:
            state = WatchState(state_location(self.settings, self.account()))
        kw: dict[str, Any] = {} if self.poll_seconds is None else {"poll_seconds": self.poll_seconds}
        watcher = Watcher(_CurrentClient(self.client), state, interviews=[], fresh_seconds=FRESH_SECONDS, **kw)
        watcher.on_events(self.publish)
        self.state, self.watcher = state, watcher
        return watcher

    def close(self) -> None:
        if self.state is not None:
            self.state.close()
            self.state = self.watcher = None

    # --- what is needed --------------------------------------------------------------------------

    def _wanted(self) -> tuple[set[str], set[str]]:
        """(interview ids, session ids whose interview is not known yet) that someone needs."""
        interviews = {iid for iid, n in self._waits.items() if n > 0}
        sessions: set[str] = set()
        for uri in self.subscriptions.wanted():
            if m := _INTERVIEW_URI.fullmatch(uri):
                interviews.add(m.group(1))
            elif m := _SESSION_URI.fullmatch(uri):
                sessions.add(m.group(1))
        for sid in sessions:
            iid = self._interview_of.get(sid)
            if iid:
                interviews.add(iid)
        unknown = {sid for sid in sessions if sid not in self._interview_of}
        # Forget what nobody asks about any more, so these stay as small as the subscriptions.
        for known in (self._interview_of, self._unresolved_since):
            for sid in [s for s in known if s not in sessions]:
                del known[sid]
        self._gone &= interviews
        return {i for i in interviews - self._gone if is_uuid(i)}, {s for s in unknown if is_uuid(s)}

    def changed(self) -> None:
        """The wanted URIs or waits changed: watch what is needed now, and wake the loop."""
        self._sync()
        self._wake.set()

    def _sync(self) -> None:
        """Watch exactly the interviews someone needs (opening the watcher for the first)."""
        interviews, unresolved = self._wanted()
        if (interviews or unresolved) and self.watcher is None:
            try:
                self.open()
            except Exception as exc:  # no key, or an unusable state file: said once per change
                logger.warning("cannot watch for session changes: %s", getattr(exc, "message", exc))
                return
        if self.watcher is not None:
            for iid in self.watcher.interview_ids:
                if iid not in interviews:
                    self.watcher.discard(iid)
            for iid in interviews:
                self.watcher.add(iid)

    @contextmanager
    def waiting(self, interview_id: str) -> Iterator[Watcher]:
        """While a wait_for_sessions call waits on the interview: watched, and polled soon and often."""
        watcher = self.open()
        self._waits[interview_id] += 1
        self.changed()
        watcher.hurry(interview_id)
        try:
            yield watcher
        finally:
            self._waits[interview_id] -= 1
            if self._waits[interview_id] <= 0:
                del self._waits[interview_id]
            self.changed()

    async def poll(self, interview_id: str) -> list[Event]:
        """One pass over the interview for a waiting call (none if one just ran); what it found is announced."""
        watcher = self.open()
        found = await watcher.detector.poll(interview_id, max_age=FRESH_SECONDS)
        if found:
            await self.publish(found)
        return found

    async def publish(self, events: list[Event]) -> None:
        uris = list(dict.fromkeys(uri for event in events for uri in uris_of(event)))
        for uri in uris:
            await self.subscriptions.announce(uri)

    # --- the loop -----------------------------------------------------------------------------------

    async def host(self) -> None:
        """Run by each connection's lifespan until it ends: whoever holds the lock runs the loop."""
        async with self._loop_lock:
            self.loops += 1
            try:
                await self._loop()
            finally:
                self.loops -= 1

    async def _loop(self) -> None:
        while True:
            wake = self._wake = anyio.Event()  # a change from here on ends the sleep below
            try:
                sleep = await self._turn()
            except Exception:  # the client went away, a bug: the loop (and the connection) must go on
                logger.exception("the session watcher failed; it tries again in %s s", RETRY_SECONDS)
                sleep = RETRY_SECONDS
            if math.isinf(sleep):
                await wake.wait()  # nothing is watched: no requests, no timer
            else:
                with anyio.move_on_after(sleep):
                    await wake.wait()

    async def _turn(self) -> float:
        """One turn of the loop: the passes that are due. Returns the seconds until the next turn."""
        self._sync()
        watcher = self.watcher
        if watcher is None or not (watcher.interview_ids or self._wanted()[1]):
            return math.inf
        sleep = await self._resolve_sessions()
        before = set(watcher.interview_ids)
        await watcher.run_pass()  # API errors are handled per interview inside
        # The watcher stops watching an interview the API says is gone; so do we.
        self._gone |= {iid for iid in before - set(watcher.interview_ids) if iid in watcher.errors}
        return min(sleep, watcher.next_due())

    async def _resolve_sessions(self) -> float:
        """Read the interview of each subscribed session not known yet (background requests).
        Returns how soon to try again for those that failed (inf: none did)."""
        _, unresolved = self._wanted()
        retry = math.inf
        now = anyio.current_time()
        for sid in sorted(unresolved):
            failed_at = self._unresolved_since.get(sid)
            if failed_at is not None and now - failed_at < RETRY_SECONDS:
                retry = min(retry, failed_at + RETRY_SECONDS - now)
                continue
            try:
                row = (await self.client().call("get_session", {"sessionId": sid}, background=True)).get("data")
            except NotFoundError:
                self._interview_of[sid] = None  # nothing to watch for it
                continue
            except AuralError as exc:
                logger.warning("reading session %s to watch its interview failed: %s", sid, exc.message)
                self._unresolved_since[sid] = anyio.current_time()
                retry = min(retry, RETRY_SECONDS)
                continue
            self._unresolved_since.pop(sid, None)
            self._interview_of[sid] = _interview_id(row)
        if unresolved:
            self._sync()
        return retry


def _interview_id(row: Any) -> str | None:
    if not isinstance(row, dict):
        return None
    interview = row.get("interview")
    iid = interview.get("id") if isinstance(interview, dict) else row.get("interviewId")
    return iid if isinstance(iid, str) and is_uuid(iid) else None
