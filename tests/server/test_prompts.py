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


async def test_review_prompts_name_the_ids_and_resources(mcp):
    body = (await mcp.get_prompt("review_sessions", {"interviewId": "abc"})).messages[0].content.text
    assert "list_sessions abc" in body and "get_session" in body and "transcript" in body
    body = (await mcp.get_prompt("review_session", {"sessionId": "s1"})).messages[0].content.text
    assert "aural://sessions/s1/transcript" in body and "get_session s1" in body


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
