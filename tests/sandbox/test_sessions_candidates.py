"""Sessions (keyset cursor), the report, bulk end, candidates and practices."""

import json
import re
import uuid

import pytest

from .conftest import add_questions, err, new_interview

pytestmark = pytest.mark.anyio


async def published(client, *questions):
    iv = await new_interview(client)
    await add_questions(client, iv["id"], *(questions or ("Tell me about a project.",)))
    await client.post(f"/api/v1/interviews/{iv['id']}/publish")
    return iv


async def simulate(client, iid, **body):
    r = await client.post(f"/sandbox/interviews/{iid}/simulate", json=body)
    assert r.status_code == 200, r.text
    return r.json()["data"]


async def test_sessions_keyset_cursor(client, sb):
    iv = await published(client)
    ids = sb.seed_sessions(iv["id"], 45)
    newest_first = ids[::-1]
    seen, cursor, pages = [], None, 0
    while True:
        q = f"?limit=20&cursor={cursor}" if cursor else "?limit=20"
        page = (await client.get(f"/api/v1/interviews/{iv['id']}/sessions{q}")).json()
        seen += [s["id"] for s in page["data"]]
        pages += 1
        cursor = page["cursor"]
        if cursor is None:
            break
    assert seen == newest_first and pages == 3  # no repeats, newest first
    other = await published(client)
    other_sid = sb.seed_sessions(other["id"], 1)[0]
    for bad in (other_sid, str(uuid.uuid4()), "not-a-uuid"):
        r = await client.get(f"/api/v1/interviews/{iv['id']}/sessions?cursor={bad}")
        assert err(r) == (400, "BAD_REQUEST", "Invalid cursor")
    assert len((await client.get(f"/api/v1/interviews/{iv['id']}/sessions?cursor=")).json()["data"]) == 20


async def test_session_list_and_detail_shapes(client):
    iv = await published(client, "Describe a recent API you designed.", "How do you test it?")
    s = await simulate(client, iv["id"], participantName="Ada", participantEmail="ada@example.com", seed=7)
    assert list(s) == [
        "id",
        "status",
        "participantName",
        "participantEmail",
        "summary",
        "insights",
        "themes",
        "sentiment",
        "totalDurationSeconds",
        "createdAt",
        "messages",
        "interview",
    ]
    assert s["interview"] == {"id": iv["id"], "title": iv["title"], "objective": None}
    roles = [m["role"] for m in s["messages"]]
    assert {"SYSTEM", "ASSISTANT", "USER"} <= set(roles) and roles.count("USER") == 2
    stamps = [m["timestamp"] for m in s["messages"]]
    assert stamps == sorted(stamps)
    assert (
        isinstance(s["insights"], dict) and isinstance(s["sentiment"], dict) and isinstance(s["themes"], list)
    )
    assert s["insights"]["scoring"] == "sandbox heuristic — not Aural's model"
    assert [e["question"] for e in s["insights"]["questionEvaluations"]] == [
        "Describe a recent API you designed.",
        "How do you test it?",
    ]
    assert all(1 <= e["score"] <= 10 for e in s["insights"]["questionEvaluations"])
    assert s["sentiment"]["overall"] in ("positive", "neutral", "negative")
    item = (await client.get(f"/api/v1/interviews/{iv['id']}/sessions")).json()["data"][0]
    assert list(item) == [
        "id",
        "status",
        "participantName",
        "participantEmail",
        "summary",
        "insights",
        "themes",
        "sentiment",
        "totalDurationSeconds",
        "createdAt",
        "updatedAt",
        "_count",
    ]
    assert item["_count"] == {"messages": len(s["messages"])}  # SYSTEM messages included
    again = await simulate(client, iv["id"], participantName="Ada", seed=7)
    assert [m["content"] for m in again["messages"]] == [m["content"] for m in s["messages"]]  # deterministic


async def test_simulate_statuses_answers_and_rules(client, sb):
    iv = await published(client, "q1", "q2", "q3", "q4")
    s = await simulate(client, iv["id"], status="IN_PROGRESS", answers=["mine"])
    assert (
        s["status"] == "IN_PROGRESS" and s["summary"] is None and s["insights"] is None and s["themes"] == []
    )
    users = [m["content"] for m in s["messages"] if m["role"] == "USER"]
    assert users[0] == "mine" and len(users) == 2
    a = await simulate(client, iv["id"], status="ABANDONED")
    assert a["status"] == "ABANDONED" and len([m for m in a["messages"] if m["role"] == "USER"]) == 1
    for body, fragment in (
        ({"status": "DONE"}, "status"),
        ({"answers": "x"}, "answers"),
        ({"seed": "1"}, "seed"),
    ):
        r = await client.post(f"/sandbox/interviews/{iv['id']}/simulate", json=body)
        assert r.status_code == 400 and fragment in r.json()["error"]["message"]
    closed = await new_interview(client)
    r = await client.post(f"/sandbox/interviews/{closed['id']}/simulate", json={})
    assert r.status_code == 400 and "invite-only" in r.json()["error"]["message"]
    cand = (
        await client.post(
            f"/api/v1/interviews/{closed['id']}/candidates", json={"name": "C", "email": "C@x.io"}
        )
    ).json()["data"][0]
    s2 = await simulate(client, closed["id"], candidateId=cand["id"])
    assert s2["participantName"] == "C" and s2["participantEmail"] == "c@x.io"
    listed = (await client.get(f"/api/v1/interviews/{closed['id']}/candidates")).json()["data"][0]
    assert listed["sessionId"] == s2["id"]
    cand2 = (
        await client.post(f"/api/v1/interviews/{closed['id']}/candidates", json={"email": "d@x.io"})
    ).json()["data"][0]
    s3 = await simulate(client, closed["id"], participantEmail="D@x.io")
    assert (await client.get(f"/api/v1/interviews/{closed['id']}/candidates")).json()["data"][0][
        "sessionId"
    ] == s3["id"]
    assert cand2["sessionId"] is None
    await client.delete(f"/api/v1/interviews/{iv['id']}")
    r = await client.post(f"/sandbox/interviews/{iv['id']}/simulate", json={})
    assert r.status_code == 400 and "archived" in r.json()["error"]["message"]
    r = await client.post(f"/sandbox/interviews/{uuid.uuid4()}/simulate", json={})
    assert err(r) == (404, "NOT_FOUND", "Interview not found")
    r = await client.post(
        f"/sandbox/interviews/{iv['id']}/simulate", headers={"Authorization": "Bearer nope"}
    )
    assert r.status_code == 401


async def test_get_session_errors(client, sb):
    iv = await published(client)
    s = await simulate(client, iv["id"])
    assert err(await client.get(f"/api/v1/sessions/{uuid.uuid4()}")) == (
        404,
        "NOT_FOUND",
        "Session not found",
    )
    assert err(await client.get("/api/v1/sessions/123")) == (
        500,
        "INTERNAL_ERROR",
        'invalid input syntax for type uuid: "123"',
    )
    other = sb.create_key(organization=sb.create_organization("B"))
    h = {"Authorization": f"Bearer {other}"}
    assert err(await client.get(f"/api/v1/sessions/{s['id']}", headers=h)) == (
        403,
        "FORBIDDEN",
        "You do not have access to this session",
    )
    assert err(await client.get(f"/api/v1/sessions/{s['id']}/report", headers=h)) == (
        403,
        "FORBIDDEN",
        "You do not have access to this interview",
    )


async def test_session_report(client):
    iv = await published(client)
    await client.patch(
        f"/api/v1/interviews/{iv['id']}", json={"antiCheatingEnabled": True, "objective": "obj"}
    )
    s = await simulate(client, iv["id"])
    rep = (await client.get(f"/api/v1/sessions/{s['id']}/report")).json()["data"]
    assert "id" not in rep and rep["interviewObjective"] == "obj" and rep["status"] == "COMPLETED"
    assert rep["messages"][0]["sessionId"] == s["id"] and rep["messages"][0]["contentType"] == "TEXT"
    assert isinstance(rep["antiCheatingLog"][0]["timestamp"], int)
    assert err(await client.get(f"/api/v1/sessions/{uuid.uuid4()}/report")) == (
        404,
        "NOT_FOUND",
        "Session not found.",
    )
    assert err(await client.get("/api/v1/sessions/x/report"))[:2] == (500, "INTERNAL_ERROR")


async def test_end_sessions(client, sb):
    iv = await published(client, "a", "b")
    live = await simulate(client, iv["id"], status="IN_PROGRESS")
    done = await simulate(client, iv["id"])
    url = f"/api/v1/interviews/{iv['id']}/sessions/end"
    r = (await client.post(url, json={"ids": [live["id"], done["id"], live["id"], "bad id"]})).json()["data"]
    assert r == {
        "dryRun": True,
        "results": [
            {"id": live["id"], "status": "eligible"},
            {
                "id": done["id"],
                "status": "skipped",
                "reason": "Session not found in interview or not in progress.",
            },
            {"id": "bad id", "status": "failed", "reason": 'invalid input syntax for type uuid: "bad id"'},
        ],
    }
    r = (await client.post(url, json={"ids": [live["id"]], "dryRun": False})).json()["data"]
    assert r == {"dryRun": False, "results": [{"id": live["id"], "status": "succeeded"}]}
    got = (await client.get(f"/api/v1/sessions/{live['id']}")).json()["data"]
    assert got["status"] == "COMPLETED" and got["totalDurationSeconds"] >= 0 and got["summary"] is None
    r = (await client.post(url, json={"ids": [live["id"]], "dryRun": False})).json()["data"]
    assert r["results"][0]["status"] == "skipped"
    cases = [
        (b"{", "Invalid JSON body."),
        (b"null", "Invalid input: expected object, received null"),
        (b"[]", "Invalid input: expected object, received array"),
        (b"{}", "Invalid input: expected array, received undefined"),
        (b'{"ids": []}', "Too small: expected array to have >=1 items"),
        (json.dumps({"ids": ["x"] * 101}).encode(), "Too big: expected array to have <=100 items"),
        (b'{"ids": ["  "]}', "Too small: expected string to have >=1 characters"),
        (b'{"ids": ["a"], "dryRun": "false"}', "Invalid input: expected boolean, received string"),
    ]
    for raw, message in cases:
        assert err(await client.post(url, content=raw)) == (400, "BAD_REQUEST", message), raw
    viewer = sb.create_key("VIEWER")
    h = {"Authorization": f"Bearer {viewer}"}
    assert err(await client.post(url, json={"ids": [live["id"]]}, headers=h)) == (
        403,
        "FORBIDDEN",
        "You need at least MEMBER permission to perform this action. Your current role is VIEWER.",
    )
    # a project role can lift the effective role
    proj = sb.identity(viewer)["projects"][0]
    sb.set_project_members(
        proj,
        {
            sb.identity(viewer)["userId"]: "MEMBER",
            sb.identity(client.headers["authorization"][7:])["userId"]: "OWNER",
        },
    )
    assert (await client.post(url, json={"ids": [live["id"]]}, headers=h)).status_code == 200


async def test_candidates(client, sb):
    iv = await published(client)
    url = f"/api/v1/interviews/{iv['id']}/candidates"
    one = (
        await client.post(url, json={"name": " Ann ", "email": " ANN@Example.COM ", "phone": " ", "notes": 5})
    ).json()["data"]
    assert len(one) == 1
    c = one[0]
    assert (c["name"], c["email"], c["phone"], c["notes"], c["sessionId"]) == (
        "Ann",
        "ann@example.com",
        None,
        None,
        None,
    )
    assert re.fullmatch(r"[a-z0-9]{12}", c["inviteToken"])
    assert c["inviteUrl"] == f"http://sandbox.test/i/invite/{c['inviteToken']}" and "updatedAt" in c
    many = (
        await client.post(
            url,
            json=[{"email": "not-an-email"}, {"name": "", "birthday": "2000-02-29", "graduationYear": 2021}],
        )
    ).json()["data"]
    assert (
        many[0]["name"] == "" and many[0]["email"] == "not-an-email" and many[1]["birthday"] == "2000-02-29"
    )
    dup = (await client.post(url, json={"email": "ann@example.com"})).json()["data"]
    listed = (await client.get(url)).json()["data"]
    assert len(listed) == 4 and listed[0]["id"] == dup[0]["id"]  # newest first, duplicates allowed
    assert "inviteUrl" not in listed[0] and "updatedAt" not in listed[0] and "interviewId" not in listed[0]
    cases = [
        (b"{", "Invalid JSON body"),
        (b"[]", "At least one candidate is required"),
        (json.dumps([{}] * 501).encode(), "Maximum 500 candidates per request"),
        (b"[1]", "Each candidate must be an object"),
        (b"null", "Each candidate must be an object"),
        (b"[[]]", "Invalid input: expected object, received array"),
        (b'{"birthday": "2026-02-30"}', "Invalid ISO date"),
        (b'{"birthday": "2026-02-01T00:00:00Z"}', "Invalid ISO date"),
        (b'{"graduationYear": "2025"}', "Invalid input: expected number, received string"),
        (b'{"gender": 1}', "Invalid input: expected string, received number"),
    ]
    for raw, message in cases:
        assert err(await client.post(url, content=raw)) == (400, "BAD_REQUEST", message), raw
    assert len((await client.get(url)).json()["data"]) == 4  # nothing inserted by failures


async def test_update_candidate(client, sb):
    iv = await published(client)
    c = (
        await client.post(
            f"/api/v1/interviews/{iv['id']}/candidates", json={"name": "Ann", "email": "a@x.io"}
        )
    ).json()["data"][0]
    url = f"/api/v1/interviews/{iv['id']}/candidates/{c['id']}"
    d = (
        await client.patch(url, json={"email": " Ann@X.io ", "notes": None, "major": "CS", "junk": 1})
    ).json()["data"]
    assert d["email"] == "Ann@X.io" and d["major"] == "CS" and d["interviewId"] == iv["id"]
    assert "inviteUrl" not in d and d["updatedAt"] == c["updatedAt"] and d["inviteToken"] == c["inviteToken"]
    cases = [
        (b"{", "Invalid JSON body."),
        (b"{}", "No valid fields to update."),
        (b'{"junk": 1}', "No valid fields to update."),
        (b'{"name": "  "}', "Too small: expected string to have >=1 characters"),
        (b'{"name": null}', "Invalid input: expected string, received null"),
        (b'{"email": ""}', "Invalid email address"),
        (b'{"email": "nope"}', "Invalid email address"),
        (b'{"graduationYear": 1.5}', "Invalid input: expected int, received number"),
    ]
    for raw, message in cases:
        assert err(await client.patch(url, content=raw)) == (400, "BAD_REQUEST", message), raw
    assert err(
        await client.patch(f"/api/v1/interviews/{iv['id']}/candidates/{uuid.uuid4()}", json={"name": "x"})
    ) == (
        404,
        "NOT_FOUND",
        "Candidate not found.",
    )
    assert err(await client.patch(f"/api/v1/interviews/{iv['id']}/candidates/nope", json={"name": "x"}))[
        :2
    ] == (
        500,
        "INTERNAL_ERROR",
    )
    other_iv = await published(client)
    assert err(
        await client.patch(f"/api/v1/interviews/{other_iv['id']}/candidates/{c['id']}", json={"name": "x"})
    ) == (
        404,
        "NOT_FOUND",
        "Candidate not found.",
    )
    viewer = {"Authorization": f"Bearer {sb.create_key('VIEWER')}"}
    assert err(await client.patch(url, json={"name": "x"}, headers=viewer)) == (
        403,
        "FORBIDDEN",
        "MEMBER role or higher required.",
    )
    # adding candidates checks no role: a VIEWER key can still add them
    assert (
        await client.post(f"/api/v1/interviews/{iv['id']}/candidates", json={}, headers=viewer)
    ).status_code == 200


async def test_practices(client, sb):
    iv = await published(client, "a", "b")
    p1 = (
        await client.post(f"/sandbox/interviews/{iv['id']}/practices", json={"seed": 1, "answers": ["x"]})
    ).json()["data"]
    p2 = (await client.post(f"/sandbox/interviews/{iv['id']}/practices", json={})).json()["data"]
    assert p1["attempts"][0]["answerText"] == "x" and len(p1["questions"]) == 2
    url = f"/api/v1/interviews/{iv['id']}/practices"
    listed = (await client.get(url)).json()
    assert list(listed) == ["data"]  # no cursor
    assert [p["id"] for p in listed["data"]] == [p2["session"]["id"], p1["session"]["id"]]
    assert listed["data"][0]["attemptCount"] == 2 and listed["data"][0]["questionCount"] == 2
    assert len((await client.get(url + "?limit=1")).json()["data"]) == 1
    for bad in ("0", "501", "1.5", "abc", ""):
        assert err(await client.get(f"{url}?limit={bad}")) == (
            400,
            "BAD_REQUEST",
            "limit must be between 1 and 500.",
        ), bad
    rep = (await client.get(f"/api/v1/practices/{p1['session']['id']}")).json()["data"]
    assert set(rep) == {"session", "interview", "questions", "attempts"}
    other_user = {"Authorization": f"Bearer {sb.create_key('MEMBER')}"}
    assert (await client.get(url, headers=other_user)).json()["data"] == []  # only the key owner's
    assert err(await client.get(f"/api/v1/practices/{p1['session']['id']}", headers=other_user)) == (
        404,
        "NOT_FOUND",
        "Practice not found.",
    )
    assert err(await client.get(f"/api/v1/practices/{uuid.uuid4()}")) == (
        404,
        "NOT_FOUND",
        "Practice not found.",
    )
    assert err(await client.get("/api/v1/practices/zz"))[:2] == (500, "INTERNAL_ERROR")


async def test_access_check_b_routes(client, sb):
    iv = await published(client)
    other = {"Authorization": f"Bearer {sb.create_key(organization=sb.create_organization('B'))}"}
    cid = str(uuid.uuid4())
    for method, suffix in (
        ("GET", "/sessions"),
        ("GET", "/candidates"),
        ("POST", "/candidates"),
        ("GET", "/practices"),
        ("POST", "/sessions/end"),
        ("PATCH", f"/candidates/{cid}"),
    ):
        r = await client.request(
            method, f"/api/v1/interviews/{iv['id']}{suffix}", content=b"{}", headers=other
        )
        assert err(r) == (403, "FORBIDDEN", "You do not have access to this interview"), suffix
        r = await client.request(method, f"/api/v1/interviews/{uuid.uuid4()}{suffix}", content=b"{}")
        assert err(r) == (404, "NOT_FOUND", "Interview not found"), suffix
        r = await client.request(method, f"/api/v1/interviews/not-uuid{suffix}", content=b"{}")
        assert err(r) == (404, "NOT_FOUND", "Interview not found"), suffix


async def test_usage(client, sb):
    await new_interview(client)
    await new_interview(client)
    u = (await client.get("/api/v1/usage")).json()["data"]
    assert u == {
        "plan": "self-hosted",
        "templates": {"used": 2, "limit": None},
        "session_hours": {"used": 0, "limit": None},
        "ai_tokens": {"used": 0, "limit": None},
        "seats": {"used": 1, "limit": None},
    }
    sb.create_key("VIEWER")
    assert (await client.get("/api/v1/usage")).json()["data"]["seats"]["used"] == 2


async def test_simulate_scores_criteria_and_handles_no_questions(client, sb):
    iv = await new_interview(client, assessmentCriteria=[{"name": "Testing", "description": "writes tests"}])
    await client.post(f"/api/v1/interviews/{iv['id']}/publish")
    empty = await simulate(client, iv["id"])
    assert empty["status"] == "COMPLETED" and [m["role"] for m in empty["messages"]].count("USER") == 0
    await add_questions(client, iv["id"], "How do you test an API?")
    s = await simulate(client, iv["id"], answers=["I write tests first, because 3 bugs were found that way."])
    (crit,) = s["insights"]["criteriaEvaluations"]
    assert crit["name"] == "Testing" and 1 <= crit["score"] <= 10 and "Sandbox heuristic" in crit["rationale"]
    assert s["insights"]["questionEvaluations"][0]["questionId"]
    assert "sandbox" in s["summary"] and s["totalDurationSeconds"] > 0
    # Python twin and bulk seeding
    twin = sb.simulate_session(iv["id"], participantName="Py", seed=2)
    assert (await client.get(f"/api/v1/sessions/{twin['id']}")).json()["data"] == twin
    assert len(sb.seed_sessions(iv["id"], 5, status="IN_PROGRESS")) == 5
    listed = (await client.get(f"/api/v1/interviews/{iv['id']}/sessions?limit=100")).json()["data"]
    # Listed by start time (createdAt), newest first: the seeded minute-long sessions started
    # before the shorter simulated ones that ended just before them.
    assert [s["status"] for s in listed].count("IN_PROGRESS") == 5 and len(listed) == 8
    assert [s["createdAt"] for s in listed] == sorted((s["createdAt"] for s in listed), reverse=True)
