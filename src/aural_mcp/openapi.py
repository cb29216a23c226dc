"""The OpenAPI 3.1 document of the Aural Developer API, generated from the operation registry.

Operations, parameters and request bodies come from `aural_mcp.operations` (one source of
truth). The response schemas below describe what the API (and the sandbox) really returns —
`insights` and `sentiment` are objects, roles are upper-case, ids are UUIDs — and allow
additional properties, as the API returns every column of its rows. Every operation carries
`x-llm-description` and `x-llm-hint`, written for agents.
"""

from __future__ import annotations

import copy
from typing import Any

from aural_mcp import __version__
from aural_mcp.operations import (
    AI_TONES,
    FOLLOW_UP_DEPTHS,
    OPERATIONS,
    QUESTION_TYPES,
    SESSION_STATUSES,
    Operation,
)

TAGS = (
    ("Interviews", "Create, configure, publish and archive interview templates."),
    ("Questions", "The ordered questions of an interview."),
    ("Sessions", "Candidate sessions: transcripts, summaries, scores and reports."),
    ("Candidates", "Invited candidates and their personal invite links."),
    ("Practices", "The key owner's own practice runs."),
    ("Usage", "Plan usage and limits."),
)

DESCRIPTION = """\
The Aural Developer API, served under `/api/v1`. Authenticate every request with
`Authorization: Bearer dlv_...` (an API key from Settings -> API Keys). Every success is HTTP 200
with `{"data": ...}`; errors are `{"error": {"code", "message"}}`. Keys are limited to 60 requests per
fixed 60-second window; only 429 responses carry rate-limit headers.

Workflow: create an interview -> add questions -> publish (returns the public url) -> share it or add
candidates for personal invite links -> poll sessions -> get a session for the transcript and results.
"""

NULL_STR = {"type": ["string", "null"]}
STR = {"type": "string"}
BOOL = {"type": "boolean"}
INT = {"type": "integer"}
UUID = {"type": "string", "format": "uuid"}
TS = {"type": "string", "format": "date-time"}
NULL_INT = {"type": ["integer", "null"]}
NULL_OBJ = {"type": ["object", "null"]}
STR_LIST = {"type": "array", "items": STR}


def _ref(name: str) -> dict[str, str]:
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


def _schemas() -> dict[str, Any]:
    interview = {
        "id": UUID,
        "title": STR,
        "description": NULL_STR,
        "objective": NULL_STR,
        "assessmentCriteria": {
            "type": ["array", "null"],
            "items": _ref("AssessmentCriterion"),
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
        "type": _ref("QuestionType"),
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
                _ref("Interview"),
                _obj({"_count": _obj({"questions": INT, "sessions": INT})}),
            ]
        },
        "InterviewWithQuestions": {
            "allOf": [
                _ref("Interview"),
                _obj(
                    {
                        "questions": {"type": "array", "items": _ref("Question")},
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
                "messages": {"type": "array", "items": _ref("Message")},
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
                _ref("Candidate"),
                _obj({"updatedAt": TS, "inviteUrl": {"type": "string", "format": "uri"}}),
            ]
        },
        "CandidateRow": {"allOf": [_ref("Candidate"), _obj({"interviewId": UUID, "updatedAt": TS})]},
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
                "questions": {"type": "array", "items": _ref("Question")},
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
                "templates": _ref("UsageCounter"),
                "session_hours": {
                    "allOf": [_ref("UsageCounter")],
                    "x-llm-hint": "Snake_case key. A null limit means unlimited.",
                },
                "ai_tokens": _ref("UsageCounter"),
                "seats": _ref("UsageCounter"),
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


# operationId -> (response data schema, request body component name)
_RESPONSES: dict[str, dict[str, Any]] = {
    "listInterviews": {"type": "array", "items": _ref("InterviewListItem")},
    "createInterview": _ref("Interview"),
    "getInterview": _ref("InterviewWithQuestions"),
    "updateInterview": _ref("Interview"),
    "archiveInterview": _ref("ArchiveResult"),
    "publishInterview": _ref("PublishResult"),
    "listQuestions": {"type": "array", "items": _ref("Question")},
    "createQuestions": {"type": "array", "items": _ref("Question")},
    "updateQuestion": _ref("Question"),
    "deleteQuestion": _ref("DeleteResult"),
    "listCandidates": {"type": "array", "items": _ref("Candidate")},
    "createCandidates": {"type": "array", "items": _ref("CandidateWithInviteUrl")},
    "updateCandidate": _ref("CandidateRow"),
    "listSessions": {"type": "array", "items": _ref("Session")},
    "getSession": _ref("SessionWithResults"),
    "getSessionReport": _ref("SessionReport"),
    "endInterviewSessions": _ref("EndSessionsResult"),
    "listPracticeSessions": {"type": "array", "items": _ref("PracticeSummary")},
    "getPracticeReport": _ref("PracticeReport"),
    "getUsage": _ref("Usage"),
}
_BODY_NAMES = {
    "createInterview": "InterviewCreate",
    "updateInterview": "InterviewPatch",
    "createQuestions": "QuestionCreate",
    "updateQuestion": "QuestionPatch",
    "createCandidates": "CandidateCreate",
    "updateCandidate": "CandidatePatch",
    "endInterviewSessions": "EndSessionsRequest",
}
_ERRORS = {
    "400": "Bad request: invalid JSON, validation failure or invalid cursor.",
    "401": "Missing, invalid, revoked or expired API key.",
    "403": "No organization, resource outside the key's projects, role too low, or PLAN_LIMIT_EXCEEDED.",
    "404": "Resource not found (or, on some routes, outside the key's projects).",
    "429": "Rate limited: wait Retry-After seconds.",
    "500": "Internal error. Some failures have a non-JSON body.",
}


def _parameters(op: Operation) -> list[dict[str, Any]]:
    out = []
    for a in op.args_in("path"):
        out.append(
            {
                "name": op.path_params.get(a.name, "id"),
                "in": "path",
                "required": True,
                "description": a.description or a.name,
                "schema": {k: v for k, v in a.schema.items() if k != "description"},
            }
        )
    for a in op.args_in("query"):
        param: dict[str, Any] = {
            "name": a.name,
            "in": "query",
            "required": a.required,
            "schema": {k: v for k, v in a.schema.items() if k != "description"},
        }
        if a.description:
            param["description"] = a.description
        if a.name == "cursor":
            param["x-llm-hint"] = "Pass the cursor from the previous page. " + (
                "The boundary item repeats on the next page: de-duplicate by id."
                if op.operation_id == "listInterviews"
                else "A cursor from another interview is rejected with 400."
            )
        out.append(param)
    return out


def _body_schema(op: Operation) -> dict[str, Any] | None:
    body = op.args_in("body")
    if not body:
        return None
    if op.body_list_arg:
        array: dict[str, Any] = _int4_bounds(copy.deepcopy(op.arg(op.body_list_arg).json_schema()))
        return array
    props = {a.name: _int4_bounds(copy.deepcopy(a.json_schema())) for a in body}
    schema: dict[str, Any] = {"type": "object", "properties": props}
    required = [a.name for a in body if a.required]
    if required:
        schema["required"] = required
    return schema


INT4_MAX = 2**31 - 1
ORDER_MAX = 1_000_000


def _int4_bounds(schema: Any) -> Any:
    """Integer request fields are Postgres `integer` columns: document their upper bound, since a
    larger value is a database error (500) on the real API and in the sandbox."""
    if isinstance(schema, dict):
        props = schema.get("properties")
        if isinstance(props, dict) and isinstance(props.get("order"), dict):
            # Automatic order continues after the highest one, so an order near the integer limit
            # makes later appends fail; keep documented orders far below it.
            props["order"].setdefault("maximum", ORDER_MAX)
        types = schema.get("type")
        if types == "integer" or (isinstance(types, list) and "integer" in types):
            schema.setdefault("minimum", -INT4_MAX - 1)
            schema.setdefault("maximum", INT4_MAX)
        for value in schema.values():
            _int4_bounds(value)
    elif isinstance(schema, list):
        for value in schema:
            _int4_bounds(value)
    return schema


def _error_responses() -> dict[str, Any]:
    out = {}
    for status, text in _ERRORS.items():
        content: dict[str, Any] = {"application/json": {"schema": _ref("Error")}}
        if status == "500":
            content["text/plain"] = {"schema": {"type": "string"}}
        out[status] = {"description": text, "content": content}
    return out


def _property_hints(schemas: dict[str, Any]) -> None:
    """The request-side x-llm-hints of the API's own document (contract §9)."""
    schemas["CandidateCreate"]["x-llm-hint"] = (
        "Send an array to add many. name may be empty; email is lower-cased and not validated here; "
        "duplicates are not detected."
    )
    schemas["InterviewCreate"]["properties"]["timeLimitMinutes"]["x-llm-hint"] = (
        "A JSON integer >= 1; numeric strings are rejected."
    )
    schemas["QuestionCreate"]["properties"]["order"]["x-llm-hint"] = (
        "Omit to append after the highest order; orders are never renumbered and duplicates are allowed."
    )


def build_openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 document (a fresh dict each call)."""
    schemas = _schemas()
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        data_schema = copy.deepcopy(_RESPONSES[op.operation_id])
        envelope: dict[str, Any] = {
            "type": "object",
            "properties": {"data": data_schema},
            "required": ["data"],
        }
        if op.paginated:
            envelope["properties"]["cursor"] = {"type": ["string", "null"]}
            envelope["required"].append("cursor")
        entry: dict[str, Any] = {
            "operationId": op.operation_id,
            "tags": [op.tag],
            "summary": op.summary,
            "description": op.full_description,
            "x-llm-description": op.description,
            "x-llm-hint": op.llm_hint,
            "parameters": _parameters(op),
            "responses": {
                "200": {"description": "Success", "content": {"application/json": {"schema": envelope}}},
                **_error_responses(),
            },
        }
        if op.min_role:
            entry["x-min-role"] = op.min_role
        body = _body_schema(op)
        if body is not None:
            name = _BODY_NAMES.get(op.operation_id)
            if name and op.body_list_arg:
                schemas[name] = body["items"]
                body = {**body, "items": _ref(name)}
                desc = "An array of items (a single object is also accepted)."
            elif name:
                schemas[name] = body
                body = _ref(name)
                desc = "JSON object; unknown fields are ignored."
            else:
                desc = "JSON body"
            entry["requestBody"] = {
                "required": True,
                "description": desc,
                "content": {"application/json": {"schema": body}},
            }
        if not entry["parameters"]:
            del entry["parameters"]
        paths.setdefault(op.path, {})[op.method.lower()] = entry
    _property_hints(schemas)
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {
            "title": "Aural Developer API",
            "version": "1.0.0",
            "description": DESCRIPTION,
            "x-generator": f"aural-mcp {__version__}",
        },
        "servers": [{"url": "/api/v1"}],
        "tags": [{"name": n, "description": d} for n, d in TAGS],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "Aural developer key",
                    "description": "An API key starting with dlv_, sent as Authorization: Bearer dlv_...",
                }
            },
            "schemas": schemas,
        },
    }
