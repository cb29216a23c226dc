"""The operation registry: one entry per keyed operation of the Aural Developer API.

This is the single source of truth for each operation's facts: name, HTTP method, path,
arguments, agent-facing description and llm hint, MCP annotations, the minimum role, the shape
of its answer (a schema in `aural_mcp.responses`), how to check after an answer was lost, which
server resources it changes, and the argument rules a schema cannot say. The SDK builds requests
from it, the MCP tools, their input schemas and their checks are derived from it, the sandbox
serves its routes from it, the OpenAPI document and llms-full.txt are generated from it.
Nothing else restates these facts.

Argument names are the API's own field names (camelCase). Path ids are named `interviewId`,
`questionId`, `sessionId`, `candidateId`, `practiceId`; on the wire they fill the path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

Location = Literal["path", "query", "body"]

AI_TONES = ("CASUAL", "PROFESSIONAL", "FORMAL", "FRIENDLY")
FOLLOW_UP_DEPTHS = ("LIGHT", "MODERATE", "DEEP")
QUESTION_TYPES = ("OPEN_ENDED", "SINGLE_CHOICE", "MULTIPLE_CHOICE", "CODING", "WHITEBOARD", "RESEARCH")
CHOICE_TYPES = ("SINGLE_CHOICE", "MULTIPLE_CHOICE")  # the question types that take `options`
SESSION_STATUSES = ("IN_PROGRESS", "COMPLETED", "ABANDONED")

UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_UUID = re.compile(UUID_PATTERN.strip("^$"))
# The API's own rule for candidate emails (it applies it on update only; the server's argument
# checks and `aural-mcp invite` apply it on create too).
EMAIL_RE = re.compile(
    r"(?!\.)(?!.*\.\.)([A-Za-z0-9_'+\-\.]*)[A-Za-z0-9_+-]@([A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}"
)
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
class IdKind:
    """A kind of id an argument carries: what it names and which list operation shows them."""

    arg: str  # the argument name, e.g. interviewId
    noun: str  # what it identifies, e.g. interview
    list_operation: str  # the operation (tool) whose result shows these ids


ID_KINDS: dict[str, IdKind] = {
    kind.arg: kind
    for kind in (
        IdKind("interviewId", "interview", "list_interviews"),
        IdKind("questionId", "question", "list_questions"),
        IdKind("sessionId", "session", "list_sessions"),
        IdKind("candidateId", "candidate", "list_candidates"),
        IdKind("practiceId", "practice", "list_practices"),
    )
}


EXAMPLE_UUID = "0b7e6f1c-2d3a-4e5f-8a9b-0c1d2e3f4a5b"


def not_an_id(name: str, value: Any) -> str:
    """The problem text for `value` given as the `name` id: what an id looks like, what came, and,
    for a known id kind, the list operation that shows the ids. A value holding an API key is
    never echoed back."""
    got = "" if "dlv_" in str(value) else f" (got {show_input(value)})"
    kind = ID_KINDS.get(name)
    where = f"; `{kind.list_operation}` shows the ids" if kind else ""
    return f"`{name}` must be a UUID like {EXAMPLE_UUID}{got}{where}"


@dataclass(frozen=True)
class Response:
    """The shape of an operation's `data`: a schema in `aural_mcp.responses.SCHEMAS`, or a list of them."""

    schema: str
    many: bool = False  # `data` is a list of rows, each an object with an `id`


@dataclass(frozen=True)
class OutcomeCheck:
    """How to find out whether a create took effect when its answer was lost.

    `look_for` names the fields that identify what was sent: top-level arguments, or fields of
    each item of the operation's body list.
    """

    list_operation: str
    look_for: tuple[str, ...]


# An argument rule the schema cannot say: the checked arguments -> one problem text per finding.
# It sees arguments that may have failed schema checks, so it looks only at well-typed parts.
Rule = Callable[[dict[str, Any]], list[str]]


@dataclass(frozen=True)
class Arg:
    """One argument of an operation, as the API names and constrains it."""

    name: str
    where: Location
    schema: dict[str, Any]
    description: str = ""
    required: bool = False
    # The schema default is sent when the argument is absent, so the API never applies its own
    # (a safe default the caller should not depend on the API for).
    always_sent: bool = False

    def json_schema(self) -> dict[str, Any]:
        out = dict(self.schema)
        if self.description:
            out["description"] = self.description
        return out


@dataclass(frozen=True, kw_only=True)
class Operation:
    """One API operation and everything derived surfaces need to know about it."""

    name: str  # tool name, SDK method name and sandbox handler name
    operation_id: str  # OpenAPI operationId, as the API's own document names it
    method: Literal["GET", "POST", "PATCH", "DELETE"]
    path: str  # under /api/v1, with `{id}`-style placeholders
    toolset: str
    tag: str
    summary: str
    description: str  # for agents: what it does, when to use it, what to call next
    llm_hint: str  # the quirk an agent must know
    response: Response  # the shape of `data` on success
    args: tuple[Arg, ...] = ()
    read_only: bool = False
    destructive: bool = False
    idempotent: bool = False
    open_world: bool = True
    # When the request body is a JSON array, the name of the list argument that becomes it.
    body_list_arg: str | None = None
    # Set on creates that are not safe to send again after a failure whose outcome is unknown
    # (timeouts, dropped connections): how to find out whether it took effect instead.
    outcome_check: OutcomeCheck | None = None
    paginated: bool = False
    # The API pages this list with `<=` on its sort key, so each next page starts with the
    # cursor item again.
    pages_overlap: bool = False
    min_role: str | None = None  # the lowest organization role the API accepts
    path_params: dict[str, str] = field(default_factory=dict)  # argument name -> placeholder
    # Server resources (URI templates) a success changes. `{interviewId}` is filled from the
    # arguments or the answer's row; `{sessionId}` with each session the answer says it ended.
    changes: tuple[str, ...] = ()
    # Fields accepted and passed through without being advertised: at the top level, or inside
    # each item when the body is a list.
    extra_fields: tuple[str, ...] = ()
    # Names the API returns that callers send by mistake -> the name to write instead.
    renames: dict[str, str] = field(default_factory=dict)
    # The API accepts the call on an archived interview, where candidates cannot start: say so.
    warns_if_archived: bool = False
    rules: tuple[Rule, ...] = ()  # argument rules beyond the schema (see `Rule`)

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

    @property
    def retry_safe(self) -> bool:
        """Safe to send again after a failure whose outcome is unknown."""
        return self.outcome_check is None


def _id(name: str) -> Arg:
    return Arg(name, "path", {"type": "string", "format": "uuid"}, f"{ID_KINDS[name].noun} id (UUID)", required=True)


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
    "order": {"type": "integer", "minimum": 0, "description": "position; default: after the last"},
    "required": {"type": "boolean", "default": True},
    "followUpEnabled": {"type": "boolean", "default": True, "description": "probe short answers"},
    "options": {
        "type": "array",
        "minItems": 2,
        "items": {"type": "string", "minLength": 1},
        "description": "the choices, required for SINGLE_CHOICE/MULTIPLE_CHOICE only",
    },
    "description": {"type": "string"},
    "timeLimitSeconds": {"type": "integer", "minimum": 1},
    # The candidate page reads {language, code}; the API takes any object of strings, so a
    # language -> code map is accepted too, but only the page's own shape is advertised.
    "starterCode": {
        "type": "object",
        "properties": {"language": {"type": "string"}, "code": {"type": "string"}},
        "additionalProperties": {"type": "string"},
        "description": "CODING only",
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


def _nullable(
    props: dict[str, Any], keep: tuple[str, ...] = (), descriptions: dict[str, str] | None = None
) -> tuple[Arg, ...]:
    """Body args from item properties, nullable (null clears) except for `keep`.

    `descriptions` replaces an item property's description where it would be wrong for an update.
    """
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
                (descriptions or {}).get(name, schema.get("description", "")),
            )
        )
    return tuple(out)


def _question_update_args() -> tuple[Arg, ...]:
    keep = ("text", "type", "order", "required", "followUpEnabled", "allowFileUpload", "allowedFileTypes")
    return _nullable(
        _QUESTION_PROPS,
        keep,
        {
            "order": "new position; the other questions keep theirs",
            "options": "the choices; send with type SINGLE_CHOICE or MULTIPLE_CHOICE",
        },
    )


# -- argument rules (see `Rule`) -------------------------------------------------------------

_CHOICES = " or ".join(CHOICE_TYPES)
_OPTIONS_EXAMPLE = '["Postgres", "MySQL", "SQLite"]'


def _dicts(value: Any) -> list[dict[str, Any]]:
    """The items of a list, with non-objects replaced by {} (their own error is already listed)."""
    return [v if isinstance(v, dict) else {} for v in value] if isinstance(value, list) else []


def _filled(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def new_questions_have_fitting_options(args: dict[str, Any]) -> list[str]:
    """Choice questions need options; other types take none."""
    problems = []
    for i, question in enumerate(_dicts(args.get("questions"))):
        if not question:
            continue
        qtype = question.get("type") or "OPEN_ENDED"
        options = question.get("options")
        if qtype not in QUESTION_TYPES:
            continue  # its enum error is already listed
        path = f"questions[{i}]"
        if qtype in CHOICE_TYPES and options is None:
            problems.append(
                f"`{path}.options` is required for {qtype}: at least 2 choices, e.g. {_OPTIONS_EXAMPLE}"
            )
        elif qtype not in CHOICE_TYPES and options is not None:
            problems.append(
                f"`{path}.options` only applies to {_CHOICES} (this question is {qtype}); remove it or change `type`"
            )
    return problems


def options_travel_with_choice_type(args: dict[str, Any]) -> list[str]:
    """On update, options and a choice type go together.

    The stored type is not read first (the API has no single-question read), so the two must
    travel together; options: null (clear) and other fields need nothing else.
    """
    qtype = args.get("type")
    options = args.get("options")
    if qtype is not None and qtype not in QUESTION_TYPES:
        return []  # its enum error is already listed
    if qtype in CHOICE_TYPES and options is None:
        return [
            f"`options` is required when `type` becomes {qtype}: at least 2 choices, e.g. {_OPTIONS_EXAMPLE} "
            "(resend the current ones from list_questions to keep them)"
        ]
    if options is not None and qtype is None:
        return [f"`options` needs `type` ({_CHOICES}) in the same call: the question's stored type is not known here"]
    if options is not None and qtype not in CHOICE_TYPES:
        return [f"`options` only applies to {_CHOICES} (`type` is {qtype}); remove it or send null to clear"]
    return []


def candidates_have_name_or_email(args: dict[str, Any]) -> list[str]:
    """An invite without a name or an email is useless."""
    return [
        f"`candidates[{i}]` needs a `name` or an `email`; an invite without either is useless"
        for i, candidate in enumerate(_dicts(args.get("candidates")))
        if not (_filled(candidate.get("name")) or _filled(candidate.get("email")))
    ]


# Question fields are written under other names than they are read.
_QUESTION_RENAMES = {"isRequired": "required", "probeOnShort": "followUpEnabled"}
_INTERVIEW_CHANGED = "aural://interviews/{interviewId}"
_INVITES_CHANGED = "aural://interviews/{interviewId}/invites.csv"

INTERVIEWS = "interviews"
QUESTIONS = "questions"
CANDIDATES = "candidates"
SESSIONS = "sessions"
PRACTICES = "practices"
USAGE = "usage"

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        name="list_interviews",
        response=Response("InterviewListItem", many=True),
        pages_overlap=True,
        operation_id="listInterviews",
        method="GET",
        path="/interviews",
        toolset=INTERVIEWS,
        tag="Interviews",
        summary="List interviews",
        description="List interviews in the key's projects, most recently updated first. Use it to find an "
        "interviewId. Next: get_interview.",
        llm_hint="Archived interviews are included (isActive false). Pass the returned cursor for the next page "
        "until it is null; pages do not overlap.",
        args=(
            _LIMIT_100,
            Arg(
                "cursor",
                "query",
                {"type": "string", "format": "uuid"},
                "the cursor the previous page returned",
            ),
        ),
        read_only=True,
        idempotent=True,
        paginated=True,
    ),
    Operation(
        name="get_interview",
        response=Response("InterviewWithQuestions"),
        operation_id="getInterview",
        method="GET",
        path="/interviews/{id}",
        toolset=INTERVIEWS,
        tag="Interviews",
        summary="Get an interview with its questions",
        description="Get one interview with its settings, ordered questions and session count.",
        llm_hint="Works on archived interviews too.",
        args=(_id("interviewId"),),
        read_only=True,
        idempotent=True,
    ),
    Operation(
        name="create_interview",
        response=Response("Interview"),
        outcome_check=OutcomeCheck("list_interviews", ("title",)),
        operation_id="createInterview",
        method="POST",
        path="/interviews",
        toolset=INTERVIEWS,
        tag="Interviews",
        summary="Create an interview",
        description="Create an interview in the key's first project. Next: add_questions, then publish_interview.",
        llm_hint="It starts invite-only: candidates added with add_candidates can take it at once, before any "
        "publish. publish_interview only opens the public link to anyone, and it never becomes invite-only "
        "again (archive_interview stops the public link). Invalid aiTone or followUpDepth is rejected (the API "
        "alone would silently use the default). Not safe to repeat: after an unknown outcome, look for the "
        "title with list_interviews first.",
        args=(_str("title", required=True, min_length=1), *_interview_fields(create=True)),
    ),
    Operation(
        name="update_interview",
        response=Response("Interview"),
        changes=(_INTERVIEW_CHANGED,),
        operation_id="updateInterview",
        method="PATCH",
        path="/interviews/{id}",
        toolset=INTERVIEWS,
        tag="Interviews",
        summary="Update an interview",
        description="Change an interview's settings; only the fields you send change.",
        llm_hint="Invalid aiTone or followUpDepth is rejected, as in create_interview.",
        args=(_id("interviewId"), _str("title", min_length=1), *_interview_fields(create=False)),
        destructive=True,
        idempotent=True,
    ),
    Operation(
        name="archive_interview",
        response=Response("ArchiveResult"),
        changes=(_INTERVIEW_CHANGED,),
        operation_id="archiveInterview",
        method="DELETE",
        path="/interviews/{id}",
        toolset=INTERVIEWS,
        tag="Interviews",
        summary="Archive an interview",
        description="Archive an interview (soft delete: isActive false); the public link stops admitting candidates.",
        llm_hint="Nothing is deleted and it still appears in lists; publish_interview un-archives it.",
        args=(_id("interviewId"),),
        destructive=True,
        idempotent=True,
    ),
    Operation(
        name="publish_interview",
        response=Response("PublishResult"),
        changes=(_INTERVIEW_CHANGED,),
        operation_id="publishInterview",
        method="POST",
        path="/interviews/{id}/publish",
        toolset=INTERVIEWS,
        tag="Interviews",
        summary="Publish an interview",
        description="Activate an interview, open it to anyone with the link and return its public url. "
        "Next: add_candidates for personal invite links.",
        llm_hint="Idempotent: the slug never changes. There is no unpublish; archive_interview is the nearest.",
        args=(_id("interviewId"),),
        idempotent=True,
    ),
    Operation(
        name="list_questions",
        response=Response("Question", many=True),
        operation_id="listQuestions",
        method="GET",
        path="/interviews/{id}/questions",
        toolset=QUESTIONS,
        tag="Questions",
        summary="List questions",
        description="List an interview's questions by order.",
        llm_hint="Returned fields isRequired/probeOnShort are written as required/followUpEnabled.",
        args=(_id("interviewId"),),
        read_only=True,
        idempotent=True,
    ),
    Operation(
        name="add_questions",
        response=Response("Question", many=True),
        outcome_check=OutcomeCheck("list_questions", ("text",)),
        changes=(_INTERVIEW_CHANGED,),
        extra_fields=QUESTION_EXTRA_FIELDS,
        renames=_QUESTION_RENAMES,
        warns_if_archived=True,
        rules=(new_questions_have_fitting_options,),
        operation_id="createQuestions",
        method="POST",
        path="/interviews/{id}/questions",
        toolset=QUESTIONS,
        tag="Questions",
        summary="Add questions",
        description="Add one or more questions to an interview, all or nothing. Next: publish_interview.",
        llm_hint="Omit order to append. SINGLE_CHOICE/MULTIPLE_CHOICE need options (a list of at least 2); "
        "other types take none. Works on archived interviews, which candidates cannot start until "
        "publish_interview. Not safe to repeat: after an unknown outcome, check list_questions.",
        args=(
            _id("interviewId"),
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
    ),
    Operation(
        name="update_question",
        response=Response("Question"),
        changes=(_INTERVIEW_CHANGED,),
        extra_fields=QUESTION_EXTRA_FIELDS,
        renames=_QUESTION_RENAMES,
        rules=(options_travel_with_choice_type,),
        operation_id="updateQuestion",
        method="PATCH",
        path="/questions/{id}",
        toolset=QUESTIONS,
        tag="Questions",
        summary="Update a question",
        description="Change a question; only the fields you send change, null clears.",
        llm_hint="Changing order does not renumber the others. options and a choice type go together: setting "
        "type to SINGLE_CHOICE/MULTIPLE_CHOICE needs options (resend the current ones to keep them), and options "
        "need that type in the same call, since the stored type is not read first.",
        args=(_id("questionId"), *_question_update_args()),
        destructive=True,
        idempotent=True,
    ),
    Operation(
        name="delete_question",
        response=Response("DeleteResult"),
        operation_id="deleteQuestion",
        method="DELETE",
        path="/questions/{id}",
        toolset=QUESTIONS,
        tag="Questions",
        summary="Delete a question",
        description="Permanently delete a question and its practice attempts.",
        llm_hint="Cannot be undone; a repeat gets not-found. Other questions keep their order.",
        args=(_id("questionId"),),
        destructive=True,
        idempotent=True,
    ),
    Operation(
        name="list_candidates",
        response=Response("Candidate", many=True),
        operation_id="listCandidates",
        method="GET",
        path="/interviews/{id}/candidates",
        toolset=CANDIDATES,
        tag="Candidates",
        summary="List candidates",
        description="List an interview's candidates, newest first, each with the personal invite URL to send them.",
        llm_hint="sessionId is set once a candidate opens the invite.",
        args=(_id("interviewId"),),
        read_only=True,
        idempotent=True,
    ),
    Operation(
        name="add_candidates",
        response=Response("CandidateWithInviteUrl", many=True),
        outcome_check=OutcomeCheck("list_candidates", ("email", "name")),
        changes=(_INTERVIEW_CHANGED, _INVITES_CHANGED),
        rules=(candidates_have_name_or_email,),
        operation_id="createCandidates",
        method="POST",
        path="/interviews/{id}/candidates",
        toolset=CANDIDATES,
        tag="Candidates",
        summary="Add candidates",
        description="Register 1-500 candidates, each with a name or an email; each gets a personal inviteUrl to "
        "send them.",
        llm_hint="Duplicates are not detected: check list_candidates before re-adding. Not safe to repeat after an "
        "unknown outcome.",
        args=(
            _id("interviewId"),
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
    ),
    Operation(
        name="update_candidate",
        response=Response("CandidateRow"),
        changes=(_INTERVIEW_CHANGED, _INVITES_CHANGED),
        operation_id="updateCandidate",
        method="PATCH",
        path="/interviews/{id}/candidates/{candidateId}",
        toolset=CANDIDATES,
        tag="Candidates",
        summary="Update a candidate",
        description="Change a candidate's profile; only the fields you send change, null clears.",
        llm_hint="Needs MEMBER role. name cannot be empty; email must be valid.",
        args=(
            _id("interviewId"),
            _id("candidateId"),
            *_nullable(_CANDIDATE_PROPS, keep=("name",)),
        ),
        destructive=True,
        idempotent=True,
        min_role="MEMBER",
        path_params={"candidateId": "candidateId"},
    ),
    Operation(
        name="list_sessions",
        response=Response("Session", many=True),
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
            _id("interviewId"),
            _LIMIT_100,
            Arg(
                "cursor",
                "query",
                {"type": "string", "format": "uuid"},
                "the cursor the previous page returned",
            ),
        ),
        read_only=True,
        idempotent=True,
        paginated=True,
    ),
    Operation(
        name="get_session",
        response=Response("SessionWithResults"),
        operation_id="getSession",
        method="GET",
        path="/sessions/{id}",
        toolset=SESSIONS,
        tag="Sessions",
        summary="Get a session with its transcript",
        description="Get one session: transcript messages, summary, themes, sentiment and scored insights.",
        llm_hint="insights and sentiment are objects; SYSTEM messages are navigation, not speech.",
        args=(_id("sessionId"),),
        read_only=True,
        idempotent=True,
    ),
    Operation(
        name="get_session_report",
        response=Response("SessionReport"),
        operation_id="getSessionReport",
        method="GET",
        path="/sessions/{id}/report",
        toolset=SESSIONS,
        tag="Sessions",
        summary="Get a session report",
        description="Get a session's stored report with media: recordings, screenshots, anti-cheating log.",
        llm_hint="Media URLs expire after 24 hours; keep the sessionId, not the URLs.",
        args=(_id("sessionId"),),
        read_only=True,
        idempotent=True,
    ),
    Operation(
        name="end_sessions",
        response=Response("EndSessionsResult"),
        changes=(_INTERVIEW_CHANGED, "aural://sessions/{sessionId}", "aural://sessions/{sessionId}/transcript"),
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
            _id("interviewId"),
            Arg(
                "ids",
                "body",
                {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 100,
                    "items": {"type": "string", "format": "uuid"},
                },
                "UUIDs of IN_PROGRESS sessions, from list_sessions",
                required=True,
            ),
            Arg(
                "dryRun",
                "body",
                {"type": "boolean", "default": True},
                "true (default): only preview which would end; false: end them",
                always_sent=True,
            ),
        ),
        destructive=True,
        idempotent=True,
        min_role="MEMBER",
    ),
    Operation(
        name="list_practices",
        response=Response("PracticeSummary", many=True),
        operation_id="listPracticeSessions",
        method="GET",
        path="/interviews/{id}/practices",
        toolset=PRACTICES,
        tag="Practices",
        summary="List practice sessions",
        description="List the key owner's own practice runs of an interview, newest first, with scores.",
        llm_hint="Not candidate sessions. No cursor: limit 1-500.",
        args=(
            _id("interviewId"),
            Arg("limit", "query", {"type": "integer", "minimum": 1, "maximum": 500, "default": 100}),
        ),
        read_only=True,
        idempotent=True,
    ),
    Operation(
        name="get_practice",
        response=Response("PracticeReport"),
        operation_id="getPracticeReport",
        method="GET",
        path="/practices/{id}",
        toolset=PRACTICES,
        tag="Practices",
        summary="Get a practice report",
        description="Get one practice run: questions, answers, scores and feedback.",
        llm_hint="Only the key owner's practices are visible.",
        args=(_id("practiceId"),),
        read_only=True,
        idempotent=True,
    ),
    Operation(
        name="get_usage",
        response=Response("Usage"),
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


def outcome_check_text(op: Operation, args: dict[str, Any]) -> str | None:
    """What to do before repeating `op` after its answer was lost, or None when it is safe to repeat."""
    check = op.outcome_check
    if check is None:
        return None
    scope = f" for interview {args['interviewId']}" if "interviewId" in args else ""
    items = args.get(op.body_list_arg) if op.body_list_arg else [args]
    if isinstance(items, dict):
        items = [items]
    shown = []
    for item in items if isinstance(items, list) else []:
        value = next((item.get(f) for f in check.look_for if isinstance(item, dict) and _filled(item.get(f))), None)
        if value is not None:
            shown.append(show_input(" ".join(str(value).split()), 42))
    look = f" and look for {', '.join(shown[:3])}" if shown else ""
    return f"call {check.list_operation}{scope}{look} before trying {op.name} again"
