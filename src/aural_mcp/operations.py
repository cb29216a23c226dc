"""The operation registry: one entry per keyed operation of the Aural Developer API.

This is the single source of truth for each operation's name, HTTP method, path, arguments,
agent-facing description, llm hint and MCP annotations. The SDK builds requests from it, the
MCP tools and their input schemas are derived from it, the sandbox's OpenAPI document is
generated from it, and so is llms-full.txt. Nothing else restates these facts.

Argument names are the API's own field names (camelCase). Path ids are named `interviewId`,
`questionId`, `sessionId`, `candidateId`, `practiceId`; on the wire they fill the path.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

Location = Literal["path", "query", "body"]

AI_TONES = ("CASUAL", "PROFESSIONAL", "FORMAL", "FRIENDLY")
FOLLOW_UP_DEPTHS = ("LIGHT", "MODERATE", "DEEP")
QUESTION_TYPES = ("OPEN_ENDED", "SINGLE_CHOICE", "MULTIPLE_CHOICE", "CODING", "WHITEBOARD", "RESEARCH")
SESSION_STATUSES = ("IN_PROGRESS", "COMPLETED", "ABANDONED")

UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_UUID = re.compile(UUID_PATTERN.strip("^$"))
SHOWN_INPUT_CHARS = 100  # at most this much of a bad value is echoed back in an error


def is_uuid(value: Any) -> bool:
    """A canonical 8-4-4-4-12 hex UUID, the whole string (no trailing newline, unlike `$`)."""
    return isinstance(value, str) and _UUID.fullmatch(value) is not None


def show_input(value: Any, limit: int = SHOWN_INPUT_CHARS) -> str:
    """Bad input as an error shows it: JSON-quoted, at most `limit` characters."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"

_NO_DEFAULT: Any = object()


@dataclass(frozen=True)
class Arg:
    """One argument of an operation, as the API names and constrains it."""

    name: str
    where: Location
    schema: dict[str, Any]
    description: str = ""
    required: bool = False

    def json_schema(self) -> dict[str, Any]:
        out = dict(self.schema)
        if self.description:
            out["description"] = self.description
        return out


@dataclass(frozen=True)
class Operation:
    """One API operation and everything derived surfaces need to know about it."""

    name: str  # tool name and SDK method name
    operation_id: str  # OpenAPI operationId, as the API's own document names it
    method: Literal["GET", "POST", "PATCH", "DELETE"]
    path: str  # under /api/v1, with `{id}`-style placeholders
    toolset: str
    tag: str
    summary: str
    description: str  # for agents: what it does, when to use it, what to call next
    llm_hint: str  # the quirk an agent must know
    args: tuple[Arg, ...] = ()
    read_only: bool = False
    destructive: bool = False
    idempotent: bool = False
    open_world: bool = True
    # When the request body is a JSON array, the name of the list argument that becomes it.
    body_list_arg: str | None = None
    # Safe to send again after a failure whose outcome is unknown (timeouts, dropped connections).
    retry_safe: bool = True
    paginated: bool = False
    min_role: str | None = None
    path_params: dict[str, str] = field(default_factory=dict)  # argument name -> placeholder

    def args_in(self, where: Location) -> tuple[Arg, ...]:
        return tuple(a for a in self.args if a.where == where)

    def arg(self, name: str) -> Arg:
        for a in self.args:
            if a.name == name:
                return a
        raise KeyError(name)

    @property
    def full_description(self) -> str:
        return f"{self.description} {self.llm_hint}".strip()


def _id(name: str, what: str) -> Arg:
    return Arg(name, "path", {"type": "string", "format": "uuid"}, f"{what} id (UUID)", required=True)


def _str(
    name: str,
    description: str = "",
    *,
    nullable: bool = False,
    required: bool = False,
    default: str | None = None,
    min_length: int | None = None,
) -> Arg:
    schema: dict[str, Any] = {"type": ["string", "null"] if nullable else "string"}
    if min_length is not None:
        schema["minLength"] = min_length
    if default is not None:
        schema["default"] = default
    return Arg(name, "body", schema, description, required)


def _bool(name: str, description: str = "", *, default: Any = _NO_DEFAULT) -> Arg:
    schema: dict[str, Any] = {"type": "boolean"}
    if default is not _NO_DEFAULT:
        schema["default"] = default
    return Arg(name, "body", schema, description)


def _enum(name: str, values: tuple[str, ...], description: str = "", *, default: str | None = None) -> Arg:
    schema: dict[str, Any] = {"type": "string", "enum": list(values)}
    if default is not None:
        schema["default"] = default
    return Arg(name, "body", schema, description)


_LIMIT_100 = Arg(
    "limit", "query", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}, "page size"
)

_CRITERIA = Arg(
    "assessmentCriteria",
    "body",
    {
        "type": ["array", "null"],
        "items": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "description": {"type": "string"}},
            "required": ["name", "description"],
        },
    },
    "what answers are scored on",
)

# Interview fields shared by create and update; defaults are stated only where create applies them.
_INTERVIEW_TEXT = (
    _str("description", nullable=True),
    _str("objective", "what the interview should learn", nullable=True),
    _CRITERIA,
)


def _interview_fields(*, create: bool) -> tuple[Arg, ...]:
    def d(value: Any) -> Any:
        return value if create else _NO_DEFAULT

    return (
        *_INTERVIEW_TEXT,
        _bool("chatEnabled", default=d(True)),
        _bool("voiceEnabled", default=d(False)),
        _bool("videoEnabled", default=d(False)),
        _bool("antiCheatingEnabled", default=d(False)),
        _str("aiName", "interviewer name", default="Aural" if create else None),
        _enum("aiTone", AI_TONES, default="PROFESSIONAL" if create else None),
        _enum("followUpDepth", FOLLOW_UP_DEPTHS, default="MODERATE" if create else None),
        _str("language", "language code, e.g. en", default="en" if create else None),
        Arg(
            "timeLimitMinutes",
            "body",
            {"type": "integer", "minimum": 1} if create else {"type": ["integer", "null"], "minimum": 1},
            "" if create else "null clears it",
        ),
    )


# Question fields accepted by add and update. `required` and `followUpEnabled` are the request
# names; the API stores and returns them as `isRequired` and `probeOnShort`.
_QUESTION_PROPS: dict[str, Any] = {
    "text": {"type": "string", "minLength": 1},
    "type": {"type": "string", "enum": list(QUESTION_TYPES), "default": "OPEN_ENDED"},
    "order": {"type": "integer", "minimum": 0, "description": "default: after the last"},
    "required": {"type": "boolean", "default": True},
    "followUpEnabled": {"type": "boolean", "default": True, "description": "probe short answers"},
    "options": {"type": "array", "items": {"type": "string"}, "description": "choice types"},
    "description": {"type": "string"},
    "timeLimitSeconds": {"type": "integer", "minimum": 1},
    "starterCode": {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "description": "CODING: language -> code",
    },
    "allowFileUpload": {"type": "boolean"},
    "allowedFileTypes": {"type": "array", "items": {"type": "string"}},
}
# Accepted and passed through, not advertised in tool schemas (rarely needed; keeps tool lists small).
QUESTION_EXTRA_FIELDS = ("probeThreshold", "validationRules", "followUpPrompts", "showIf", "skipIf")

_CANDIDATE_PROPS: dict[str, Any] = {
    "name": {"type": "string"},
    "email": {"type": "string", "format": "email"},
    "phone": {"type": "string"},
    "notes": {"type": "string"},
    "gender": {"type": "string"},
    "birthday": {"type": "string", "format": "date", "description": "YYYY-MM-DD"},
    "education": {"type": "string"},
    "school": {"type": "string"},
    "major": {"type": "string"},
    "graduationYear": {"type": "integer"},
    "workExperience": {"type": "string"},
}


def _nullable(props: dict[str, Any], keep: tuple[str, ...] = ()) -> tuple[Arg, ...]:
    """Body args from item properties, nullable (null clears) except for `keep`."""
    out = []
    for name, schema in props.items():
        s = {k: v for k, v in schema.items() if k not in ("default",)}
        if name not in keep:
            s["type"] = [s["type"], "null"]
        out.append(
            Arg(
                name,
                "body",
                {k: v for k, v in s.items() if k != "description"},
                schema.get("description", ""),
            )
        )
    return tuple(out)


def _question_update_args() -> tuple[Arg, ...]:
    keep = ("text", "type", "order", "required", "followUpEnabled", "allowFileUpload", "allowedFileTypes")
    return _nullable(_QUESTION_PROPS, keep)


INTERVIEWS = "interviews"
QUESTIONS = "questions"
CANDIDATES = "candidates"
SESSIONS = "sessions"
PRACTICES = "practices"
USAGE = "usage"

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        name="list_interviews",
        operation_id="listInterviews",
        method="GET",
        path="/interviews",
        toolset=INTERVIEWS,
        tag="Interviews",
        summary="List interviews",
        description="List interviews in the key's projects, most recently updated first. Use it to find an "
        "interviewId. Next: get_interview.",
        llm_hint="Archived interviews are included (isActive false). Pass the returned cursor for the next page; "
        "the boundary item repeats, so de-duplicate by id.",
        args=(_LIMIT_100, Arg("cursor", "query", {"type": "string"}, "from the previous page")),
        read_only=True,
        idempotent=True,
        paginated=True,
    ),
    Operation(
        name="get_interview",
        operation_id="getInterview",
        method="GET",
        path="/interviews/{id}",
        toolset=INTERVIEWS,
        tag="Interviews",
        summary="Get an interview with its questions",
        description="Get one interview with its settings, ordered questions and session count.",
        llm_hint="Works on archived interviews too.",
        args=(_id("interviewId", "interview"),),
        read_only=True,
        idempotent=True,
    ),
    Operation(
        name="create_interview",
        operation_id="createInterview",
        method="POST",
        path="/interviews",
        toolset=INTERVIEWS,
        tag="Interviews",
        summary="Create an interview",
        description="Create an interview in the key's first project. Next: add_questions, then publish_interview.",
        llm_hint="It starts invite-only with a slug; publishing opens it. Not safe to repeat: after an unknown "
        "outcome, look for the title with list_interviews first.",
        args=(_str("title", required=True, min_length=1), *_interview_fields(create=True)),
        retry_safe=False,
    ),
    Operation(
        name="update_interview",
        operation_id="updateInterview",
        method="PATCH",
        path="/interviews/{id}",
        toolset=INTERVIEWS,
        tag="Interviews",
        summary="Update an interview",
        description="Change an interview's settings; only the fields you send change.",
        llm_hint="Invalid aiTone or followUpDepth is rejected here (create would default it).",
        args=(_id("interviewId", "interview"), _str("title", min_length=1), *_interview_fields(create=False)),
        destructive=True,
        idempotent=True,
    ),
    Operation(
        name="archive_interview",
        operation_id="archiveInterview",
        method="DELETE",
        path="/interviews/{id}",
        toolset=INTERVIEWS,
        tag="Interviews",
        summary="Archive an interview",
        description="Archive an interview (soft delete: isActive false); the public link stops admitting candidates.",
        llm_hint="Nothing is deleted and it still appears in lists; publish_interview un-archives it.",
        args=(_id("interviewId", "interview"),),
        destructive=True,
        idempotent=True,
    ),
    Operation(
        name="publish_interview",
        operation_id="publishInterview",
        method="POST",
        path="/interviews/{id}/publish",
        toolset=INTERVIEWS,
        tag="Interviews",
        summary="Publish an interview",
        description="Activate an interview, open it to anyone with the link and return its public url. "
        "Next: add_candidates for personal invite links.",
        llm_hint="Idempotent: the slug never changes. There is no unpublish; archive_interview is the nearest.",
        args=(_id("interviewId", "interview"),),
        idempotent=True,
    ),
    Operation(
        name="list_questions",
        operation_id="listQuestions",
        method="GET",
        path="/interviews/{id}/questions",
        toolset=QUESTIONS,
        tag="Questions",
        summary="List questions",
        description="List an interview's questions by order.",
        llm_hint="Returned fields isRequired/probeOnShort are written as required/followUpEnabled.",
        args=(_id("interviewId", "interview"),),
        read_only=True,
        idempotent=True,
    ),
    Operation(
        name="add_questions",
        operation_id="createQuestions",
        method="POST",
        path="/interviews/{id}/questions",
        toolset=QUESTIONS,
        tag="Questions",
        summary="Add questions",
        description="Add one or more questions to an interview, all or nothing. Next: publish_interview.",
        llm_hint="Omit order to append. Not safe to repeat: after an unknown outcome, check list_questions.",
        args=(
            _id("interviewId", "interview"),
            Arg(
                "questions",
                "body",
                {
                    "type": "array",
                    "minItems": 1,
                    "items": {"type": "object", "properties": _QUESTION_PROPS, "required": ["text"]},
                },
                required=True,
            ),
        ),
        body_list_arg="questions",
        retry_safe=False,
    ),
    Operation(
        name="update_question",
        operation_id="updateQuestion",
        method="PATCH",
        path="/questions/{id}",
        toolset=QUESTIONS,
        tag="Questions",
        summary="Update a question",
        description="Change a question; only the fields you send change.",
        llm_hint="Changing order does not renumber the others.",
        args=(_id("questionId", "question"), *_question_update_args()),
        destructive=True,
        idempotent=True,
    ),
    Operation(
        name="delete_question",
        operation_id="deleteQuestion",
        method="DELETE",
        path="/questions/{id}",
        toolset=QUESTIONS,
        tag="Questions",
        summary="Delete a question",
        description="Permanently delete a question and its practice attempts.",
        llm_hint="Cannot be undone; a repeat gets not-found. Other questions keep their order.",
        args=(_id("questionId", "question"),),
        destructive=True,
        idempotent=True,
    ),
    Operation(
        name="list_candidates",
        operation_id="listCandidates",
        method="GET",
        path="/interviews/{id}/candidates",
        toolset=CANDIDATES,
        tag="Candidates",
        summary="List candidates",
        description="List an interview's candidates, newest first, with their invite links.",
        llm_hint="sessionId is set once a candidate opens the invite.",
        args=(_id("interviewId", "interview"),),
        read_only=True,
        idempotent=True,
    ),
    Operation(
        name="add_candidates",
        operation_id="createCandidates",
        method="POST",
        path="/interviews/{id}/candidates",
        toolset=CANDIDATES,
        tag="Candidates",
        summary="Add candidates",
        description="Register 1-500 candidates; each gets a personal inviteUrl to send them.",
        llm_hint="Duplicates are not detected: check list_candidates before re-adding. Not safe to repeat after an "
        "unknown outcome.",
        args=(
            _id("interviewId", "interview"),
            Arg(
                "candidates",
                "body",
                {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 500,
                    "items": {"type": "object", "properties": _CANDIDATE_PROPS},
                },
                required=True,
            ),
        ),
        body_list_arg="candidates",
        retry_safe=False,
    ),
    Operation(
        name="update_candidate",
        operation_id="updateCandidate",
        method="PATCH",
        path="/interviews/{id}/candidates/{candidateId}",
        toolset=CANDIDATES,
        tag="Candidates",
        summary="Update a candidate",
        description="Change a candidate's profile; only the fields you send change, null clears.",
        llm_hint="Needs MEMBER role. name cannot be empty; email must be valid.",
        args=(
            _id("interviewId", "interview"),
            _id("candidateId", "candidate"),
            *_nullable(_CANDIDATE_PROPS, keep=("name",)),
        ),
        destructive=True,
        idempotent=True,
        min_role="MEMBER",
        path_params={"candidateId": "candidateId"},
    ),
    Operation(
        name="list_sessions",
        operation_id="listSessions",
        method="GET",
        path="/interviews/{id}/sessions",
        toolset=SESSIONS,
        tag="Sessions",
        summary="List sessions",
        description="List an interview's candidate sessions, newest first, with status, summary and sentiment. "
        "Next: get_session or the transcript resource.",
        llm_hint="Pass the returned cursor for the next page; a cursor from another interview is rejected.",
        args=(
            _id("interviewId", "interview"),
            _LIMIT_100,
            Arg("cursor", "query", {"type": "string", "format": "uuid"}, "from the previous page"),
        ),
        read_only=True,
        idempotent=True,
        paginated=True,
    ),
    Operation(
        name="get_session",
        operation_id="getSession",
        method="GET",
        path="/sessions/{id}",
        toolset=SESSIONS,
        tag="Sessions",
        summary="Get a session with its transcript",
        description="Get one session: transcript messages, summary, themes, sentiment and scored insights.",
        llm_hint="insights and sentiment are objects; SYSTEM messages are navigation, not speech.",
        args=(_id("sessionId", "session"),),
        read_only=True,
        idempotent=True,
    ),
    Operation(
        name="get_session_report",
        operation_id="getSessionReport",
        method="GET",
        path="/sessions/{id}/report",
        toolset=SESSIONS,
        tag="Sessions",
        summary="Get a session report",
        description="Get a session's stored report with media: recordings, screenshots, anti-cheating log.",
        llm_hint="Media URLs expire after 24 hours; keep the sessionId, not the URLs.",
        args=(_id("sessionId", "session"),),
        read_only=True,
        idempotent=True,
    ),
    Operation(
        name="end_sessions",
        operation_id="endInterviewSessions",
        method="POST",
        path="/interviews/{id}/sessions/end",
        toolset=SESSIONS,
        tag="Interviews",
        summary="End in-progress sessions",
        description="Complete in-progress sessions in bulk. dryRun (default true) only previews which are "
        "eligible; send dryRun false to end them.",
        llm_hint="Needs MEMBER role. Check each result's status: eligible, skipped, succeeded or failed.",
        args=(
            _id("interviewId", "interview"),
            Arg(
                "ids",
                "body",
                {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 100,
                    "items": {"type": "string", "minLength": 1},
                },
                "session ids",
                required=True,
            ),
            Arg("dryRun", "body", {"type": "boolean", "default": True}),
        ),
        destructive=True,
        idempotent=True,
        min_role="MEMBER",
    ),
    Operation(
        name="list_practices",
        operation_id="listPracticeSessions",
        method="GET",
        path="/interviews/{id}/practices",
        toolset=PRACTICES,
        tag="Practices",
        summary="List practice sessions",
        description="List the key owner's own practice runs of an interview, newest first, with scores.",
        llm_hint="Not candidate sessions. No cursor: limit 1-500.",
        args=(
            _id("interviewId", "interview"),
            Arg("limit", "query", {"type": "integer", "minimum": 1, "maximum": 500, "default": 100}),
        ),
        read_only=True,
        idempotent=True,
    ),
    Operation(
        name="get_practice",
        operation_id="getPracticeReport",
        method="GET",
        path="/practices/{id}",
        toolset=PRACTICES,
        tag="Practices",
        summary="Get a practice report",
        description="Get one practice run: questions, answers, scores and feedback.",
        llm_hint="Only the key owner's practices are visible.",
        args=(_id("practiceId", "practice"),),
        read_only=True,
        idempotent=True,
    ),
    Operation(
        name="get_usage",
        operation_id="getUsage",
        method="GET",
        path="/usage",
        toolset=USAGE,
        tag="Usage",
        summary="Get usage",
        description="Show the plan and its usage: interviews (templates), session hours, AI tokens, seats.",
        llm_hint="A null limit means unlimited. Check before bulk work.",
        read_only=True,
        idempotent=True,
    ),
)

BY_NAME: dict[str, Operation] = {op.name: op for op in OPERATIONS}
TOOLSETS: tuple[str, ...] = (INTERVIEWS, QUESTIONS, CANDIDATES, SESSIONS, PRACTICES, USAGE)


def get(name: str) -> Operation:
    return BY_NAME[name]


def wire_path(op: Operation, args: dict[str, Any]) -> str:
    """The request path with ids filled in (URL-encoded) from the arguments."""
    path = op.path
    for a in op.args_in("path"):
        placeholder = op.path_params.get(a.name, "id")
        path = path.replace("{" + placeholder + "}", quote(str(args[a.name]), safe=""))
    return path
