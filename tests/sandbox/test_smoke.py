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
