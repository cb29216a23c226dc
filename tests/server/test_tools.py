"""Every tool through a real MCP client against the in-memory sandbox: results and their text."""

from __future__ import annotations

import pytest
from tests.server.conftest import MISSING, call, setup_interview, text

pytestmark = pytest.mark.anyio


async def test_interview_lifecycle_tools(mcp):
    r = await call(
        mcp, "create_interview", {"title": "Data screen", "voiceEnabled": "true", "timeLimitMinutes": "20"}
    )
    iv = r.structured_content["data"]
    assert iv["voiceEnabled"] is True and iv["timeLimitMinutes"] == 20  # string coercion
    assert f"`{iv['id']}`" in text(r) and "add_questions" in text(r)

    r = await call(mcp, "update_interview", {"interviewId": iv["id"], "aiTone": "FRIENDLY"})
    assert r.structured_content["data"]["aiTone"] == "FRIENDLY" and "aiTone" in text(r)

    r = await call(mcp, "publish_interview", {"interviewId": iv["id"]})
    url = r.structured_content["data"]["url"]
    assert url.startswith("http") and url in text(r)

    r = await call(mcp, "get_interview", {"interviewId": iv["id"]})
    assert "published" in text(r) and "add_questions" in text(r)

    r = await call(mcp, "list_interviews", {"limit": 5, "cursor": None})
    assert set(r.structured_content) == {"data", "cursor"}
    assert iv["id"] in text(r)

    r = await call(mcp, "archive_interview", {"interviewId": iv["id"]})
    assert r.structured_content["data"] == {"id": iv["id"], "archived": True}
    assert "publish_interview un-archives" in text(r)


async def test_list_interviews_pages_with_cursor(mcp):
    for i in range(3):
        await call(mcp, "create_interview", {"title": f"T{i}"})
    r = await call(mcp, "list_interviews", {"limit": 2})
    cursor = r.structured_content["cursor"]
    assert cursor and f"cursor `{cursor}`" in text(r)
    r = await call(mcp, "list_interviews", {"limit": 2, "cursor": cursor})
    assert r.structured_content["data"]


async def test_question_tools(mcp):
    ids = await setup_interview(mcp)
    iid, (q1, q2) = ids["interviewId"], ids["questionIds"]
    r = await call(mcp, "list_questions", {"interviewId": iid})
    assert [q["id"] for q in r.structured_content["data"]] == [q1, q2]
    assert "[SINGLE_CHOICE] Pick a database (options: Postgres / SQLite)" in text(r)

    # one object instead of a list, as a JSON string, with a string boolean: all accepted
    r = await call(
        mcp, "add_questions", {"interviewId": iid, "questions": '{"text": "Why us?", "required": "false"}'}
    )
    added = r.structured_content["data"]
    assert len(added) == 1 and added[0]["isRequired"] is False

    r = await call(mcp, "update_question", {"questionId": q1, "text": "Describe an API.", "order": 5})
    assert r.structured_content["data"]["order"] == 5 and "Describe an API." in text(r)

    r = await call(mcp, "delete_question", {"questionId": q2})
    assert r.structured_content["data"]["deleted"] is True
    r = await mcp.call_tool("delete_question", {"questionId": q2})
    assert r.is_error and f"No question {q2}" in text(r) and "`list_questions`" in text(r)


async def test_candidate_tools(mcp):
    iid = (await setup_interview(mcp))["interviewId"]
    r = await call(
        mcp,
        "add_candidates",
        {"interviewId": iid, "candidates": [{"name": "Ada", "email": "ADA@x.io"}, {"name": "Lin"}]},
    )
    created = r.structured_content["data"]
    assert len(created) == 2 and all(c["inviteUrl"] in text(r) for c in created)

    r = await call(mcp, "list_candidates", {"interviewId": iid})
    assert {c["name"] for c in r.structured_content["data"]} == {"Ada", "Lin"}
    assert "not started" in text(r)

    r = await call(
        mcp,
        "update_candidate",
        {"interviewId": iid, "candidateId": created[1]["id"], "notes": "strong", "phone": None},
    )
    assert r.structured_content["data"]["notes"] == "strong"


async def test_session_tools_with_simulated_sessions(mcp):
    iid = (await setup_interview(mcp))["interviewId"]
    r = await call(
        mcp,
        "simulate_session",
        {"interviewId": iid, "participantName": "Ada", "answers": ["I built X", "Postgres"]},
    )
    done = r.structured_content["data"]
    assert done["status"] == "COMPLETED" and "# Session of Ada" in text(r)
    r = await call(
        mcp, "simulate_session", {"interviewId": iid, "participantName": "Bo", "status": "IN_PROGRESS"}
    )
    live = r.structured_content["data"]["id"]

    r = await call(mcp, "list_sessions", {"interviewId": iid, "limit": 1})
    assert r.structured_content["cursor"] and "More: call list_sessions" in text(r)
    r = await call(mcp, "list_sessions", {"interviewId": iid, "cursor": r.structured_content["cursor"]})
    assert len(r.structured_content["data"]) == 1

    r = await call(mcp, "get_session", {"sessionId": done["id"]})
    assert r.structured_content["data"]["messages"]
    assert "## Transcript" in text(r) and f"aural://sessions/{done['id']}/transcript" in text(r)

    r = await call(mcp, "get_session_report", {"sessionId": done["id"]})
    assert "expire after 24 hours" in text(r)

    r = await call(mcp, "end_sessions", {"interviewId": iid, "ids": live})  # a lone id, dryRun defaulted
    assert r.structured_content["data"]["dryRun"] is True
    assert "Dry run" in text(r) and "dryRun false" in text(r)
    r = await call(mcp, "end_sessions", {"interviewId": iid, "ids": [live, done["id"]], "dryRun": False})
    statuses = {x["id"]: x["status"] for x in r.structured_content["data"]["results"]}
    assert statuses == {live: "succeeded", done["id"]: "skipped"}


async def test_practice_and_usage_tools(mcp):
    iid = (await setup_interview(mcp))["interviewId"]
    r = await call(mcp, "list_practices", {"interviewId": iid})
    assert r.structured_content["data"] == [] and "No practice runs" in text(r)
    r = await mcp.call_tool("get_practice", {"practiceId": MISSING})
    assert r.is_error and f"No practice {MISSING}" in text(r) and "`list_practices`" in text(r)
    r = await call(mcp, "get_usage")
    assert "templates" in r.structured_content["data"] and "**templates**: 1 used" in text(r)


async def test_practice_report(mcp):
    iid = (await setup_interview(mcp))["interviewId"]
    runtime = mcp_server_runtime(mcp)
    await runtime.client.raw_request(
        "POST", f"/sandbox/interviews/{iid}/practices", json={}, idempotent=False
    )
    r = await call(mcp, "list_practices", {"interviewId": iid, "limit": "10"})
    practice = r.structured_content["data"][0]
    assert f"`{practice['id']}`" in text(r)
    r = await call(mcp, "get_practice", {"practiceId": practice["id"]})
    assert "attempts" in r.structured_content["data"] and f"# Practice `{practice['id']}`" in text(r)


def mcp_server_runtime(client):
    return client.server.runtime


async def test_a_sandbox_db_file_keeps_interviews_across_server_runs(tmp_path):
    from mcp.client import Client

    from aural_mcp.server.app import build_server
    from aural_mcp.settings import Settings

    settings = Settings(sandbox=True, sandbox_db=str(tmp_path / "sandbox.db"))
    async with Client(build_server(settings)) as first:
        await call(first, "create_interview", {"title": "Kept between runs"})
    async with Client(build_server(settings)) as second:  # a new server, as after a client restart
        listed = await call(second, "list_interviews", {})
    assert "Kept between runs" in text(listed)
