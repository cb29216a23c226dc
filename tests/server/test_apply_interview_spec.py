"""`apply_interview_spec` through a real MCP client against the server's in-process sandbox: the
dry-run plan, applying it, a second apply that writes nothing (counted by the sandbox's own
`by_route` stats), updates shown field by field, spec errors that name the field before anything
is sent, the state across a restart of the server, and the progress of a paced apply."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.client import Client
from tests.server.conftest import call, text

from aural_mcp.server.app import build_server
from aural_mcp.settings import Settings

pytestmark = pytest.mark.anyio

TOOL = "apply_interview_spec"
SPEC: dict[str, Any] = {
    "interviews": [
        {
            "key": "backend",
            "title": "Backend engineer screen",
            "objective": "Find people who can run Postgres in production",
            "aiTone": "FRIENDLY",
            "assessmentCriteria": [{"name": "Depth", "description": "Knows why, not only how"}],
            "published": True,
            "questions": [
                {"key": "intro", "text": "Tell me about a system you ran in production."},
                {"key": "db", "text": "Which database for a ledger?", "type": "SINGLE_CHOICE", "options": ["Postgres", "SQLite"]},
                {"key": "code", "text": "Merge two sorted lists.", "type": "CODING", "required": False},
            ],
        },
        {"key": "research", "title": "Customer research", "questions": [{"key": "pains", "text": "What slows you down?"}]},
        {"key": "sales", "title": "Sales screen <script>alert(1)</script>", "questions": []},
    ]
}


def writes(server: Any) -> dict[str, int]:
    routes = server.runtime.sandbox.stats["by_route"]
    return {route: n for route, n in routes.items() if not route.startswith("GET ")}


async def apply(client: Client, spec: dict[str, Any], **args: Any) -> dict[str, Any]:
    result = await call(client, TOOL, {"spec": spec, **args})
    return {"structured": result.structured_content, "text": text(result)}


async def test_plan_then_apply_then_a_second_apply_writes_nothing():
    server = build_server(Settings(sandbox=True, rate_limit=600))
    async with Client(server) as client:
        planned = await apply(client, SPEC)
        got = planned["structured"]
        assert got["dryRun"] is True and got["applied"] is None
        assert [(i["key"], i["action"], i["interviewId"]) for i in got["interviews"]] == [
            ("backend", "create", None), ("research", "create", None), ("sales", "create", None)
        ]  # fmt: skip
        assert got["counts"] == {"create": 7, "update": 0, "delete": 0, "unchanged": 0}
        assert got["writes"] == 3 + 3 - 1 + 1  # 3 creates, question batches for 2, 1 publish
        assert writes(server) == {}, "a dry run sends no write"
        assert "dryRun: false" in planned["text"] and "Backend engineer screen" in planned["text"]
        assert "screen \\<script>" in planned["text"]  # a title cannot forge markup in the text: escaped

        applied = await apply(client, SPEC, dryRun=False)
        got = applied["structured"]
        assert got["dryRun"] is False and got["failures"] == []
        assert got["applied"] == {"created": 7, "updated": 0, "unchanged": 0, "skipped": 0, "failed": 0, "deleted": 0}
        ids = {i["key"]: i["interviewId"] for i in got["interviews"]}
        assert all(ids.values()), "the result names every interview it created"
        assert all(q["questionId"] for i in got["interviews"] for q in i["questions"])
        sent = writes(server)
        assert sum(sent.values()) == 6, sent

        detail = (await call(client, "get_interview", {"interviewId": ids["backend"]})).structured_content["data"]
        assert [q["text"] for q in sorted(detail["questions"], key=lambda q: q["order"])] == [
            q["text"] for q in SPEC["interviews"][0]["questions"]
        ]
        assert detail["aiTone"] == "FRIENDLY" and detail["requireInvite"] is False  # published: public link
        assert "Applied: created 7" in applied["text"] and ids["backend"] in applied["text"]

        again = await apply(client, SPEC, dryRun=False)
        assert writes(server) == sent, "the second apply sent no write"
        got = again["structured"]
        assert {i["action"] for i in got["interviews"]} == {"unchanged"} and got["writes"] == 0
        assert got["applied"]["unchanged"] == 7 and got["applied"]["created"] == 0
        assert "Aural already matches the spec" not in again["text"]  # it applied (nothing) rather than planned

        listed = (await call(client, "list_interviews", {"limit": 50})).structured_content["data"]
        assert len(listed) == 3, "no duplicate interviews"


async def test_an_update_is_shown_field_by_field_and_sends_only_what_differs():
    server = build_server(Settings(sandbox=True, rate_limit=600))
    async with Client(server) as client:
        await apply(client, SPEC, dryRun=False)
        before = writes(server)
        changed = copy.deepcopy(SPEC)
        changed["interviews"][0]["aiTone"] = "FORMAL"
        changed["interviews"][0]["questions"][1]["options"] = ["Postgres", "SQLite", "FoundationDB"]
        changed["interviews"][0]["questions"].append({"key": "ops", "text": "How do you roll back a bad deploy?"})
        got = (await apply(client, changed))["structured"]
        backend = got["interviews"][0]
        assert backend["action"] == "update"
        assert backend["changes"] == [{"field": "aiTone", "from": "FRIENDLY", "to": "FORMAL"}]
        assert [(q["key"], q["action"]) for q in backend["questions"]] == [
            ("intro", "unchanged"), ("db", "update"), ("code", "unchanged"), ("ops", "create")
        ]  # fmt: skip
        db = backend["questions"][1]["changes"]
        assert db == [{"field": "options", "from": ["Postgres", "SQLite"], "to": ["Postgres", "SQLite", "FoundationDB"]}]
        assert got["writes"] == 3 and writes(server) == before

        applied = (await apply(client, changed, dryRun=False))["structured"]
        assert applied["applied"]["updated"] == 2 and applied["applied"]["created"] == 1
        sent = {r: n - before.get(r, 0) for r, n in writes(server).items() if n != before.get(r, 0)}
        assert sum(sent.values()) == 3, sent
        questions = (await call(client, "list_questions", {"interviewId": backend["interviewId"]})).structured_content["data"]
        assert [q["text"] for q in sorted(questions, key=lambda q: q["order"])][-1] == "How do you roll back a bad deploy?"


async def test_a_bad_spec_names_every_field_and_sends_nothing():
    server = build_server(Settings(sandbox=True, rate_limit=600))
    async with Client(server) as client:
        bad = {"interviews": [
            {"key": "a", "title": " ", "aiTone": "LOUD", "questions": [
                {"key": "q", "text": "Pick", "type": "SINGLE_CHOICE", "options": ["only one"]},
                {"key": "q", "text": "again"}]},
        ]}  # fmt: skip
        result = await client.call_tool(TOOL, {"spec": bad, "dryRun": False})
        assert result.is_error
        body = text(result)
        for name in ("interviews[0].title", "interviews[0].aiTone", "interviews[0].questions[0].options"):
            assert f"`{name}`" in body, (name, body)
        assert "LOUD" in body and "too short" in body
        twice = {"interviews": [{"key": "a", "title": "A", "questions": [{"key": "q", "text": "x"}, {"key": "q", "text": "y"}]}]}
        result = await client.call_tool(TOOL, {"spec": twice, "dryRun": False})
        assert result.is_error and "`interviews[0].questions[1].key`: 'q' is already the key" in text(result)
        assert server.runtime.sandbox.stats["api_requests"] == 0, "nothing was sent"

        missing = await client.call_tool(TOOL, {"spec": {"interview": []}})
        assert missing.is_error and "interviews" in text(missing)


async def test_the_state_outlives_the_server_on_a_sandbox_database(tmp_path: Path):
    db = tmp_path / "sandbox.db"
    settings = Settings(sandbox=True, rate_limit=600, sandbox_db=str(db), watch_state=str(tmp_path / "watch.sqlite3"))
    async with Client(build_server(settings)) as client:
        first = (await apply(client, SPEC, dryRun=False))["structured"]
    assert len(list(tmp_path.glob("specs-*.json"))) == 1, "the state is kept beside the watcher state"
    server = build_server(settings)  # a restart: a new sandbox key on the same database
    async with Client(server) as client:
        again = (await apply(client, SPEC, dryRun=False))["structured"]
        assert writes(server) == {} and again["writes"] == 0
        assert [i["interviewId"] for i in again["interviews"]] == [i["interviewId"] for i in first["interviews"]]


async def test_a_paced_apply_reports_its_writes_and_waits_as_progress():
    # 2 requests per 3 s: the 6 writes make the pacer hold the call twice, for about 3 s each.
    server = build_server(Settings(sandbox=True, rate_limit=2, rate_window=3))
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total, message))

    async with Client(server) as client:
        with anyio.fail_after(60):
            result = await client.call_tool(TOOL, {"spec": SPEC, "dryRun": False}, progress_callback=on_progress)
    assert not result.is_error, text(result)
    values = [p for p, _, _ in progress]
    assert values == sorted(values) and len(set(values)) == len(values), "progress only increases"
    assert (6, 6, "6 of 6 writes sent") in progress
    assert any("for the rate limit (2 requests per 3 s)" in (m or "") for _, _, m in progress)


async def test_the_tool_is_left_out_of_read_only_and_other_toolsets():
    for settings in (Settings(sandbox=True, read_only=True), Settings(sandbox=True, toolsets=["sessions"])):
        async with Client(build_server(settings)) as client:
            names = {t.name for t in (await client.list_tools()).tools}
        assert TOOL not in names
