"""Every renderer survives any JSON: wrong types in every field, lists of non-objects, nulls anywhere.

Rows made outside the API (dashboard, templates, newer deployments) hold shapes we never wrote;
a read must render them, never raise. The keys are the ones the renderers read, so the fuzz
reaches every branch with values of every type.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aural_mcp import operations
from aural_mcp.server import render

KEYS = [
    "_count",
    "aiName",
    "aiTone",
    "allowMultiple",
    "answerText",
    "antiCheatingLog",
    "assessmentCriteria",
    "attemptCount",
    "attempts",
    "audioRecordingUrl",
    "audioRecordings",
    "averageScore",
    "bestScore",
    "comment",
    "content",
    "createdAt",
    "criterion",
    "code",
    "description",
    "details",
    "dryRun",
    "email",
    "evidence",
    "feedback",
    "followUpDepth",
    "id",
    "insights",
    "interview",
    "interviewId",
    "interviewTitle",
    "inviteToken",
    "inviteUrl",
    "isActive",
    "isFollowUp",
    "isRequired",
    "keyInsights",
    "label",
    "language",
    "limit",
    "messages",
    "name",
    "options",
    "order",
    "overall",
    "participantEmail",
    "participantName",
    "plan",
    "publicSlug",
    "question",
    "questionEvaluations",
    "criteriaEvaluations",
    "questionId",
    "questionText",
    "questions",
    "reason",
    "requireInvite",
    "results",
    "role",
    "score",
    "screenshots",
    "sentiment",
    "session",
    "sessionId",
    "sessions",
    "startedAt",
    "starterCode",
    "status",
    "summary",
    "text",
    "themes",
    "timeLimitMinutes",
    "timeLimitSeconds",
    "timestamp",
    "title",
    "totalDurationSeconds",
    "type",
    "updatedAt",
    "url",
    "used",
    "value",
    "templates",
    "session_hours",
    "ai_tokens",
    "seats",
    "chatEnabled",
    "voiceEnabled",
    "videoEnabled",
]

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),  # Python's JSON parser reads NaN and Infinity
    st.text(max_size=40),
    st.sampled_from(
        ["ASSISTANT", "USER", "SYSTEM", "2026-03-16T10:20:30.123456+00:00", "eligible", "skipped"]
    ),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), inner, max_size=6),
    ),
    max_leaves=12,
)
ROW = st.dictionaries(st.sampled_from(KEYS), JSON, min_size=4, max_size=16)
DATA = st.one_of(ROW, st.lists(st.one_of(ROW, JSON), max_size=5), JSON)
ARGS = st.dictionaries(
    st.sampled_from(["interviewId", "sessionId", "practiceId", "candidateId", "title"]), JSON
)


def test_every_registry_operation_has_its_own_rendering() -> None:
    assert sorted(render.RENDERERS) == sorted(op.name for op in operations.OPERATIONS)


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("op", render.RENDERERS)
@FUZZ
@given(args=ARGS, data=DATA, cursor=JSON)
def test_every_operation_renders_any_json(op: str, args: dict[str, Any], data: Any, cursor: Any) -> None:
    envelope = {"data": data, "cursor": cursor}
    text = render.render_result(op, args, envelope, app_url="http://127.0.0.1:9")
    assert isinstance(text, str) and text.strip()
    assert len(text) <= render.TEXT_LIMIT
    structured = render.fit_structured(op, args, envelope, app_url="http://127.0.0.1:9")
    assert len(json.dumps(structured, default=str)) <= render.STRUCTURED_LIMIT


@FUZZ
@given(session=ROW, interviewer=JSON, questions=JSON)
def test_transcript_and_session_render_any_json(
    session: dict[str, Any], interviewer: Any, questions: Any
) -> None:
    text = render.transcript_markdown(session, interviewer=interviewer, questions=questions)
    assert text.startswith("# Transcript") and len(text) <= render.RESOURCE_LIMIT
    assert render.session_markdown(session).startswith("# Session of ")
    assert render.session_markdown(session, transcript_limit=0).strip()


@FUZZ
@given(interview=ROW, candidates=DATA)
def test_interview_and_invites_render_any_json(interview: dict[str, Any], candidates: Any) -> None:
    assert render.interview_markdown(interview).startswith("# ")
    assert render.invites_csv(candidates, "http://127.0.0.1:9").startswith("name,email,candidateId,inviteUrl")


def test_an_operation_without_a_renderer_is_an_error_not_a_json_dump() -> None:
    with pytest.raises(KeyError):
        render.render_result("read_one_candidate", {}, {"data": {"id": "x"}})
    with pytest.raises(KeyError):
        render.fit_structured("read_one_candidate", {}, {"data": {"id": "x"}})
