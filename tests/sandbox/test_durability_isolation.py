"""Issue 4 item 7: acknowledged writes survive SIGKILL; organizations are isolated; injection-shaped
strings are stored and returned verbatim."""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid

import httpx2
import pytest
from tests.support.polling import wait_until

from aural_mcp.sandbox import Sandbox

from .conftest import SandboxProcess, err, new_interview

pytestmark = pytest.mark.anyio


def test_sigkill_mid_burst_loses_no_acknowledged_write(tmp_path):
    db = tmp_path / "burst.db"
    proc = SandboxProcess(db, "--rate-limit", "1000000/60").start()
    acked: dict[str, tuple[str, str]] = {}  # interview id -> (title, question id)
    lock = threading.Lock()
    stop = threading.Event()

    def writer(n: int) -> None:
        h = {"Authorization": f"Bearer {proc.key}"}
        with httpx2.Client(base_url=proc.base, headers=h, timeout=5) as c:
            for i in range(10_000):
                if stop.is_set():
                    return
                try:
                    title = f"burst {n}-{i}"
                    r = c.post("/interviews", json={"title": title})
                    if r.status_code != 200:
                        continue
                    iid = r.json()["data"]["id"]
                    q = c.post(f"/interviews/{iid}/questions", json={"text": f"q {n}-{i}"})
                    with lock:
                        acked[iid] = (title, q.json()["data"][0]["id"] if q.status_code == 200 else "")
                except httpx2.HTTPError:
                    return

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    wait_until(lambda: len(acked) >= 400, timeout=15, every=0.01)
    proc.kill()  # SIGKILL while the writers are still sending
    stop.set()
    for t in threads:
        t.join(timeout=10)
    assert len(acked) >= 400

    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    again = SandboxProcess(db, "--rate-limit", "1000000/60").start()
    try:
        h = {"Authorization": f"Bearer {proc.key}"}
        with httpx2.Client(base_url=again.base, headers=h, timeout=10) as c:
            for iid, (title, qid) in acked.items():
                got = c.get(f"/interviews/{iid}").json()["data"]
                assert got["title"] == title
                if qid:
                    assert qid in [q["id"] for q in got["questions"]]
            assert c.get("/usage").json()["data"]["templates"]["used"] >= len(acked)
    finally:
        again.kill()


async def test_isolation_between_organizations():
    box = Sandbox(rate_limit=100_000)
    a, b = box.create_key(), box.create_key(organization=box.create_organization("Org B"))
    ha, hb = {"Authorization": f"Bearer {a}"}, {"Authorization": f"Bearer {b}"}
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=box.app), base_url="http://x") as c:
        c.headers.update(hb)
        iv = await new_interview(c, title="B's secret")
        q = (await c.post(f"/api/v1/interviews/{iv['id']}/questions", json={"text": "B's question"})).json()[
            "data"
        ][0]
        cand = (await c.post(f"/api/v1/interviews/{iv['id']}/candidates", json={"name": "B cand"})).json()[
            "data"
        ][0]
        await c.post(f"/api/v1/interviews/{iv['id']}/publish")
        s = (await c.post(f"/sandbox/interviews/{iv['id']}/simulate", json={"status": "IN_PROGRESS"})).json()[
            "data"
        ]
        p = (await c.post(f"/sandbox/interviews/{iv['id']}/practices", json={})).json()["data"]
        before = (await c.get(f"/api/v1/interviews/{iv['id']}")).json()["data"]
        c.headers.update(ha)
        base = f"/api/v1/interviews/{iv['id']}"
        expect = [
            ("GET", base, None, 404, "Interview not found."),
            ("PATCH", base, {"title": "pwned"}, 404, "Interview not found."),
            ("DELETE", base, None, 404, "Interview not found."),
            ("POST", base + "/publish", None, 404, "Interview not found."),
            ("GET", base + "/questions", None, 403, "No access to this interview"),
            ("POST", base + "/questions", {"text": "x"}, 403, "No access to this interview"),
            ("PATCH", f"/api/v1/questions/{q['id']}", {"text": "pwned"}, 403, "No access to this question"),
            ("DELETE", f"/api/v1/questions/{q['id']}", None, 403, "No access to this question"),
            ("GET", base + "/candidates", None, 403, "You do not have access to this interview"),
            ("POST", base + "/candidates", {"name": "x"}, 403, "You do not have access to this interview"),
            (
                "PATCH",
                base + f"/candidates/{cand['id']}",
                {"name": "x"},
                403,
                "You do not have access to this interview",
            ),
            ("GET", base + "/sessions", None, 403, "You do not have access to this interview"),
            (
                "POST",
                base + "/sessions/end",
                {"ids": [s["id"]], "dryRun": False},
                403,
                "You do not have access to this interview",
            ),
            ("GET", f"/api/v1/sessions/{s['id']}", None, 403, "You do not have access to this session"),
            (
                "GET",
                f"/api/v1/sessions/{s['id']}/report",
                None,
                403,
                "You do not have access to this interview",
            ),
            ("GET", base + "/practices", None, 403, "You do not have access to this interview"),
            ("GET", f"/api/v1/practices/{p['session']['id']}", None, 404, "Practice not found."),
            (
                "POST",
                f"/sandbox/interviews/{iv['id']}/simulate",
                {},
                403,
                "You do not have access to this interview",
            ),
        ]
        for method, path, body, status, message in expect:
            r = await c.request(method, path, content=json.dumps(body) if body is not None else b"")
            assert err(r) == (status, "FORBIDDEN" if status == 403 else "NOT_FOUND", message), (method, path)
        assert (await c.get("/api/v1/interviews")).json()["data"] == []
        assert (await c.get("/api/v1/usage")).json()["data"]["templates"]["used"] == 0
        # the list cursor is looked up in every project, but the page still holds only A's interviews
        assert (await c.get(f"/api/v1/interviews?cursor={iv['id']}")).json()["data"] == []
        c.headers.update(hb)
        after = (await c.get(f"/api/v1/interviews/{iv['id']}")).json()["data"]
        assert after == before  # nothing changed
        assert (await c.get(f"/api/v1/sessions/{s['id']}")).json()["data"]["status"] == "IN_PROGRESS"
    box.close()


INJECTION = [
    "'; DROP TABLE interviews; --",
    'Robert"); DELETE FROM questions WHERE ("1"="1',
    "1 OR 1=1",
    "<script>alert('x')</script>",
    '<img src=x onerror="alert(1)">',
    "{{7*7}} ${7*7} %s %n",
    "Zoë — 日本語 — עברית — 🙂👩🏽‍💻 — \u202eRTL",
    'line\nbreak\ttab\\backslash"quote',
    "x" * 100_000,
    " leading and trailing ",
]


@pytest.mark.parametrize("text", INJECTION, ids=range(len(INJECTION)))
async def test_injection_shaped_strings_round_trip(client, text):
    iv = await new_interview(client, title="t", description=text, objective=text)
    got = (await client.get(f"/api/v1/interviews/{iv['id']}")).json()["data"]
    assert got["description"] == text and got["objective"] == text
    patched = (
        await client.patch(f"/api/v1/interviews/{iv['id']}", json={"description": text, "aiName": text})
    ).json()["data"]
    assert patched["description"] == text and patched["aiName"] == text
    q = (
        await client.post(
            f"/api/v1/interviews/{iv['id']}/questions",
            json={"text": "q", "description": text, "options": [text]},
        )
    ).json()["data"][0]
    listed = (await client.get(f"/api/v1/interviews/{iv['id']}/questions")).json()["data"][0]
    assert listed["description"] == text and listed["options"] == [text] and listed["id"] == q["id"]
    c = (
        await client.post(f"/api/v1/interviews/{iv['id']}/candidates", json={"name": "n", "notes": text})
    ).json()["data"][0]
    assert c["notes"] == text.strip() or c["notes"] == text
    await client.post(f"/api/v1/interviews/{iv['id']}/publish")
    s = (
        await client.post(
            f"/sandbox/interviews/{iv['id']}/simulate", json={"participantName": text, "answers": [text]}
        )
    ).json()["data"]
    detail = (await client.get(f"/api/v1/sessions/{s['id']}")).json()["data"]
    assert detail["participantName"] == text
    assert [m["content"] for m in detail["messages"] if m["role"] == "USER"] == [text]
    # everything still there: the SQL-shaped text did nothing
    assert len((await client.get("/api/v1/interviews")).json()["data"]) == 1
    # a title with the same text is trimmed (create trims titles), otherwise verbatim
    assert (await new_interview(client, title=text))["title"] == text.strip()


async def test_unicode_edge_cases_in_json(client):
    iv = await new_interview(client)
    # a lone surrogate is valid in JSON; it is stored and returned escaped, like JSON.stringify does
    r = await client.patch(f"/api/v1/interviews/{iv['id']}", content=b'{"description": "a\\ud800b"}')
    assert r.status_code == 200 and b"\\ud800" in r.content
    # NaN / Infinity are not JSON
    r = await client.patch(f"/api/v1/interviews/{iv['id']}", content=b'{"timeLimitMinutes": NaN}')
    assert err(r) == (400, "BAD_REQUEST", "Invalid JSON body.")
    r = await client.get(f"/api/v1/interviews/{uuid.uuid4()}%27%20OR%201=1")
    assert err(r)[:2] == (500, "INTERNAL_ERROR")
