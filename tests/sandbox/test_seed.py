"""Seeding rows the API never writes (dashboard, templates, AI generator), read back over real HTTP.

The rows of examples/dashboard-seed.json hold what a real account holds and the API would refuse:
`options` as an object and as `[{label, value}]`, `starterCode` as `{language, code}`, enum
values newer than the API's (`PLAYFUL`, `VOICE_FIRST`, `RANKING`) and nulls in columns the API
always fills. Every read returns them verbatim.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest

from aural_mcp.sandbox import Sandbox, SeedError

from .conftest import SandboxProcess, auth

pytestmark = pytest.mark.anyio
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "dashboard-seed.json"
DOC = json.loads(EXAMPLE.read_text())
IV = DOC["interviews"][0]
IID = IV["id"]
API = "/api/v1"


async def test_seeded_rows_read_back_verbatim(sb, http, server):
    summary = sb.seed_file(EXAMPLE)
    assert summary == {
        "interviewIds": [IID],
        "added": {"interviews": 1, "questions": 3, "candidates": 1, "sessions": 1, "messages": 4},
        "existing": {"interviews": 0, "questions": 0, "candidates": 0, "sessions": 0, "messages": 0},
    }
    (listed,) = (await http.get(f"{API}/interviews")).json()["data"]
    assert listed["id"] == IID and listed["_count"] == {"questions": 3, "sessions": 1}
    assert (listed["aiTone"], listed["mode"], listed["objective"], listed["language"]) == (
        "PLAYFUL",
        "VOICE_FIRST",
        None,
        None,
    )
    # columns the file leaves out get the database defaults; no slug until published
    assert (
        listed["publicSlug"] is None and listed["allowModeSwitch"] is True and listed["invitedEmails"] == []
    )

    got = (await http.get(f"{API}/interviews/{IID}")).json()["data"]
    by_id = {q["id"]: q for q in got["questions"]}
    for raw in IV["questions"]:
        for name, value in raw.items():
            assert by_id[raw["id"]][name] == value, name
    choice, ranking, coding = (by_id[q["id"]] for q in IV["questions"])
    assert choice["options"] == {"options": ["Redux", "Zustand", "Signals"], "allowMultiple": False}
    assert ranking["type"] == "RANKING" and ranking["options"][0] == {"label": "Tests", "value": "tests"}
    assert coding["starterCode"] == {"language": "typescript", "code": "export const add = (a, b) => a - b;"}
    assert coding["isRequired"] is None and coding["allowedFileTypes"] == []
    assert (await http.get(f"{API}/interviews/{IID}/questions")).json()["data"] == got["questions"]

    # a write through the API keeps the raw columns it does not touch
    r = await http.patch(f"{API}/questions/{choice['id']}", json={"text": "Which store first?"})
    assert r.status_code == 200 and r.json()["data"]["options"] == choice["options"]

    (cand,) = (await http.get(f"{API}/interviews/{IID}/candidates")).json()["data"]
    assert (cand["name"], cand["inviteToken"], cand["phone"]) == ("Ada Example", "seedinvite01", None)
    page = await http.get("/i/invite/seedinvite01")
    assert page.status_code == 200 and "Frontend engineer (made in the dashboard)" in page.text

    seeded = IV["sessions"][0]
    (row,) = (await http.get(f"{API}/interviews/{IID}/sessions")).json()["data"]
    detail = (await http.get(f"{API}/sessions/{row['id']}")).json()["data"]
    assert row["createdAt"] == seeded["createdAt"] and row["totalDurationSeconds"] == 750
    assert row["_count"]["messages"] == len(detail["messages"]) == 4
    assert [m["role"] for m in detail["messages"]] == ["SYSTEM", "ASSISTANT", "USER", "SYSTEM"]
    report = (await http.get(f"{API}/sessions/{row['id']}/report")).json()["data"]
    assert report["antiCheatingLog"] == [] and report["themes"] == ["state management"]
    assert all(m["whiteboardPages"] == 1 and m["sessionId"] == row["id"] for m in report["messages"])

    # the sandbox's own features cope with the odd shapes: a simulated candidate sees the labels
    sim = await http.post(f"/sandbox/interviews/{IID}/simulate", json={"candidateId": cand["id"], "seed": 3})
    assert sim.status_code == 200, sim.text
    prompts = [m["content"] for m in sim.json()["data"]["messages"] if m["role"] == "ASSISTANT"]
    assert any("Options: Redux, Zustand, Signals." in p for p in prompts)
    assert any("Options: Tests, Types." in p for p in prompts)
    pub = (await http.post(f"{API}/interviews/{IID}/publish")).json()["data"]
    assert pub["id"] == IID and (await http.get(pub["url"].replace(server.url, ""))).status_code == 200


async def test_reseeding_adds_nothing_and_keeps_api_changes(sb, http):
    sb.seed_file(EXAMPLE)
    await http.patch(f"{API}/interviews/{IID}", json={"title": "Renamed through the API"})
    again = sb.seed_file(EXAMPLE)
    assert set(again["added"].values()) == {0}
    assert again["existing"] == {
        "interviews": 1,
        "questions": 3,
        "candidates": 1,
        "sessions": 1,
        "messages": 4,
    }
    (listed,) = (await http.get(f"{API}/interviews")).json()["data"]
    assert listed["title"] == "Renamed through the API"

    # rows without ids get ids derived from the file: re-seeding the same document adds nothing
    no_ids = {"interviews": [{"title": "No ids", "questions": [{"text": "Why?"}], "sessions": [{}]}]}
    first = sb.seed(no_ids)
    assert first["added"]["interviews"] == 1 and sb.seed(no_ids)["added"] == dict.fromkeys(first["added"], 0)
    titles = [i["title"] for i in (await http.get(f"{API}/interviews")).json()["data"]]
    assert sorted(titles) == ["No ids", "Renamed through the API"]
    (made,) = first["interviewIds"]
    assert [q["text"] for q in (await http.get(f"{API}/interviews/{made}/questions")).json()["data"]] == [
        "Why?"
    ]


async def test_seed_goes_to_the_project_of_the_key_named(sb, key, server):
    org = sb.create_organization("Other org")
    other = sb.create_key(organization=org)
    sb.seed({"key": other, "interviews": [{"title": "Theirs"}]})
    async with httpx2.AsyncClient(base_url=server.url, timeout=30) as c:
        mine = (await c.get(f"{API}/interviews", headers=auth(key))).json()["data"]
        theirs = (await c.get(f"{API}/interviews", headers=auth(other))).json()["data"]
    assert mine == [] and [i["title"] for i in theirs] == ["Theirs"]
    assert theirs[0]["projectId"] == sb.identity(other)["projects"][0]
    assert theirs[0]["userId"] == sb.identity(other)["userId"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "the seed must be a JSON object"),
        ({"interview": []}, "unknown top-level field 'interview'"),
        ({"interviews": {}}, "seed.interviews: must be a list of objects"),
        ({"interviews": [1]}, "seed.interviews[0]: must be an object"),
        (
            {"interviews": [{"questions": {"text": "q"}}]},
            "interviews[0].questions: must be a list of objects",
        ),
        (
            {"interviews": [{}, {"sessions": [{"messages": "hi"}]}]},
            "interviews[1].sessions[0].messages: must be",
        ),
        ({"interviews": [{"title": "ok"}, {"id": "not-a-uuid"}]}, "interviews[1].id: must be a UUID"),
        ({"key": 5}, "key: must be the text of a dlv_ key"),
        ({"key": "dlv_" + "x" * 32}, "key: not an API key of this sandbox"),
    ],
)
def test_bad_seed_documents_store_nothing(data, message):
    box = Sandbox()
    try:
        with pytest.raises(SeedError) as caught:
            box.seed(data)
        assert message in str(caught.value) and "dlv_x" not in str(caught.value)
        assert box.store.scalar("SELECT COUNT(*) FROM interviews") == 0
    finally:
        box.close()


def test_cli_seed_applies_once_per_database(tmp_path):
    db = tmp_path / "seeded.db"
    proc = SandboxProcess(db, "--seed", str(EXAMPLE)).start()
    try:
        out = "".join(proc.output)
        assert (
            f"Seeded from {EXAMPLE}: added 1 interview, 3 questions, 1 candidate, 1 session, 4 messages"
            in out
        )
        listed = httpx2.get(proc.base + "/interviews", headers=auth(proc.key or "")).json()["data"]
        assert [i["id"] for i in listed] == [IID]  # the printed key reaches the seeded rows
    finally:
        proc.kill()
    again = SandboxProcess(db, "--seed", str(EXAMPLE)).start()
    try:
        assert f"Seeded from {EXAMPLE}: added nothing; 10 rows already present" in "".join(again.output)
        key = proc.key or ""
        assert len(httpx2.get(again.base + "/interviews", headers=auth(key)).json()["data"]) == 1
    finally:
        again.kill()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "cannot read the seed file"),
        ('{"interviews": [', "not valid JSON: Expecting value at line 1 column 17"),
        ('{"interviews": [{"questions": 5}]}', "interviews[0].questions: must be a list of objects"),
        ("[1, 2]", "the seed file must hold a JSON object"),
    ],
)
def test_cli_bad_seed_file_is_one_line_and_exit_2(tmp_path, content, problem):
    seed = tmp_path / "bad-seed.json"
    if content is not None:
        seed.write_text(content)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "aural_mcp.cli",
            "sandbox",
            "--db",
            ":memory:",
            "--port",
            "0",
            "--seed",
            str(seed),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert out.stderr.startswith(f"aural-mcp sandbox: --seed {seed}: ") and problem in out.stderr


async def test_every_route_copes_with_nulls_in_every_seeded_column(sb, http, server):
    ids = [f"00000000-0000-4000-8000-00000000000{n}" for n in range(6)]
    iid, q1, q2, cid, sid, _ = ids
    nulls = dict.fromkeys(("title", "createdAt", "updatedAt", "aiName", "language", "aiTone", "mode"))
    sb.seed(
        {
            "interviews": [
                {
                    "id": iid,
                    **nulls,
                    "isActive": None,
                    "requireInvite": None,
                    "questions": [
                        {
                            "id": q,
                            **dict.fromkeys(("text", "order", "type", "options", "isRequired", "createdAt")),
                        }
                        for q in (q1, q2)
                    ],
                    "candidates": [
                        {"id": cid, **dict.fromkeys(("name", "email", "inviteToken", "createdAt"))}
                    ],
                    "sessions": [{"id": sid, "status": "IN_PROGRESS", "createdAt": None, "startedAt": None}],
                }
            ]
        }
    )
    calls = [
        ("GET", f"{API}/interviews", None),
        ("GET", f"{API}/interviews/{iid}", None),
        ("PATCH", f"{API}/interviews/{iid}", {"objective": "Set through the API"}),
        ("GET", f"{API}/interviews/{iid}/questions", None),
        ("PATCH", f"{API}/questions/{q1}", {"required": False}),
        ("DELETE", f"{API}/questions/{q1}", None),
        ("POST", f"{API}/interviews/{iid}/questions", {"text": "Added after the seeded ones"}),
        ("GET", f"{API}/interviews/{iid}/candidates", None),
        ("PATCH", f"{API}/interviews/{iid}/candidates/{cid}", {"phone": "+1 555 0100"}),
        ("GET", f"{API}/interviews/{iid}/sessions", None),
        ("GET", f"{API}/sessions/{sid}", None),
        ("GET", f"{API}/sessions/{sid}/report", None),
        ("POST", f"{API}/interviews/{iid}/sessions/end", {"ids": [sid], "dryRun": False}),
        ("POST", f"{API}/interviews/{iid}/publish", None),
        ("POST", f"/sandbox/interviews/{iid}/simulate", {"seed": 5}),
        ("GET", f"{API}/interviews/{iid}/sessions", None),
    ]
    for method, path, body in calls:
        r = await http.request(method, path, json=body)
        assert r.status_code == 200 and "data" in r.json(), (method, path, r.text[:300])
    got = (await http.get(f"{API}/interviews/{iid}")).json()["data"]
    assert got["title"] is None and got["aiName"] is None and got["objective"] == "Set through the API"
    assert [q["text"] for q in got["questions"]] == [None, "Added after the seeded ones"]
    ended = (await http.get(f"{API}/sessions/{sid}")).json()["data"]
    assert ended["status"] == "COMPLETED" and ended["totalDurationSeconds"] >= 0
    page = await http.get((await http.post(f"{API}/interviews/{iid}/publish")).json()["data"]["url"])
    assert page.status_code == 200 and "<h1>Interview</h1>" in page.text
