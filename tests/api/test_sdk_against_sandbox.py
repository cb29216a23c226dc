"""The SDK against the real sandbox, in-process (ASGITransport) and over loopback HTTP (uvicorn):
every operation, every error code the sandbox can produce, the API's documented quirks, pacing
with a short window, faults, and pagination over hundreds of items."""

from __future__ import annotations

import time
import uuid
from datetime import datetime

import anyio
import pytest

from aural_mcp.api import AuralClient, errors, models

from .sandbox_fixtures import World, world

pytestmark = pytest.mark.anyio

try:
    from aural_mcp.sandbox import FaultSpec
except ImportError:  # pragma: no cover - only before the sandbox exists
    pytest.skip("aural_mcp.sandbox is not available", allow_module_level=True)


@pytest.fixture(params=["asgi", "http"])
def w(request):
    with world(request.param) as env:
        yield env


async def simulate(c: AuralClient, iid: str, **body) -> dict:
    return (await c.raw_request("POST", f"/sandbox/interviews/{iid}/simulate", body))["data"]


async def new_interview(c: AuralClient, title: str = "Backend engineer screen", **fields) -> models.Interview:
    return await c.create_interview(title, **fields)


# --- every operation -------------------------------------------------------------------------


async def test_full_lifecycle_every_operation(w: World):
    async with w.client() as c:
        # create: trimmed title, invite-only with a 10-character slug, the defaults applied
        iv = await c.create_interview(
            "  Backend engineer screen  ",
            objective="Find people who test",
            assessmentCriteria=[{"name": "Testing", "description": "writes tests first"}],
            timeLimitMinutes=30,
        )
        assert iv.title == "Backend engineer screen"
        assert iv.requireInvite is True and iv.isActive is True and len(iv.publicSlug) == 10
        assert iv.aiTone is models.AiTone.PROFESSIONAL and iv.followUpDepth is models.FollowUpDepth.MODERATE
        assert isinstance(iv.createdAt, datetime) and iv.createdAt.tzinfo is not None
        assert uuid.UUID(iv.id)

        # questions: one or a list, written as required/followUpEnabled and read back as
        # isRequired/probeOnShort; without `order` a question goes after the last one
        one = await c.add_questions(iv.id, {"text": "Tell me about yourself", "required": False})
        assert len(one) == 1 and one[0].order == 0 and one[0].isRequired is False
        more = await c.add_questions(
            iv.id,
            [
                {"text": "Pick one", "type": "SINGLE_CHOICE", "options": ["a", "b"], "followUpEnabled": False},
                {"text": "Write fizzbuzz", "type": "CODING", "starterCode": {"python": "def f(): ..."}},
                {"text": "Draw it", "type": "WHITEBOARD", "order": 10},
            ],
        )
        assert [q.order for q in more] == [1, 2, 10]
        assert more[0].type is models.QuestionType.SINGLE_CHOICE and more[0].probeOnShort is False
        assert more[1].starterCode == {"python": "def f(): ..."}
        qs = await c.list_questions(iv.id)
        assert [q.text for q in qs] == ["Tell me about yourself", "Pick one", "Write fizzbuzz", "Draw it"]
        upd = await c.update_question(more[2].id, text="Draw the architecture", required=False, order=3)
        assert (upd.text, upd.isRequired, upd.order) == ("Draw the architecture", False, 3)
        deleted = await c.delete_question(more[1].id)
        assert deleted.deleted is True and deleted.id == more[1].id
        with pytest.raises(errors.NotFoundError):
            await c.delete_question(more[1].id)

        # get/update/list interviews
        detail = await c.get_interview(iv.id)
        assert isinstance(detail, models.InterviewDetail)
        assert [q.order for q in detail.questions] == [0, 1, 3] and detail.count == {"sessions": 0}
        changed = await c.update_interview(iv.id, aiTone="FRIENDLY", description=None, timeLimitMinutes=None)
        assert changed.aiTone is models.AiTone.FRIENDLY and changed.timeLimitMinutes is None
        page = await c.list_interviews()
        assert [i.id for i in page.data] == [iv.id] and page.cursor is None
        assert page.data[0].count["questions"] == 3

        # publish opens it to anyone with the link; idempotent, the slug never changes
        pub = await c.publish_interview(iv.id)
        assert pub.id == iv.id and pub.publicSlug == iv.publicSlug and pub.url.endswith("/i/" + iv.publicSlug)
        assert (await c.publish_interview(iv.id)).url == pub.url
        assert (await c.get_interview(iv.id)).requireInvite is False

        # candidates: emails lower-cased on create, invite URLs only in the create answer
        cands = await c.add_candidates(iv.id, [{"name": "Ada", "email": "ADA@Example.com"}, {"name": "Bo"}])
        assert [x.email for x in cands] == ["ada@example.com", None]
        assert all("/i/invite/" in x.inviteUrl and len(x.inviteToken) == 12 for x in cands)
        listed = await c.list_candidates(iv.id)
        assert {x.id for x in listed} == {x.id for x in cands}
        assert all(getattr(x, "inviteUrl", None) is None for x in listed)
        ada = await c.update_candidate(
            iv.id, cands[0].id, name="Ada Lovelace", graduationYear=1835, phone=None
        )
        assert ada.name == "Ada Lovelace" and ada.graduationYear == 1835 and ada.interviewId == iv.id

        # sessions through the sandbox-only simulate endpoint (raw_request)
        s1 = await simulate(c, iv.id, participantName="Ada", status="COMPLETED", candidateId=cands[0].id)
        s2 = await simulate(c, iv.id, participantName="Bo", status="IN_PROGRESS")
        sessions = await c.list_sessions(iv.id)
        assert [s.id for s in sessions.data] == [s2["id"], s1["id"]] and sessions.cursor is None
        assert (
            sessions.data[1].status is models.SessionStatus.COMPLETED
            and sessions.data[1].count["messages"] > 0
        )
        sd = await c.get_session(s1["id"])
        assert isinstance(sd, models.SessionDetail) and sd.interview.id == iv.id
        assert sd.messages and all(isinstance(m.timestamp, datetime) for m in sd.messages)
        assert {m.role for m in sd.messages} <= set(models.MessageRole)
        assert isinstance(sd.themes, list) and (sd.sentiment is None or isinstance(sd.sentiment, dict))
        report = await c.get_session_report(s1["id"])
        assert report.interviewTitle == iv.title and report.participantName == "Ada"
        assert not hasattr(report, "id") or getattr(report, "id", None) is None
        assert report.messages and report.messages[0].contentType is not None

        # bulk end: a dry run by default, then for real; each item has its own status
        dry = await c.end_sessions(iv.id, [s2["id"], s1["id"]])
        assert dry.dryRun is True
        assert [r.status for r in dry.results] == [
            models.BulkItemStatus.ELIGIBLE,
            models.BulkItemStatus.SKIPPED,
        ]
        done = await c.end_sessions(iv.id, [s2["id"]], dry_run=False)
        assert done.results[0].status is models.BulkItemStatus.SUCCEEDED
        assert (await c.get_session(s2["id"])).status is models.SessionStatus.COMPLETED

        # practices (seeded through the sandbox-only endpoint)
        prac = (await c.raw_request("POST", f"/sandbox/interviews/{iv.id}/practices", {}))["data"]
        practices = await c.list_practices(iv.id)
        assert len(practices) == 1 and isinstance(practices[0], models.PracticeSummary)
        report_p = await c.get_practice(practices[0].id)
        assert isinstance(report_p, models.PracticeReport) and report_p.attempts
        assert prac["session"]["id"] == practices[0].id

        # usage: snake_case keys, a null limit means unlimited
        usage = await c.get_usage()
        assert usage.templates.used == 1 and usage.session_hours is not None and usage.seats.used >= 1

        # archive hides nothing (it stays in lists); publish un-archives
        arch = await c.archive_interview(iv.id)
        assert arch.archived is True and arch.id == iv.id
        assert (await c.archive_interview(iv.id)).archived is True
        assert (await c.get_interview(iv.id)).isActive is False
        assert [i.id for i in (await c.list_interviews()).data] == [iv.id]
        await c.publish_interview(iv.id)
        assert (await c.get_interview(iv.id)).isActive is True

        # the public OpenAPI document
        doc = await c.openapi()
        assert doc["openapi"].startswith("3.1") and "/interviews" in doc["paths"]


# --- errors ----------------------------------------------------------------------------------


async def test_unauthorized_variants(w: World):
    sb = w.sb
    revoked, expired = sb.create_key(), sb.create_key()
    sb.revoke_key(revoked)
    sb.expire_key(expired)
    unknown = "dlv_" + "0" * 32
    for key, message in (
        (unknown, "Invalid or revoked API key."),
        (revoked, "Invalid or revoked API key."),
        (expired, "API key has expired."),
    ):
        async with w.client(key) as c:
            with pytest.raises(errors.UnauthorizedError) as info:
                await c.get_usage()
            assert info.value.status == 401 and info.value.message == message
            assert key not in str(info.value)


async def test_forbidden_without_organization_and_for_low_roles(w: World):
    sb = w.sb
    lonely = sb.create_key(user=sb.create_user(organization=""))
    async with w.client(lonely) as c:
        with pytest.raises(errors.ForbiddenError) as info:
            await c.list_interviews()
        assert info.value.status == 403 and "organization" in info.value.message.lower()
    async with w.client(sb.create_key("OWNER")) as owner, w.client(sb.create_key("VIEWER")) as viewer:
        iv = await new_interview(owner)
        await owner.publish_interview(iv.id)
        cand = (await owner.add_candidates(iv.id, {"name": "Ada"}))[0]
        # VIEWER keys can write through the endpoints that check no role ...
        assert (await viewer.update_interview(iv.id, title="Renamed")).title == "Renamed"
        # ... but not through the two role-checked ones
        with pytest.raises(errors.ForbiddenError, match="MEMBER"):
            await viewer.update_candidate(iv.id, cand.id, name="X")
        with pytest.raises(errors.ForbiddenError, match="MEMBER"):
            await viewer.end_sessions(iv.id, [str(uuid.uuid4())])


async def test_scope_failures_are_403_on_some_routes_and_404_on_others(w: World):
    """Another organization's interview: 404 on the interview routes, 403 (revealing it exists) elsewhere."""
    sb = w.sb
    async with (
        w.client(sb.create_key()) as mine,
        w.client(sb.create_key(organization=sb.create_organization("Other"))) as theirs,
    ):
        iv = await new_interview(mine)
        q = (await mine.add_questions(iv.id, {"text": "Q"}))[0]
        with pytest.raises(errors.NotFoundError, match=r"Interview not found\."):
            await theirs.get_interview(iv.id)
        with pytest.raises(errors.NotFoundError):
            await theirs.publish_interview(iv.id)
        for call in (
            theirs.list_questions(iv.id),
            theirs.list_candidates(iv.id),
            theirs.list_sessions(iv.id),
            theirs.list_practices(iv.id),
            theirs.update_question(q.id, text="hijack"),
        ):
            with pytest.raises(errors.ForbiddenError) as info:
                await call
            assert info.value.status == 403
        assert (await theirs.list_interviews()).data == []


async def test_not_found_and_bad_request(w: World):
    async with w.client() as c:
        missing = str(uuid.uuid4())
        for call in (
            c.get_interview(missing),
            c.list_questions(missing),
            c.get_session(missing),
            c.get_practice(missing),
        ):
            with pytest.raises(errors.NotFoundError) as info:
                await call
            assert info.value.status == 404
        iv = await new_interview(c)
        with pytest.raises(errors.BadRequestError, match="timeLimitMinutes"):
            await c.create_interview("T", timeLimitMinutes=0)
        with pytest.raises(errors.BadRequestError, match="title is required"):
            await c.create_interview("   ")
        with pytest.raises(errors.BadRequestError, match="Invalid aiTone"):
            await c.update_interview(iv.id, aiTone="SHOUTY")
        with pytest.raises(errors.BadRequestError, match="No valid fields"):
            await c.update_interview(iv.id)
        with pytest.raises(errors.BadRequestError, match="Invalid question type"):
            await c.add_questions(iv.id, [{"text": "ok"}, {"text": "bad", "type": "open_ended"}])
        assert await c.list_questions(iv.id) == []  # all or nothing
        with pytest.raises(errors.BadRequestError, match="limit must be between 1 and 500"):
            await c.list_practices(iv.id, limit=501)
        with pytest.raises(errors.BadRequestError, match="Invalid cursor"):
            await c.list_sessions(iv.id, cursor=str(uuid.uuid4()))
        with pytest.raises(errors.BadRequestError):
            await c.end_sessions(iv.id, [])


async def test_server_errors_with_and_without_json_bodies(w: World):
    async with w.client() as c:
        iv = await new_interview(c)
        # a JSON string as the PATCH body: an uncaught exception, a 500 without the JSON error envelope
        with pytest.raises(errors.ServerError) as info:
            await c.raw_request("PATCH", f"/api/v1/interviews/{iv.id}", "just a string", idempotent=True)
        assert info.value.status == 500 and info.value.body is None
        # the framework's 405 (empty body) and 404 page (not the envelope)
        with pytest.raises(errors.APIError) as info:
            await c.raw_request("GET", f"/api/v1/questions/{uuid.uuid4()}", idempotent=True)
        assert info.value.status == 405
        with pytest.raises(errors.NotFoundError) as info:
            await c.raw_request("GET", "/api/v1/no/such/route", idempotent=True)
        assert info.value.status == 404 and info.value.body is None


async def test_rate_limited_when_the_client_does_not_pace():
    with world("asgi", rate_limit=3, rate_window=30.0) as env:
        async with env.client(rate_limit=100, rate_window=1.0, max_retries=0) as c:
            for _ in range(3):
                await c.get_usage()
            with pytest.raises(errors.RateLimitedError) as info:
                await c.get_usage()
            assert info.value.status == 429 and 1 <= info.value.retry_after <= 30
            assert info.value.message.startswith("Too many requests.")


async def test_plan_limit_exceeded():
    with world("asgi", plan="free") as env:
        async with env.client() as c:
            for i in range(3):
                await c.create_interview(f"T{i}")
            with pytest.raises(errors.PlanLimitExceededError) as info:
                await c.create_interview("one too many")
            e = info.value
            assert e.status == 403 and e.limit == "templates" and e.current == 3 and e.max == 3
            assert e.upgrade_url and isinstance(e, errors.ForbiddenError)
            assert (await c.get_usage()).templates.limit == 3


# --- quirks ---------------------------------------------------------------------------------


async def test_non_uuid_ids_are_stopped_before_the_api(w: World):
    async with w.client() as c:
        before = w.sb.stats["api_requests"]
        for call in (
            c.get_interview("clx9abc123"),
            c.update_interview("42", title="x"),
            c.publish_interview("not-a-uuid"),
            c.get_session("x"),
            c.get_session_report("x"),
            c.update_question("q1", text="x"),
            c.delete_question("q1"),
            c.get_practice("p1"),
            c.update_candidate(str(uuid.uuid4()), "c1", name="x"),
        ):
            with pytest.raises(errors.BadRequestError, match="must be a UUID"):
                await call
        assert w.sb.stats["api_requests"] == before


async def test_interview_list_boundary_repeats_and_restart(w: World):
    async with w.client() as c:
        ids = [(await new_interview(c, f"I{i}")).id for i in range(5)]
        p1 = await c.list_interviews(limit=2)
        p2 = await c.list_interviews(limit=2, cursor=p1.cursor)
        assert p2.data[0].id == p1.data[-1].id  # the boundary item repeats (the API pages with <=)
        restarted = await c.list_interviews(limit=2, cursor=str(uuid.uuid4()))
        assert [i.id for i in restarted.data] == [i.id for i in p1.data]  # an unknown cursor silently restarts at page one
        clamped = await c.list_interviews(limit=1000)
        assert len(clamped.data) == 5
        assert sorted([i.id async for i in c.iter_interviews(page_size=2)]) == sorted(ids)


async def test_create_forgives_patch_rejects_and_null_quirks(w: World):
    async with w.client() as c:
        iv = await c.create_interview("T", aiTone="SHOUTY", followUpDepth="??", chatEnabled="yes")
        assert iv.aiTone is models.AiTone.PROFESSIONAL and iv.followUpDepth is models.FollowUpDepth.MODERATE
        assert iv.chatEnabled is True
        with pytest.raises(errors.BadRequestError, match="chatEnabled must be a boolean"):
            await c.update_interview(iv.id, chatEnabled="yes")
        # aiName/language are not nullable in the registry: None is dropped, so the API's 500 on a
        # null for them cannot be triggered by accident; the other fields change
        out = await c.update_interview(iv.id, aiName=None, language=None, title="T2")
        assert (out.title, out.aiName, out.language) == ("T2", "Aural", "en")
        # the raw quirk itself: null aiName reaches the database and fails there
        with pytest.raises(errors.ServerError) as info:
            await c.raw_request("PATCH", f"/api/v1/interviews/{iv.id}", {"aiName": None}, idempotent=True)
        assert info.value.status == 500 and info.value.code == "INTERNAL_ERROR"


async def test_question_quirks(w: World):
    async with w.client() as c:
        iv = await new_interview(c)
        qs = await c.add_questions(
            iv.id, [{"text": "A", "order": 5}, {"text": "B"}, {"text": "C", "order": 5}]
        )
        assert [q.order for q in qs] == [5, 6, 5]  # duplicate orders allowed, the counter continues
        await c.delete_question(qs[1].id)
        assert [q.order for q in await c.list_questions(iv.id)] == [5, 5]  # gaps are not renumbered
        # existence is checked after validation: a bad field is a 400 even for a missing question
        with pytest.raises(errors.BadRequestError):
            await c.update_question(str(uuid.uuid4()), order=-1)
        with pytest.raises(errors.NotFoundError):
            await c.update_question(str(uuid.uuid4()), text="fine")
        # written as required/followUpEnabled, read back as isRequired/probeOnShort
        q = await c.update_question(qs[0].id, required=False, followUpEnabled=False)
        assert (q.isRequired, q.probeOnShort) == (False, False)
        # the SDK sends values as given: the read names are ignored by the API ...
        q = await c.update_question(qs[0].id, text="A2", isRequired=True, probeOnShort=True)
        assert (q.text, q.isRequired, q.probeOnShort) == ("A2", False, False)
        # ... and the question booleans are read by truthiness, so the text "false" means true
        args = {"interviewId": iv.id, "questions": [{"text": "S", "required": "false"}]}
        (s,) = (await c.call("add_questions", args))["data"]
        assert s["isRequired"] is True


async def test_candidate_quirks(w: World):
    async with w.client() as c:
        iv = await new_interview(c)
        a, b = await c.add_candidates(
            iv.id, [{"name": "", "email": "Not-An-Email"}, {"name": "", "email": "Not-An-Email"}]
        )
        assert a.email == b.email == "not-an-email" and a.id != b.id  # no email validation, no dedupe on create
        with pytest.raises(errors.BadRequestError):
            await c.update_candidate(iv.id, a.id, email="still not an email")
        with pytest.raises(errors.BadRequestError):
            await c.update_candidate(iv.id, a.id, name="")
        with pytest.raises(errors.NotFoundError):
            await c.update_candidate(iv.id, str(uuid.uuid4()), name="Ghost")


async def test_session_shapes_and_bulk_end_mixed_results(w: World):
    async with w.client() as c:
        iv = await new_interview(c)
        await c.publish_interview(iv.id)
        await c.add_questions(iv.id, [{"text": "Why?"}, {"text": "How?"}])
        done = await simulate(c, iv.id, participantName="Ada", status="COMPLETED")
        live = await simulate(c, iv.id, participantName="Bo", status="IN_PROGRESS")
        listed = {s.id: s for s in (await c.list_sessions(iv.id)).data}
        detail = await c.get_session(done["id"])
        assert listed[done["id"]].updatedAt is not None and listed[done["id"]].count
        assert (
            detail.model_extra.get("updatedAt") is None and detail.model_extra.get("_count") is None
        )  # the detail form has no updatedAt or _count
        assert isinstance(detail.insights, dict) and isinstance(detail.sentiment, dict)
        assert all(isinstance(t, str) for t in detail.themes)
        assert any(m.role is models.MessageRole.SYSTEM for m in detail.messages)  # navigation notes are SYSTEM messages
        assert all(m.role in set(models.MessageRole) for m in detail.messages)  # upper-case roles
        res = await c.end_sessions(iv.id, [live["id"], done["id"], "not-a-uuid", live["id"]], dry_run=False)
        by_id = {r.id: r.status for r in res.results}
        assert by_id[live["id"]] is models.BulkItemStatus.SUCCEEDED
        assert by_id[done["id"]] is models.BulkItemStatus.SKIPPED
        assert by_id["not-a-uuid"] in (models.BulkItemStatus.FAILED, models.BulkItemStatus.SKIPPED)
        again = await c.end_sessions(iv.id, [live["id"]], dry_run=False)
        assert again.results[0].status is models.BulkItemStatus.SKIPPED  # end state idempotent


# --- pacing, faults, pagination ----------------------------------------------------------------


@pytest.mark.parametrize("mode", ["asgi", "http"])
async def test_burst_of_three_windows_all_succeed(mode):
    with world(mode, rate_limit=10, rate_window=1.0) as env:
        async with env.client(rate_limit=10, rate_window=1.0) as c:
            start = time.monotonic()
            results = []

            async def one():
                results.append(await c.get_usage())

            async with anyio.create_task_group() as tg:
                for _ in range(30):
                    tg.start_soon(one)
            elapsed = time.monotonic() - start
            assert c.stats["rate_limited"] == 0 and c.stats["requests"] == 30
        assert len(results) == 30
        assert elapsed >= 2.0
        assert env.sb.stats["rate_limited"] == 0  # pacing kept the sandbox from ever answering 429


async def test_create_never_duplicated_when_the_answer_is_lost():
    for mode in ("asgi", "http"):
        with world(mode, faults=FaultSpec(1.0, ("drop_after",), seed=1)) as env:
            async with env.client() as c:
                with pytest.raises(errors.OutcomeUnknownError) as info:
                    await c.create_interview("Lost answer")
                assert "list_interviews" in info.value.check and "Lost answer" in info.value.check
                env.sb.faults = None
                titles = [i.title async for i in c.iter_interviews()]
                assert titles == ["Lost answer"]  # it was created, exactly once


async def test_reads_and_idempotent_writes_survive_faults():
    with world("http", faults=FaultSpec(0.4, ("drop_before", "drop_after", "502", "503"), seed=7)) as env:
        env.sb.faults, faults = None, env.sb.faults
        async with env.client(max_retries=8) as c:
            iv = await new_interview(c)
            env.sb.faults = faults
            for i in range(15):
                assert (await c.get_interview(iv.id)).id == iv.id
                assert (await c.update_interview(iv.id, title=f"T{i}")).title == f"T{i}"
            assert env.sb.stats["faults_total"] > 0


async def test_pagination_over_hundreds_of_items(w: World):
    async with w.client() as c:
        created = set()
        async with anyio.create_task_group() as tg:

            async def make(i):
                created.add((await c.create_interview(f"Interview {i}")).id)

            for i in range(250):
                tg.start_soon(make, i)
        seen = [i.id async for i in c.iter_interviews(page_size=100)]
        assert len(seen) == 250 and set(seen) == created
        small = [i.id async for i in c.iter_interviews(page_size=7)]
        assert len(small) == 250 and set(small) == created

        target = next(iter(created))
        seeded = set(w.sb.seed_sessions(target, 300))
        got = [s.id async for s in c.iter_sessions(target, page_size=100)]
        assert len(got) == 300 and set(got) == seeded
        got7 = [s.id async for s in c.iter_sessions(target, page_size=13)]
        assert got7 == got
