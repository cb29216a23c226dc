"""Result size limits and rendering of shapes the sandbox does not produce."""

from __future__ import annotations

import json

from aural_mcp.server import render

SID = "0b7e6f1c-2d3a-4e5f-8a9b-0c1d2e3f4a5b"


def _huge_session(n: int = 3000) -> dict:
    messages = [
        {
            "id": str(i),
            "role": "ASSISTANT" if i % 2 else "USER",
            "content": "word " * 60,
            "timestamp": "2026-01-01T10:00:00+00:00",
        }
        for i in range(n)
    ]
    return {
        "id": SID,
        "status": "COMPLETED",
        "participantName": "Ada",
        "messages": messages,
        "interview": {"id": SID, "title": "T"},
    }


def test_no_result_exceeds_about_20k_tokens_and_says_how_to_get_the_rest():
    envelope = {"data": _huge_session()}
    args = {"sessionId": SID}
    text = render.render_result("get_session", args, envelope)
    structured = render.fit_structured("get_session", args, envelope)
    size = len(text) + len(json.dumps(structured))
    assert size <= 80_000
    assert "truncated" in structured and f"aural://sessions/{SID}/transcript" in structured["truncated"]
    assert len(structured["data"]["messages"]) < 3000

    listing = {"data": [{"id": str(i), "title": "x" * 400} for i in range(400)], "cursor": SID}
    text = render.render_result("list_interviews", {}, listing)
    structured = render.fit_structured("list_interviews", {}, listing)
    assert len(text) <= render.TEXT_LIMIT and len(json.dumps(structured)) <= render.STRUCTURED_LIMIT
    kept = structured["data"]
    assert 0 < len(kept) < 400 and [i["id"] for i in kept] == [str(i) for i in range(len(kept))]
    # the cursor continues after the last item kept, not after the page the API sent
    assert structured["cursor"] == kept[-1]["id"]
    assert f"call list_interviews with cursor `{kept[-1]['id']}`" in structured["truncated"]


def test_transcript_resource_is_cut_with_a_pointer():
    text = render.transcript_markdown(_huge_session())
    assert (
        len(text) <= render.RESOURCE_LIMIT
        and "cut here" in text
        and f"get_session with sessionId {SID}" in text
    )


def test_cut_keeps_short_text_and_cuts_at_a_line():
    assert render.cut("short", 100, "x") == "short"
    out = render.cut("line\n" * 1000, 1000, "Use the cursor.")
    assert len(out) <= 1000 and out.endswith("Use the cursor.") and "\nline\n" in out


def test_unexpected_shapes_fall_back_to_json():
    text = render.render_result("get_usage", {}, {"data": ["not", "an", "object"]})
    assert text.startswith("```json")
