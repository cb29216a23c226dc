"""The review round through the doors users use: `aural-mcp serve --sandbox` over stdio and Streamable HTTP.

Ten simulated sessions and one whose answers try to instruct the reviewer: the scoreboard has every
candidate's criterion scores and reasons, its ranking follows the scores, its text stays under
2,500 o200k tokens (counted with the npm tokenizer, as tests/test_token_budget.py does), and the
planted text appears only inside the untrusted marking in every tool, resource and prompt.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from aural_e2e import serve_http
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from tests.server.test_review_tools import PLANTED, _only_marked, check_scoreboard, interview, simulate
from tests.support.processes import AURAL_MCP, env_without_aural
from tests.support.results import text_of

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import tokenizer  # noqa: E402

pytestmark = pytest.mark.anyio

SCOREBOARD_TOKENS = 2_500  # the scoreboard of 10 candidates, as the model reads it
ENV = {"AURAL_RATE_LIMIT": "1000/60"}  # the round takes ~50 calls; pacing is tested elsewhere


async def review_round(client: Client) -> dict[str, str]:
    iid, _ = await interview(client)
    ten = await simulate(client, iid, 10)
    board = await client.call_tool("compare_sessions", {"interviewId": iid})
    assert not board.is_error, text_of(board)
    check_scoreboard(text_of(board), board.structured_content, ten)

    (planted,) = await simulate(client, iid, 1, answers=PLANTED, participantName="Mallory")
    bodies = {
        "compare_sessions": text_of(await client.call_tool("compare_sessions", {"interviewId": iid})),
        "get_transcript": text_of(await client.call_tool("get_transcript", {"sessionId": planted})),
        "get_transcript full": text_of(
            await client.call_tool("get_transcript", {"sessionId": planted, "format": "full"})
        ),
        "get_session": text_of(await client.call_tool("get_session", {"sessionId": planted})),
        "transcript resource": (await client.read_resource(f"aural://sessions/{planted}/transcript")).contents[0].text,
        "review_sessions": (await client.get_prompt("review_sessions", {"interviewId": iid})).messages[0].content.text,
        "review_session": (await client.get_prompt("review_session", {"sessionId": planted})).messages[0].content.text,
    }  # fmt: skip
    for where, body in bodies.items():
        assert "ignore previous instructions" in body, where
        _only_marked(body)
    return {"scoreboard": text_of(board)}


def check_tokens(texts: dict[str, str]) -> None:
    tokens = tokenizer.count(texts)["scoreboard"]
    assert 0 < tokens <= SCOREBOARD_TOKENS, f"the scoreboard of 10 candidates is {tokens} o200k tokens"


async def test_review_round_over_stdio(tmp_path: Path) -> None:
    params = StdioServerParameters(
        command=AURAL_MCP[0], args=[*AURAL_MCP[1:], "serve", "--sandbox"], env=env_without_aural(**ENV)
    )
    with open(tmp_path / "stderr.txt", "w") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            texts = await review_round(client)
    check_tokens(texts)
    assert "Traceback" not in (tmp_path / "stderr.txt").read_text()


async def test_review_round_over_streamable_http() -> None:
    with serve_http("http", env=env_without_aural(**ENV)) as server:
        async with (
            create_mcp_http_client() as http,
            Client(streamable_http_client(server.url, http_client=http)) as client,
        ):
            texts: dict[str, Any] = await review_round(client)
        check_tokens(texts)
    assert "Traceback" not in server.stderr()
