"""A real account's rows, through the door users use: `aural-mcp serve --sandbox --sandbox-seed
examples/dashboard-seed.json` over real stdio with the `mcp` client. The seed holds what Aural's
dashboard, templates and AI generator write and the API never does (options as an object or as
label/value pairs, starter code as {language, code}, enum values newer than ours, nulls), and
every tool that reads or returns those rows must answer normally, showing the choices."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from tests.support.processes import AURAL_MCP, env_without_aural

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "dashboard-seed.json"


def _text(result: object) -> str:
    return "\n".join(getattr(c, "text", "") for c in getattr(result, "content", []))


async def test_dashboard_made_rows_read_and_update_normally(tmp_path: Path) -> None:
    seed = json.loads(SEED.read_text())
    interview = seed["interviews"][0]
    iid = interview["id"]
    questions = interview["questions"]
    session_id = interview["sessions"][0]["id"]
    params = StdioServerParameters(
        command=AURAL_MCP[0],
        args=[*AURAL_MCP[1:], "serve", "--sandbox", "--sandbox-seed", str(SEED)],
        env=env_without_aural(),
    )
    errlog_path = tmp_path / "stderr.txt"
    with open(errlog_path, "w") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            got = await client.call_tool("get_interview", {"interviewId": iid})
            assert not got.is_error, _text(got)
            text = _text(got)
            for label in ("Redux", "Zustand", "Signals", "Tests", "Types"):  # both stored shapes
                assert label in text, text
            assert "RANKING" in text and "PLAYFUL" in text  # newer enum values kept, not dropped

            listed = await client.call_tool("list_questions", {"interviewId": iid})
            assert not listed.is_error, _text(listed)
            assert "Zustand" in _text(listed)

            ranking = next(q for q in questions if q["type"] == "RANKING")
            updated = await client.call_tool(
                "update_question", {"questionId": ranking["id"], "text": "Rank these by daily use."}
            )
            assert not updated.is_error, _text(updated)
            assert "Rank these by daily use." in _text(updated)

            coding = next(q for q in questions if q["type"] == "CODING")
            moved = await client.call_tool("update_question", {"questionId": coding["id"], "order": 5})
            assert not moved.is_error, _text(moved)

            sessions = await client.call_tool("list_sessions", {"interviewId": iid})
            assert not sessions.is_error and session_id in _text(sessions), _text(sessions)
            session = await client.call_tool("get_session", {"sessionId": session_id})
            assert not session.is_error, _text(session)
            assert "Zustand, for small apps." in _text(session)
            candidates = await client.call_tool("list_candidates", {"interviewId": iid})
            assert not candidates.is_error and "Ada Example" in _text(candidates)
            interviews = await client.call_tool("list_interviews", {})
            assert not interviews.is_error and iid in _text(interviews)
    assert "Traceback" not in errlog_path.read_text()


async def test_a_bad_seed_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    import subprocess

    bad = tmp_path / "seed.json"
    bad.write_text('{"interviews": "not a list"}')
    done = subprocess.run(
        [*AURAL_MCP, "serve", "--sandbox", "--sandbox-seed", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env_without_aural(),
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2, done.stderr
    assert str(bad) in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stdout == ""


def test_sandbox_flags_without_sandbox_are_refused() -> None:
    import subprocess

    for flags in (["--sandbox-seed", str(SEED)], ["--sandbox-port", "0"], ["--sandbox-db", "x.db"]):
        done = subprocess.run(
            [*AURAL_MCP, "serve", *flags],
            capture_output=True,
            text=True,
            timeout=60,
            env=env_without_aural(),
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode == 2, (flags, done.stderr)
        assert "only applies to the sandbox" in done.stderr and flags[0] in done.stderr
