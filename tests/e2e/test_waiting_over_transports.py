"""`wait_for_sessions` through the door users use: `aural-mcp serve --transport http` (a real
subprocess) against `aural-mcp sandbox` (another one), with a real MCP client over Streamable HTTP.

A timed session (`completeAfterSeconds`) starts in the sandbox while the wait runs, made through
the sandbox's own HTTP API and not through the MCP server, and completes by itself: the wait sees
it start, then returns with it after progress notifications, and a wait from its cursor times out
and says so. The watcher's state goes where `--state` says; an
unusable `--state` or `--watch-share` stops `serve` at start with one line.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from aural_e2e import sandbox_server, serve_http
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from tests.support.processes import AURAL_MCP, env_without_aural
from tests.support.results import text_of

pytestmark = pytest.mark.anyio


async def _tool(client: Client, name: str, args: dict[str, Any]) -> Any:
    result = await client.call_tool(name, args)
    assert not result.is_error, text_of(result)
    return result.structured_content


async def test_a_wait_over_streamable_http_returns_with_a_timed_session_that_completed_in_the_sandbox(tmp_path: Path):
    state = tmp_path / "state" / "watch.sqlite3"
    with sandbox_server() as sandbox:
        key = sandbox.info["key"]
        env = env_without_aural(AURAL_API_KEY=key)
        args = ("--base-url", sandbox.url, "--rate-limit", "600/60", "--state", str(state))
        with serve_http("http", *args, env=env, sandbox=False) as served:
            async with (
                create_mcp_http_client() as http,
                Client(streamable_http_client(served.url, http_client=http)) as client,
                httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}) as api,
            ):
                iid = (await _tool(client, "create_interview", {"title": "Waited on"}))["data"]["id"]
                await _tool(client, "add_questions", {"interviewId": iid, "questions": [{"text": "Why us?"}]})
                await _tool(client, "publish_interview", {"interviewId": iid})

                progress: list[tuple[float, str | None]] = []
                made: list[str] = []

                async def on_progress(done: float, total: float | None, message: str | None) -> None:
                    progress.append((done, message))

                async def candidate_takes_the_interview() -> None:
                    await anyio.sleep(1.0)
                    answer = await api.post(
                        f"{sandbox.base}/sandbox/interviews/{iid}/simulate",
                        json={"participantName": "Ada", "completeAfterSeconds": 4},
                    )
                    assert answer.status_code == 200, answer.text
                    made.append(answer.json()["data"]["id"])

                with anyio.fail_after(90):
                    async with anyio.create_task_group() as tasks:
                        tasks.start_soon(candidate_takes_the_interview)
                        result = await client.call_tool(
                            "wait_for_sessions", {"interviewId": iid, "timeoutSeconds": 60}, progress_callback=on_progress
                        )
                assert not result.is_error, text_of(result)
                got = result.structured_content
                assert got["met"] is True and [s["sessionId"] for s in got["sessions"]] == made
                assert got["sessions"][0]["participantName"] == "Ada"
                assert progress[0][1] == "0 of 1 COMPLETED so far"  # the first look: a baseline
                # It saw the session start (one event) before it completed.
                assert "0 of 1 COMPLETED so far; 1 event seen" in [message for _, message in progress]
                assert {e["type"] for e in got["otherEvents"]} >= {"session.started"}
                assert f"Next: compare_sessions with interviewId `{iid}`" in text_of(result)

                later = await client.call_tool(
                    "wait_for_sessions", {"interviewId": iid, "since": got["since"], "timeoutSeconds": 2}
                )
                assert not later.is_error, text_of(later)
                assert later.structured_content["met"] is False and later.structured_content["since"] == got["since"]
                assert text_of(later).startswith("# Timed out after 2 s")
                for seen in (result, later):  # the key never appears in what the client gets
                    assert key not in seen.model_dump_json()
            assert key not in served.stderr()
        assert state.is_file()  # the state is where --state said
        stored = b"".join(f.read_bytes() for f in state.parent.iterdir())  # with its -wal and -shm files
        assert key.encode() not in stored and b"Ada" in stored  # the events are there, the key is not


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--state", "{tmp}"], "is a folder; give a file path in it"),
        (["--state", "{tmp}/not-sqlite.txt"], "cannot be used as the watcher's SQLite file"),
        (["--watch-share", "2"], "--watch-share='2' must be a share of the rate limit above 0 and at most 1"),
    ],
)
def test_an_unusable_state_or_share_stops_serve_with_one_line(tmp_path: Path, flags: list[str], says: str) -> None:
    (tmp_path / "not-sqlite.txt").write_text("not a database\n" * 100)
    argv = [*AURAL_MCP, "serve", "--sandbox", *(f.replace("{tmp}", str(tmp_path)) for f in flags)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env_without_aural(), stdin=subprocess.DEVNULL)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], done.stderr
    if "--state" in flags:
        assert "--state / AURAL_WATCH_STATE" in lines[0]
