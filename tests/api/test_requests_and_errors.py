"""Request building from the registry (paths, query, body as given, nulls, UUID checks) and the
mapping of every error answer to the typed hierarchy."""

from __future__ import annotations

import json

import httpx2
import pytest

from aural_mcp import operations
from aural_mcp.api import errors, models

from .helpers import BASE, client, err, ok, ok_shaped, uid

pytestmark = pytest.mark.anyio

NOW = "2026-03-16T10:20:30.123456+00:00"


def interview(iid: str | None = None, **kw):
    return {
        "id": iid or uid(),
        "title": "T",
        "aiTone": "PROFESSIONAL",
        "createdAt": NOW,
        "updatedAt": NOW,
        **kw,
    }


# --- error mapping ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, "BAD_REQUEST", errors.BadRequestError),
        (401, "UNAUTHORIZED", errors.UnauthorizedError),
        (403, "FORBIDDEN", errors.ForbiddenError),
        (404, "NOT_FOUND", errors.NotFoundError),
        (409, "CONFLICT", errors.ConflictError),
        (500, "INTERNAL_ERROR", errors.ServerError),
        (500, "INTERNAL_SERVER_ERROR", errors.ServerError),
        (500, "SOMETHING_NEW", errors.ServerError),
    ],
)
async def test_error_codes_map_to_classes(status, code, cls):
    c, rec = client(lambda r: err(status, code, "the message"))
    with pytest.raises(cls) as info:
        await c.get_usage()
    e = info.value
    assert (e.status, e.code, e.message, e.operation) == (status, code, "the message", "get_usage")
    assert e.body == {"code": code, "message": "the message"}
    assert rec.count == 1  # none of these is retried


async def test_rate_limited_fields_when_retries_exhausted():
    c, rec = client(
        lambda r: httpx2.Response(
            429,
            headers={"Retry-After": "0"},
            json={
                "error": {
                    "code": "RATE_LIMITED",
                    "message": "Too many requests. Retry after 0s.",
                    "retry_after": 0,
                }
            },
        ),
        max_retries=2,
    )
    with pytest.raises(errors.RateLimitedError) as info:
        await c.get_usage()
    assert info.value.retry_after == 0 and info.value.status == 429
    assert rec.count == 3


async def test_rate_limited_beyond_max_wait_is_raised_at_once():
    c, rec = client(lambda r: err(429, "RATE_LIMITED", "Retry after 37s.", retry_after=37), max_retry_wait=5)
    with pytest.raises(errors.RateLimitedError) as info:
        await c.get_usage()
    assert info.value.retry_after == 37
    assert rec.count == 1


async def test_plan_limit_exceeded_fields_and_is_a_forbidden():
    c, _ = client(
        lambda r: err(
            403,
            "PLAN_LIMIT_EXCEEDED",
            "Plan limit reached",
            limit="templates",
            current=3,
            max=3,
            upgrade_url="https://aural-ai.com/pricing",
        )
    )
    with pytest.raises(errors.PlanLimitExceededError) as info:
        await c.create_interview("Screen")
    e = info.value
    assert (e.limit, e.current, e.max, e.upgrade_url) == ("templates", 3, 3, "https://aural-ai.com/pricing")
    assert isinstance(e, errors.ForbiddenError) and e.code == "PLAN_LIMIT_EXCEEDED"


@pytest.mark.parametrize(
    ("response", "cls", "status"),
    [
        (httpx2.Response(500, text="Internal Server Error"), errors.ServerError, 500),
        (httpx2.Response(500, content=b""), errors.ServerError, 500),
        (httpx2.Response(404, text="<!DOCTYPE html><h1>404</h1>"), errors.NotFoundError, 404),
        (httpx2.Response(405, content=b""), errors.APIError, 405),
        (httpx2.Response(400, json={"error": "just a string"}), errors.BadRequestError, 400),
        (httpx2.Response(418, content=b"\xff\xfe"), errors.APIError, 418),
        (httpx2.Response(308, headers={"Location": "/x/"}), errors.APIError, 308),
    ],
)
async def test_error_bodies_that_are_not_json(response, cls, status):
    c, _ = client(lambda r: response)
    with pytest.raises(cls) as info:
        await c.get_interview(uid())
    assert info.value.status == status
    assert str(status) in str(info.value)


async def test_success_body_that_is_not_json():
    c, _ = client(lambda r: httpx2.Response(200, text="<html>proxy page</html>"))
    with pytest.raises(errors.ServerError) as info:
        await c.get_usage()
    assert info.value.status == 200
    c_empty, _ = client(lambda r: httpx2.Response(200, content=b""))
    with pytest.raises(errors.ServerError):
        await c_empty.get_usage()
    with pytest.raises(errors.OutcomeUnknownError):
        await c_empty.add_candidates(uid(), {"name": "Ada"})
    # a create whose 200 answer cannot be read: it probably happened, so the outcome is reported unknown
    with pytest.raises(errors.OutcomeUnknownError) as info2:
        await c.create_interview("Hello")
    assert "list_interviews" in info2.value.check


# --- request building ------------------------------------------------------------------------


async def test_every_operation_builds_its_request():
    """call() puts path ids, query and body where the registry says, for every operation."""
    c, rec = client(ok_shaped)
    ids = {n: uid() for n in operations.ID_KINDS}
    sample = {
        "list_interviews": {"limit": 5, "cursor": "abc"},
        "create_interview": {"title": "T", "aiTone": "FORMAL"},
        "update_interview": {"title": "U"},
        "add_questions": {"questions": [{"text": "Q?"}]},
        "update_question": {"text": "Q2"},
        "add_candidates": {"candidates": [{"name": "Ada"}]},
        "update_candidate": {"name": "Ada L"},
        "list_sessions": {"limit": 3},
        "end_sessions": {"ids": [uid()], "dryRun": False},
        "list_practices": {"limit": 10},
    }
    for op in operations.OPERATIONS:
        args = {a.name: ids[a.name] for a in op.args_in("path")}
        args.update(sample.get(op.name, {}))
        await c.call(op.name, args)
        req = rec.requests[-1]
        assert req.method == op.method, op.name
        assert req.url.path == "/api/v1" + operations.wire_path(op, args), op.name
        for a in op.args_in("query"):
            if a.name in args:
                assert req.url.params[a.name] == str(args[a.name])
        body = rec.body()
        if op.body_list_arg:
            assert body == args[op.body_list_arg]
        elif op.args_in("body"):
            assert body == {k: v for k, v in args.items() if k in {a.name for a in op.args_in("body")}}
            assert req.headers["content-type"] == "application/json"
        else:
            assert body is None, op.name


async def test_typed_methods_cover_the_registry():
    c, _ = client(lambda r: ok({}))
    for op in operations.OPERATIONS:
        assert callable(getattr(c, op.name, None)), op.name


async def test_query_none_dropped_and_values_stringified():
    c, rec = client(lambda r: ok([], cursor=None))
    await c.list_interviews()
    assert str(rec.requests[-1].url) == BASE + "/interviews"
    await c.list_interviews(limit=50, cursor="c1")
    assert dict(rec.requests[-1].url.params) == {"limit": "50", "cursor": "c1"}


async def test_null_kept_where_nullable_dropped_elsewhere():
    iid = uid()
    c, rec = client(lambda r: ok(interview(iid)))
    await c.update_interview(
        iid, title=None, description=None, timeLimitMinutes=None, aiTone=None, chatEnabled=None
    )
    assert rec.body() == {"description": None, "timeLimitMinutes": None}
    await c.create_interview("T", aiTone=None, objective=None, timeLimitMinutes=None)
    assert rec.body() == {"title": "T", "objective": None}
    await c.update_candidate(iid, uid(), name=None, email=None, phone=None)
    assert rec.body() == {"email": None, "phone": None}


async def test_question_fields_go_under_the_names_given():
    """The SDK renames nothing: the read names (isRequired, probeOnShort) are sent as they are, and
    the API ignores them. Telling the caller to write `required` is the MCP server's job."""
    iid = uid()
    q = {"id": uid(), "interviewId": iid, "text": "Q", "isRequired": False, "probeOnShort": False}
    c, rec = client(lambda r: ok([q]) if r.method == "POST" else ok(q))
    out = await c.add_questions(
        iid,
        [
            {"text": "A", "isRequired": False, "probeOnShort": False},
            {"text": "B", "required": True, "isRequired": False},
            "not an object",
        ],
    )
    assert rec.body() == [
        {"text": "A", "isRequired": False, "probeOnShort": False},
        {"text": "B", "required": True, "isRequired": False},
        "not an object",
    ]
    assert out[0].isRequired is False and out[0].probeOnShort is False
    await c.update_question(q["id"], required=True, followUpEnabled=False, probeThreshold=None)
    assert rec.body() == {"required": True, "followUpEnabled": False, "probeThreshold": None}
    await c.call("update_question", {"questionId": q["id"], "isRequired": False})
    assert rec.body() == {"isRequired": False}


async def test_a_body_list_must_be_a_list():
    """The typed methods take one item or a list; `call()` takes the list the body is, and says so."""
    iid = uid()
    c, rec = client(
        lambda r: ok([{"id": uid(), "name": "Ada", "inviteUrl": "http://x/i/invite/t"}])
        if r.url.path.endswith("/candidates")
        else ok({"id": uid()})
    )
    out = await c.add_candidates(iid, {"name": "Ada", "email": "ada@example.com"})
    assert rec.body() == [{"name": "Ada", "email": "ada@example.com"}]
    assert isinstance(out[0], models.CandidateWithInviteUrl) and out[0].inviteUrl
    sent = rec.count
    for value, kind in (
        (json.dumps([{"name": "Bo"}]), "a string"),
        ({"name": "Bo"}, "an object"),
        (7, "a number"),
    ):
        with pytest.raises(errors.BadRequestError) as info:
            await c.call("add_candidates", {"interviewId": iid, "candidates": value})
        assert info.value.message == f"candidates must be a list (got {kind}); pass [item] for a single one"
        assert info.value.operation == "add_candidates"
    assert rec.count == sent  # nothing was sent
    await c.call("add_candidates", {"interviewId": iid, "candidates": ({"name": "Bo"},)})
    assert rec.body() == [{"name": "Bo"}]


async def test_end_sessions_sends_dry_run_by_default():
    iid = uid()
    c, rec = client(lambda r: ok({"dryRun": True, "results": [{"id": "x", "status": "eligible"}]}))
    res = await c.end_sessions(iid, ["x"])
    assert rec.body() == {"ids": ["x"], "dryRun": True}
    assert res.results[0].status == models.BulkItemStatus.ELIGIBLE


@pytest.mark.parametrize(
    ("method", "args", "name"),
    [
        ("get_interview", ("abc",), "interviewId"),
        ("get_interview", ("3f2b8c1e-9a4d-4e6f-8b1a-2c3d4e5f6a7",), "interviewId"),
        ("get_session", ("clx9abc123",), "sessionId"),
        ("get_session_report", ("",), "sessionId"),
        ("update_question", ("../usage",), "questionId"),
        ("get_practice", (None,), "practiceId"),
        ("update_candidate", (str(__import__("uuid").uuid4()), "c1"), "candidateId"),
    ],
)
async def test_path_ids_must_be_uuids(method, args, name):
    c, rec = client(lambda r: ok({}))
    with pytest.raises(errors.BadRequestError) as info:
        await getattr(c, method)(*args)
    assert name in info.value.message
    assert "list_" in info.value.message  # says where the ids come from
    assert rec.count == 0


async def test_missing_and_unknown_arguments():
    c, rec = client(lambda r: ok({}))
    with pytest.raises(errors.BadRequestError, match="interviewId is required"):
        await c.call("get_interview", {})
    with pytest.raises(errors.BadRequestError, match="title is required"):
        await c.call("create_interview", {"title": None})
    with pytest.raises(errors.BadRequestError, match="questions is required"):
        await c.call("add_questions", {"interviewId": uid()})
    with pytest.raises(errors.BadRequestError, match="unknown argument bogus"):
        await c.call("get_interview", {"interviewId": uid(), "bogus": 1})
    with pytest.raises(ValueError, match="unknown operation"):
        await c.call("drop_database", {})
    assert rec.count == 0
    # unknown body fields pass through: the API ignores what it does not know
    await c.call("create_interview", {"title": "T", "futureField": 1})
    assert rec.body() == {"title": "T", "futureField": 1}


async def test_raw_request_is_relative_to_the_root():
    c, rec = client(lambda r: ok({"id": uid(), "status": "COMPLETED"}))
    iid = uid()
    out = await c.raw_request("post", f"/sandbox/interviews/{iid}/simulate", {"participantName": "Ada"})
    assert out["data"]["status"] == "COMPLETED"
    req = rec.requests[-1]
    assert str(req.url) == f"http://api.test/sandbox/interviews/{iid}/simulate"
    assert req.method == "POST" and rec.body() == {"participantName": "Ada"}
    assert req.headers["authorization"].startswith("Bearer dlv_")


async def test_values_go_on_the_wire_as_given():
    """No coercion: text stays text, JSON text stays a string. The API judges the values (it reads
    the question booleans by truthiness, so the MCP server sends real booleans)."""
    iid = uid()
    c, rec = client(ok_shaped)
    question = {"text": "true", "required": "false", "followUpEnabled": "TRUE", "order": "3"}
    await c.call("add_questions", {"interviewId": iid, "questions": [question]})
    assert rec.body() == [question]
    await c.call("end_sessions", {"interviewId": iid, "ids": '["a", "b"]', "dryRun": "false"})
    assert rec.body() == {"ids": '["a", "b"]', "dryRun": "false"}
    criteria = '[{"name": "n", "description": "d"}]'
    await c.call(
        "create_interview",
        {"title": "42", "timeLimitMinutes": "30", "chatEnabled": "maybe", "assessmentCriteria": criteria},
    )
    assert rec.body() == {
        "title": "42",
        "timeLimitMinutes": "30",
        "chatEnabled": "maybe",
        "assessmentCriteria": criteria,
    }
    await c.call("update_question", {"questionId": iid, "followUpEnabled": "false", "order": "x"})
    assert rec.body() == {"followUpEnabled": "false", "order": "x"}
    await c.call("list_sessions", {"interviewId": iid, "limit": 5, "cursor": ""})
    assert dict(rec.requests[-1].url.params) == {"limit": "5"}  # an empty cursor is no cursor


async def test_query_values_are_serialized_as_the_api_reads_them():
    c, rec = client(ok_shaped)
    await c.call("list_practices", {"interviewId": uid(), "limit": models.AiTone.CASUAL})
    assert rec.requests[-1].url.params["limit"] == "CASUAL"
    await c.call("list_interviews", {"limit": True})
    assert rec.requests[-1].url.params["limit"] == "true"


async def test_a_body_that_is_not_json_is_refused_before_sending():
    c, rec = client(ok_shaped)
    with pytest.raises(errors.BadRequestError, match="the request body is not JSON") as info:
        await c.call("create_interview", {"title": "T", "objective": object()})
    assert info.value.operation == "create_interview" and rec.count == 0


async def test_dry_run_is_sent_when_not_given():
    """The registry marks end_sessions' dryRun as always sent: the safe default never depends on the API."""
    iid, sid = uid(), uid()
    c, rec = client(lambda r: ok({"dryRun": True, "results": []}))
    await c.call("end_sessions", {"interviewId": iid, "ids": [sid]})
    assert rec.body() == {"ids": [sid], "dryRun": True}
    await c.call("end_sessions", {"interviewId": iid, "ids": [sid], "dryRun": None})
    assert rec.body() == {"ids": [sid], "dryRun": True}
    await c.call("end_sessions", {"interviewId": iid, "ids": [sid], "dryRun": False})
    assert rec.body() == {"ids": [sid], "dryRun": False}


async def test_transport_error_says_whether_a_write_may_have_applied():
    def answer(request):
        raise httpx2.ReadError("reset", request=request)

    c, _ = client(answer, max_retries=1)
    with pytest.raises(errors.TransportError) as info:
        await c.update_interview(uid(), title="x")
    assert info.value.may_have_applied is True and "safe to repeat" in str(info.value)
    with pytest.raises(errors.TransportError) as info:
        await c.get_usage()
    assert info.value.may_have_applied is False
