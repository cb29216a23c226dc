"""The session events the watcher detects, and their JSON form (the webhook payload).

Each kind happens at most once per session or candidate, so an event's id is derived from its
kind and that id: whoever detects it, and however often, it has the same id, and receivers
deduplicate on it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

SESSION_STARTED = "session.started"
SESSION_COMPLETED = "session.completed"
SESSION_ABANDONED = "session.abandoned"
SESSION_ANALYZED = "session.analyzed"
CANDIDATE_CREATED = "candidate.created"
EVENT_TYPES = (SESSION_STARTED, SESSION_COMPLETED, SESSION_ABANDONED, SESSION_ANALYZED, CANDIDATE_CREATED)

# The session status each status event announces.
STATUS_EVENTS = {"COMPLETED": SESSION_COMPLETED, "ABANDONED": SESSION_ABANDONED}


def event_id(kind: str, subject_id: str) -> str:
    """`evt_` and 24 hex digits, the same for the same kind of event about the same session or candidate."""
    return "evt_" + hashlib.sha256(f"{kind}:{subject_id}".encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Event:
    """One detected change. `seq` orders events in one watcher state (1, 2, ...)."""

    seq: int
    id: str
    type: str
    interview_id: str
    session_id: str | None
    candidate_id: str | None
    detected_at: str  # ISO 8601, UTC: when the watcher saw it
    data: dict[str, Any] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        """The JSON body of the event: `{id, type, timestamp, data}` (the Standard Webhooks shape)."""
        return {"id": self.id, "type": self.type, "timestamp": self.detected_at, "data": self.data}
