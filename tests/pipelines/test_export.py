"""`aural-mcp export` as a user runs it (the CLI, its flags, real HTTP to a sandbox on a loopback
socket), checked against `compare_sessions` through a real MCP client of the same sandbox."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import anyio
import jsonschema
import pytest
from mcp.client import Client
from tests.server.conftest import call
from tests.support.servers import LiveServer

from aural_mcp.cli import main
from aural_mcp.pipelines.export_schema import EXPORT_ROW_SCHEMA
from aural_mcp.sandbox import Sandbox
from aural_mcp.server.app import build_server
from aural_mcp.settings import Settings

pytestmark = pytest.mark.anyio

CRITERIA = [
    {"name": "API design", "description": "designs clear HTTP APIs"},
    {"name": "Communication", "description": "explains trade-offs clearly"},
]
QUESTIONS = [
    {"text": "Describe a recent API you designed and its trade-offs."},
    {"text": "Tell me about a production incident you handled."},
    {"text": "Pick a database", "type": "SINGLE_CHOICE", "options": ["Postgres", "SQLite"]},
]
PROFILES = ["strong", "weak", "solid"]
COMPARED = ("sessionId", "candidateName", "candidateEmail", "status", "durationSeconds", "overallScore",
            "criteria", "questions")  # fmt: skip


@pytest.fixture
def live(monkeypatch: pytest.MonkeyPatch) -> Any:
    box = Sandbox(rate_limit=100_000)
    key = box.create_key()
    with LiveServer(box.app) as server:
        base = f"{server.url}/api/v1"
        for name, value in {"AURAL_API_KEY": key, "AURAL_BASE_URL": base, "AURAL_RATE_LIMIT": "100000/60"}.items():
            monkeypatch.setenv(name, value)
        yield box, Settings(api_key=key, base_url=base, rate_limit=100_000)
    box.close()


async def new_interview(mcp: Client) -> str:
    r = await call(mcp, "create_interview", {"title": "Backend screen", "objective": "backend depth",
                                             "assessmentCriteria": CRITERIA})  # fmt: skip
    iid: str = r.structured_content["data"]["id"]
    await call(mcp, "add_questions", {"interviewId": iid, "questions": QUESTIONS})
    await call(mcp, "publish_interview", {"interviewId": iid})
    return iid


def simulate(box: Sandbox, iid: str, seeds: range) -> list[str]:
    return [
        box.simulate_session(iid, seed=s, profile=PROFILES[s % 3], status="COMPLETED",
                             participantName=f"Candidate {s:02d}", participantEmail=f"c{s:02d}@example.org")["id"]
        for s in seeds
    ]  # fmt: skip


async def run_cli(*argv: str) -> int:
    code: int = await anyio.to_thread.run_sync(main, list(argv))
    return code


def jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def test_jsonl_rows_match_compare_sessions_and_validate_against_the_schema(live, tmp_path, capsys):
    box, settings = live
    async with Client(build_server(settings)) as mcp:
        iid = await new_interview(mcp)
        ids = simulate(box, iid, range(6))
        out = tmp_path / "rows.jsonl"
        assert await run_cli("export", iid, "--format", "jsonl", "--out", str(out), "--transcripts") == 0
        board = (await call(mcp, "compare_sessions", {"interviewId": iid})).structured_content
    rows = jsonl(out)
    for row in rows:
        jsonschema.validate(row, EXPORT_ROW_SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    by_id = {r["sessionId"]: r for r in rows}
    assert set(by_id) == set(ids) == {s["sessionId"] for s in board["sessions"]}
    for expected in board["sessions"]:
        got = by_id[expected["sessionId"]]
        assert {k: got[k] for k in COMPARED} == {k: expected[k] for k in COMPARED}
        assert len(got["criteria"]) == len(CRITERIA) and all(c["reason"] for c in got["criteria"])
        assert len(got["questions"]) == len(QUESTIONS)
        assert got["summary"] and got["interviewId"] == iid
        assert got["transcript"] == {"resource": f"aural://sessions/{got['sessionId']}/transcript",
                                     "url": f"{settings.base_url}/sessions/{got['sessionId']}"}  # fmt: skip
        said = [m for m in got["messages"] if m["role"] == "USER"]
        assert said and {m["questionId"] for m in said} <= {q["questionId"] for q in got["questions"]}
    err = capsys.readouterr().err
    assert "export: 6/6 sessions" in err
    assert "created 6, updated 0, unchanged 0, skipped 0, failed 0" in err


async def test_csv_opens_with_the_csv_module_with_the_same_values_and_transcript_files(live, tmp_path):
    box, settings = live
    async with Client(build_server(settings)) as mcp:
        iid = await new_interview(mcp)
    simulate(box, iid, range(3))
    rows_path, table_path = tmp_path / "rows.jsonl", tmp_path / "out" / "table.csv"
    assert await run_cli("export", iid, "--format", "jsonl", "--out", str(rows_path)) == 0
    assert await run_cli("export", iid, "--format", "csv", "--out", str(table_path), "--transcripts") == 0
    with table_path.open(newline="", encoding="utf-8") as f:
        table = {r["sessionId"]: r for r in csv.DictReader(f)}
    rows = jsonl(rows_path)
    assert set(table) == {r["sessionId"] for r in rows}

    def cell(value: Any) -> str:
        text = "" if value is None else (f"{value:g}" if isinstance(value, float) else str(value))
        return "'" + text if text[:1] in ("=", "+", "-", "@") else text

    for row in rows:
        record = table[row["sessionId"]]
        for name in ("candidateName", "candidateEmail", "status", "durationSeconds", "overallScore", "summary"):
            assert record[name] == cell(row[name]), name
        assert record["transcriptResource"] == row["transcript"]["resource"]
        for c in row["criteria"]:
            assert record[f"criterion {c['name']} score"] == cell(c["score"])
            assert record[f"criterion {c['name']} reason"] == cell(c["reason"])
        for q in row["questions"]:
            assert record[f"question {q['questionId']} score"] == cell(q["score"])
        markdown = (tmp_path / "out" / "table-transcripts" / f"{row['sessionId']}.md").read_text(encoding="utf-8")
        assert markdown.startswith(f"# {row['candidateName']} — {row['sessionId']}")
        assert len(re.findall(r"^## Q\d ", markdown, re.M)) == len(QUESTIONS)
        assert "**Candidate**: " in markdown


async def test_since_exports_only_the_sessions_changed_after_the_previous_export(live, tmp_path, capsys):
    box, settings = live
    async with Client(build_server(settings)) as mcp:
        iid = await new_interview(mcp)
    first = simulate(box, iid, range(3))
    out = tmp_path / "rows.jsonl"
    assert await run_cli("export", iid, "--format", "jsonl", "--out", str(out), "--since") == 0
    assert {r["sessionId"] for r in jsonl(out)} == set(first)
    state = json.loads((tmp_path / "rows.jsonl.state.json").read_text())
    assert state["interviewId"] == iid and set(state["sessions"]) == set(first)
    assert await run_cli("export", iid, "--format", "jsonl", "--out", str(out), "--since") == 0
    assert jsonl(out) == []  # nothing changed
    later = simulate(box, iid, range(3, 5))
    capsys.readouterr()
    assert await run_cli("export", iid, "--format", "jsonl", "--out", str(out), "--since") == 0
    assert {r["sessionId"] for r in jsonl(out)} == set(later)
    assert "created 2, updated 0, unchanged 3, skipped 0, failed 0" in capsys.readouterr().err
    # without --since every session is exported again
    assert await run_cli("export", iid, "--format", "jsonl", "--out", str(out)) == 0
    assert len(jsonl(out)) == 5


async def test_more_sessions_than_a_page_are_all_exported_and_odd_rows_never_fail_it(live, tmp_path):
    box, settings = live
    async with Client(build_server(settings)) as mcp:
        iid = await new_interview(mcp)
    seeded = box.seed_sessions(iid, 130)
    odd = seeded[0]
    with box.store.tx() as c:  # a row made outside the API: wrong types everywhere the export reads
        (data,) = c.execute("SELECT data FROM sessions WHERE id = ?", (odd,)).fetchone()
        row = json.loads(data)
        row.update(participantName=42, summary={"not": "text"}, totalDurationSeconds="soon",
                   insights={"overallScore": "high", "criteriaScores": "none", "questionEvaluations": [7, None]})
        c.execute("UPDATE sessions SET data = ? WHERE id = ?", (json.dumps(row), odd))
    out = tmp_path / "rows.jsonl"
    assert await run_cli("export", iid, "--format", "jsonl", "--out", str(out), "--transcripts") == 0
    rows = jsonl(out)
    assert sorted(r["sessionId"] for r in rows) == sorted(seeded)
    for r in rows:
        jsonschema.validate(r, EXPORT_ROW_SCHEMA)
    assert await run_cli("export", iid, "--format", "csv", "--out", str(tmp_path / "rows.csv")) == 0
    with (tmp_path / "rows.csv").open(newline="", encoding="utf-8") as f:
        assert len(list(csv.DictReader(f))) == 130


def failing_session_reads(app: Any, broken: set[str]) -> Any:
    """`app`, except that reading one of the `broken` sessions answers the API's 404, as when a
    session goes away between the list and the read."""
    body = json.dumps({"error": {"code": "NOT_FOUND", "message": "Session not found"}}).encode()

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = str(scope.get("path", "")).rstrip("/")
        if scope["type"] == "http" and scope["method"] == "GET" and path.rsplit("/", 1)[-1] in broken:
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 404, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await app(scope, receive, send)

    return wrapped


async def test_a_session_read_that_fails_mid_export_is_a_row_with_its_error_and_exit_1(tmp_path, monkeypatch, capsys):
    box = Sandbox(rate_limit=100_000)
    key = box.create_key()
    broken: set[str] = set()
    with LiveServer(failing_session_reads(box.app, broken)) as server:
        base = f"{server.url}/api/v1"
        for name, value in {"AURAL_API_KEY": key, "AURAL_BASE_URL": base, "AURAL_RATE_LIMIT": "100000/60"}.items():
            monkeypatch.setenv(name, value)
        async with Client(build_server(Settings(api_key=key, base_url=base, rate_limit=100_000))) as mcp:
            iid = await new_interview(mcp)
        ids = simulate(box, iid, range(4))
        broken.add(ids[2])
        out = tmp_path / "rows.jsonl"
        capsys.readouterr()
        assert await run_cli("export", iid, "--format", "jsonl", "--out", str(out), "--since") == 1
        rows = {r["sessionId"]: r for r in jsonl(out)}
        assert set(rows) == set(ids), "the other sessions are exported all the same"
        assert rows[ids[2]]["error"].startswith("NOT_FOUND") and rows[ids[2]]["overallScore"] is None
        assert all("error" not in rows[sid] and rows[sid]["overallScore"] is not None for sid in ids if sid != ids[2])
        for row in rows.values():
            jsonschema.validate(row, EXPORT_ROW_SCHEMA)
        assert "created 3, updated 0, unchanged 0, skipped 0, failed 1" in capsys.readouterr().err
        # The failed session is not recorded: once it reads again, the next --since export has it.
        state = json.loads((tmp_path / "rows.jsonl.state.json").read_text())
        assert set(state["sessions"]) == set(ids) - {ids[2]}
        broken.clear()
        assert await run_cli("export", iid, "--format", "jsonl", "--out", str(out), "--since") == 0
        assert [r["sessionId"] for r in jsonl(out)] == [ids[2]] and "error" not in jsonl(out)[0]
    box.close()


async def test_bad_arguments_name_the_fix_and_write_nothing(live, tmp_path, capsys):
    out = tmp_path / "rows.jsonl"
    assert await run_cli("export", "not-a-uuid", "--format", "jsonl", "--out", str(out)) == 2
    assert "INTERVIEW_ID must be an interview's UUID" in capsys.readouterr().err
    assert not out.exists()


def test_the_documented_schema_is_the_schema():
    doc = (Path(__file__).parents[2] / "docs" / "pipelines.md").read_text(encoding="utf-8")
    section = doc[doc.index("## export") :]
    block = re.search(r"```json\n(.*?)\n```", section, re.S)
    assert block is not None
    assert json.loads(block.group(1)) == EXPORT_ROW_SCHEMA
