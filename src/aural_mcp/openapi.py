"""The OpenAPI 3.1 document of the Aural Developer API, generated from the operation registry.

Operations, parameters and request bodies come from `aural_mcp.operations`, response schemas
from `aural_mcp.responses` (one source of truth each). Every operation carries
`x-llm-description` and `x-llm-hint`, written for agents.
"""

from __future__ import annotations

import copy
from typing import Any

from aural_mcp import __version__
from aural_mcp.operations import OPERATIONS, Operation
from aural_mcp.responses import data_schema, ref, schemas

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
                if op.pages_overlap
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
        content: dict[str, Any] = {"application/json": {"schema": ref("Error")}}
        if status == "500":
            content["text/plain"] = {"schema": {"type": "string"}}
        out[status] = {"description": text, "content": content}
    return out


def _property_hints(schemas: dict[str, Any]) -> None:
    """The hints the API's own OpenAPI document gives on request bodies, in our words.

    Its document carries `x-llm-hint` on CandidateCreate, InterviewCreate.timeLimitMinutes and
    QuestionCreate.order; the response-side ones are in `aural_mcp.responses`.
    """
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
    components = schemas()
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        data = data_schema(op.response)
        envelope: dict[str, Any] = {
            "type": "object",
            "properties": {"data": data},
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
                components[name] = body["items"]
                body = {**body, "items": ref(name)}
                desc = "An array of items (a single object is also accepted)."
            elif name:
                components[name] = body
                body = ref(name)
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
    _property_hints(components)
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
            "schemas": components,
        },
    }
