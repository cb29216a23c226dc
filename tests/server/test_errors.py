"""Tool errors: isError results that say what went wrong and how to fix it, never a traceback or the key."""

from __future__ import annotations

import httpx2
import pytest
from mcp.client import Client
from tests.server.conftest import MISSING, SANDBOX_URL, sandbox_client, setup_interview, text

from aural_mcp.sandbox import Sandbox
from aural_mcp.server.app import build_server
from aural_mcp.settings import Settings

pytestmark = pytest.mark.anyio


async def _error(client: Client, name: str, args: dict) -> str:
    result = await client.call_tool(name, args)
    assert result.is_error, text(result)
    out = text(result)
    assert "Traceback" not in out and "Error executing tool" not in out
    return out


async def test_validation_names_the_field_and_allowed_values(mcp):
    out = await _error(mcp, "create_interview", {"title": "x", "aiTone": "casual"})
    assert "`aiTone` must be one of CASUAL, PROFESSIONAL, FORMAL, FRIENDLY" in out
    out = await _error(
        mcp, "add_questions", {"interviewId": MISSING, "questions": [{"text": "a", "type": "ESSAY"}]}
    )
    assert "`questions[0].type` must be one of OPEN_ENDED, SINGLE_CHOICE" in out
    out = await _error(mcp, "create_interview", {})
    assert "`title` is required" in out
    out = await _error(mcp, "list_interviews", {"limit": 500})
    assert "`limit` must be at most 100" in out
    out = await _error(mcp, "get_interview", {"interviewId": "clx9abc123"})
    assert "`interviewId` must be a UUID" in out and "`list_interviews` shows the ids" in out
    out = await _error(mcp, "end_sessions", {"interviewId": MISSING, "ids": []})
    assert "`ids` needs at least 1 item" in out


async def test_unknown_arguments_are_errors_with_a_suggestion(mcp):
    out = await _error(mcp, "get_interview", {"interview_id": MISSING})
    assert "unknown argument `interview_id`; did you mean `interviewId`?" in out
    out = await _error(
        mcp, "add_questions", {"interviewId": MISSING, "questions": [{"text": "a", "isRequired": False}]}
    )
    assert "`questions[0].isRequired` is the name the API returns; send `required` instead" in out


async def test_not_found_says_which_id_and_where_ids_come_from(mcp):
    out = await _error(mcp, "get_interview", {"interviewId": MISSING})
    assert out.startswith(f"No interview {MISSING} in the projects this key can access")
    assert "`list_interviews` shows the ids" in out and "NOT_FOUND" in out
    out = await _error(mcp, "get_session", {"sessionId": MISSING})
    assert f"No session {MISSING}" in out and "`list_sessions`" in out
    iid = (await setup_interview(mcp))["interviewId"]
    out = await _error(mcp, "update_candidate", {"interviewId": iid, "candidateId": MISSING, "name": "X"})
    assert f"No candidate {MISSING}" in out and "`list_candidates`" in out


async def test_bad_request_from_the_api_is_explained(mcp):
    iid = (await setup_interview(mcp))["interviewId"]
    out = await _error(mcp, "list_sessions", {"interviewId": iid, "cursor": MISSING})
    assert "BAD_REQUEST" in out and "Invalid cursor" in out and "omit it" in out


async def test_rate_limit_says_how_long_to_wait():
    sb = Sandbox(rate_limit=2, rate_window=60.0)
    async with (
        sandbox_client(sb, max_retries=0) as client,
        Client(build_server(Settings(), client=client)) as mcp,
    ):
        await mcp.call_tool("get_usage", {})
        await mcp.call_tool("get_usage", {})
        out = await _error(mcp, "get_usage", {})
    assert out.startswith("Rate limited (429 RATE_LIMITED")
    assert "Wait " in out and " s before the next call" in out and "60 calls a minute" in out


async def test_plan_limit_gives_quota_and_upgrade_url():
    sb = Sandbox(plan="free")
    async with sandbox_client(sb) as client, Client(build_server(Settings(), client=client)) as mcp:
        for i in range(3):
            assert not (await mcp.call_tool("create_interview", {"title": f"T{i}"})).is_error
        out = await _error(mcp, "create_interview", {"title": "one too many"})
    assert "Plan limit reached for templates (3 of 3 used)" in out and "PLAN_LIMIT_EXCEEDED" in out
    assert "http" in out and "get_usage" in out


class _DropAnswers(httpx2.AsyncBaseTransport):
    """Forwards to the sandbox, then loses the answer of every POST: the create happened."""

    def __init__(self, inner: httpx2.AsyncBaseTransport) -> None:
        self.inner = inner
        self.posts = 0

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "POST":
            self.posts += 1
            raise httpx2.RemoteProtocolError("connection dropped", request=request)
        return response


async def test_outcome_unknown_is_not_retried_and_says_how_to_check():
    sb = Sandbox()
    transport = _DropAnswers(httpx2.ASGITransport(app=sb.app))
    from aural_mcp.api import AuralClient

    async with (
        AuralClient(sb.create_key(), base_url=SANDBOX_URL, transport=transport) as client,
        Client(build_server(Settings(), client=client)) as mcp,
    ):
        out = await _error(mcp, "create_interview", {"title": "Ambiguous"})
        assert transport.posts == 1  # never repeated
        assert out.startswith("The outcome is unknown")
        assert "It was not retried" in out and "Check with the list tool first" in out
        # One check, the SDK's, naming the list tool and the title sent (said once, not twice).
        assert out.count("list_interviews") == 1 and out.count("Ambiguous") == 1, out
        listed = await mcp.call_tool("list_interviews", {})
        assert "Ambiguous" in text(listed)  # it did take effect


async def test_unauthorized_and_missing_key_explain_the_fix():
    sb = Sandbox()
    async with (
        sandbox_client(sb, key="dlv_" + "x" * 32) as client,
        Client(build_server(Settings(), client=client)) as mcp,
    ):
        out = await _error(mcp, "get_usage", {})
    assert "The API key was rejected" in out and "AURAL_API_KEY" in out and "x" * 32 not in out

    async with Client(build_server(Settings(api_key=None))) as mcp:
        out = await _error(mcp, "get_usage", {})
    assert "not configured" in out and "AURAL_API_KEY" in out and "--sandbox" in out


async def test_unexpected_failure_is_a_short_generic_error(caplog):
    class Broken(httpx2.AsyncBaseTransport):
        async def handle_async_request(self, request):
            raise ZeroDivisionError("secret detail dlv_" + "s" * 32)

    settings = Settings(api_key="dlv_" + "s" * 32, base_url=SANDBOX_URL)
    async with Client(build_server(settings, transport=Broken())) as mcp:
        out = await _error(mcp, "get_usage", {})
    assert "unexpected error inside aural-mcp" in out
    assert "secret" not in out and "s" * 32 not in out
    assert "ZeroDivisionError" in out
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Traceback" in logged and "s" * 32 not in logged


class _DropPatchAnswers(httpx2.AsyncBaseTransport):
    """Applies every PATCH, then loses each answer: the client retries and gives up."""

    def __init__(self, inner: httpx2.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "PATCH":
            raise httpx2.RemoteProtocolError("connection dropped", request=request)
        return response


async def test_a_lost_answer_to_an_idempotent_write_says_it_may_have_applied():
    sb = Sandbox()
    from aural_mcp.api import AuralClient

    transport = _DropPatchAnswers(httpx2.ASGITransport(app=sb.app))
    async with (
        AuralClient(
            sb.create_key(), base_url=SANDBOX_URL, transport=transport, max_retries=1, backoff_base=0.01
        ) as c,
        Client(build_server(Settings(), client=c)) as mcp,
    ):
        created = await mcp.call_tool("create_interview", {"title": "Before"})
        iid = created.structured_content["data"]["id"]
        out = await _error(mcp, "update_interview", {"interviewId": iid, "title": "After"})
        assert "may already have taken effect" in out and "Nothing was changed" not in out
        got = await mcp.call_tool("get_interview", {"interviewId": iid})
        assert "After" in text(got)  # it did apply


async def test_sandbox_errors_that_name_no_argument_carry_their_own_fix(mcp):
    iid = (await setup_interview(mcp))["interviewId"]
    added = await mcp.call_tool("add_candidates", {"interviewId": iid, "candidates": [{"name": "Ada"}]})
    cid = added.structured_content["data"][0]["id"]
    first = await mcp.call_tool("simulate_session", {"interviewId": iid, "candidateId": cid})
    assert not first.is_error, text(first)
    out = await _error(mcp, "simulate_session", {"interviewId": iid, "candidateId": cid})
    assert "already has a session" in out and "simulate without `candidateId`" in out
    out = await _error(mcp, "simulate_session", {"interviewId": iid, "candidateId": MISSING})
    assert "`list_candidates` with this interviewId shows its candidates" in out
    await mcp.call_tool("archive_interview", {"interviewId": iid})
    out = await _error(mcp, "simulate_session", {"interviewId": iid})
    assert "Call `publish_interview` to re-activate the interview" in out
    assert "Fix the argument it names" not in out


def _answering_400(message: str) -> httpx2.MockTransport:
    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(400, json={"error": {"code": "BAD_REQUEST", "message": message}})

    return httpx2.MockTransport(answer)


ID = "0b7e6f1c-2d3a-4e5f-8a9b-0c1d2e3f4a5b"
BAD_REQUESTS = [
    ("list_sessions", {"interviewId": ID, "cursor": ID}, "Invalid cursor", "omit it to start over"),
    ("create_interview", {"title": "t"}, "No accessible project found for this API key.", "create a project"),
    ("update_interview", {"interviewId": ID, "title": "t"}, "No valid fields to update.", "at least one field"),
    ("update_candidate", {"interviewId": ID, "candidateId": ID, "email": "a@b.co"}, "Invalid email address",
     "`email` must be a valid address"),
    ("update_candidate", {"interviewId": ID, "candidateId": ID, "birthday": "2026-02-30"}, "Invalid ISO date",
     "`birthday` must be a real calendar date"),
    ("add_candidates", {"interviewId": ID, "candidates": [{"name": "a"}]}, "Maximum 500 candidates per request",
     "at most 500 items"),
    ("add_questions", {"interviewId": ID, "questions": [{"text": "a"}]}, "At least one question is required",
     "at least one item"),
    ("add_questions", {"interviewId": ID, "questions": [{"text": "a"}]}, "Invalid JSON body", "report it"),
    ("update_question", {"questionId": ID, "text": "a"}, "Expected JSON object", "report it"),
    ("add_candidates", {"interviewId": ID, "candidates": [{"name": "a"}]}, "Each candidate must be an object",
     "report it"),
    ("add_questions", {"interviewId": ID, "questions": [{"text": "a", "timeLimitSeconds": 5}]},
     "Too small: expected number to be >0", "does not name the field; check the fields (type one of OPEN_ENDED"),
    ("add_questions", {"interviewId": ID, "questions": [{"text": "a", "timeLimitSeconds": 5}]},
     "Too small: expected number to be >0", "timeLimitSeconds an integer >= 1"),
    ("add_candidates", {"interviewId": ID, "candidates": [{"name": "a"}]},
     "Invalid input: expected int, received number", "graduationYear an integer, the others strings)"),
    ("end_sessions", {"interviewId": ID, "ids": [ID]}, "Too big: expected array to have <=100 items",
     "check the fields (ids a list of 1-100 UUIDs, dryRun a boolean)"),
    ("update_interview", {"interviewId": ID, "aiTone": "CASUAL"}, "Invalid aiTone.", "Fix `aiTone`"),
    ("add_questions", {"interviewId": ID, "questions": [{"text": "a"}]}, "options must be an array of strings",
     "Fix `options`"),
    ("get_usage", {}, "Something odd happened", "does not say which argument is wrong"),
]  # fmt: skip


@pytest.mark.parametrize(("tool", "args", "message", "fix"), BAD_REQUESTS)
async def test_each_bad_request_message_gets_its_own_fix(tool, args, message, fix):
    settings = Settings(api_key="dlv_" + "q" * 32, base_url=SANDBOX_URL)
    async with Client(build_server(settings, transport=_answering_400(message))) as mcp:
        out = await _error(mcp, tool, args)
    assert out.startswith(f"Aural rejected the request (400 BAD_REQUEST: {message})"), out
    assert fix in out, out
    assert "Fix the argument it names" not in out


async def test_a_huge_api_message_is_cut():
    settings = Settings(api_key="dlv_" + "q" * 32, base_url=SANDBOX_URL)
    async with Client(build_server(settings, transport=_answering_400("Z" * 100_000))) as mcp:
        out = await _error(mcp, "get_usage", {})
    assert "Z" * 300 not in out and len(out) < 800


async def test_no_tool_text_carries_the_key_whoever_echoes_it():
    key = "dlv_" + "e" * 32
    iid = "0b7e6f1c-2d3a-4e5f-8a9b-0c1d2e3f4a5b"

    def answer(request: httpx2.Request) -> httpx2.Response:
        if request.method == "GET":  # an answer that echoes the key in third-party text
            return httpx2.Response(200, json={"data": {"id": iid, "title": f"leak {key}", "questions": []}})
        return httpx2.Response(400, json={"error": {"code": "BAD_REQUEST", "message": f"bad key {key}"}})

    settings = Settings(api_key=key, base_url=SANDBOX_URL)
    async with Client(build_server(settings, transport=httpx2.MockTransport(answer))) as mcp:
        got = await mcp.call_tool("get_interview", {"interviewId": iid})
        assert not got.is_error and "leak" in text(got) and key not in text(got)
        out = await _error(mcp, "update_interview", {"interviewId": iid, "title": "t"})
        assert "bad key" in out and key not in out
        out = await _error(mcp, "create_interview", {"title": "t", "aiTone": key})  # echoed bad input
        assert "`aiTone` must be one of" in out and key not in out
