"""Pydantic models of the Aural API's resources.

Lenient by design: a model must never reject a real API response, including rows made in
Aural's dashboard, templates or AI generator rather than through the API. The rules:

- Unknown fields are kept (`extra="allow"`); every field but a row's `id` is optional and may be null.
- Enum fields keep a value this SDK does not know as the plain string; timestamps that do not
  parse stay as the raw text.
- Fields whose shape varies between writers are loose JSON: a question's `options` (a string
  list, `{options: [...], allowMultiple}`, `[{label, value}]` or null; `option_labels` reads
  them all), `starterCode`, the analysis fields of sessions, counts.
- Any other field whose value does not fit its type reads as None, and the value as received is
  kept in `model.unparsed[name]` (and in `model_dump()`), so nothing is lost.
- In a nested list of rows (an interview's questions, a transcript's messages, a page's data),
  an item no model accepts (not an object, or a row without an `id`) is skipped and logged; null
  reads as an empty list.

Only a row whose own `id` is missing or unusable is rejected.

Field names are the API's own (camelCase). `_count` is exposed as `count` (pydantic reserves
leading underscores); the usage object keeps its snake_case keys.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from enum import Enum, StrEnum
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainSerializer,
    PlainValidator,
    PrivateAttr,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    WrapValidator,
    model_serializer,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from aural_mcp.shapes import option_labels  # noqa: F401 - part of the SDK's models API

__all__ = [
    "AiTone",
    "ArchiveResult",
    "AssessmentCriterion",
    "AudioRecording",
    "BulkItemStatus",
    "Candidate",
    "CandidateRow",
    "CandidateWithInviteUrl",
    "ContentType",
    "DeleteResult",
    "EndSessionsItem",
    "EndSessionsResult",
    "FollowUpDepth",
    "Interview",
    "InterviewDetail",
    "InterviewListItem",
    "InterviewMode",
    "InterviewRef",
    "Message",
    "MessageRole",
    "Model",
    "Page",
    "PracticeAttempt",
    "PracticeReport",
    "PracticeSummary",
    "PublishResult",
    "Question",
    "QuestionType",
    "Screenshot",
    "SessionDetail",
    "SessionListItem",
    "SessionReport",
    "SessionStatus",
    "Usage",
    "UsageMetric",
]


log = logging.getLogger("aural_mcp.api")


class Model(BaseModel):
    """Base of every model: unknown fields are kept, aliases and field names both accepted, and a
    field whose value does not fit reads as None with the raw value kept in `unparsed`."""

    model_config = ConfigDict(
        extra="allow", populate_by_name=True, protected_namespaces=(), coerce_numbers_to_str=True
    )
    _unparsed: dict[str, Any] = PrivateAttr(default_factory=dict)

    @property
    def unparsed(self) -> dict[str, Any]:
        """The values, as received, of fields that did not fit their type (and so read as None)."""
        return self._unparsed

    @model_validator(mode="wrap")
    @classmethod
    def _keep_misfits(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(data)
        except ValidationError as exc:
            if not isinstance(data, dict):
                raise
            required = {
                name for name, f in cls.model_fields.items() if f.is_required()
            } | {f.alias for f in cls.model_fields.values() if f.is_required() and f.alias}
            misfits: dict[str, Any] = {}
            for error in exc.errors():
                loc = error.get("loc") or ()
                name = loc[0] if loc else None
                if not isinstance(name, str) or name not in data or name in required:
                    raise
                misfits[name] = data[name]
            instance = handler({k: v for k, v in data.items() if k not in misfits})
            instance._unparsed.update(misfits)
            return instance

    @model_serializer(mode="wrap")
    def _dump_misfits(self, handler: SerializerFunctionWrapHandler) -> Any:
        out = handler(self)
        if self._unparsed and isinstance(out, dict):
            out.update(self._unparsed)
        return out


# --- enums ------------------------------------------------------------------------------------


class AiTone(StrEnum):
    CASUAL = "CASUAL"
    PROFESSIONAL = "PROFESSIONAL"
    FORMAL = "FORMAL"
    FRIENDLY = "FRIENDLY"


class FollowUpDepth(StrEnum):
    LIGHT = "LIGHT"
    MODERATE = "MODERATE"
    DEEP = "DEEP"


class QuestionType(StrEnum):
    OPEN_ENDED = "OPEN_ENDED"
    SINGLE_CHOICE = "SINGLE_CHOICE"
    MULTIPLE_CHOICE = "MULTIPLE_CHOICE"
    CODING = "CODING"
    WHITEBOARD = "WHITEBOARD"
    RESEARCH = "RESEARCH"


class SessionStatus(StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    ABANDONED = "ABANDONED"


class MessageRole(StrEnum):
    USER = "USER"
    ASSISTANT = "ASSISTANT"
    SYSTEM = "SYSTEM"


class ContentType(StrEnum):
    TEXT = "TEXT"
    AUDIO = "AUDIO"
    FILE = "FILE"
    IMAGE = "IMAGE"
    WHITEBOARD = "WHITEBOARD"
    CODE = "CODE"


class InterviewMode(StrEnum):
    CHAT = "CHAT"
    VOICE = "VOICE"
    HYBRID = "HYBRID"


class BulkItemStatus(StrEnum):
    ELIGIBLE = "eligible"
    SKIPPED = "skipped"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


# --- lenient field types -----------------------------------------------------------------------

_FRACTION = re.compile(r"(\.\d{6})\d+")


def _timestamp(value: Any) -> Any:
    """ISO-8601 text (microseconds, `Z` or `+00:00`, space separator) -> aware datetime.

    Anything that does not parse is kept as it came, never rejected.
    """
    if isinstance(value, str):
        text = _FRACTION.sub(r"\1", value.strip())
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            return value
    return value


def _dump(value: Any, info: SerializationInfo) -> Any:
    """Serialize lenient fields whatever they hold (a parsed value or the raw fallback)."""
    if info.mode_is_json():
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, Enum):
            return value.value
    return value


Timestamp = Annotated[
    datetime,
    PlainValidator(_timestamp),
    PlainSerializer(_dump),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class _LenientEnum:
    """Annotated metadata: validate into `enum`, or keep a value this SDK does not know yet."""

    def __init__(self, enum: type[Enum]) -> None:
        self.enum = enum

    def _validate(self, value: Any) -> Any:
        if isinstance(value, self.enum):
            return value
        try:
            return self.enum(value)
        except ValueError:
            return value

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_plain_validator_function(
            self._validate,
            serialization=core_schema.plain_serializer_function_ser_schema(_dump, info_arg=True),
        )

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "enum": [m.value for m in self.enum]}


AiToneField = Annotated[AiTone, _LenientEnum(AiTone)]
FollowUpDepthField = Annotated[FollowUpDepth, _LenientEnum(FollowUpDepth)]
QuestionTypeField = Annotated[QuestionType, _LenientEnum(QuestionType)]
SessionStatusField = Annotated[SessionStatus, _LenientEnum(SessionStatus)]
MessageRoleField = Annotated[MessageRole, _LenientEnum(MessageRole)]
ContentTypeField = Annotated[ContentType, _LenientEnum(ContentType)]
InterviewModeField = Annotated[InterviewMode, _LenientEnum(InterviewMode)]
BulkItemStatusField = Annotated[BulkItemStatus, _LenientEnum(BulkItemStatus)]

Number = int | float
JSON = Any


def _rows(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """A list of rows: null reads as empty, and items no model accepts are skipped and logged."""
    if value is None:
        return []
    if not isinstance(value, list):
        log.warning("expected a list of rows, got %s; read as empty", type(value).__name__)
        return []
    try:
        return handler(value)
    except ValidationError as exc:
        bad = {e["loc"][0] for e in exc.errors() if e.get("loc") and isinstance(e["loc"][0], int)}
        if not bad:
            raise
        log.warning("skipped %d of %d rows that no model accepts", len(bad), len(value))
        return handler([item for i, item in enumerate(value) if i not in bad])


T = TypeVar("T")
Rows = Annotated[list[T], WrapValidator(_rows)]

# --- interviews -------------------------------------------------------------------------------


class AssessmentCriterion(Model):
    name: str | None = None
    description: str | None = None


class Interview(Model):
    """The full interview row, as create, update and get return it."""

    id: str
    title: str | None = None
    description: str | None = None
    objective: str | None = None
    assessmentCriteria: list[AssessmentCriterion | JSON] | None = None
    chatEnabled: bool | None = None
    voiceEnabled: bool | None = None
    videoEnabled: bool | None = None
    antiCheatingEnabled: bool | None = None
    aiName: str | None = None
    aiTone: AiToneField | None = None
    followUpDepth: FollowUpDepthField | None = None
    language: str | None = None
    timeLimitMinutes: Number | None = None
    isActive: bool | None = None
    requireInvite: bool | None = None
    publicSlug: str | None = None
    projectId: str | None = None
    userId: str | None = None
    mode: InterviewModeField | None = None
    createdAt: Timestamp | None = None
    updatedAt: Timestamp | None = None


class InterviewListItem(Interview):
    """An interview in the list: the row plus `_count` ({questions, sessions})."""

    count: dict[str, JSON] | None = Field(default=None, alias="_count")


class InterviewDetail(Interview):
    """An interview with its questions (ordered) and `_count` ({sessions})."""

    questions: Rows[Question] = Field(default_factory=list)
    count: dict[str, JSON] | None = Field(default=None, alias="_count")


class PublishResult(Model):
    id: str | None = None
    publicSlug: str | None = None
    url: str | None = None


class ArchiveResult(Model):
    id: str | None = None
    archived: bool | None = None


class DeleteResult(Model):
    id: str | None = None
    deleted: bool | None = None


# --- questions --------------------------------------------------------------------------------


class Question(Model):
    """A question as the API returns it. Written as `required`/`followUpEnabled`, read as
    `isRequired`/`probeOnShort`."""

    id: str
    interviewId: str | None = None
    order: Number | None = None
    text: str | None = None
    type: QuestionTypeField | None = None
    isRequired: bool | None = None
    probeOnShort: bool | None = None
    options: JSON = None  # any shape; `option_labels(question.options)` reads the choices
    description: str | None = None
    timeLimitSeconds: Number | None = None
    starterCode: JSON = None  # a map language -> code, or {language, code}
    validationRules: JSON = None
    followUpPrompts: JSON = None
    showIf: JSON = None
    skipIf: JSON = None
    probeThreshold: Number | None = None
    allowFileUpload: bool | None = None
    allowedFileTypes: JSON = None
    createdAt: Timestamp | None = None
    updatedAt: Timestamp | None = None


# --- sessions ---------------------------------------------------------------------------------


class _SessionBase(Model):
    id: str | None = None
    status: SessionStatusField | None = None
    participantName: str | None = None
    participantEmail: str | None = None
    summary: str | None = None
    insights: JSON = None  # an object (keyInsights, criteriaEvaluations, ...) or null; loose JSON
    themes: JSON = None  # a string array in practice
    sentiment: JSON = None  # an object ({overall, details}) or null; loose JSON
    totalDurationSeconds: Number | None = None
    createdAt: Timestamp | None = None


class SessionListItem(_SessionBase):
    id: str
    updatedAt: Timestamp | None = None
    count: dict[str, JSON] | None = Field(default=None, alias="_count")


class Message(Model):
    """A transcript message. The report adds many fields (contentType, questionId, ...)."""

    id: str | None = None
    sessionId: str | None = None
    role: MessageRoleField | None = None
    content: str | None = None
    contentType: ContentTypeField | None = None
    audioUrl: str | None = None
    audioDurationSeconds: Number | None = None
    transcription: str | None = None
    whiteboardData: JSON = None
    whiteboardImageUrl: str | None = None
    whiteboardPages: JSON = None
    questionId: str | None = None
    isFollowUp: bool | None = None
    parentMessageId: str | None = None
    sentiment: JSON = None
    wordCount: Number | None = None
    readingTimeSeconds: Number | None = None
    timestamp: Timestamp | None = None


class InterviewRef(Model):
    id: str | None = None
    title: str | None = None
    objective: str | None = None


class SessionDetail(_SessionBase):
    id: str
    messages: Rows[Message] = Field(default_factory=list)
    interview: InterviewRef | None = None


class AudioRecording(Model):
    url: str | None = None
    duration: Number | None = None
    segmentIndex: Number | None = None
    timestamp: JSON = None


class Screenshot(Model):
    url: str | None = None
    path: str | None = None
    timestamp: JSON = None
    type: str | None = None


class SessionReport(Model):
    """The stored report of a session. It has no session id. Media URLs expire after 24 hours."""

    interviewTitle: str | None = None
    interviewObjective: str | None = None
    participantName: str | None = None
    participantEmail: str | None = None
    status: SessionStatusField | None = None
    createdAt: Timestamp | None = None
    summary: str | None = None
    insights: JSON = None
    themes: JSON = None
    sentiment: JSON = None
    messages: Rows[Message] = Field(default_factory=list)
    totalDurationSeconds: Number | None = None
    audioRecordingUrl: str | None = None
    audioRecordings: list[AudioRecording | JSON] | None = None
    audioDuration: Number | None = None
    screenshots: list[Screenshot | JSON] | None = None
    antiCheatingLog: list[JSON] | None = None  # items {type, timestamp (epoch ms), detail?}


class EndSessionsItem(Model):
    id: str | None = None
    status: BulkItemStatusField | None = None
    reason: str | None = None


class EndSessionsResult(Model):
    dryRun: bool | None = None
    results: Rows[EndSessionsItem] = Field(default_factory=list)


# --- candidates -------------------------------------------------------------------------------


class Candidate(Model):
    """A candidate as the list returns it (no invite URL: build it from `inviteToken`)."""

    id: str
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    notes: str | None = None
    inviteToken: str | None = None
    sessionId: str | None = None
    gender: str | None = None
    birthday: str | None = None  # YYYY-MM-DD, kept as text
    education: str | None = None
    school: str | None = None
    major: str | None = None
    graduationYear: Number | None = None
    workExperience: str | None = None
    createdAt: Timestamp | None = None


class CandidateWithInviteUrl(Candidate):
    """A candidate as add_candidates returns it: with `updatedAt` and the personal `inviteUrl`."""

    updatedAt: Timestamp | None = None
    inviteUrl: str | None = None


class CandidateRow(Candidate):
    """The full candidate row update_candidate returns: with `interviewId` and `updatedAt`."""

    interviewId: str | None = None
    updatedAt: Timestamp | None = None


# --- practices --------------------------------------------------------------------------------


class PracticeSummary(Model):
    id: str
    interviewId: str | None = None
    interviewTitle: str | None = None
    mode: str | None = None
    status: str | None = None
    timed: bool | None = None
    durationLimitMinutes: Number | None = None
    startedAt: Timestamp | None = None
    lastActivityAt: Timestamp | None = None
    completedAt: Timestamp | None = None
    totalDurationSeconds: Number | None = None
    createdAt: Timestamp | None = None
    attemptCount: Number | None = None
    averageScore: Number | None = None
    bestScore: Number | None = None
    questionCount: Number | None = None


class PracticeAttempt(Model):
    id: str | None = None
    questionId: str | None = None
    answerText: str | None = None
    score: Number | None = None
    feedback: JSON = None
    followUp: JSON = None
    audioUrl: str | None = None
    audioDurationSeconds: Number | None = None


class PracticeReport(Model):
    session: dict[str, Any] | None = None
    interview: dict[str, Any] | None = None
    questions: Rows[JSON] = Field(default_factory=list)
    attempts: Rows[PracticeAttempt] = Field(default_factory=list)


# --- usage ------------------------------------------------------------------------------------


class UsageMetric(Model):
    used: Number | None = None
    limit: Number | None = None  # null means unlimited


class Usage(Model):
    plan: str | None = None
    templates: UsageMetric | None = None
    session_hours: UsageMetric | None = None
    ai_tokens: UsageMetric | None = None
    seats: UsageMetric | None = None


# --- pages -------------------------------------------------------------------------------------

class Page(Model, Generic[T]):
    """One page of a paginated list. `cursor` is None on the last page."""

    data: Rows[T] = Field(default_factory=list)
    cursor: str | None = None


InterviewDetail.model_rebuild()
