"""`wait_for_sessions`' result: the projection (its structuredContent, described by
`WAIT_FOR_SESSIONS_OUTPUT`) built from the watcher's events, and the text rendered from it.

Participant names and emails are typed by candidates: the text shows them inside the result's
untrusted-data tags (`safe.Marker`); every other string goes through `safe.field` or `safe.code`.
"""

from __future__ import annotations

from typing import Any

from aural_mcp.server.render.fit import TEXT_LIMIT, fit_lines
from aural_mcp.server.render.safe import Marker, as_dict, clock, code, field, plural, raw

WAIT_STATUSES = ("COMPLETED", "ABANDONED", "IN_PROGRESS", "ANALYZED", "ANY")
# The events that mean a session reached each awaited status (IN_PROGRESS: it started).
STATUS_EVENTS: dict[str, tuple[str, ...]] = {
    "COMPLETED": ("session.completed",),
    "ABANDONED": ("session.abandoned",),
    "IN_PROGRESS": ("session.started",),
    "ANALYZED": ("session.analyzed",),
    "ANY": ("session.started", "session.completed", "session.abandoned", "session.analyzed"),
}
COMPLETED_EVENTS = ("session.completed", "session.analyzed")
MAX_MATCHED = 100  # sessions listed (count is at most 100)
MAX_OTHER = 30  # other events listed; the rest are counted

_STR = {"type": "string"}
_STR_OR_NULL = {"type": ["string", "null"]}

WAIT_FOR_SESSIONS_OUTPUT: dict[str, Any] = {
    "type": "object",
    "description": "What the watcher saw of the interview after the cursor, and the cursor to continue.",
    "properties": {
        "interviewId": _STR,
        "status": {"type": "string", "enum": list(WAIT_STATUSES)},
        "count": {"type": "integer"},
        "met": {"type": "boolean", "description": "at least `count` sessions reached `status`; false: timed out"},
        "waitedSeconds": {"type": "number"},
        "sessions": {"type": "array", "description": "the sessions that reached `status`, first seen first",
                     "items": {"type": "object", "properties": {
                         "sessionId": _STR, "participantName": _STR_OR_NULL, "participantEmail": _STR_OR_NULL,
                         "status": _STR_OR_NULL, "event": _STR, "at": _STR_OR_NULL},
                         "required": ["sessionId", "status", "event", "at"]}},
        "otherEvents": {"type": "array", "items": {"type": "object", "properties": {
            "type": _STR, "sessionId": _STR_OR_NULL, "candidateId": _STR_OR_NULL, "at": _STR_OR_NULL},
            "required": ["type", "at"]}},
        "otherEventsNotListed": {"type": "integer"},
        "openSessions": {"type": "integer", "description": "sessions still in progress or awaiting analysis"},
        "since": {**_STR, "description": "pass to wait_for_sessions to continue after these events"},
        "next": {"type": "object", "description": "the call to make next", "properties": {
            "tool": _STR, "arguments": {"type": "object"}}, "required": ["tool", "arguments"]},
    },
    "required": ["interviewId", "status", "count", "met", "waitedSeconds", "sessions", "otherEvents",
                 "otherEventsNotListed", "openSessions", "since", "next"],
}  # fmt: skip


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def matching_sessions(events: list[Any], status: str) -> list[dict[str, Any]]:
    """The distinct sessions whose events say they reached `status`, first seen first (each
    with its latest such event)."""
    kinds = STATUS_EVENTS[status]
    found: dict[str, dict[str, Any]] = {}
    for e in events:
        if e.type not in kinds or not e.session_id:
            continue
        data = as_dict(e.data)
        found[e.session_id] = {
            "sessionId": e.session_id,
            "participantName": _text_or_none(data.get("participantName")),
            "participantEmail": _text_or_none(data.get("participantEmail")),
            "status": _text_or_none(data.get("status")),
            "event": e.type,
            "at": e.detected_at,
        }
    return list(found.values())


def projection(
    *, interview_id: str, status: str, count: int, waited: float, events: list[Any], open_sessions: int, since: str
) -> dict[str, Any]:
    matched = matching_sessions(events, status)
    matched_ids = {m["sessionId"] for m in matched}
    kinds = STATUS_EVENTS[status]
    other = [e for e in events if not (e.session_id in matched_ids and e.type in kinds)]
    met = len(matched) >= count
    if met and any(m["event"] in COMPLETED_EVENTS for m in matched):
        nxt = {"tool": "compare_sessions", "arguments": {"interviewId": interview_id}}
    elif met:
        nxt = {"tool": "get_transcript", "arguments": {"sessionId": matched[0]["sessionId"]}}
    else:
        nxt = {"tool": "wait_for_sessions", "arguments": {
            "interviewId": interview_id, "status": status, "count": count - len(matched), "since": since}}  # fmt: skip
    return {
        "interviewId": interview_id,
        "status": status,
        "count": count,
        "met": met,
        "waitedSeconds": round(waited, 1),
        "sessions": matched[:MAX_MATCHED],
        "otherEvents": [
            {"type": e.type, "sessionId": e.session_id, "candidateId": e.candidate_id, "at": e.detected_at}
            for e in other[:MAX_OTHER]
        ],
        "otherEventsNotListed": max(0, len(other) - MAX_OTHER),
        "openSessions": open_sessions,
        "since": since,
        "next": nxt,
    }


def progress_message(status: str, count: int, events: list[Any]) -> str:
    """What a progress notification says: how many sessions reached the status so far."""
    matched = len(matching_sessions(events, status))
    seen = f"; {plural(len(events), 'event')} seen" if events else ""
    return f"{matched} of {count} {status} so far{seen}"


def _participant(m: dict[str, Any], marker: Marker) -> str:
    who = " ".join(p for p in (m["participantName"], m["participantEmail"]) if p)
    return marker.inline(who, 200) if who else "(no name)"


def wait_markdown(result: dict[str, Any], marker: Marker | None = None) -> str:
    marker = marker or Marker()
    iid, status, count = result["interviewId"], result["status"], result["count"]
    matched = result["sessions"]
    wanted = plural(count, f"{status} session")
    waited = f"{result['waitedSeconds']:g} s"
    if result["met"]:
        title = f"# {len(matched)} {status} of interview {code(iid)} after {waited} (waited for {count})"
    else:
        title = f"# Timed out after {waited} waiting for {wanted} of interview {code(iid)}: {len(matched)} so far"
    head = [title]
    if matched and any(m["participantName"] or m["participantEmail"] for m in matched):
        head.append(marker.note())
    if status == "IN_PROGRESS":
        head.append("IN_PROGRESS counts sessions that started.")
    items = [
        f"- {code(m['sessionId'])} {field(m['status'], 20) or '—'} at {clock(m['at']) or '—'} ({field(m['event'], 30)}) — "
        + _participant(m, marker)
        for m in matched
    ]
    if not matched:
        items = ["No session reached it yet."]
    others = result["otherEvents"]
    tail = [""]
    if others:
        shown = ", ".join(
            f"{field(e['type'], 30)} {code(e['sessionId'] or e['candidateId'])}" for e in others
        )
        more = result["otherEventsNotListed"]
        tail.append(f"Other events: {shown}" + (f", and {plural(more, 'more event')}" if more else "") + ".")
    tail.append(f"Still open: {plural(result['openSessions'], 'session')} of this interview (in progress, or awaiting analysis).")
    tail.append(f"since: {code(result['since'], 40)} (pass it to wait_for_sessions to continue after these events)")
    tail.append(_next_line(result["next"]))
    return "\n".join(fit_lines(head, items, tail, _left_out(matched, iid), TEXT_LIMIT))


def _left_out(matched: list[dict[str, Any]], iid: str) -> Any:
    def left_out(shown: int) -> str:
        return (f"… {plural(len(matched) - shown, 'more session')} not shown: call list_sessions with "
                f"interviewId {code(iid)} for all of them.")  # fmt: skip

    return left_out


def _next_line(nxt: dict[str, Any]) -> str:
    args = nxt["arguments"]
    if nxt["tool"] == "compare_sessions":
        return f"Next: compare_sessions with interviewId {code(args['interviewId'])} to rank them, or get_transcript with a sessionId."
    if nxt["tool"] == "get_transcript":
        return f"Next: get_transcript with sessionId {code(args['sessionId'])}."
    return (f"Next: call wait_for_sessions again with interviewId {code(args['interviewId'])}, status {raw(args['status'])}, "
            f"count {args['count']} and since {code(args['since'], 40)} to keep waiting.")  # fmt: skip
