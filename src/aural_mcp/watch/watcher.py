"""`Watcher`: passes over many interviews on a schedule, inside a share of the key's rate limit.

Each interview is polled every `poll_seconds` while something may still happen to it (open
sessions, or changes in its last pass), and less often while nothing moves: the interval doubles
after each quiet pass, up to `max_poll_seconds`. A failing interview backs off the same way.
`hurry(id)` polls one at once and keeps it at the short interval (a caller is waiting on it).

Its requests are background requests (see `api/pacing.py`): they go only when no other request
of the same client is waiting, and at most the pacer's background share of the limit per window.
With `interviews=None` it watches every interview the key can see, listing them again every
`discover_seconds`; an interview that appears after the first listing is new, so what it already
holds is announced rather than taken as a baseline.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable
from typing import Any

import anyio

from aural_mcp.api.errors import AuralError, NotFoundError
from aural_mcp.watch.detector import ApiCaller, Detector
from aural_mcp.watch.events import Event
from aural_mcp.watch.state import WatchStore, now_iso

logger = logging.getLogger("aural_mcp.watch")

DEFAULT_POLL_SECONDS = 30.0
MAX_POLL_FACTOR = 16  # quiet interviews are polled at most this many times less often
DISCOVER_SECONDS = 300.0
HURRY_SECONDS = 300.0  # how long a hurried interview keeps the short interval


class Watcher:
    """Polls interviews for session changes; `run()` forever, or `run_pass()` once."""

    def __init__(
        self,
        client: ApiCaller,
        state: WatchStore,
        *,
        interviews: Iterable[str] | None = None,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
        max_poll_seconds: float | None = None,
        discover_seconds: float = DISCOVER_SECONDS,
        fresh_seconds: float = 0.0,
    ) -> None:
        if not (isinstance(poll_seconds, int | float) and math.isfinite(poll_seconds) and poll_seconds > 0):
            raise ValueError(f"poll seconds must be a number above 0, for example 30; got {poll_seconds!r}")
        self.client = client
        self.state = state
        self.detector = Detector(client, state)
        self.poll_seconds = float(poll_seconds)
        self.max_poll_seconds = float(max_poll_seconds or self.poll_seconds * MAX_POLL_FACTOR)
        self.discover_seconds = discover_seconds
        # A pass over an interview that finished this recently (another caller of the same
        # detector polled it, e.g. a waiting tool) is enough: the scheduled one sends nothing.
        self.fresh_seconds = fresh_seconds
        self.watch_all = interviews is None
        self._due: dict[str, float] = {}  # interview id -> event-loop time of its next pass
        self._quiet: dict[str, int] = {}  # quiet (or failed) passes in a row
        self._hurried: dict[str, float] = {}  # interview id -> until when it stays at the short interval
        self._announce: set[str] = set()  # interviews whose existing sessions are new to us
        self._discovered_at: float | None = None
        self._wake = anyio.Event()
        self._listeners: list[Callable[[list[Event]], Any]] = []
        self.errors: dict[str, str] = {}  # interview id -> the last error of its passes
        for iid in interviews or ():
            self.add(iid)

    # --- what is watched ---------------------------------------------------------------------------

    @property
    def interview_ids(self) -> list[str]:
        return list(self._due)

    def add(self, interview_id: str) -> None:
        """Watch one more interview (its first pass is due now)."""
        if interview_id not in self._due:
            self._due[interview_id] = -math.inf
            self._poke()

    def discard(self, interview_id: str) -> None:
        self._due.pop(interview_id, None)
        self._quiet.pop(interview_id, None)
        self._hurried.pop(interview_id, None)

    def hurry(self, interview_id: str) -> None:
        """Poll this interview now and at the short interval for a while (someone waits on it)."""
        self._hurried[interview_id] = anyio.current_time() + HURRY_SECONDS
        self._due[interview_id] = -math.inf
        self._quiet[interview_id] = 0
        self._poke()

    def on_events(self, listener: Callable[[list[Event]], Any]) -> None:
        """Call `listener(events)` after each pass that stored events (it may be async)."""
        self._listeners.append(listener)

    def _poke(self) -> None:
        self._wake.set()

    # --- passes ------------------------------------------------------------------------------------

    def next_due(self) -> float:
        """Seconds until the next pass is due (0 if one is)."""
        now = anyio.current_time()
        due = min(self._due.values(), default=math.inf)
        if self.watch_all:
            discover = -math.inf if self._discovered_at is None else self._discovered_at + self.discover_seconds
            due = min(due, discover)
        return max(0.0, due - now) if math.isfinite(due) else (0.0 if due < 0 else math.inf)

    async def run_pass(self, *, everything: bool = False) -> list[Event]:
        """Poll every interview that is due (all of them with `everything`); the events stored."""
        if self.watch_all and (everything or self.next_discovery() <= 0):
            await self._discover()
        now = anyio.current_time()
        found: list[Event] = []
        for iid in [i for i, due in self._due.items() if everything or due <= now]:
            found += await self._poll(iid)
        if found:
            for listener in self._listeners:
                try:
                    result = listener(found)
                    if hasattr(result, "__await__"):
                        await result
                except Exception:  # a listener's failure must not stop the watching
                    logger.exception("an event listener failed")
        return found

    async def run(self) -> None:
        """Pass after pass until cancelled."""
        while True:
            await self.run_pass()
            await self.sleep()

    async def sleep(self) -> None:
        """Until the next pass is due, or something is added or hurried."""
        self._wake = anyio.Event()
        wait = self.next_due()
        if wait > 0:
            with anyio.move_on_after(None if math.isinf(wait) else wait):
                await self._wake.wait()

    def next_discovery(self) -> float:
        if self._discovered_at is None:
            return 0.0
        return self._discovered_at + self.discover_seconds - anyio.current_time()

    async def _poll(self, iid: str) -> list[Event]:
        try:
            found = await self.detector.poll(
                iid, max_age=self.fresh_seconds, announce_existing=iid in self._announce
            )
        except NotFoundError as exc:
            self.errors[iid] = exc.message
            logger.warning("interview %s is gone (%s); no longer watched", iid, exc.message)
            self.discard(iid)
            return []
        except AuralError as exc:
            self.errors[iid] = exc.message
            self._quiet[iid] = self._quiet.get(iid, 0) + 1
            logger.warning("watching interview %s failed: %s", iid, exc.message)
            self._schedule(iid)
            return []
        self._announce.discard(iid)
        self.errors.pop(iid, None)
        busy = bool(found) or self.state.open_sessions(iid) > 0
        self._quiet[iid] = 0 if busy else self._quiet.get(iid, 0) + 1
        self._schedule(iid)
        return found

    def _schedule(self, iid: str) -> None:
        if iid not in self._due:
            return  # discarded meanwhile
        now = anyio.current_time()
        if self._hurried.get(iid, -math.inf) > now:
            interval = self.poll_seconds
        else:
            self._hurried.pop(iid, None)
            interval = min(self.max_poll_seconds, self.poll_seconds * 2 ** self._quiet.get(iid, 0))
        self._due[iid] = now + interval

    async def _discover(self) -> None:
        """List the key's interviews (every page) and watch the ones not watched yet."""
        first = self._discovered_at is None
        self._discovered_at = anyio.current_time()
        since = self._watch_all_since()
        ids: list[str] = []
        cursor: str | None = None
        cursors: set[str] = set()
        try:
            while True:
                args: dict[str, Any] = {"limit": 100}
                if cursor:
                    args["cursor"] = cursor
                page = await self.client.call("list_interviews", args, background=True)
                rows = [r for r in page.get("data") or [] if isinstance(r, dict) and isinstance(r.get("id"), str)]
                for row in rows:
                    if row["id"] not in self._due and row["id"] not in ids:
                        ids.append(row["id"])
                        created = row.get("createdAt")
                        if not self.state.knows(row["id"]) and isinstance(created, str) and created >= since:
                            self._announce.add(row["id"])
                cursor = page.get("cursor")
                if not isinstance(cursor, str) or not rows or cursor in cursors:
                    break
                cursors.add(cursor)
        except AuralError as exc:
            logger.warning("listing interviews to watch failed: %s", exc.message)
            if first:
                self._discovered_at = None  # try again on the next pass
            return
        for iid in ids:
            self.add(iid)

    def _watch_all_since(self) -> str:
        """When this state began watching all interviews: interviews made after it are announced whole."""
        return self.state.meta_get("watch_all_since") or self.state.meta_set_once("watch_all_since", now_iso())

