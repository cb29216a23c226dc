"""The JSON Schema (Draft 2020-12) of one `export --format jsonl` line: the one copy of it.

`docs/pipelines.md` shows it under `## export`; a test keeps that copy equal to this one.
"""

from __future__ import annotations

from typing import Any

_STR = {"type": "string"}
_NUM_OR_NULL = {"type": ["number", "null"]}
_STR_OR_NULL = {"type": ["string", "null"]}

EXPORT_ROW_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "aural-mcp export row",
    "description": "One session of an interview; scores are read exactly as compare_sessions reads them.",
    "type": "object",
    "properties": {
        "sessionId": _STR,
        "interviewId": _STR,
        "candidateName": _STR_OR_NULL,
        "candidateEmail": _STR_OR_NULL,
        "status": _STR_OR_NULL,
        "durationSeconds": _NUM_OR_NULL,
        "overallScore": {**_NUM_OR_NULL, "description": "0-10, as compare_sessions"},
        "criteria": {"type": "array", "items": {"type": "object", "properties": {
            "name": _STR, "score": _NUM_OR_NULL, "reason": _STR_OR_NULL},
            "required": ["name", "score", "reason"], "additionalProperties": False}},
        "questions": {"type": "array", "items": {"type": "object", "properties": {
            "questionId": _STR_OR_NULL, "question": _STR_OR_NULL, "score": _NUM_OR_NULL, "reason": _STR_OR_NULL},
            "required": ["questionId", "question", "score", "reason"], "additionalProperties": False}},
        "summary": _STR_OR_NULL,
        "updatedAt": {**_STR_OR_NULL, "description": "the sessions list's updatedAt; what --since compares"},
        "transcript": {"type": "object", "properties": {
            "resource": {**_STR, "description": "the MCP resource aural://sessions/{id}/transcript"},
            "url": {**_STR, "description": "the API URL of the session, messages included"}},
            "required": ["resource", "url"], "additionalProperties": False},
        "messages": {"type": "array", "description": "--transcripts only: the compact transcript (no timestamps or SYSTEM notes)",
                     "items": {"type": "object", "properties": {
                         "role": _STR_OR_NULL, "questionId": _STR_OR_NULL, "content": _STR},
                         "required": ["role", "questionId", "content"], "additionalProperties": False}},
        "error": {**_STR, "description": "present when the session could not be read: the row holds what the list said"},
    },
    "required": ["sessionId", "interviewId", "candidateName", "candidateEmail", "status", "durationSeconds",
                 "overallScore", "criteria", "questions", "summary", "updatedAt", "transcript"],
    "additionalProperties": False,
}  # fmt: skip
