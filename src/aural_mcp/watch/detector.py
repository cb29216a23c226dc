"""One pass over one interview: read what changed since the state's last pass, and name it.

A pass costs as few requests as the lists allow:
- the sessions list, newest first (`createdAt` descending, keyset cursor), 100 a page: new
  sessions are at its front, so paging stops at the first page that reaches known sessions,
  unless sessions that may still change (IN_PROGRESS, or COMPLETED without analysis yet) lie
  further back; then it pages on while that is cheaper than reading each of them with one
  `get_session`, and reads the rest one by one;
- sessions that can no longer change (ABANDONED; COMPLETED and analysed, or completed longer than
  ANALYSIS_WAIT ago without one) are never read again, and open ones that started more than
  STALE_AFTER ago (most are abandoned without a word) only on every CANDIDATES_EVERY-th pass;
- the candidates list (one request: it is not paginated), for new candidates and the sessions
  they opened, on the first pass, on every CANDIDATES_EVERY-th, and on each pass that finds new
  sessions (which may be candidates' invites opened). So a quiet pass is one request.

The first pass over an interview records what exists without announcing it (a baseline), unless
asked to announce it (an interview created while the watcher was watching all of them).
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import anyio

from aural_mcp.api.errors import NotFoundError
from aural_mcp.watch import events as ev
from aural_mcp.watch.state import NewEvent, SessionMark, WatchStore, now_iso


class ApiCaller(Protocol):
    """What the watcher needs of an `AuralClient` (typed here so the SDK can import the watcher)."""

    base_url: str

    async def call(
        self, operation: str, args: dict[str, Any] | None = None, *, background: bool = False
    ) -> dict[str, Any]: ...

logger = logging.getLogger("aural_mcp.watch")

PAGE = 100  # the API's largest page
CANDIDATES_EVERY = 4  # the candidates list is read on every 4th pass, and whenever new sessions appear
STALE_AFTER = timedelta(hours=2)  # an open session older than this is re-read on every 4th pass only
# The list is ordered by start time, and a session is listed from its start, so every session that
# started before the last pass was seen then; but a row may be written with an earlier start than
# its writing (the sandbox's instant simulations are), so paging goes on through sessions that
# started up to this long before the last pass.
NEW_SESSION_SLACK = timedelta(minutes=15)
ANALYSIS_WAIT = timedelta(hours=24)  # a COMPLETED session still unanalysed after this is left alone
NAME_CHARS = 200  # names and emails in event payloads are cut to this


def _text(value: Any, limit: int = NAME_CHARS) -> str | None:
    return value[:limit] if isinstance(value, str) else None


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict) and isinstance(v.get("id"), str)] if isinstance(value, list) else []


def analyzed(row: dict[str, Any]) -> bool:
    """The analysis is there: a summary, or insights with something in them."""
    summary, insights = row.get("summary"), row.get("insights")
    return (isinstance(summary, str) and bool(summary.strip())) or (isinstance(insights, dict | list) and bool(insights))


def _status(row: dict[str, Any]) -> str:
    status = row.get("status")
    return status if isinstance(status, str) and status else "UNKNOWN"


def _parse_time(iso: str | None) -> datetime | None:
    """An API time as an aware datetime (UTC when it has no offset), or None."""
    if not iso:
        return None
    try:
        at = datetime.fromisoformat(iso.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _older_than(iso: str | None, age: timedelta) -> bool:
    at = _parse_time(iso)
    return at is not None and datetime.now(UTC) - at > age


def _past_known(page: list[dict[str, Any]], known: dict[str, SessionMark], recent: datetime | None) -> bool:
    """Has paging reached known sessions that started before `recent` (or known ones, if it cannot tell)?"""
    if not any(row["id"] in known for row in page):
        return False
    last = _parse_time(page[-1].get("createdAt") if isinstance(page[-1].get("createdAt"), str) else None)
    return recent is None or last is None or last < recent


class Detector:
    """Runs passes for one client and one state. `background` passes give way to other requests."""

    def __init__(self, client: ApiCaller, state: WatchStore, *, background: bool = True) -> None:
        self.client = client
        self.state = state
        self.background = background
        self._locks: dict[str, anyio.Lock] = {}
        self._polled: dict[str, float] = {}
        self._passes: dict[str, int] = {}  # interview id -> passes in this process  # interview id -> when its last pass finished (event-loop clock)
        self.requests = 0  # requests sent by passes, for logs and tests

    async def _call(self, operation: str, args: dict[str, Any]) -> dict[str, Any]:
        self.requests += 1
        return await self.client.call(operation, args, background=self.background)

    def polled_ago(self, interview_id: str) -> float:
        """Seconds since the last pass over the interview finished (inf if none in this process)."""
        at = self._polled.get(interview_id)
        return math.inf if at is None else anyio.current_time() - at

    async def poll(self, interview_id: str, *, max_age: float = 0.0, announce_existing: bool = False) -> list[ev.Event]:
        """One pass; the events it stored, oldest first. Passes over one interview never overlap:
        a caller that finds one running waits for it, and with `max_age` a pass that finished that
        recently is enough (nothing is sent). API errors (the interview is gone, no access, the
        network) propagate; nothing is recorded then."""
        lock = self._locks.setdefault(interview_id, anyio.Lock())
        async with lock:
            if self.polled_ago(interview_id) <= max_age:
                return []
            found = await self._pass(interview_id, announce_existing)
            self._polled[interview_id] = anyio.current_time()
            return found

    async def _pass(self, iid: str, announce_existing: bool) -> list[ev.Event]:
        silent = not self.state.knows(iid) and not announce_existing
        known = self.state.sessions(iid)
        passes = self._passes[iid] = self._passes.get(iid, 0) + 1
        thorough = passes % CANDIDATES_EVERY == 1
        rows = await self._session_rows(iid, known, full=silent, thorough=thorough)
        known_candidates = self.state.candidates(iid)
        candidates: dict[str, str | None] = {}
        found: list[NewEvent] = []
        if thorough or any(sid not in known for sid in rows):
            candidate_rows = _dicts((await self._call("list_candidates", {"interviewId": iid})).get("data"))
            candidates = {c["id"]: _text(c.get("sessionId"), 64) for c in candidate_rows}
            if not silent:
                for c in reversed(candidate_rows):  # the list is newest first; announce oldest first
                    if c["id"] not in known_candidates:
                        found.append(self._candidate_event(iid, c))
        candidate_of_session = {sid: cid for cid, sid in {**known_candidates, **candidates}.items() if sid}
        marks: list[SessionMark] = []
        for row in sorted(rows.values(), key=lambda r: str(r.get("createdAt") or "")):
            before = known.get(row["id"])
            mark = self._mark(row, before, candidate_of_session.get(row["id"]))
            if before is None or mark != before:
                marks.append(mark)
            if not silent:
                found += self._session_events(iid, row, before, mark)
        return self.state.record(iid, sessions=marks, candidates=candidates, events=found)

    async def _session_rows(
        self, iid: str, known: dict[str, SessionMark], *, full: bool, thorough: bool
    ) -> dict[str, dict[str, Any]]:
        """The list rows worth comparing (and detail rows for open sessions the pages did not reach)."""
        open_ids = {
            sid for sid, m in known.items()
            if not m.final and (thorough or not _older_than(m.created_at, STALE_AFTER))
        }  # fmt: skip
        last_pass = _parse_time(self.state.polled_at(iid))
        recent = last_pass - NEW_SESSION_SLACK if last_pass is not None else None
        rows: dict[str, dict[str, Any]] = {}
        cursors: set[str] = set()
        cursor: str | None = None
        while True:
            args: dict[str, Any] = {"interviewId": iid, "limit": PAGE}
            if cursor:
                args["cursor"] = cursor
            envelope = await self._call("list_sessions", args)
            page = _dicts(envelope.get("data"))
            for row in page:
                rows.setdefault(row["id"], row)
            next_cursor = envelope.get("cursor")
            if not isinstance(next_cursor, str) or not page or next_cursor in cursors:
                break
            cursors.add(next_cursor)
            cursor = next_cursor
            if full or not _past_known(page, known, recent):
                continue  # a baseline reads everything; new sessions may fill more than a page
            unread = open_ids - rows.keys()
            if not unread or not self._paging_is_cheaper(known, unread, page):
                break
        for sid in sorted(open_ids - rows.keys()):
            try:
                detail = (await self._call("get_session", {"sessionId": sid})).get("data")
            except NotFoundError:  # gone from the API: nothing more will happen to it
                known[sid].final = True
                rows[sid] = {"id": sid, "status": known[sid].status, "createdAt": known[sid].created_at, "_gone": True}
                continue
            if isinstance(detail, dict):
                rows[sid] = {**detail, "id": sid}
        return rows

    def _paging_is_cheaper(self, known: dict[str, SessionMark], unread: set[str], page: list[dict[str, Any]]) -> bool:
        """Would reaching the oldest unread open session cost fewer list pages than one read each?"""
        last = str(page[-1].get("createdAt") or "")
        oldest = min(known[sid].created_at for sid in unread)
        between = sum(1 for m in known.values() if oldest <= m.created_at < last)
        return math.ceil(between / PAGE) < len(unread)

    def _mark(self, row: dict[str, Any], before: SessionMark | None, candidate_id: str | None) -> SessionMark:
        status = _status(row)
        done = analyzed(row) or bool(before and before.analyzed)
        completed_seen = before.completed_seen_at if before else None
        if status == "COMPLETED" and completed_seen is None:  # the list's updatedAt is when it ended
            updated = row.get("updatedAt")
            completed_seen = updated if isinstance(updated, str) and _parse_time(updated) else now_iso()
        final = (
            bool(row.get("_gone"))
            or status == "ABANDONED"
            or (status == "COMPLETED" and (done or _older_than(completed_seen, ANALYSIS_WAIT)))
        )
        created = row.get("createdAt")
        return SessionMark(
            id=row["id"],
            status=status,
            analyzed=done,
            final=final,
            created_at=created if isinstance(created, str) else (before.created_at if before else ""),
            candidate_id=candidate_id or (before.candidate_id if before else None),
            completed_seen_at=completed_seen,
        )

    def _session_events(
        self, iid: str, row: dict[str, Any], before: SessionMark | None, mark: SessionMark
    ) -> list[NewEvent]:
        kinds: list[str] = []
        if before is None:
            kinds.append(ev.SESSION_STARTED)
        status_event = ev.STATUS_EVENTS.get(mark.status)
        if status_event and (before is None or before.status != mark.status):
            kinds.append(status_event)
        if mark.analyzed and not (before and before.analyzed):
            kinds.append(ev.SESSION_ANALYZED)
        data = self.session_data(iid, row, mark)
        return [NewEvent(ev.event_id(k, mark.id), k, iid, mark.id, mark.candidate_id, data) for k in kinds]

    def session_data(self, iid: str, row: dict[str, Any], mark: SessionMark) -> dict[str, Any]:
        """A session event's `data`: ids, who, status, times and links; no transcript, no analysis text."""
        sid = mark.id
        duration = row.get("totalDurationSeconds")
        return {
            "sessionId": sid,
            "interviewId": iid,
            "candidateId": mark.candidate_id,
            "status": mark.status,
            "participantName": _text(row.get("participantName")),
            "participantEmail": _text(row.get("participantEmail")),
            "createdAt": _text(row.get("createdAt"), 64),
            "updatedAt": _text(row.get("updatedAt"), 64),
            "totalDurationSeconds": duration if isinstance(duration, int | float) and not isinstance(duration, bool) else None,
            "analyzed": mark.analyzed,
            "links": self.session_links(sid),
        }

    def session_links(self, sid: str) -> dict[str, str]:
        return {"api": f"{self.client.base_url}/sessions/{sid}", "resource": f"aural://sessions/{sid}"}

    def _candidate_event(self, iid: str, row: dict[str, Any]) -> NewEvent:
        cid = row["id"]
        data = {
            "candidateId": cid,
            "interviewId": iid,
            "name": _text(row.get("name")),
            "email": _text(row.get("email")),
            "sessionId": _text(row.get("sessionId"), 64),
            "createdAt": _text(row.get("createdAt"), 64),
            "links": {"api": f"{self.client.base_url}/interviews/{iid}/candidates"},
        }
        return NewEvent(ev.event_id(ev.CANDIDATE_CREATED, cid), ev.CANDIDATE_CREATED, iid, None, cid, data)

