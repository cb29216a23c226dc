"""Questions: list, add, update, delete; the written/read renames, JS coercions, all-or-nothing adds."""

import json
import uuid

import pytest

from .conftest import err, new_interview

pytestmark = pytest.mark.anyio


async def post_q(client, iid, body, **kw):
    return await client.post(f"/api/v1/interviews/{iid}/questions", content=json.dumps(body), **kw)


async def test_single_object_returns_array_and_renames(client):
    iv = await new_interview(client)
    r = await post_q(
        client, iv["id"], {"text": " Why? ", "required": False, "followUpEnabled": 0, "isRequired": True}
    )
    (q,) = r.json()["data"]
    assert (q["text"], q["type"], q["order"], q["isRequired"], q["probeOnShort"]) == (
        "Why?",
        "OPEN_ENDED",
        0,
        False,
        False,
    )
    assert q["options"] is None and q["allowFileUpload"] is False and q["allowedFileTypes"] == []
    assert q["interviewId"] == iv["id"]
    uuid.UUID(q["id"])


async def test_truthiness_and_coercions(client):
    iv = await new_interview(client)
    items = [
        {"text": 42, "required": "false", "followUpEnabled": "0"},
        {"text": True, "order": "7"},
        {"text": {"a": 1}, "order": True},
        {"text": "empty order", "order": ""},
        {"text": "auto"},
    ]
    data = (await post_q(client, iv["id"], items)).json()["data"]
    assert [q["text"] for q in data] == ["42", "true", "[object Object]", "empty order", "auto"]
    assert data[0]["isRequired"] is True and data[0]["probeOnShort"] is True  # "false" is truthy
    assert [q["order"] for q in data] == [
        0,
        7,
        1,
        0,
        8,
    ]  # counter: 0 -> 1 -> max(1, 8) ... explicit keep theirs


async def test_auto_order_continues_after_highest(client):
    iv = await new_interview(client)
    await post_q(client, iv["id"], {"text": "a", "order": 5})
    data = (await post_q(client, iv["id"], [{"text": "b"}, {"text": "c", "order": 2}, {"text": "d"}])).json()[
        "data"
    ]
    assert [q["order"] for q in data] == [6, 2, 7]
    listed = (await client.get(f"/api/v1/interviews/{iv['id']}/questions")).json()["data"]
    assert [q["order"] for q in listed] == [2, 5, 6, 7]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (None, "Expected JSON object or array"),
        ("text", "Expected JSON object or array"),
        (3, "Expected JSON object or array"),
        ([], "At least one question is required"),
        ([{"text": "ok"}, 1], "Each question must be an object"),
        ([[{"text": "x"}]], "Each question must be an object"),
        ({}, "Each question must have non-empty text"),
        ({"text": "   "}, "Each question must have non-empty text"),
        ({"text": None}, "Each question must have non-empty text"),
        ({"text": "x", "type": "essay"}, "Invalid question type: essay"),
        ({"text": "x", "type": "open_ended"}, "Invalid question type: open_ended"),
        ({"text": "x", "order": -1}, "order must be a non-negative integer"),
        ({"text": "x", "order": 1.5}, "order must be a non-negative integer"),
        ({"text": "x", "order": "abc"}, "order must be a non-negative integer"),
        ({"text": "x", "options": "a,b"}, "options must be an array of strings"),
        ({"text": "x", "options": [1]}, "options must be an array of strings"),
        ({"text": "x", "timeLimitSeconds": 0}, "Too small: expected number to be >0"),
        ({"text": "x", "timeLimitSeconds": 1.5}, "Invalid input: expected int, received number"),
        ({"text": "x", "allowFileUpload": "yes"}, "Invalid input: expected boolean, received string"),
        ({"text": "x", "starterCode": "print()"}, "Invalid input: expected record, received string"),
        ({"text": "x", "allowedFileTypes": None}, "Invalid input: expected array, received null"),
    ],
)
async def test_create_validation_messages(client, body, message):
    iv = await new_interview(client)
    r = await post_q(client, iv["id"], body)
    assert err(r) == (400, "BAD_REQUEST", message)


async def test_all_or_nothing_and_extras(client):
    iv = await new_interview(client)
    r = await post_q(client, iv["id"], [{"text": "good"}, {"text": "bad", "type": "NOPE"}])
    assert r.status_code == 400
    assert (await client.get(f"/api/v1/interviews/{iv['id']}/questions")).json()["data"] == []
    q = (
        await post_q(
            client,
            iv["id"],
            {
                "text": "code",
                "type": "CODING",
                "starterCode": {"python": "pass"},
                "timeLimitSeconds": 60,
                "description": " d ",
                "probeThreshold": 3,
                "showIf": {"q": 1},
                "allowedFileTypes": ["pdf"],
            },
        )
    ).json()["data"][0]
    assert (
        q["starterCode"] == {"python": "pass"} and q["timeLimitSeconds"] == 60 and q["description"] == " d "
    )
    assert q["showIf"] == {"q": 1} and q["allowedFileTypes"] == ["pdf"] and q["probeThreshold"] == 3
    r = await post_q(client, iv["id"], {"text": "frac", "probeThreshold": 2.5})
    assert err(r)[:2] == (500, "INTERNAL_ERROR")
    # integer columns are Postgres int4: out of range is a database error, as is auto-order past it
    r = await post_q(client, iv["id"], {"text": "big", "order": 2**31})
    assert err(r) == (500, "INTERNAL_ERROR", 'value "2147483648" is out of range for type integer')
    assert (await post_q(client, iv["id"], {"text": "max", "order": 2**31 - 1})).status_code == 200
    assert err(await post_q(client, iv["id"], {"text": "next"}))[:2] == (500, "INTERNAL_ERROR")


async def test_access_check_a_and_json(client, sb):
    iv = await new_interview(client)
    r = await client.post(f"/api/v1/interviews/{iv['id']}/questions", content=b"{")
    assert err(r) == (400, "BAD_REQUEST", "Invalid JSON body")
    for path in (f"/api/v1/interviews/{uuid.uuid4()}/questions", "/api/v1/interviews/xyz/questions"):
        assert err(await client.get(path)) == (404, "NOT_FOUND", "Interview not found")
        # access check comes before the body is read
        r = await client.post(path, content=b"{")
        assert err(r) == (404, "NOT_FOUND", "Interview not found")
    other = sb.create_key(organization=sb.create_organization("B"))
    h = {"Authorization": f"Bearer {other}"}
    assert err(await client.get(f"/api/v1/interviews/{iv['id']}/questions", headers=h)) == (
        403,
        "FORBIDDEN",
        "No access to this interview",
    )


async def test_archived_interview_accepts_questions(client):
    iv = await new_interview(client)
    await client.delete(f"/api/v1/interviews/{iv['id']}")
    assert (await post_q(client, iv["id"], {"text": "still"})).status_code == 200
    # adding questions does not change the interview's updatedAt
    got = (await client.get(f"/api/v1/interviews/{iv['id']}")).json()["data"]
    arch = (await client.get("/api/v1/interviews")).json()["data"][0]
    assert got["updatedAt"] == arch["updatedAt"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (None, "Expected JSON object"),
        ([], "Expected JSON object"),
        ({}, "No valid fields to update"),
        ({"isRequired": False}, "No valid fields to update"),
        ({"text": ""}, "text must be a non-empty string"),
        ({"text": 5}, "text must be a non-empty string"),
        ({"type": None}, "type cannot be null"),
        ({"type": "X"}, "Invalid question type: X"),
        ({"order": None}, "order cannot be null"),
        ({"order": -2}, "order must be a non-negative integer"),
        ({"required": None}, "required cannot be null"),
        ({"options": "a"}, "options must be an array of strings or null"),
        ({"options": [1]}, "options must be an array of strings"),
        ({"followUpEnabled": None}, "followUpEnabled cannot be null"),
        ({"timeLimitSeconds": "60"}, "Invalid input: expected number, received string"),
    ],
)
async def test_patch_validation(client, body, message):
    iv = await new_interview(client)
    q = (await post_q(client, iv["id"], {"text": "q"})).json()["data"][0]
    raw = json.dumps(body)
    assert err(await client.patch(f"/api/v1/questions/{q['id']}", content=raw)) == (
        400,
        "BAD_REQUEST",
        message,
    )
    # the body is validated before the question is looked up
    assert err(await client.patch(f"/api/v1/questions/{uuid.uuid4()}", content=raw)) == (
        400,
        "BAD_REQUEST",
        message,
    )


async def test_patch_and_delete_question(client, sb):
    iv = await new_interview(client)
    q1, q2 = (await post_q(client, iv["id"], [{"text": "a"}, {"text": "b"}])).json()["data"]
    r = await client.patch(
        f"/api/v1/questions/{q1['id']}",
        json={
            "text": " A ",
            "order": "4",
            "required": 0,
            "followUpEnabled": "no",
            "options": None,
            "probeOnShort": True,
        },
    )
    d = r.json()["data"]
    assert (d["text"], d["order"], d["isRequired"], d["probeOnShort"]) == ("A", 4, False, True)
    assert d["updatedAt"] > q1["updatedAt"]
    r = await client.patch(f"/api/v1/questions/{q1['id']}", content=b"{")
    assert err(r) == (400, "BAD_REQUEST", "Invalid JSON body")
    assert err(await client.patch(f"/api/v1/questions/{uuid.uuid4()}", json={"text": "x"})) == (
        404,
        "NOT_FOUND",
        "Question not found",
    )
    assert err(await client.patch("/api/v1/questions/nope", json={"text": "x"}))[:2] == (
        500,
        "INTERNAL_ERROR",
    )
    other = sb.create_key(organization=sb.create_organization("B"))
    h = {"Authorization": f"Bearer {other}"}
    assert err(await client.patch(f"/api/v1/questions/{q1['id']}", json={"text": "x"}, headers=h)) == (
        403,
        "FORBIDDEN",
        "No access to this question",
    )
    assert err(await client.delete(f"/api/v1/questions/{q1['id']}", headers=h)) == (
        403,
        "FORBIDDEN",
        "No access to this question",
    )
    assert (await client.delete(f"/api/v1/questions/{q2['id']}")).json() == {
        "data": {"id": q2["id"], "deleted": True}
    }
    assert err(await client.delete(f"/api/v1/questions/{q2['id']}")) == (
        404,
        "NOT_FOUND",
        "Question not found",
    )
    assert err(await client.delete("/api/v1/questions/zzz"))[:2] == (500, "INTERNAL_ERROR")
    left = (await client.get(f"/api/v1/interviews/{iv['id']}/questions")).json()["data"]
    assert [q["order"] for q in left] == [4]  # no renumbering


async def test_delete_question_cascades_practice_attempts(client):
    iv = await new_interview(client)
    q1, q2 = (await post_q(client, iv["id"], [{"text": "a"}, {"text": "b"}])).json()["data"]
    p = (await client.post(f"/sandbox/interviews/{iv['id']}/practices", json={"seed": 1})).json()["data"]
    assert len(p["attempts"]) == 2
    await client.delete(f"/api/v1/questions/{q1['id']}")
    rep = (await client.get(f"/api/v1/practices/{p['session']['id']}")).json()["data"]
    assert [a["questionId"] for a in rep["attempts"]] == [q2["id"]]
