"""Result size limits and rendering of shapes the sandbox does not produce."""

from __future__ import annotations

import json
import re

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


def test_plural_is_right_for_one_and_for_many():
    assert render.plural(1, "more line") == "1 more line"
    assert render.plural(2, "session") == "2 sessions" and render.plural(0, "session") == "0 sessions"
    assert render.plural(1_500, "entry", "entries") == "1,500 entries"
    one = render.render_result(
        "list_sessions",
        {"interviewId": SID},
        {"data": [{"id": SID, "_count": {"messages": 1}, "totalDurationSeconds": 1}], "cursor": None},
    )
    assert "· 1 message" in one and "1 messages" not in one
    added = render.render_result(
        "add_questions", {"interviewId": SID}, {"data": [{"id": SID, "text": "Why?"}]}
    )
    assert added.startswith("Added 1 question to interview")
    fitted = render.fit_structured("get_interview", {}, {"data": {"id": SID, "a": "x" * 60_000}})
    assert (
        fitted["truncated"].startswith("1 long text field shortened")
        and "1 more character" not in fitted["truncated"]
    )
    assert render.cut("ab\n" * 200, 340, "Rest.").count("more characters") == 1
    for text in (one, added):
        assert not re.search(r"\b1 [a-z]+s\b", text), text  # no "1 sessions", "1 more lines"


def test_invite_links_are_built_on_the_apps_origin():
    assert render.app_origin("https://aural-ai.com/api/v1") == "https://aural-ai.com"
    assert render.app_origin("http://127.0.0.1:8000/api/v1/") == "http://127.0.0.1:8000"
    listed = {"data": [{"id": SID, "name": "Ada", "inviteToken": "a b/c"}]}
    out = render.render_result("list_candidates", {"interviewId": SID}, listed, app_url="https://app.test")
    assert "`https://app.test/i/invite/a%20b%2Fc`" in out
    structured = render.fit_structured("list_candidates", {}, listed, app_url="https://app.test")
    assert structured["data"][0]["inviteUrl"] == "https://app.test/i/invite/a%20b%2Fc"
    without_origin = render.render_result("list_candidates", {"interviewId": SID}, listed)
    assert "token `a b/c`" in without_origin


def test_long_fields_are_shortened_one_at_a_time_longest_first():
    row = {"id": SID, "description": "d" * 200_000, "objective": "o" * 3_000, "title": "t" * 600}
    out = render.fit_structured("create_interview", {}, {"data": row})
    data = out["data"]
    assert data["id"] == SID and data["objective"] == row["objective"] and data["title"] == row["title"]
    assert data["description"] == "d" * 500 + "… [cut: 199,500 more characters]"
    assert out["truncated"] == "1 long text field shortened to 500 characters."
    assert len(json.dumps(out)) <= render.STRUCTURED_LIMIT
