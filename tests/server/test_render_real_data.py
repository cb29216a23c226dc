"""Real-account rows and results too large to send whole, through a real MCP client.

The server's SDK talks real HTTP to a fake API on loopback that answers rows the way Aural's
dashboard stores them, or with huge fields and long lists.
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from typing import Any

import pytest
from tests.server.conftest import call, setup_interview, text
from tests.server.fake_api import FakeApi, client_of, fake_api

from aural_mcp.server import render

pytestmark = pytest.mark.anyio

IID = "11111111-1111-4111-8111-111111111111"
SID = "22222222-2222-4222-8222-222222222222"


def uid() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def api() -> Any:
    with fake_api() as api:
        yield api


def dashboard_interview() -> dict[str, Any]:
    """An interview row as Aural's dashboard and generator store it."""
    return {
        "id": IID,
        "title": 42,  # a number where a string is expected
        "aiTone": "SARCASTIC",  # an enum value newer than ours
        "followUpDepth": None,
        "language": None,
        "aiName": None,
        "timeLimitMinutes": "30",
        "isActive": True,
        "requireInvite": False,
        "assessmentCriteria": [{"name": "Depth", "description": None}, "not an object", None],
        "_count": {"sessions": "3"},
        "questions": [
            {
                "id": "q-dashboard",
                "order": 0,
                "type": "SINGLE_CHOICE",
                "text": "Pick a database",
                "options": {"options": ["Postgres", "SQLite"], "allowMultiple": True},
            },
            {
                "id": "q-template",
                "order": "1",
                "type": "MULTIPLE_CHOICE",
                "text": "Pick languages",
                "options": [{"label": "Python", "value": "py"}, {"value": "go"}, None],
            },
            {
                "id": "q-code",
                "order": 2,
                "type": "LIVE_PAIRING",
                "text": "Reverse a list",
                "starterCode": {"language": "python", "code": "def rev(xs): ..."},
                "isRequired": None,
            },
            {"id": "q-map", "order": None, "type": None, "text": None, "starterCode": {"go": "package main"}},
            None,
            "a string where a row should be",
        ],
    }


async def test_dashboard_rows_render_with_options_of_every_shape(api: FakeApi) -> None:
    api.answer("GET", f"/interviews/{IID}", {"data": dashboard_interview()})
    api.answer("GET", f"/interviews/{IID}/questions", {"data": dashboard_interview()["questions"]})
    async with client_of(api) as mcp:
        got = text(await call(mcp, "get_interview", {"interviewId": IID}))
        listed = text(await call(mcp, "list_questions", {"interviewId": IID}))
        resource = (await mcp.read_resource(f"aural://interviews/{IID}")).contents[0].text
    for out in (got, listed, resource):
        assert "options: Postgres / SQLite; several allowed" in out
        assert "options: Python / go" in out
        assert "[LIVE_PAIRING] Reverse a list (starter code: python)" in out  # unknown enum, as it is
        assert "(starter code: go)" in out
        # The SDK skips (and logs) rows that are not objects, so the good rows still render.
        assert "a string where a row should be" not in out
    assert got.startswith("# 42\n") and "tone SARCASTIC" in got and "time limit 30 min" in got
    assert "- **sessions**: 3" in got and "**criterion** Depth" in got


async def test_a_create_keeps_its_id_whatever_the_size_of_other_fields(api: FakeApi) -> None:
    huge = "d" * 300_000
    row = {
        **dashboard_interview(),
        "title": "Screen",
        "description": huge,
        "objective": huge,
        "questions": None,
    }
    api.answer("POST", "/interviews", {"data": row})
    api.answer("PATCH", f"/interviews/{IID}", {"data": row})
    async with client_of(api) as mcp:
        for name, args in (
            ("create_interview", {"title": "Screen"}),
            ("update_interview", {"interviewId": IID, "title": "Screen"}),
        ):
            result = await call(mcp, name, args)
            assert IID in text(result) and len(text(result)) <= render.TEXT_LIMIT
            data = result.structured_content["data"]
            assert data["id"] == IID and data["title"] == "Screen"
            assert len(json.dumps(result.structured_content)) <= render.STRUCTURED_LIMIT
            # the long fields are shortened one by one, with a marker; the rest of the row stays
            assert data["description"].startswith("ddd") and "[cut: " in data["description"]
            assert len(data["description"]) < 3_000 and data["aiTone"] == "SARCASTIC"
            assert "2 long text fields shortened" in result.structured_content["truncated"]


async def test_500_candidates_with_long_names_every_id_or_the_exact_rest(api: FakeApi) -> None:
    rows = [
        {
            "id": uid(),
            "name": f"Candidate {i} " + "Longname " * 40,
            "email": f"c{i}@example.com",
            "inviteToken": f"tok{i:09d}",
            "inviteUrl": f"https://app.example/i/invite/tok{i:09d}",
            "sessionId": None,
        }
        for i in range(500)
    ]
    listed = [{k: v for k, v in r.items() if k != "inviteUrl"} for r in rows]
    api.answer("POST", f"/interviews/{IID}/candidates", {"data": rows})
    api.answer("GET", f"/interviews/{IID}/candidates", {"data": listed})
    async with client_of(api) as mcp:
        created = await call(mcp, "add_candidates", {"interviewId": IID, "candidates": [{"name": "x"}]})
        got = await call(mcp, "list_candidates", {"interviewId": IID})
        sheet = (await mcp.read_resource(f"aural://interviews/{IID}/invites.csv")).contents[0]
    origin = api.origin  # invite links of listed candidates are built on the API's own origin
    # add_candidates of more than 50: a summary with the first five, and a link to every invite link
    summary = text(created)
    assert f"Added 500 candidates to interview `{IID}` (500 with an email, 0 with a name only)" in summary
    assert [r for r in rows if r["id"] in summary] == rows[:5]
    assert rows[0]["inviteUrl"] in summary and len(summary) < 5_000
    assert f"Every invite link: read aural://interviews/{IID}/invites.csv" in summary
    links = [c for c in created.content if c.type == "resource_link"]
    assert [(str(c.uri), c.mime_type) for c in links] == [(f"aural://interviews/{IID}/invites.csv", "text/csv")]
    for result in (created, got):
        structured = result.structured_content
        assert len(text(result)) <= render.TEXT_LIMIT and len(json.dumps(structured)) <= render.STRUCTURED_LIMIT
        kept = structured["data"]
        assert [c["id"] for c in kept] == [r["id"] for r in rows[: len(kept)]]
        assert (
            f"{len(kept)} of 500 items; read aural://interviews/{IID}/invites.csv" in structured["truncated"]
        )
    body = text(got)
    shown = [r for r in rows if r["id"] in body]
    assert 0 < len(shown) < 500 and shown == rows[: len(shown)]  # in order, none skipped
    assert f"… {500 - len(shown)} more candidates not shown: read aural://interviews/{IID}/invites.csv" in body
    assert f"`{origin}/i/invite/tok000000000`" in body
    assert got.structured_content["data"][0]["inviteUrl"] == f"{origin}/i/invite/tok000000000"
    assert sheet.mime_type == "text/csv"
    table = list(csv.DictReader(io.StringIO(sheet.text)))
    assert [r["candidateId"] for r in table] == [r["id"] for r in rows]  # all 500, in order
    assert table[499]["inviteUrl"] == f"{origin}/i/invite/tok000000499"


async def test_100_questions_of_5_kb_and_a_300_kb_description(api: FakeApi) -> None:
    columns = {  # every column a question row has
        "interviewId": IID, "isRequired": True, "probeOnShort": True, "options": None,
        "description": "Context " * 20, "timeLimitSeconds": None, "starterCode": None,
        "validationRules": None, "followUpPrompts": None, "showIf": None, "skipIf": None,
        "probeThreshold": None, "allowFileUpload": False, "allowedFileTypes": [],
        "createdAt": "2026-03-16T10:20:30.123456+00:00", "updatedAt": "2026-03-16T10:20:30.123456+00:00",
    }  # fmt: skip
    questions = [
        {"id": uid(), "order": i, "type": "OPEN_ENDED", "text": f"Q{i} " + "why " * 1_250, **columns}
        for i in range(100)
    ]
    interview = {
        **dashboard_interview(),
        "title": "Big",
        "description": "x" * 300_000,
        "questions": questions,
    }
    api.answer("GET", f"/interviews/{IID}", {"data": interview})
    api.answer("GET", f"/interviews/{IID}/questions", {"data": questions})
    api.answer("POST", f"/interviews/{IID}/questions", {"data": questions})
    async with client_of(api) as mcp:
        results = [
            await call(mcp, "get_interview", {"interviewId": IID}),
            await call(mcp, "list_questions", {"interviewId": IID}),
            await call(mcp, "add_questions", {"interviewId": IID, "questions": [{"text": "Why?"}]}),
        ]
        resource = (await mcp.read_resource(f"aural://interviews/{IID}")).contents[0].text
    ids = [q["id"] for q in questions]
    for result in results:
        body = text(result)
        assert len(body) <= render.TEXT_LIMIT and all(i in body for i in ids)  # every id in the text
        assert len(json.dumps(result.structured_content)) <= render.STRUCTURED_LIMIT
    data = results[0].structured_content["data"]
    assert data["id"] == IID and data["description"].startswith("xxx") and len(data["description"]) < 3_000
    kept = data["questions"]
    note = results[0].structured_content["truncated"]
    assert [q["id"] for q in kept] == ids[: len(kept)]
    assert (
        f"data.questions holds {len(kept)} of 100 items; read aural://interviews/{IID} for every question"
        in note
    )
    assert all(i in resource for i in ids)


async def test_a_session_page_too_large_continues_from_the_last_session_shown(api: FakeApi) -> None:
    page = [
        {"id": uid(), "status": "COMPLETED", "participantName": "Pat " * 30, "summary": "s" * 2_000,
         "_count": {"messages": 7}, "createdAt": "2026-03-16T10:20:30+00:00",
         "themes": [f"theme {t}" for t in range(40)], "insights": {"keyInsights": ["insight"] * 40}}
        for _ in range(100)
    ]  # fmt: skip
    api.answer("GET", f"/interviews/{IID}/sessions", {"data": page, "cursor": None})
    async with client_of(api) as mcp:
        result = await call(mcp, "list_sessions", {"interviewId": IID, "limit": 100})
    body, structured = text(result), result.structured_content
    shown = [s["id"] for s in page if s["id"] in body]
    assert shown == [s["id"] for s in page[: len(shown)]]
    # the API said this was the last page; the cut text must not lose the rest
    assert 0 < len(shown) < 100 and f"cursor `{shown[-1]}` for the rest" in body
    kept = structured["data"]
    assert 0 < len(kept) < 100 and structured["cursor"] == kept[-1]["id"]  # never null with items missing
    assert (
        f"call list_sessions with interviewId `{IID}` and cursor `{kept[-1]['id']}`"
        in structured["truncated"]
    )


async def test_listed_candidates_have_the_invite_url_add_candidates_returned(mcp: Any) -> None:
    """In the sandbox: the link list_candidates shows is the one add_candidates handed out."""
    iid = (await setup_interview(mcp))["interviewId"]
    created = await call(mcp, "add_candidates", {"interviewId": iid, "candidates": [{"name": "Ada"}]})
    url = created.structured_content["data"][0]["inviteUrl"]
    listed = await call(mcp, "list_candidates", {"interviewId": iid})
    assert f"`{url}`" in text(listed) and re.search(r"/i/invite/[a-z0-9]{12}$", url)
    assert listed.structured_content["data"][0]["inviteUrl"] == url
    sheet = (await mcp.read_resource(f"aural://interviews/{iid}/invites.csv")).contents[0].text
    assert sheet.splitlines()[1].startswith("Ada,,") and sheet.splitlines()[1].split(",")[3] == url
