"""The shapes of the Aural API's answers: one JSON Schema per kind of row, by component name.

Each registry operation names the schema of its `data` (`Operation.response`). From these one
set of descriptions: the OpenAPI document serves them as its components, the sandbox's answers
are checked against them (tests/sandbox/test_response_schemas.py), and so are the SDK models'
field names (tests/api/test_models_match_schemas.py). They describe what the API really returns —
`insights` and `sentiment` are objects, roles are upper-case, ids are UUIDs — and allow additional
properties, as the API returns every column of its rows.
"""

from __future__ import annotations

import copy
from typing import Any

from aural_mcp.operations import AI_TONES, FOLLOW_UP_DEPTHS, QUESTION_TYPES, SESSION_STATUSES, Response

NULL_STR = {"type": ["string", "null"]}
STR = {"type": "string"}
BOOL = {"type": "boolean"}
INT = {"type": "integer"}
UUID = {"type": "string", "format": "uuid"}
TS = {"type": "string", "format": "date-time"}
NULL_INT = {"type": ["integer", "null"]}
NULL_OBJ = {"type": ["object", "null"]}
STR_LIST = {"type": "array", "items": STR}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(
    props: dict[str, Any], required: list[str] | None = None, *, hint: str | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": props}
    if hint is not None:
        out["x-llm-hint"] = hint
    if required is None:
        required = list(props)
    if required:
        out["required"] = required
    return out


def _build() -> dict[str, Any]:
    interview = {
        "id": UUID,
        "title": STR,
        "description": NULL_STR,
        "objective": NULL_STR,
        "assessmentCriteria": {
            "type": ["array", "null"],
            "items": ref("AssessmentCriterion"),
            "x-llm-hint": "What answers are scored on; null when not set.",
        },
        "chatEnabled": BOOL,
        "voiceEnabled": BOOL,
        "videoEnabled": BOOL,
        "antiCheatingEnabled": BOOL,
        "aiName": STR,
        "aiTone": {"type": "string", "enum": list(AI_TONES)},
        "followUpDepth": {"type": "string", "enum": list(FOLLOW_UP_DEPTHS)},
        "language": STR,
        "timeLimitMinutes": NULL_INT,
        "isActive": {"type": "boolean", "description": "false means archived"},
        "requireInvite": BOOL,
        "publicSlug": NULL_STR,
        "projectId": {"type": ["string", "null"], "format": "uuid"},
        "userId": UUID,
        "mode": STR,
        "createdAt": TS,
        "updatedAt": TS,
    }
    question = {
        "id": UUID,
        "interviewId": UUID,
        "order": {"type": "integer", "minimum": 0},
        "text": STR,
        "type": ref("QuestionType"),
        "isRequired": {"type": "boolean", "description": "written as `required`"},
        "probeOnShort": {"type": "boolean", "description": "written as `followUpEnabled`"},
        "options": {
            "type": ["array", "null"],
            "items": STR,
            "x-llm-hint": "Only meaningful for choice types.",
        },
        "description": NULL_STR,
        "timeLimitSeconds": NULL_INT,
        "starterCode": {"type": ["object", "null"], "additionalProperties": STR},
        "probeThreshold": NULL_INT,
        "allowFileUpload": BOOL,
        "allowedFileTypes": STR_LIST,
        "createdAt": TS,
        "updatedAt": TS,
    }
    session_common = {
        "id": UUID,
        "status": {"type": "string", "enum": list(SESSION_STATUSES)},
        "participantName": NULL_STR,
        "participantEmail": NULL_STR,
        "summary": NULL_STR,
        "insights": {
            "type": ["object", "null"],
            "description": "keyInsights (string[]) and optionally questionEvaluations, criteriaEvaluations",
        },
        "themes": STR_LIST,
        "sentiment": {"type": ["object", "null"], "description": "{overall, details}"},
        "totalDurationSeconds": NULL_INT,
        "createdAt": TS,
    }
    candidate = {
        "id": UUID,
        "name": STR,
        "email": NULL_STR,
        "phone": NULL_STR,
        "notes": NULL_STR,
        "inviteToken": STR,
        "sessionId": {"type": ["string", "null"], "format": "uuid"},
        "gender": NULL_STR,
        "birthday": {"type": ["string", "null"], "description": "YYYY-MM-DD"},
        "education": NULL_STR,
        "school": NULL_STR,
        "major": NULL_STR,
        "graduationYear": NULL_INT,
        "workExperience": NULL_STR,
        "createdAt": TS,
    }
    counter = _obj({"used": {"type": "number"}, "limit": {"type": ["number", "null"]}})
    return {
        "AssessmentCriterion": _obj(
            {"name": STR, "description": STR},
            hint="Both name and description are required strings; extra keys are kept.",
        ),
        "QuestionType": {"type": "string", "enum": list(QUESTION_TYPES)},
        "Interview": _obj(interview),
        "InterviewListItem": {
            "allOf": [
                ref("Interview"),
                _obj({"_count": _obj({"questions": INT, "sessions": INT})}),
            ]
        },
        "InterviewWithQuestions": {
            "allOf": [
                ref("Interview"),
                _obj(
                    {
                        "questions": {"type": "array", "items": ref("Question")},
                        "_count": _obj({"sessions": INT}),
                    }
                ),
            ]
        },
        "PublishResult": _obj({"id": STR, "publicSlug": STR, "url": {"type": "string", "format": "uri"}}),
        "ArchiveResult": _obj({"id": UUID, "archived": {"const": True}}),
        "Question": _obj(question),
        "DeleteResult": _obj({"id": UUID, "deleted": {"const": True}}),
        "Session": _obj(
            {**session_common, "updatedAt": TS, "_count": _obj({"messages": INT})},
            hint="insights and sentiment are objects (or null), themes a string array.",
        ),
        "Message": _obj(
            {
                "id": UUID,
                "role": {"type": "string", "enum": ["USER", "ASSISTANT", "SYSTEM"]},
                "content": STR,
                "timestamp": TS,
            }
        ),
        "SessionWithResults": _obj(
            {
                **session_common,
                "messages": {"type": "array", "items": ref("Message")},
                "interview": _obj({"id": UUID, "title": NULL_STR, "objective": NULL_STR}),
            },
            hint="SYSTEM messages are navigation, not speech. No updatedAt or _count here.",
        ),
        "SessionReport": _obj(
            {
                "interviewTitle": NULL_STR,
                "interviewObjective": NULL_STR,
                "participantName": NULL_STR,
                "participantEmail": NULL_STR,
                "status": {"type": "string", "enum": list(SESSION_STATUSES)},
                "createdAt": TS,
                "summary": NULL_STR,
                "insights": NULL_OBJ,
                "themes": STR_LIST,
                "sentiment": NULL_OBJ,
                "messages": {"type": "array", "items": {"type": "object"}},
                "totalDurationSeconds": NULL_INT,
                "audioRecordingUrl": NULL_STR,
                "audioRecordings": {"type": "array", "items": {"type": "object"}},
                "audioDuration": {"type": ["number", "null"]},
                "screenshots": {"type": ["array", "null"], "items": {"type": "object"}},
                "antiCheatingLog": {"type": ["array", "null"], "items": {"type": "object"}},
            }
        ),
        "EndSessionsResult": _obj(
            {
                "dryRun": BOOL,
                "results": {
                    "type": "array",
                    "items": _obj(
                        {
                            "id": STR,
                            "status": {
                                "type": "string",
                                "enum": ["eligible", "skipped", "succeeded", "failed"],
                            },
                            "reason": STR,
                        },
                        required=["id", "status"],
                    ),
                },
            }
        ),
        "Candidate": _obj(candidate),
        "CandidateWithInviteUrl": {
            "allOf": [
                ref("Candidate"),
                _obj({"updatedAt": TS, "inviteUrl": {"type": "string", "format": "uri"}}),
            ]
        },
        "CandidateRow": {"allOf": [ref("Candidate"), _obj({"interviewId": UUID, "updatedAt": TS})]},
        "PracticeSummary": _obj(
            {
                "id": UUID,
                "interviewId": UUID,
                "interviewTitle": NULL_STR,
                "mode": STR,
                "status": STR,
                "timed": BOOL,
                "durationLimitMinutes": NULL_INT,
                "startedAt": {"type": ["string", "null"], "format": "date-time"},
                "lastActivityAt": {"type": ["string", "null"], "format": "date-time"},
                "completedAt": {"type": ["string", "null"], "format": "date-time"},
                "totalDurationSeconds": NULL_INT,
                "createdAt": TS,
                "attemptCount": INT,
                "averageScore": {"type": ["number", "null"]},
                "bestScore": {"type": ["number", "null"]},
                "questionCount": INT,
            }
        ),
        "PracticeReport": _obj(
            {
                "session": {"type": "object"},
                "interview": {"type": "object"},
                "questions": {"type": "array", "items": ref("Question")},
                "attempts": {
                    "type": "array",
                    "items": _obj(
                        {
                            "id": UUID,
                            "questionId": UUID,
                            "answerText": NULL_STR,
                            "score": {"type": ["number", "null"]},
                            "feedback": NULL_STR,
                            "audioUrl": NULL_STR,
                        }
                    ),
                },
            }
        ),
        "UsageCounter": counter,
        "Usage": _obj(
            {
                "plan": STR,
                "templates": ref("UsageCounter"),
                "session_hours": {
                    "allOf": [ref("UsageCounter")],
                    "x-llm-hint": "Snake_case key. A null limit means unlimited.",
                },
                "ai_tokens": ref("UsageCounter"),
                "seats": ref("UsageCounter"),
            }
        ),
        "Error": _obj(
            {
                "error": _obj(
                    {
                        "code": STR,
                        "message": STR,
                        "retry_after": {"type": "integer", "description": "429 only: seconds to wait"},
                        "limit": {
                            "type": "string",
                            "description": "PLAN_LIMIT_EXCEEDED: templates or session_hours",
                        },
                        "current": {"type": "number"},
                        "max": {"type": "number"},
                        "upgrade_url": {"type": "string"},
                    },
                    required=["code", "message"],
                )
            }
        ),
    }




_SCHEMAS = _build()


def schemas() -> dict[str, Any]:
    """Every response component schema, by name (a fresh copy each call)."""
    return copy.deepcopy(_SCHEMAS)


def data_schema(response: Response) -> dict[str, Any]:
    """The schema of an operation's `data`: a reference to its component, or a list of them."""
    one = ref(response.schema)
    return {"type": "array", "items": one} if response.many else one


def _resolved(name: str) -> dict[str, Any]:
    """The properties of component `name`, with `allOf` parts merged."""
    schema = _SCHEMAS[name]
    props: dict[str, Any] = {}
    for part in schema.get("allOf", [schema]):
        if "$ref" in part:
            props.update(_resolved(part["$ref"].rsplit("/", 1)[1]))
        else:
            props.update(part.get("properties", {}))
    return props


def properties(name: str) -> dict[str, Any]:
    """The top-level properties of component `name` (merged across `allOf`)."""
    return copy.deepcopy(_resolved(name))


def row_lists(name: str) -> tuple[str, ...]:
    """The properties of component `name` that hold lists of rows (arrays of objects)."""
    out = []
    for prop, schema in _resolved(name).items():
        items = schema.get("items") if isinstance(schema, dict) else None
        if isinstance(items, dict) and ("$ref" in items or items.get("type") == "object"):
            out.append(prop)
    return tuple(out)
