"""The JSON Schema (Draft 2020-12) of an event's JSON, as webhooks and `--exec` commands get it.

`EVENT_SCHEMA` is the one source: docs/webhooks.md shows `schema_json()` verbatim (a test holds
the two equal), and the bridge's tests validate the payloads they receive against it.
"""

from __future__ import annotations

import json
from typing import Any

from aural_mcp.watch.events import CANDIDATE_CREATED, EVENT_TYPES

_TEXT = {"type": ["string", "null"], "maxLength": 200}
_TIME = {"type": ["string", "null"], "description": "ISO 8601, as the API gives it"}
_ID = {"type": "string"}

_SESSION_DATA = {
    "type": "object",
    "description": "A session: who, its status, times and links. No transcript, no analysis text.",
    "required": [
        "sessionId", "interviewId", "candidateId", "status", "participantName", "participantEmail",
        "createdAt", "updatedAt", "totalDurationSeconds", "analyzed", "links",
    ],
    "properties": {
        "sessionId": _ID,
        "interviewId": _ID,
        "candidateId": {"type": ["string", "null"], "description": "the invited candidate, if the session has one"},
        "status": {"type": "string", "description": "IN_PROGRESS, COMPLETED or ABANDONED (UNKNOWN if the API gave none)"},
        "participantName": _TEXT,
        "participantEmail": _TEXT,
        "createdAt": _TIME,
        "updatedAt": _TIME,
        "totalDurationSeconds": {"type": ["number", "null"]},
        "analyzed": {"type": "boolean", "description": "the summary or insights are there (get_session shows them)"},
        "links": {
            "type": "object",
            "required": ["api", "resource"],
            "properties": {
                "api": {"type": "string", "description": "GET it with the API key: /sessions/{sessionId}"},
                "resource": {"type": "string", "description": "the MCP resource aural://sessions/{sessionId}"},
            },
        },
    },
}  # fmt: skip

_CANDIDATE_DATA = {
    "type": "object",
    "description": "A candidate added to the interview.",
    "required": ["candidateId", "interviewId", "name", "email", "sessionId", "createdAt", "links"],
    "properties": {
        "candidateId": _ID,
        "interviewId": _ID,
        "name": _TEXT,
        "email": _TEXT,
        "sessionId": {"type": ["string", "null"], "description": "set once the candidate has started"},
        "createdAt": _TIME,
        "links": {
            "type": "object",
            "required": ["api"],
            "properties": {"api": {"type": "string", "description": "/interviews/{interviewId}/candidates"}},
        },
    },
}

EVENT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "aural-mcp session event",
    "type": "object",
    "required": ["id", "type", "timestamp", "data"],
    "properties": {
        "id": {
            "type": "string",
            "pattern": "^evt_[0-9a-f]{24}$",
            "description": "stable: the same on every retry and replay (the webhook-id header)",
        },
        "type": {"enum": list(EVENT_TYPES)},
        "timestamp": {"type": "string", "description": "when the watcher detected it, ISO 8601 UTC"},
        "data": {"type": "object"},
    },
    "allOf": [
        {
            "if": {"properties": {"type": {"const": CANDIDATE_CREATED}}},
            "then": {"properties": {"data": _CANDIDATE_DATA}},
            "else": {"properties": {"data": _SESSION_DATA}},
        }
    ],
}


def schema_json() -> str:
    """The schema as docs/webhooks.md shows it."""
    return json.dumps(EVENT_SCHEMA, indent=2)
