"""Interviews: list, get, create, update, archive, publish, and their quirks as the real API has them."""

import re
import uuid
from datetime import datetime

import pytest

from .conftest import add_questions, err, new_interview

pytestmark = pytest.mark.anyio
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")


async def test_create_defaults_and_server_fields(client, sb):
    d = await new_interview(client, title="  Backend  ", extra="ignored")
    assert d["title"] == "Backend"
    uuid.UUID(d["id"])
    assert re.fullmatch(r"[a-z0-9]{10}", d["publicSlug"])
    assert d["requireInvite"] is True and d["isActive"] is True
    assert (d["aiName"], d["aiTone"], d["followUpDepth"], d["language"]) == (
        "Aural",
        "PROFESSIONAL",
        "MODERATE",
        "en",
    )
    assert (d["chatEnabled"], d["voiceEnabled"], d["videoEnabled"], d["antiCheatingEnabled"]) == (
        True,
        False,
        False,
        False,
    )
    assert d["timeLimitMinutes"] is None and d["assessmentCriteria"] is None
    assert d["projectId"] == sb.identity(client.headers["authorization"][7:])["projects"][0]
    assert TS.match(d["createdAt"]) and TS.match(d["updatedAt"])
    datetime.fromisoformat(d["createdAt"])
    assert "extra" not in d


async def test_create_forgives_invalid_values(client):
    d = await new_interview(
        client,
        aiTone="LOUD",
        followUpDepth="X",
        chatEnabled="no",
        voiceEnabled=1,
        aiName="  ",
        language=" fr ",
        description=5,
        objective="  keep spaces ",
    )
    assert (d["aiTone"], d["followUpDepth"], d["chatEnabled"], d["voiceEnabled"]) == (
        "PROFESSIONAL",
        "MODERATE",
        True,
        False,
    )
    assert d["aiName"] == "Aural" and d["language"] == "fr"
    assert d["description"] is None and d["objective"] == "  keep spaces "


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "title is required."),
        ({"title": "   "}, "title is required."),
        ({"title": 5}, "title is required."),
        ([{"title": "x"}], "title is required."),
        (
            {"title": "x", "assessmentCriteria": [{"name": "a"}]},
            "assessmentCriteria must be an array of { name, description }.",
        ),
        (
            {"title": "x", "assessmentCriteria": "a"},
            "assessmentCriteria must be an array of { name, description }.",
        ),
        ({"title": "x", "timeLimitMinutes": "30"}, "timeLimitMinutes must be a positive integer."),
        ({"title": "x", "timeLimitMinutes": 0}, "timeLimitMinutes must be a positive integer."),
        ({"title": "x", "timeLimitMinutes": 1.5}, "timeLimitMinutes must be a positive integer."),
    ],
)
async def test_create_validation(client, body, message):
    r = await client.post("/api/v1/interviews", json=body)
    assert err(r) == (400, "BAD_REQUEST", message)


async def test_create_accepts_criteria_and_empty_array(client):
    crit = [{"name": "Clarity", "description": "explains well", "weight": 2}]
    assert (await new_interview(client, assessmentCriteria=crit))["assessmentCriteria"] == crit
    assert (await new_interview(client, assessmentCriteria=[]))["assessmentCriteria"] == []
    assert (await new_interview(client, timeLimitMinutes=100000))["timeLimitMinutes"] == 100000


async def test_create_invalid_json_and_null_body(client):
    r = await client.post("/api/v1/interviews", content=b"{not json")
    assert err(r) == (400, "BAD_REQUEST", "Invalid JSON body.")
    r = await client.post("/api/v1/interviews", content=b"")
    assert err(r) == (400, "BAD_REQUEST", "Invalid JSON body.")
    r = await client.post("/api/v1/interviews", content=b"null")
    assert r.status_code == 500
    assert not r.headers["content-type"].startswith("application/json")


async def test_create_without_project(sb, client):
    org = sb.create_organization("Empty", project=False)
    other = sb.create_key(organization=org)
    r = await client.post("/api/v1/interviews", content=b"{bad", headers={"Authorization": f"Bearer {other}"})
    assert err(r) == (400, "BAD_REQUEST", "No accessible project found for this API key.")
    r = await client.get("/api/v1/interviews", headers={"Authorization": f"Bearer {other}"})
    assert r.json() == {"data": [], "cursor": None}
    iv = await new_interview(client)
    r = await client.get(f"/api/v1/interviews/{iv['id']}", headers={"Authorization": f"Bearer {other}"})
    assert err(r) == (404, "NOT_FOUND", "Interview not found.")
    r = await client.get("/api/v1/interviews/not-a-uuid", headers={"Authorization": f"Bearer {other}"})
    assert err(r)[0] == 404  # no project: 404 before anything else


async def test_get_interview_with_questions_and_count(client, sb):
    iv = await new_interview(client)
    await add_questions(client, iv["id"], "b", "a")
    await client.post(f"/api/v1/interviews/{iv['id']}/questions", json={"text": "first", "order": 0})
    sb.seed_sessions(iv["id"], 2)
    d = (await client.get(f"/api/v1/interviews/{iv['id']}")).json()["data"]
    assert [q["order"] for q in d["questions"]] == sorted(q["order"] for q in d["questions"])
    assert d["_count"] == {"sessions": 2}
    r = await client.get(f"/api/v1/interviews/{uuid.uuid4()}")
    assert err(r) == (404, "NOT_FOUND", "Interview not found.")
    r = await client.get("/api/v1/interviews/abc")
    assert err(r) == (500, "INTERNAL_ERROR", 'invalid input syntax for type uuid: "abc"')


async def test_list_item_counts_and_ordering(client, sb):
    a = await new_interview(client, title="a")
    b = await new_interview(client, title="b")
    await add_questions(client, a["id"], "q1", "q2")
    sb.seed_sessions(a["id"], 1)
    data = (await client.get("/api/v1/interviews")).json()["data"]
    assert [d["id"] for d in data] == [b["id"], a["id"]]
    assert data[1]["_count"] == {"questions": 2, "sessions": 1}
    # a PATCH moves it to the front (the list is ordered by updatedAt); adding questions does not
    await client.patch(f"/api/v1/interviews/{a['id']}", json={"title": "a2"})
    assert (await client.get("/api/v1/interviews")).json()["data"][0]["id"] == a["id"]
    await add_questions(client, b["id"], "q")
    assert (await client.get("/api/v1/interviews")).json()["data"][0]["id"] == a["id"]


async def test_interview_cursor_repeats_boundary_and_restarts(client):
    ids = [(await new_interview(client, title=f"t{i}"))["id"] for i in range(5)]
    newest_first = ids[::-1]
    p1 = (await client.get("/api/v1/interviews?limit=2")).json()
    assert [d["id"] for d in p1["data"]] == newest_first[:2]
    assert p1["cursor"] == newest_first[1]
    p2 = (await client.get(f"/api/v1/interviews?limit=2&cursor={p1['cursor']}")).json()
    assert [d["id"] for d in p2["data"]] == newest_first[1:3]  # boundary item repeats
    p_last = (await client.get(f"/api/v1/interviews?limit=2&cursor={newest_first[3]}")).json()
    assert [d["id"] for d in p_last["data"]] == newest_first[3:5] and p_last["cursor"] is None
    for bad in (str(uuid.uuid4()), "garbage", ""):
        r = (await client.get(f"/api/v1/interviews?limit=2&cursor={bad}")).json()
        assert [d["id"] for d in r["data"]] == newest_first[:2]


@pytest.mark.parametrize(
    ("raw", "n"), [("3abc", 3), ("abc", 20), ("0", 20), ("-5", 20), ("101", 100), ("", 20), ("2.9", 2)]
)
async def test_list_limit_parsing(client, sb, raw, n):
    iv = await new_interview(client)
    for i in range(120):
        await client.post("/api/v1/interviews", json={"title": f"x{i}"})
    data = (await client.get(f"/api/v1/interviews?limit={raw}")).json()["data"]
    assert len(data) == n
    sb.seed_sessions(iv["id"], 105)
    sessions = (await client.get(f"/api/v1/interviews/{iv['id']}/sessions?limit={raw}")).json()["data"]
    assert len(sessions) == n


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"title": ""}, "title must be a non-empty string."),
        ({"title": None}, "title must be a non-empty string."),
        ({"description": 1}, "description must be a string or null."),
        ({"objective": []}, "objective must be a string or null."),
        ({"assessmentCriteria": [1]}, "assessmentCriteria must be an array of { name, description }."),
        ({"chatEnabled": "true"}, "chatEnabled must be a boolean."),
        ({"voiceEnabled": None}, "voiceEnabled must be a boolean."),
        ({"videoEnabled": 0}, "videoEnabled must be a boolean."),
        ({"aiName": 3}, "aiName must be a string or null."),
        ({"aiTone": "LOUD"}, "Invalid aiTone."),
        ({"followUpDepth": "light"}, "Invalid followUpDepth."),
        ({"language": False}, "language must be a string or null."),
        ({"timeLimitMinutes": 0}, "timeLimitMinutes must be a positive integer or null."),
        ({"antiCheatingEnabled": "yes"}, "antiCheatingEnabled must be a boolean."),
        ({"isActive": False, "publicSlug": "x"}, "No valid fields to update."),
        ({}, "No valid fields to update."),
        ([], "No valid fields to update."),
        # validation order: title is checked before aiTone
        ({"aiTone": "LOUD", "title": ""}, "title must be a non-empty string."),
    ],
)
async def test_patch_validation(client, body, message):
    iv = await new_interview(client)
    r = await client.patch(f"/api/v1/interviews/{iv['id']}", json=body)
    assert err(r) == (400, "BAD_REQUEST", message)


async def test_patch_updates_and_quirks(client):
    iv = await new_interview(client)
    r = await client.patch(
        f"/api/v1/interviews/{iv['id']}",
        json={
            "title": " New ",
            "aiName": " Ada ",
            "timeLimitMinutes": None,
            "description": None,
            "isActive": False,
        },
    )
    d = r.json()["data"]
    assert (d["title"], d["aiName"], d["isActive"]) == ("New", " Ada ", True)
    assert d["updatedAt"] > iv["updatedAt"]
    assert (await client.patch(f"/api/v1/interviews/{iv['id']}", json={"aiName": ""})).json()["data"][
        "aiName"
    ] == ""
    r = await client.patch(f"/api/v1/interviews/{iv['id']}", json={"aiName": None})
    assert err(r)[:2] == (500, "INTERNAL_ERROR") and "aiName" in err(r)[2]
    r = await client.patch(f"/api/v1/interviews/{iv['id']}", json={"language": None})
    assert err(r)[:2] == (500, "INTERNAL_ERROR")
    for raw in (b"null", b"5", b'"s"', b"true"):
        r = await client.patch(f"/api/v1/interviews/{iv['id']}", content=raw)
        assert r.status_code == 500 and not r.headers["content-type"].startswith("application/json"), raw
    r = await client.patch(f"/api/v1/interviews/{iv['id']}", content=b"{")
    assert err(r) == (400, "BAD_REQUEST", "Invalid JSON body.")
    r = await client.patch(f"/api/v1/interviews/{uuid.uuid4()}", json={"title": "x"})
    assert err(r) == (404, "NOT_FOUND", "Interview not found.")
    r = await client.patch("/api/v1/interviews/nope", json={"title": "x"})
    assert err(r) == (500, "INTERNAL_ERROR", 'invalid input syntax for type uuid: "nope"')


async def test_archive_and_publish_semantics(client):
    iv = await new_interview(client)
    r = await client.request("DELETE", f"/api/v1/interviews/{iv['id']}", content=b"ignored body")
    assert r.json() == {"data": {"id": iv["id"], "archived": True}}
    assert (await client.delete(f"/api/v1/interviews/{iv['id']}")).json() == {
        "data": {"id": iv["id"], "archived": True}
    }
    listed = (await client.get("/api/v1/interviews")).json()["data"]
    assert listed[0]["id"] == iv["id"] and listed[0]["isActive"] is False  # archive hides nothing
    got = (await client.get(f"/api/v1/interviews/{iv['id']}")).json()["data"]
    assert got["isActive"] is False and got["requireInvite"] is True
    p1 = (await client.post(f"/api/v1/interviews/{iv['id']}/publish", content=b"{not json")).json()["data"]
    assert p1["publicSlug"] == iv["publicSlug"] and p1["url"] == f"http://sandbox.test/i/{iv['publicSlug']}"
    p2 = (await client.post(f"/api/v1/interviews/{iv['id']}/publish")).json()["data"]
    assert p1 == p2
    got = (await client.get(f"/api/v1/interviews/{iv['id']}")).json()["data"]
    assert got["isActive"] is True and got["requireInvite"] is False
    await client.delete(f"/api/v1/interviews/{iv['id']}")
    got = (await client.get(f"/api/v1/interviews/{iv['id']}")).json()["data"]
    assert got["requireInvite"] is False and got["isActive"] is False
    for method in ("DELETE", "POST"):
        path = "/api/v1/interviews/xyz" + ("/publish" if method == "POST" else "")
        r = await client.request(method, path)
        assert err(r)[:2] == (500, "INTERNAL_ERROR")
        path = f"/api/v1/interviews/{uuid.uuid4()}" + ("/publish" if method == "POST" else "")
        assert err(await client.request(method, path)) == (404, "NOT_FOUND", "Interview not found.")


async def test_public_pages(client, sb):
    iv = await new_interview(client, title="<b>Evil</b> & co")
    r = await client.get(f"/i/{iv['publicSlug']}")
    assert r.status_code == 200 and "&lt;b&gt;Evil&lt;/b&gt; &amp; co" in r.text and "invitation" in r.text
    await client.post(f"/api/v1/interviews/{iv['id']}/publish")
    opened = (await client.get(f"/i/{iv['publicSlug']}")).text
    assert "invitation" not in opened and "no questions yet" in opened  # open, with nothing to ask yet
    c = (await client.post(f"/api/v1/interviews/{iv['id']}/candidates", json={"name": "Ann"})).json()["data"][
        0
    ]
    assert c["inviteUrl"] == f"http://sandbox.test/i/invite/{c['inviteToken']}"
    r = await client.get(c["inviteUrl"].replace("http://sandbox.test", ""))
    assert r.status_code == 200 and "Ann" in r.text
    assert (await client.get("/i/nothere00")).status_code == 404
    assert (await client.get("/i/invite/nothere")).status_code == 404
    assert (await client.get("/healthz")).text == "ok"


async def test_public_url_setting():
    import httpx2

    from aural_mcp.sandbox import Sandbox

    box = Sandbox(public_url="https://demo.example/")
    k = box.create_key()
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=box.app), base_url="http://x") as c:
        h = {"Authorization": f"Bearer {k}"}
        iv = (await c.post("/api/v1/interviews", json={"title": "t"}, headers=h)).json()["data"]
        url = (await c.post(f"/api/v1/interviews/{iv['id']}/publish", headers=h)).json()["data"]["url"]
        assert url == f"https://demo.example/i/{iv['publicSlug']}"
    box.close()


async def test_unknown_paths_and_methods(client):
    r = await client.get("/api/v1/nothing")
    assert r.status_code == 404 and "error" not in r.text
    r = await client.get(f"/api/v1/questions/{uuid.uuid4()}")
    assert r.status_code == 405 and r.content == b""
    r = await client.put("/api/v1/interviews")
    assert r.status_code == 405 and r.content == b""
