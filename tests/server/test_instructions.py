"""The server instructions name only tools the server lists, whatever the toolsets.

Through `initialize` over a real MCP client (in memory, and once over stdio with a real
`aural-mcp serve --read-only` subprocess).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp.client import Client
from tests.support.net import free_port

from aural_mcp import operations
from aural_mcp.server.app import build_server
from aural_mcp.server.instructions import instructions_for
from aural_mcp.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
EVERY_TOOL = {op.name for op in operations.OPERATIONS} | {"simulate_session", "apply_interview_spec"}
WRITES = {op.name for op in operations.OPERATIONS if not op.read_only} | {"simulate_session", "apply_interview_spec"}
KEY = "dlv_" + "k" * 32


def named_tools(instructions: str) -> set[str]:
    return {name for name in EVERY_TOOL if re.search(rf"\b{name}\b", instructions)}


async def _initialize(**settings: Any) -> tuple[str, set[str]]:
    async with Client(build_server(Settings(**settings))) as client:
        listed = {t.name for t in (await client.list_tools()).tools}
        return client.instructions or "", listed


CONFIGS = [
    pytest.param({"api_key": KEY}, id="all"),
    pytest.param({"api_key": KEY, "read_only": True}, id="read-only"),
    pytest.param({"api_key": KEY, "toolsets": ["sessions"]}, id="sessions"),
    pytest.param({"sandbox": True}, id="sandbox"),
    pytest.param({"sandbox": True, "read_only": True}, id="sandbox-read-only"),
    pytest.param({"sandbox": True, "toolsets": ["questions", "sandbox"]}, id="questions-and-sandbox"),
]


@pytest.mark.anyio
@pytest.mark.parametrize("settings", CONFIGS)
async def test_instructions_route_only_to_listed_tools(settings):
    instructions, listed = await _initialize(**settings)
    assert instructions == instructions_for(listed)
    assert named_tools(instructions) <= listed, named_tools(instructions) - listed
    assert len(instructions.splitlines()) <= 5
    assert "skill://aural-interviews/SKILL.md" in instructions


@pytest.mark.anyio
async def test_the_full_server_routes_every_job_and_puts_scores_in_get_session():
    instructions, listed = await _initialize(sandbox=True)
    for tool in ("create_interview", "add_questions", "publish_interview", "add_candidates", "apply_interview_spec", "list_sessions",
                 "get_session", "get_session_report", "end_sessions", "get_usage", "simulate_session"):  # fmt: skip
        assert tool in named_tools(instructions), tool
    results = next(line for line in instructions.splitlines() if line.startswith("Results:"))
    assert "get_session (transcript, summary, sentiment and scored insights)" in results
    report = results[results.index("get_session_report") - 60 :]
    assert "scor" not in report  # scores are not in the report


@pytest.mark.anyio
async def test_read_only_and_one_toolset_say_what_they_cannot_do():
    instructions, _ = await _initialize(api_key=KEY, read_only=True)
    assert not named_tools(instructions) & WRITES
    assert "read-only" in instructions and "Set up:" not in instructions
    instructions, _ = await _initialize(api_key=KEY, toolsets=["sessions"])
    assert named_tools(instructions) == {"list_sessions", "get_session", "get_session_report", "end_sessions"}


def test_a_real_stdio_server_started_read_only_says_so_at_initialize():
    sys.path.insert(0, str(ROOT / "bench"))
    import mcpio

    closed_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AURAL_", "PYTHON"))}
    env.update(AURAL_API_KEY=KEY, AURAL_BASE_URL=f"http://127.0.0.1:{closed_port}/api/v1")
    command = [str(Path(sys.executable).parent / "aural-mcp"), "serve", "--read-only"]
    with mcpio.StdioPeer(command, env=env) as peer:
        result = peer.initialize()
        listed = {t["name"] for t in peer.list_tools()}
    instructions = result.get("instructions", "")
    assert instructions == instructions_for(listed)
    assert "read-only" in instructions and not named_tools(instructions) & WRITES
