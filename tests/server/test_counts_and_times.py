"""Message counts, start times and durations read the same in every tool and resource."""

from __future__ import annotations

import re

import pytest
from tests.server.conftest import call, setup_interview, text

pytestmark = pytest.mark.anyio


async def test_sessions_list_detail_report_and_transcript_agree(mcp):
    iid = (await setup_interview(mcp))["interviewId"]
    r = await call(mcp, "simulate_session", {"interviewId": iid, "participantName": "Ada"})
    sid = r.structured_content["data"]["id"]
    listed = await call(mcp, "list_sessions", {"interviewId": iid})
    detail = await call(mcp, "get_session", {"sessionId": sid})
    report = await call(mcp, "get_session_report", {"sessionId": sid})
    transcript = (await mcp.read_resource(f"aural://sessions/{sid}/transcript")).contents[0].text

    messages = detail.structured_content["data"]["messages"]
    navigation = sum(1 for m in messages if m["role"] == "SYSTEM")
    assert navigation > 0  # the case where the two definitions would differ
    # every message counts, navigation notes included, as the API's list count does
    assert listed.structured_content["data"][0]["_count"]["messages"] == len(messages)
    count = f"{len(messages)} messages"
    assert f"· {count}" in text(listed)
    assert f"{count} (incl. {navigation} navigation notes)" in text(detail)
    assert f"{count} (incl. {navigation} navigation notes)" in transcript
    assert f"screenshots, {count}" in text(report)

    row = listed.structured_content["data"][0]
    started = row["createdAt"][:16].replace("T", " ")
    for body in (text(listed), text(detail), text(report), transcript):
        assert f"started {started}" in body  # createdAt is when the session started
    seconds = row["totalDurationSeconds"]
    shown = f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"
    for body in (text(listed), text(detail), text(report), transcript):
        assert shown in body
    assert re.search(rf"## Transcript \({len(messages) - navigation} spoken messages\)", text(detail))
