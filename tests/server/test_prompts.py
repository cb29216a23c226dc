"""Prompts and argument completions through a real MCP client."""

from __future__ import annotations

import pytest
from mcp_types import PromptReference, ResourceTemplateReference
from tests.server.conftest import call, setup_interview

pytestmark = pytest.mark.anyio


async def test_prompts_are_listed_with_their_arguments(mcp):
    prompts = {p.name: p for p in (await mcp.list_prompts()).prompts}
    assert set(prompts) == {"design_interview", "review_sessions", "review_session"}
    args = {name: {(a.name, a.required) for a in p.arguments or []} for name, p in prompts.items()}
    assert args["design_interview"] == {("role", True), ("focus", False), ("channels", False)}
    assert args["review_sessions"] == {("interviewId", True)}
    assert args["review_session"] == {("sessionId", True)}


async def test_design_interview_is_a_plan_using_the_tools(mcp):
    result = await mcp.get_prompt(
        "design_interview", {"role": "Backend engineer", "focus": "APIs", "channels": "voice"}
    )
    body = result.messages[0].content.text
    assert "Backend engineer" in body and "APIs" in body and "voice" in body
    for tool in ("get_usage", "create_interview", "add_questions", "publish_interview", "add_candidates"):
        assert tool in body
    assert "OPEN_ENDED" in body


IID = "0b7e6f1c-2d3a-4e5f-8a9b-0c1d2e3f4a5b"
SID = "1c8f7a2d-3e4b-4f6a-9bac-1d2e3f4a5b6c"


async def test_review_prompts_name_the_ids_and_the_call_to_retry_when_the_read_fails(mcp):
    # Unknown ids: the embedded read fails, so the prompt says which call to make instead.
    body = (await mcp.get_prompt("review_sessions", {"interviewId": IID})).messages[0].content.text
    assert f"compare_sessions with interviewId {IID}" in body and "get_transcript" in body
    assert "Interview not found" in body and "list_interviews" in body
    body = (await mcp.get_prompt("review_session", {"sessionId": SID})).messages[0].content.text
    assert f"get_transcript with sessionId {SID}" in body and f"get_session {SID}" in body
    assert "Session not found" in body


async def test_completions_for_interview_and_session_ids(mcp):
    ids = await setup_interview(mcp, title="Platform screen")
    iid = ids["interviewId"]
    r = await call(mcp, "simulate_session", {"interviewId": iid, "participantName": "Grace Hopper"})
    sid = r.structured_content["data"]["id"]

    done = await mcp.complete(
        PromptReference(type="ref/prompt", name="review_sessions"), {"name": "interviewId", "value": ""}
    )
    assert iid in done.completion.values
    by_title = await mcp.complete(
        PromptReference(type="ref/prompt", name="review_sessions"),
        {"name": "interviewId", "value": "platform"},
    )
    assert by_title.completion.values == [iid]
    by_prefix = await mcp.complete(
        ResourceTemplateReference(type="ref/resource", uri="aural://interviews/{interviewId}"),
        {"name": "interviewId", "value": iid[:6]},
    )
    assert by_prefix.completion.values == [iid]

    recent = await mcp.complete(
        PromptReference(type="ref/prompt", name="review_session"), {"name": "sessionId", "value": "gra"}
    )
    assert recent.completion.values == [sid]
    scoped = await mcp.complete(
        ResourceTemplateReference(type="ref/resource", uri="aural://sessions/{sessionId}/transcript"),
        {"name": "sessionId", "value": ""},
        context_arguments={"interviewId": iid},
    )
    assert scoped.completion.values == [sid]
    other = await mcp.complete(
        PromptReference(type="ref/prompt", name="design_interview"), {"name": "role", "value": "x"}
    )
    assert other.completion.values == []


async def test_a_missing_prompt_argument_is_invalid_params_naming_it(mcp):
    from mcp.shared.exceptions import MCPError
    from mcp_types import INVALID_PARAMS

    with pytest.raises(MCPError) as caught:
        await mcp.get_prompt("review_session", {})
    assert caught.value.error.code == INVALID_PARAMS
    assert "sessionId" in caught.value.error.message


async def test_every_prompt_argument_has_a_description(mcp):
    for prompt in (await mcp.list_prompts()).prompts:
        for arg in prompt.arguments or []:
            assert arg.description, (prompt.name, arg.name)
    design = next(p for p in (await mcp.list_prompts()).prompts if p.name == "design_interview")
    channels = next(a for a in design.arguments or [] if a.name == "channels")
    assert "chat, voice, video" in channels.description


async def _invalid(mcp, name: str, args: dict) -> str:
    from mcp.shared.exceptions import MCPError
    from mcp_types import INVALID_PARAMS

    with pytest.raises(MCPError) as caught:
        await mcp.get_prompt(name, args)
    assert caught.value.error.code == INVALID_PARAMS
    return caught.value.error.message


async def test_invalid_prompt_argument_values_are_invalid_params_naming_the_allowed_values(mcp):
    msg = await _invalid(mcp, "design_interview", {"role": "Backend", "channels": "phone"})
    assert "`channels` takes chat, voice, video, comma-separated" in msg and '"phone"' in msg
    msg = await _invalid(mcp, "design_interview", {"role": "   "})
    assert "`role` must be a role name" in msg
    msg = await _invalid(mcp, "review_sessions", {"interviewId": "abc"})
    assert "`interviewId` must be a UUID like" in msg and "`list_interviews` shows the ids" in msg
    msg = await _invalid(mcp, "review_session", {"sessionId": SID + "\n"})
    assert "`sessionId` must be a UUID like" in msg and "`list_sessions` shows the ids" in msg
    msg = await _invalid(mcp, "design_interview", {"role": "x" * 5000})
    assert "x" * 101 not in msg
    ok = await mcp.get_prompt("design_interview", {"role": "Backend", "channels": "Chat, voice"})
    assert "Channels: Chat, voice" in ok.messages[0].content.text
