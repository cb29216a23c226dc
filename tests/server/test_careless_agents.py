"""What careless agents send, through a real MCP client against the in-process sandbox.

The tool layer is stricter than the API where the API would accept something useless: one
"option" made of a comma-separated string, a choice question without choices, a candidate with
neither name nor email, an id with a trailing newline, an interview cursor that silently
restarts the list.
"""

from __future__ import annotations

import pytest
from mcp.client import Client
from tests.server.conftest import MISSING, call, setup_interview, text

pytestmark = pytest.mark.anyio


async def _error(client: Client, name: str, args: dict) -> str:
    result = await client.call_tool(name, args)
    assert result.is_error, text(result)
    return text(result)


async def _new_interview(client: Client) -> str:
    r = await call(client, "create_interview", {"title": "Careless"})
    return r.structured_content["data"]["id"]


# ---------------------------------------------------------------- options


async def test_a_comma_separated_options_string_is_an_error_showing_the_list(mcp):
    iid = await _new_interview(mcp)
    question = {"text": "Pick one", "type": "SINGLE_CHOICE", "options": "Postgres, MySQL, SQLite"}
    out = await _error(mcp, "add_questions", {"interviewId": iid, "questions": [question]})
    assert '`questions[0].options` must be a list of strings such as ["Postgres", "MySQL", "SQLite"]' in out
    listed = await call(mcp, "list_questions", {"interviewId": iid})
    assert listed.structured_content["data"] == []  # nothing was sent


async def test_choice_questions_need_two_non_empty_options_and_others_take_none(mcp):
    iid = await _new_interview(mcp)
    cases = [
        ({"text": "a", "type": "SINGLE_CHOICE"}, "`questions[0].options` is required for SINGLE_CHOICE"),
        (
            {"text": "a", "type": "MULTIPLE_CHOICE", "options": ["only"]},
            "`questions[0].options` needs at least 2",
        ),
        (
            {"text": "a", "type": "SINGLE_CHOICE", "options": ["x", " "]},
            "`questions[0].options[1]` must not be empty",
        ),
        (
            {"text": "a", "options": ["x", "y"]},
            "`questions[0].options` only applies to SINGLE_CHOICE or MULTIPLE_CHOICE",
        ),
        ({"text": "a", "type": "CODING", "options": ["x", "y"]}, "(this question is CODING)"),
    ]
    for question, expected in cases:
        out = await _error(
            mcp, "add_questions", {"interviewId": iid, "questions": [{"text": "ok"}, question]}
        )
        assert expected.replace("[0]", "[1]") in out, (question, out)
    r = await call(
        mcp,
        "add_questions",
        {"interviewId": iid, "questions": [{"text": "a", "type": "MULTIPLE_CHOICE", "options": ["x", "y"]}]},
    )
    assert r.structured_content["data"][0]["options"] == ["x", "y"]


async def test_update_question_sends_options_only_with_a_choice_type(mcp):
    ids = await setup_interview(mcp)
    open_q, choice_q = ids["questionIds"]
    out = await _error(mcp, "update_question", {"questionId": open_q, "type": "SINGLE_CHOICE"})
    assert "`options` is required when `type` becomes SINGLE_CHOICE" in out
    out = await _error(mcp, "update_question", {"questionId": choice_q, "options": ["a", "b"]})
    assert "`options` needs `type` (SINGLE_CHOICE or MULTIPLE_CHOICE) in the same call" in out
    out = await _error(
        mcp, "update_question", {"questionId": open_q, "type": "OPEN_ENDED", "options": ["a", "b"]}
    )
    assert "`options` only applies to SINGLE_CHOICE or MULTIPLE_CHOICE (`type` is OPEN_ENDED)" in out
    out = await _error(
        mcp, "update_question", {"questionId": choice_q, "type": "MULTIPLE_CHOICE", "options": "a,b"}
    )
    assert 'such as ["a", "b"]' in out

    r = await call(
        mcp,
        "update_question",
        {"questionId": choice_q, "type": "MULTIPLE_CHOICE", "options": ["a", "b", "c"]},
    )
    assert r.structured_content["data"]["options"] == ["a", "b", "c"]
    r = await call(mcp, "update_question", {"questionId": choice_q, "type": "OPEN_ENDED", "options": None})
    assert (
        r.structured_content["data"]["type"] == "OPEN_ENDED"
        and r.structured_content["data"]["options"] is None
    )


# ---------------------------------------------------------------- candidates


async def test_each_candidate_needs_a_name_or_a_valid_email(mcp):
    iid = await _new_interview(mcp)
    out = await _error(
        mcp,
        "add_candidates",
        {
            "interviewId": iid,
            "candidates": [{"name": "Ada"}, {"phone": "123", "name": " "}, {"email": "lin at example"}],
        },
    )
    assert "`candidates[1]` needs a `name` or an `email`" in out
    assert '`candidates[2].email` must be an email address like ada@example.com (got "lin at example")' in out
    assert "candidates[0]" not in out
    listed = await call(mcp, "list_candidates", {"interviewId": iid})
    assert listed.structured_content["data"] == []  # all or nothing: nothing was sent

    r = await call(
        mcp,
        "add_candidates",
        {"interviewId": iid, "candidates": [{"email": "lin@example.com"}, {"name": "Bo"}]},
    )
    assert len(r.structured_content["data"]) == 2


# ---------------------------------------------------------------- ids and echoes


async def test_every_id_is_a_whole_uuid_checked_the_same_way(mcp):
    iid = await _new_interview(mcp)
    out = await _error(mcp, "get_interview", {"interviewId": iid + "\n"})
    assert "`interviewId` must be a UUID" in out
    out = await _error(mcp, "end_sessions", {"interviewId": iid, "ids": [MISSING, "s-1"]})
    assert '`ids[1]` must be a UUID like 0b7e6f1c-2d3a-4e5f-8a9b-0c1d2e3f4a5b (got "s-1")' in out
    assert "`ids[0]`" not in out
    out = await _error(mcp, "list_sessions", {"interviewId": iid, "cursor": "page-2"})
    assert "`cursor` must be a UUID" in out
    out = await _error(mcp, "list_interviews", {"cursor": "clx9abc123"})
    assert "`cursor` must be a UUID" in out


async def test_errors_echo_at_most_about_100_characters_of_bad_input(mcp):
    huge = "A" * 200_000
    for name, args in [
        ("get_interview", {"interviewId": huge}),
        ("create_interview", {"title": "t", "aiTone": huge}),
        ("create_interview", {"title": "t", "timeLimitMinutes": 10**400}),
        ("list_interviews", {huge: 1}),
        ("add_candidates", {"interviewId": MISSING, "candidates": [{"email": huge}]}),
        ("add_questions", {"interviewId": MISSING, "questions": [{"text": "q", "starterCode": {huge: 1}}]}),
    ]:
        out = await _error(mcp, name, args)
        assert "A" * 101 not in out and "9" * 101 not in out, (name, out[:300])
        assert len(out) < 1_000, (name, len(out))


async def test_many_bad_items_give_a_bounded_list_of_problems(mcp):
    out = await _error(mcp, "add_candidates", {"interviewId": MISSING, "candidates": [{"notes": "x"}] * 500})
    assert "`candidates[19]`" in out and "`candidates[20]`" not in out
    assert "… and 480 more like these" in out


# ---------------------------------------------------------------- list_interviews paging


async def _page_through(mcp, limit: int) -> list[str]:
    seen: list[str] = []
    cursor = None
    for _ in range(20):  # 5 interviews: any loop shows up long before this
        args = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        r = await call(mcp, "list_interviews", args)
        page = [iv["id"] for iv in r.structured_content["data"]]
        assert len(page) <= limit
        seen += page
        cursor = r.structured_content["cursor"]
        if cursor is None:
            return seen
        assert cursor == page[-1] and f"cursor `{cursor}`" in text(r)
    raise AssertionError(f"paging with limit {limit} did not end: {seen}")


async def test_paging_with_any_limit_reaches_the_end_with_every_interview_once(mcp):
    created = [await _new_interview(mcp) for _ in range(5)]
    for limit in (1, 2, 3, 5, 100):
        seen = await _page_through(mcp, limit)
        assert sorted(seen) == sorted(created) and len(seen) == 5, (limit, seen)
        assert seen == list(reversed(created))  # most recently updated first


async def test_a_cursor_that_is_no_interview_is_an_error_not_a_restart(mcp):
    await _new_interview(mcp)
    out = await _error(mcp, "list_interviews", {"cursor": MISSING})
    assert f'`cursor` "{MISSING}" is not an interview this key can see' in out
    assert "start again at page one" in out and "omit it" in out


async def test_llm_hint_no_longer_asks_agents_to_deduplicate(mcp):
    tools = {t.name: t for t in (await mcp.list_tools()).tools}
    description = tools["list_interviews"].description
    assert "de-duplicate" not in description and "repeats" not in description
    assert "pages do not overlap" in description


# ---------------------------------------------------------------- archived interviews


async def test_adding_questions_to_an_archived_interview_says_so(mcp):
    iid = await _new_interview(mcp)
    r = await call(mcp, "add_questions", {"interviewId": iid, "questions": [{"text": "Active?"}]})
    assert "archived" not in text(r)
    await call(mcp, "archive_interview", {"interviewId": iid})
    r = await call(mcp, "add_questions", {"interviewId": iid, "questions": [{"text": "Archived?"}]})
    out = text(r)
    assert out.startswith(f"Note: interview `{iid}` is archived (isActive false)")
    assert "candidates cannot start it until publish_interview re-activates it" in out
    assert r.structured_content["data"][0]["text"] == "Archived?"


# ---------------------------------------------------------------- client-side encodings


async def test_every_client_side_repair_reaches_the_api_as_the_agent_meant_it(mcp):
    """Each repair the server makes (it is the only layer that makes them), read back from the API."""
    # "true" for a boolean, "20" for an integer
    r = await call(mcp, "create_interview", {"title": "Encodings", "voiceEnabled": "true", "timeLimitMinutes": "20"})
    iid = r.structured_content["data"]["id"]
    got = (await call(mcp, "get_interview", {"interviewId": iid})).structured_content["data"]
    assert got["voiceEnabled"] is True and got["timeLimitMinutes"] == 20
    # "null" for a nullable field clears it
    await call(mcp, "update_interview", {"interviewId": iid, "timeLimitMinutes": "null"})
    got = (await call(mcp, "get_interview", {"interviewId": iid})).structured_content["data"]
    assert got["timeLimitMinutes"] is None

    # a list as JSON text, with "false"/"1" inside and a nested object as JSON text
    questions = (
        '[{"text": "First", "required": "false"},'
        ' {"text": "Code it", "type": "CODING", "order": "1", "starterCode": "{\\"language\\": \\"python\\", \\"code\\": \\"pass\\"}"}]'
    )
    await call(mcp, "add_questions", {"interviewId": iid, "questions": questions})
    # one object, as JSON text, where a list is expected
    await call(mcp, "add_questions", {"interviewId": iid, "questions": '{"text": "Why us?"}'})
    listed = (await call(mcp, "list_questions", {"interviewId": iid})).structured_content["data"]
    by_text = {q["text"]: q for q in listed}
    assert set(by_text) == {"First", "Code it", "Why us?"}
    assert by_text["First"]["isRequired"] is False and by_text["Why us?"]["isRequired"] is True
    assert by_text["Code it"]["order"] == 1
    assert by_text["Code it"]["starterCode"] == {"language": "python", "code": "pass"}

    # one object (not text) where a list is expected
    r = await call(mcp, "add_candidates", {"interviewId": iid, "candidates": {"name": "Ada"}})
    assert [c["name"] for c in r.structured_content["data"]] == ["Ada"]

    # a lone id where a list of ids is expected, and "false" for dryRun
    await call(mcp, "publish_interview", {"interviewId": iid})
    r = await call(mcp, "simulate_session", {"interviewId": iid, "participantName": "Bo", "status": "IN_PROGRESS"})
    live = r.structured_content["data"]["id"]
    r = await call(mcp, "end_sessions", {"interviewId": iid, "ids": live, "dryRun": "false"})
    assert r.structured_content["data"]["dryRun"] is False
    assert [(x["id"], x["status"]) for x in r.structured_content["data"]["results"]] == [(live, "succeeded")]
    got = (await call(mcp, "get_session", {"sessionId": live})).structured_content["data"]
    assert got["status"] == "COMPLETED"

    # an integral float for an integer
    r = await call(mcp, "list_sessions", {"interviewId": iid, "limit": 1.0})
    assert len(r.structured_content["data"]) == 1


async def test_more_repairs_and_read_names_over_a_real_client(mcp):
    """Upper-case boolean text, a list of ids as JSON text, and read names sent by mistake."""
    r = await call(mcp, "create_interview", {"title": "More encodings", "videoEnabled": "TRUE"})
    iid = r.structured_content["data"]["id"]
    got = (await call(mcp, "get_interview", {"interviewId": iid})).structured_content["data"]
    assert got["videoEnabled"] is True

    await call(mcp, "publish_interview", {"interviewId": iid})
    r = await call(mcp, "simulate_session", {"interviewId": iid, "participantName": "Cy", "status": "IN_PROGRESS"})
    live = r.structured_content["data"]["id"]
    r = await call(mcp, "end_sessions", {"interviewId": iid, "ids": f'["{live}"]'})
    assert r.structured_content["data"]["dryRun"] is True  # the safe default, sent although absent
    assert [(x["id"], x["status"]) for x in r.structured_content["data"]["results"]] == [(live, "eligible")]

    r = await call(mcp, "add_questions", {"interviewId": iid, "questions": [{"text": "Q"}]})
    qid = r.structured_content["data"][0]["id"]
    message = await _error(mcp, "update_question", {"questionId": qid, "isRequired": False})
    assert "`isRequired` is the name the API returns; send `required` instead" in message
    message = await _error(mcp, "add_questions", {"interviewId": iid, "questions": [{"text": "R", "probeOnShort": True}]})
    assert "send `followUpEnabled` instead" in message
