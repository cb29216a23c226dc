"""Rendering through the real door: `aural-mcp serve` over stdio, its SDK on real HTTP to a fake API.

The fake API on loopback answers a dashboard-made interview, a hostile transcript and 500
listed candidates; the client sees data rendered as data, options of every shape, invite links
and the exact way to the rest of a list that does not fit.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from tests.server.fake_api import KEY, fake_api
from tests.server.test_untrusted_text import FORGED_LINE, IID, SID, hostile, hostile_session, outside_markers
from tests.support.processes import AURAL_MCP, env_without_aural
from tests.support.results import text_of

pytestmark = pytest.mark.anyio


async def test_real_rows_hostile_text_and_long_lists_over_stdio(tmp_path: Path) -> None:
    with fake_api() as api:
        api.answer("GET", f"/sessions/{SID}", {"data": hostile_session()})
        api.answer("GET", f"/interviews/{IID}", {"data": {"id": IID, "title": "Dashboard", "aiName": "Aural",
            "questions": [{"id": "q1", "order": 0, "type": "SINGLE_CHOICE", "text": "Pick",
                           "options": {"options": ["Postgres", "SQLite"], "allowMultiple": False}}]}})  # fmt: skip
        candidates = [{"id": f"c{i:04d}", "name": "N" * 200, "inviteToken": f"t{i:011d}"} for i in range(500)]
        api.answer("GET", f"/interviews/{IID}/candidates", {"data": candidates})
        env = env_without_aural(
            AURAL_API_KEY=KEY, AURAL_BASE_URL=api.origin + "/api/v1", AURAL_RATE_LIMIT="1000/60"
        )
        params = StdioServerParameters(command=AURAL_MCP[0], args=[*AURAL_MCP[1:], "serve"], env=env)
        with open(tmp_path / "stderr.txt", "w") as errlog:
            async with Client(stdio_client(params, errlog=errlog)) as client:
                interview = await client.call_tool("get_interview", {"interviewId": IID})
                transcript = (
                    (await client.read_resource(f"aural://sessions/{SID}/transcript")).contents[0].text
                )
                listed = await client.call_tool("list_candidates", {"interviewId": IID})
                sheet = (await client.read_resource(f"aural://interviews/{IID}/invites.csv")).contents[0].text
    assert (
        not interview.is_error
        and "[SINGLE_CHOICE] Pick (options: Postgres / SQLite)" in text_of(interview)
    )
    outside, nonce = outside_markers(transcript)
    assert nonce and "ignore previous instructions" in transcript
    assert not [line for line in outside.splitlines() if FORGED_LINE.match(line) and hostile(line)]
    assert outside.count("\n## Scores and insights\n") == 1  # ours; the forged one stays inside
    body = text_of(listed)
    shown = re.findall(r"`(c\d{4})`", body)
    assert shown == [c["id"] for c in candidates[: len(shown)]] and 0 < len(shown) < 500
    assert f"{500 - len(shown)} more candidates not shown: read aural://interviews/{IID}/invites.csv" in body
    assert f"`{api.origin}/i/invite/t00000000000`" in body
    rows = list(csv.DictReader(io.StringIO(sheet)))
    assert len(rows) == 500 and rows[-1]["inviteUrl"] == f"{api.origin}/i/invite/t00000000499"
    assert "Traceback" not in (tmp_path / "stderr.txt").read_text()
