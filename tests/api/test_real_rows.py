"""Rows the API did not write (dashboard, templates, AI generator) never fail a read, and an
answer that is not the envelope is always a typed error. Real HTTP to a fake API on loopback."""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.requests import Request

from aural_mcp.api import AuralClient, errors, models
from aural_mcp.api.models import option_labels

from .fake_api import FakeAPI, fake_api, quick_client, raw
from .helpers import KEY

pytestmark = pytest.mark.anyio


def uid() -> str:
    return str(uuid.uuid4())


IID, SID, CID, PID = uid(), uid(), uid(), uid()
DASH_Q = {  # the dashboard and the AI generator: options as an object, nulls where the API writes values
    "id": uid(),
    "interviewId": IID,
    "order": None,
    "text": "Pick the databases you have run in production",
    "type": "MULTIPLE_CHOICE",
    "options": {"options": ["Postgres", "MySQL"], "allowMultiple": True},
    "starterCode": None,
    "isRequired": None,
    "probeOnShort": None,
    "createdAt": None,
    "aiGenerated": True,
}
TEMPLATE_Q = {  # a template: [{label, value}], {language, code}, a type newer than ours, odd values
    "id": uid(),
    "type": "RANKING",
    "options": [{"label": "Speed", "value": "speed"}, {"label": "Safety", "value": "safety"}],
    "starterCode": {"language": "python", "code": "def solve(): ..."},
    "timeLimitSeconds": "soon",
    "allowedFileTypes": "pdf",
    "validationRules": "strict",
    "isRequired": "sometimes",
}
STRING_Q = {"id": uid(), "type": "SINGLE_CHOICE", "options": ["Yes", "No"], "starterCode": "print()", "order": 2}
NULL_Q = {"id": uid(), **dict.fromkeys(["interviewId", "order", "text", "type", "options", "starterCode"])}
NO_ID_Q = {"text": "a row without an id"}
QUESTIONS = [DASH_Q, TEMPLATE_Q, 7, NO_ID_Q, STRING_Q, None, NULL_Q]
GOOD_QUESTIONS = [DASH_Q["id"], TEMPLATE_Q["id"], STRING_Q["id"], NULL_Q["id"]]

INTERVIEW = {
    "id": IID,
    "title": None,
    "aiTone": "WARM",
    "followUpDepth": "EXTREME",
    "mode": "VIDEO",
    "isActive": None,
    "assessmentCriteria": "be thorough",
    "timeLimitMinutes": None,
    "createdAt": "yesterday",
    "updatedAt": None,
    "chatEnabled": "yes please",
    "invitedEmails": [],
    "videoMode": False,
}
SESSION_ROW = {"id": SID, "status": "PAUSED", "_count": {"messages": "many"}, "totalDurationSeconds": "n/a"}
SESSION = {
    "id": SID,
    "status": "ARCHIVED",
    "participantName": None,
    "themes": "not a list",
    "interview": "gone",
    "messages": [
        {"role": "TOOL", "contentType": "VIDEO", "content": None},
        None,
        {"role": "USER", "content": "hi", "wordCount": "three", "timestamp": 12},
    ],
}
REPORT = {"status": None, "messages": None, "antiCheatingLog": None, "audioRecordings": {"a": 1}, "screenshots": "none"}
CANDIDATE = {"id": CID, "graduationYear": "twenty", "createdAt": 5, "name": None, "birthday": {"y": 2000}}
PRACTICE_ROW = {"id": PID, "mode": "VOICE_PLUS", "averageScore": "high", "timed": None}
PRACTICE = {"session": "x", "interview": None, "questions": None, "attempts": [{"score": "A+"}, 3]}
USAGE = {"plan": None, "templates": {"used": None, "limit": None}, "session_hours": "lots", "new_metric": {"used": 1}}


def routes(request: Request) -> Any:
    """The odd rows above, for every operation, by method and path."""
    m, p = request.method, request.url.path.removeprefix("/api/v1")
    table: list[tuple[str, str, Any]] = [
        ("GET", r"/interviews", {"data": [{**INTERVIEW, "_count": {"questions": None}}, 42], "cursor": 123}),
        ("POST", r"/interviews", {"data": INTERVIEW}),
        ("GET", r"/interviews/[^/]+", {"data": {**INTERVIEW, "questions": QUESTIONS, "_count": {"sessions": None}}}),
        ("PATCH", r"/interviews/[^/]+", {"data": INTERVIEW}),
        ("DELETE", r"/interviews/[^/]+", {"data": {"id": IID, "archived": "maybe"}}),
        ("POST", r"/interviews/[^/]+/publish", {"data": {"id": IID, "publicSlug": None, "url": None}}),
        ("GET", r"/interviews/[^/]+/questions", {"data": QUESTIONS}),
        ("POST", r"/interviews/[^/]+/questions", {"data": DASH_Q}),  # one object, not a list
        ("PATCH", r"/questions/[^/]+", {"data": TEMPLATE_Q}),
        ("DELETE", r"/questions/[^/]+", {"data": {"id": DASH_Q["id"], "deleted": None}}),
        ("GET", r"/interviews/[^/]+/candidates", {"data": [CANDIDATE, {"id": 5}, "junk"]}),
        ("POST", r"/interviews/[^/]+/candidates", {"data": [{**CANDIDATE, "inviteUrl": None}]}),
        ("PATCH", r"/interviews/[^/]+/candidates/[^/]+", {"data": CANDIDATE}),
        ("GET", r"/interviews/[^/]+/sessions", {"data": [SESSION_ROW, "junk", {"status": "COMPLETED"}], "cursor": None}),
        ("GET", r"/sessions/[^/]+", {"data": SESSION}),
        ("GET", r"/sessions/[^/]+/report", {"data": REPORT}),
        ("POST", r"/interviews/[^/]+/sessions/end", {"data": {"dryRun": "perhaps", "results": [{"id": SID, "status": "queued"}, "bad"]}}),
        ("GET", r"/interviews/[^/]+/practices", {"data": [PRACTICE_ROW]}),
        ("GET", r"/practices/[^/]+", {"data": PRACTICE}),
        ("GET", r"/usage", {"data": USAGE}),
    ]
    for method, pattern, body in table:
        if m == method and re.fullmatch(pattern, p):
            return body
    return raw(json.dumps({"error": {"code": "NOT_FOUND", "message": f"no route {m} {p}"}}), 404)


@pytest.fixture(scope="module")
def api() -> Iterator[FakeAPI]:
    with fake_api() as server:
        server.answer = routes
        yield server


def new_client(api: FakeAPI, **kw: Any) -> AuralClient:
    return quick_client(api, KEY, **kw)


async def test_interview_reads_keep_every_shape(api: FakeAPI, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "aural_mcp.api")
    async with new_client(api) as c:
        iv = await c.get_interview(IID)
        assert c.stats["skipped_rows"] == 2  # the two non-objects among the questions
        assert iv.aiTone == "WARM" and iv.followUpDepth == "EXTREME" and iv.mode == "VIDEO"
        assert not isinstance(iv.aiTone, models.AiTone)  # kept as the plain string
        assert iv.title is None and iv.createdAt == "yesterday" and iv.count == {"sessions": None}
        assert iv.assessmentCriteria is None and iv.unparsed["assessmentCriteria"] == "be thorough"
        assert iv.chatEnabled is None and iv.unparsed["chatEnabled"] == "yes please"
        assert iv.model_extra == {"invitedEmails": [], "videoMode": False}
        assert iv.model_dump(by_alias=True)["assessmentCriteria"] == "be thorough"  # nothing lost on dump
        # the non-objects and the row without an id are skipped; the good rows are all there
        assert [q.id for q in iv.questions] == GOOD_QUESTIONS
        dash, template, string, null = iv.questions
        assert option_labels(dash.options) == ["Postgres", "MySQL"] and dash.options["allowMultiple"] is True
        assert option_labels(template.options) == ["Speed", "Safety"] and template.type == "RANKING"
        assert template.starterCode == {"language": "python", "code": "def solve(): ..."}
        assert template.timeLimitSeconds is None and template.unparsed["timeLimitSeconds"] == "soon"
        assert template.allowedFileTypes == "pdf" and template.validationRules == "strict"
        assert option_labels(string.options) == ["Yes", "No"] and string.starterCode == "print()"
        assert null.type is None and option_labels(null.options) == []
        assert dash.model_extra == {"aiGenerated": True}

        # call(), what the MCP server uses: the envelope with the non-objects dropped
        envelope = await c.call("get_interview", {"interviewId": IID})
        assert envelope["data"]["questions"] == [DASH_Q, TEMPLATE_Q, NO_ID_Q, STRING_Q, NULL_Q]

        page = await c.list_interviews()
        assert [i.id for i in page.data] == [IID] and page.cursor == "123" and page.data[0].count == {"questions": None}
        assert [q.id for q in await c.list_questions(IID)] == GOOD_QUESTIONS
        listed = await c.call("list_questions", {"interviewId": IID})
        assert [q["id"] for q in listed["data"]] == GOOD_QUESTIONS
        # every read counts what it skipped: 2 + 2 (get_interview twice), 1, 3 + 3 (list_questions twice)
        assert c.stats["skipped_rows"] == 11
    assert "skipped 3 of 7 items that are not objects with an id" in caplog.text


async def test_write_answers_with_odd_rows(api: FakeAPI) -> None:
    async with new_client(api) as c:
        assert (await c.create_interview("T")).aiTone == "WARM"
        assert (await c.update_interview(IID, title="U")).mode == "VIDEO"
        assert (await c.archive_interview(IID)).unparsed == {"archived": "maybe"}
        assert (await c.publish_interview(IID)).url is None
        added = await c.add_questions(IID, {"text": "Q"})  # the answer is one object: read as a list of one
        assert [q.id for q in added] == [DASH_Q["id"]]
        assert (await c.call("add_questions", {"interviewId": IID, "questions": [{"text": "Q"}]}))["data"] == [DASH_Q]
        updated = await c.update_question(TEMPLATE_Q["id"], text="Rank these")
        assert updated.type == "RANKING" and option_labels(updated.options) == ["Speed", "Safety"]
        assert (await c.delete_question(DASH_Q["id"])).deleted is None
        cand = await c.add_candidates(IID, {"name": "Ada"})
        assert cand[0].id == CID and cand[0].inviteUrl is None and cand[0].unparsed["birthday"] == {"y": 2000}
        assert (await c.update_candidate(IID, CID, name="Ada")).unparsed["graduationYear"] == "twenty"
        ended = await c.end_sessions(IID, [SID], dry_run=False)
        assert ended.dryRun is None and ended.unparsed == {"dryRun": "perhaps"}
        assert [(r.id, r.status) for r in ended.results] == [(SID, "queued")]


async def test_session_candidate_practice_usage_reads(api: FakeAPI) -> None:
    async with new_client(api) as c:
        sessions = await c.list_sessions(IID)
        assert [(s.id, s.status) for s in sessions.data] == [(SID, "PAUSED")]
        assert sessions.data[0].count == {"messages": "many"} and sessions.data[0].totalDurationSeconds is None
        assert [s.id async for s in c.iter_sessions(IID)] == [SID]
        s = await c.get_session(SID)
        assert s.status == "ARCHIVED" and s.themes == "not a list" and s.interview is None
        assert [(m.role, m.contentType) for m in s.messages] == [("TOOL", "VIDEO"), ("USER", None)]
        assert s.messages[1].wordCount is None and s.messages[1].unparsed["wordCount"] == "three"
        report = await c.get_session_report(SID)
        assert report.messages == [] and report.antiCheatingLog is None and report.status is None
        assert report.unparsed == {"audioRecordings": {"a": 1}, "screenshots": "none"}
        cands = await c.list_candidates(IID)
        assert [x.id for x in cands] == [CID, "5"] and cands[0].graduationYear is None
        assert (await c.list_practices(IID))[0].mode == "VOICE_PLUS"
        practice = await c.get_practice(PID)
        assert practice.questions == [] and [a.score for a in practice.attempts] == [None]
        assert practice.attempts[0].unparsed == {"score": "A+"}
        usage = await c.get_usage()
        assert usage.templates is not None and usage.templates.limit is None
        assert usage.session_hours is None and usage.unparsed == {"session_hours": "lots"}
        assert usage.model_extra == {"new_metric": {"used": 1}}


NOT_THE_ENVELOPE = {
    "no data": raw('{"items": []}'),
    "data null": raw('{"data": null}'),
    "data a string": raw('{"data": "ok"}'),
    "a JSON scalar": raw("42"),
    "a JSON array": raw('[{"id": "x"}]'),
    "HTML": raw("<html><body>Service Unavailable</body></html>", content_type="text/html"),
    "empty": raw(""),
    "truncated JSON": raw('{"data": {"id": "x"'),
}


@pytest.mark.parametrize("name", sorted(NOT_THE_ENVELOPE))
async def test_not_the_envelope_is_a_typed_error(api: FakeAPI, name: str) -> None:
    body = NOT_THE_ENVELOPE[name]
    api.answer = lambda request: body
    try:
        async with new_client(api) as c:
            for read in (c.get_interview(IID), c.list_questions(IID), c.call("get_usage")):
                with pytest.raises(errors.ServerError) as info:
                    await read
                assert info.value.code == "INVALID_RESPONSE" and info.value.status == 200
            before = api.count()
            with pytest.raises(errors.OutcomeUnknownError) as unknown:
                await c.create_interview("Backend screen")
            assert api.count() == before + 1  # a create is never repeated
            assert "list_interviews" in unknown.value.check
    finally:
        api.answer = routes


@pytest.mark.parametrize(
    ("operation", "data", "why"),
    [
        ("list_questions", {"id": "x"}, "`data` is an object, not a list"),
        ("list_questions", [1, "two", None], "`data` holds no object with an `id`"),
        ("list_interviews", [{"title": "no id"}], "`data` holds no object with an `id`"),
        ("get_interview", [INTERVIEW], "`data` is a list, not an object"),
        ("get_usage", 5, "`data` is a number, not an object"),
    ],
)
async def test_data_of_the_wrong_kind(api: FakeAPI, operation: str, data: Any, why: str) -> None:
    api.answer = lambda request: {"data": data}
    try:
        async with new_client(api) as c:
            args = {"interviewId": IID} if operation not in ("get_usage", "list_interviews") else {}
            with pytest.raises(errors.ServerError) as info:
                await c.call(operation, args)
            assert info.value.code == "INVALID_RESPONSE" and why in info.value.message
    finally:
        api.answer = routes


async def test_empty_lists_are_fine(api: FakeAPI) -> None:
    api.answer = lambda request: {"data": [], "cursor": None}
    try:
        async with new_client(api) as c:
            assert await c.list_questions(IID) == []
            assert (await c.list_interviews()).data == []
    finally:
        api.answer = routes


# Lists inside object answers that the response schemas describe as lists of objects.
NESTED_ROW_LISTS = {
    "create_interview": ("assessmentCriteria",),
    "update_interview": ("assessmentCriteria",),
    "get_interview": ("assessmentCriteria", "questions"),
    "get_session": ("messages",),
    "get_session_report": ("messages", "audioRecordings", "screenshots", "antiCheatingLog"),
    "end_sessions": ("results",),
    "get_practice": ("questions", "attempts"),
}


def test_the_nested_row_lists_are_the_ones_the_schemas_describe() -> None:
    from aural_mcp import operations, responses

    found = {
        op.name: responses.row_lists(op.response.schema)
        for op in operations.OPERATIONS
        if not op.response.many and responses.row_lists(op.response.schema)
    }
    assert found == NESTED_ROW_LISTS


async def test_non_objects_in_nested_row_lists_are_skipped_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "aural_mcp.api")
    sid = str(uuid.uuid4())
    report = {
        "status": "COMPLETED",
        "messages": [{"role": "USER", "content": "hi"}, "noise"],
        "audioRecordings": [None, {"url": "https://media.test/a"}],
        "screenshots": ["https://media.test/s", {"url": "https://media.test/s"}],
        "antiCheatingLog": [{"type": "paste"}, 7],
        "themes": ["kept", 1],  # a list of strings, not of objects: left as it is
    }
    interview = {"id": IID, "assessmentCriteria": [{"name": "n", "description": "d"}, "be kind"], "questions": None}
    with fake_api() as server:
        server.answer = lambda request: {"data": report if request.url.path.endswith("/report") else interview}
        async with quick_client(server, KEY) as c:
            data = (await c.call("get_session_report", {"sessionId": sid}))["data"]
            assert data == {
                "status": "COMPLETED",
                "messages": [{"role": "USER", "content": "hi"}],
                "audioRecordings": [{"url": "https://media.test/a"}],
                "screenshots": [{"url": "https://media.test/s"}],
                "antiCheatingLog": [{"type": "paste"}],
                "themes": ["kept", 1],
            }
            assert c.stats["skipped_rows"] == 4
            typed = await c.get_session_report(sid)
            assert len(typed.messages) == 1 and typed.screenshots is not None and len(typed.screenshots) == 1
            iv = (await c.call("get_interview", {"interviewId": IID}))["data"]
            assert iv["assessmentCriteria"] == [{"name": "n", "description": "d"}] and iv["questions"] is None
            assert c.stats["skipped_rows"] == 4 + 4 + 1
    assert "get_session_report screenshots: skipped 1 of 2 items that are not objects" in caplog.text
