import pytest

from .conftest import add_questions, new_interview


@pytest.mark.anyio
async def test_lifecycle_in_process(client, sb):
    iv = await new_interview(client)
    qs = await add_questions(client, iv["id"], "Describe a recent API you designed.")
    assert qs[0]["order"] == 0
    pub = (await client.post(f"/api/v1/interviews/{iv['id']}/publish")).json()["data"]
    assert pub["url"].endswith("/i/" + iv["publicSlug"])
    r = await client.post(f"/sandbox/interviews/{iv['id']}/simulate", json={"seed": 3})
    assert r.status_code == 200, r.text
    sid = r.json()["data"]["id"]
    detail = (await client.get(f"/api/v1/sessions/{sid}")).json()["data"]
    assert detail == r.json()["data"]
    assert sb.stats["requests"] >= 5


@pytest.mark.anyio
async def test_stats_count_requests_by_method_and_route(client, sb):
    iv = await new_interview(client)
    qs = await add_questions(client, iv["id"], "One?", "Two?")
    for q in qs:
        assert (await client.patch(f"/api/v1/questions/{q['id']}", json={"text": q["text"] + "!"})).status_code == 200
    await client.get(f"/api/v1/interviews/{iv['id']}")
    stats = (await client.get("/sandbox/stats")).json()
    assert stats["by_route"]["POST /api/v1/interviews"] == 1
    assert stats["by_route"]["POST /api/v1/interviews/{id}/questions"] == 1
    assert stats["by_route"]["PATCH /api/v1/questions/{id}"] == 2
    assert stats["by_route"]["GET /api/v1/interviews/{id}"] == 1
    assert stats["by_route"]["GET /sandbox/stats"] == 1  # counted as it was answered
    assert sum(v for k, v in stats["by_route"].items() if not k.startswith("GET")) == 4  # the writes
