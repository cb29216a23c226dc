"""Simulated sessions that happen over time (`completeAfterSeconds`, `abandonAfterSeconds`).

Such a session starts IN_PROGRESS, its messages arrive over the time asked, and at the deadline
it ends as an instant simulation of the same seed would have. Nothing runs in the background:
every request first applies what is due, so these tests watch the sandbox over real HTTP (and
through two processes sharing one database file, and through the MCP tool) and poll with a
deadline.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import anyio
import httpx2
import pytest
from mcp.client import Client
from tests.support.polling import wait_until
from tests.support.results import text_of
from tests.support.servers import LiveServer

from aural_mcp import responses
from aural_mcp.sandbox import Sandbox
from aural_mcp.sandbox.errors import ApiError
from aural_mcp.server.app import build_server
from aural_mcp.settings import Settings

from .conftest import SandboxProcess, auth, err
from .test_response_schemas import assert_matches
from .test_session_times import assert_consistent

API = "/api/v1"
QUESTIONS = ("Describe a queue you built.", "How do you test it?", "What broke in production?")
ANALYSIS = ("summary", "insights", "themes", "sentiment")


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def published_interview(c: httpx2.Client, **fields: Any) -> str:
    r = c.post(f"{API}/interviews", json={"title": "Backend screening", **fields})
    assert r.status_code == 200, r.text
    iid: str = r.json()["data"]["id"]
    r = c.post(f"{API}/interviews/{iid}/questions", json=[{"text": t} for t in QUESTIONS])
    assert r.status_code == 200, r.text
    assert c.post(f"{API}/interviews/{iid}/publish").status_code == 200
    return iid


def simulate(c: httpx2.Client, iid: str, **body: Any) -> dict[str, Any]:
    r = c.post(f"/sandbox/interviews/{iid}/simulate", json=body)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


def listed(c: httpx2.Client, iid: str, sid: str) -> dict[str, Any]:
    rows = c.get(f"{API}/interviews/{iid}/sessions?limit=100").json()["data"]
    return next(row for row in rows if row["id"] == sid)


def detail(c: httpx2.Client, sid: str) -> dict[str, Any]:
    data: dict[str, Any] = c.get(f"{API}/sessions/{sid}").json()["data"]
    return data


def script(session: dict[str, Any]) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in session["messages"]]


@pytest.fixture
def c(server: Any, key: str) -> Any:
    with httpx2.Client(base_url=server.url, headers=auth(key), timeout=30) as client:
        yield client


def test_a_timed_session_fills_in_over_time_then_completes_as_an_instant_one_would(sb, c):
    iid = published_interview(c)
    started = simulate(c, iid, completeAfterSeconds=2, seed=5)
    sid = started["id"]
    assert started["status"] == "IN_PROGRESS" and started["totalDurationSeconds"] is None
    assert all(started[k] in (None, []) for k in ANALYSIS)
    assert ts(started["completesAt"]) == ts(started["createdAt"]) + timedelta(seconds=2)
    assert "abandonsAt" not in started
    assert_matches(responses.ref("SessionWithResults"), started, "the timed simulate answer")
    first = started["messages"]
    assert [m["role"] for m in first] == ["SYSTEM"] and first[0]["timestamp"] == started["createdAt"]

    seen: list[dict[str, Any]] = []

    def part_way() -> bool:
        row = listed(c, iid, sid)
        seen.append(row)
        return row["status"] == "IN_PROGRESS" and row["_count"]["messages"] > len(first)

    assert wait_until(part_way, timeout=2, every=0.02), seen[-1]
    assert ts(seen[-1]["updatedAt"]) > ts(started["createdAt"])  # it moves with each change
    assert not detail(c, sid)["summary"]  # the analysis comes with the end

    def completed() -> bool:
        row = listed(c, iid, sid)
        seen.append(row)
        return row["status"] == "COMPLETED"

    assert wait_until(completed, timeout=10), seen[-1]
    counts = [row["_count"]["messages"] for row in seen]
    assert counts == sorted(counts) and counts[-1] == 2 + 3 * len(QUESTIONS) - 1 + 2  # never going back
    stamps = [ts(row["updatedAt"]) for row in seen]
    assert stamps == sorted(stamps) and stamps[-1] == ts(started["completesAt"])

    row, done = listed(c, iid, sid), detail(c, sid)
    assert_consistent(sb, row, done)  # list, detail and stored times agree
    assert row["totalDurationSeconds"] == done["totalDurationSeconds"] == 2
    assert sb.store.get("sessions", sid)["completedAt"] == started["completesAt"]
    assert all(
        ts(started["createdAt"]) <= ts(m["timestamp"]) <= ts(started["completesAt"]) for m in done["messages"]
    )
    assert {k: row[k] for k in ANALYSIS} == {k: done[k] for k in ANALYSIS}
    assert done["summary"] and done["insights"]["keyInsights"] and done["sentiment"]

    # An instant COMPLETED simulation of the same seed: the same conversation and analysis.
    instant = simulate(c, iid, status="COMPLETED", seed=5)
    assert script(done) == script(instant)
    assert {k: done[k] for k in ANALYSIS} == {k: instant[k] for k in ANALYSIS}
    report = c.get(f"{API}/sessions/{sid}/report").json()["data"]
    assert report["status"] == "COMPLETED" and report["summary"] == done["summary"]
    assert [m["content"] for m in report["messages"]] == [m["content"] for m in done["messages"]]
    assert sb.store.scalar("SELECT COUNT(*) FROM session_plans") == 0  # nothing left to apply


def test_abandon_after_seconds_ends_as_an_instant_abandoned_session(sb, c):
    iid = published_interview(c, antiCheatingEnabled=True)
    started = simulate(c, iid, abandonAfterSeconds=1, seed=8, participantName="Quinn")
    sid = started["id"]
    assert started["status"] == "IN_PROGRESS" and "completesAt" not in started
    assert ts(started["abandonsAt"]) == ts(started["createdAt"]) + timedelta(seconds=1)
    assert sb.store.get("sessions", sid)["antiCheatingLog"] == []  # nothing has happened yet
    assert wait_until(lambda: listed(c, iid, sid)["status"] == "ABANDONED", timeout=10)
    row, gone = listed(c, iid, sid), detail(c, sid)
    assert_consistent(sb, row, gone)
    assert (
        gone["messages"][-1]["role"] == "SYSTEM"
        and gone["messages"][-1]["content"] == "Candidate left the session."
    )
    assert gone["messages"][-1]["timestamp"] == started["abandonsAt"] == row["updatedAt"]
    assert gone["totalDurationSeconds"] == 1 and gone["summary"] is None
    answered = [m for m in gone["messages"] if m["role"] == "USER"]
    assert 0 < len(answered) < len(QUESTIONS)  # part of the questions answered
    stored = sb.store.get("sessions", sid)
    assert stored["completedAt"] is None
    (switch,) = stored["antiCheatingLog"]  # within the session's time
    start_ms = ts(started["createdAt"]).timestamp() * 1000
    assert start_ms <= switch["timestamp"] <= start_ms + 1000
    instant = simulate(c, iid, status="ABANDONED", seed=8, participantName="Quinn")
    assert script(gone) == script(instant)


def test_end_sessions_completes_a_running_timed_session_and_drops_the_rest(sb, c):
    iid = published_interview(c)
    started = simulate(c, iid, completeAfterSeconds=2, seed=3)
    sid = started["id"]
    ended = c.post(f"{API}/interviews/{iid}/sessions/end", json={"ids": [sid], "dryRun": False})
    assert ended.json()["data"]["results"] == [{"id": sid, "status": "succeeded"}]
    at_end = detail(c, sid)
    assert at_end["status"] == "COMPLETED" and at_end["summary"] is None  # bulk end: no report
    assert sb.store.scalar("SELECT COUNT(*) FROM session_plans") == 0
    deadline = ts(started["completesAt"])
    assert wait_until(lambda: datetime.now().astimezone() > deadline + timedelta(seconds=0.2), timeout=5)
    after = detail(c, sid)
    assert after["messages"] == at_end["messages"]  # no later message appeared
    assert "Session completed." not in [m["content"] for m in after["messages"]]
    row = listed(c, iid, sid)
    assert row["status"] == "COMPLETED" and row["updatedAt"] == sb.store.get("sessions", sid)["completedAt"]
    assert row["_count"]["messages"] == len(at_end["messages"])


def test_a_timed_session_linked_to_a_candidate_is_linked_at_once(sb, c):
    iid = published_interview(c)
    (cand,) = c.post(
        f"{API}/interviews/{iid}/candidates", json={"name": "Ada", "email": "ada@example.com"}
    ).json()["data"]
    started = simulate(c, iid, candidateId=cand["id"], completeAfterSeconds=30)
    assert started["participantName"] == "Ada" and started["participantEmail"] == "ada@example.com"
    (row,) = c.get(f"{API}/interviews/{iid}/candidates").json()["data"]
    assert row["sessionId"] == started["id"]


def test_two_processes_sharing_a_database_file_see_the_same_transition(tmp_path):
    db = tmp_path / "shared.db"
    proc = SandboxProcess(db, "--rate-limit", "1000000/60").start()
    other = Sandbox(str(db), rate_limit=1_000_000)
    try:
        h = auth(proc.key or "")
        with (
            LiveServer(other.app) as served,
            httpx2.Client(base_url=proc.base.removesuffix(API), headers=h, timeout=10) as a,
            httpx2.Client(base_url=served.url, headers=h, timeout=10) as b,
        ):
            iid = published_interview(a)
            # Another sandbox on the same file starts the session; the process sees it move on.
            started = simulate(b, iid, completeAfterSeconds=1.5, seed=11)
            sid = started["id"]
            assert listed(a, iid, sid)["status"] == "IN_PROGRESS"
            assert wait_until(lambda: listed(a, iid, sid)["status"] == "COMPLETED", timeout=10)
            seen_by_a, seen_by_b = detail(a, sid), detail(b, sid)
            assert seen_by_a == seen_by_b and seen_by_a["summary"]
            assert listed(a, iid, sid) == listed(b, iid, sid)
            assert seen_by_a["messages"][-1]["timestamp"] == started["completesAt"]
            # Each message was written once, whichever process applied it.
            ids = [m["id"] for m in seen_by_a["messages"]]
            assert len(ids) == len(set(ids)) == 2 + 3 * len(QUESTIONS) - 1 + 2
    finally:
        other.close()
        proc.kill()


BAD_TIMINGS = [
    ({"completeAfterSeconds": 0}, "completeAfterSeconds must be a number of seconds greater than 0"),
    ({"completeAfterSeconds": -5}, "completeAfterSeconds must be a number of seconds greater than 0"),
    ({"abandonAfterSeconds": 86_400.5}, "abandonAfterSeconds must be a number of seconds greater than 0 and at most 86400."),
    ({"completeAfterSeconds": "10"}, "completeAfterSeconds must be a number of seconds greater than 0 and at most 86400 (got string)"),
    ({"abandonAfterSeconds": True}, "abandonAfterSeconds must be a number of seconds greater than 0 and at most 86400 (got boolean)"),
    ({"completeAfterSeconds": [5]}, "completeAfterSeconds must be a number"),
    ({"completeAfterSeconds": 5, "abandonAfterSeconds": 5}, "Send completeAfterSeconds or abandonAfterSeconds, not both"),
    ({"completeAfterSeconds": 5, "status": "COMPLETED"}, "status describes a session that has already happened: leave it out with completeAfterSeconds"),
    ({"abandonAfterSeconds": 5, "status": "IN_PROGRESS"}, "leave it out with abandonAfterSeconds"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "message"), BAD_TIMINGS)
def test_bad_timings_are_400_naming_the_field_and_change_nothing(sb, c, body, message):
    iid = published_interview(c)
    r = c.post(f"/sandbox/interviews/{iid}/simulate", json=body)
    status, code, text = err(r)
    assert (status, code) == (400, "BAD_REQUEST") and message in text, text
    assert c.get(f"{API}/interviews/{iid}/sessions").json()["data"] == []
    with pytest.raises(ApiError, match=message.split(" (")[0]):  # the Python twin checks alike
        sb.simulate_session(iid, **body)


def test_numbers_beyond_any_range_are_400_too(sb, c):
    iid = published_interview(c)
    message = "completeAfterSeconds must be a number of seconds greater than 0 and at most 86400."
    r = c.post(f"/sandbox/interviews/{iid}/simulate", content=b'{"completeAfterSeconds": 1e400}')
    assert err(r) == (400, "BAD_REQUEST", message)  # JSON's 1e400 is Infinity, as in JavaScript
    for value in (10**400, float("inf"), float("nan")):
        with pytest.raises(ApiError, match=message):
            sb.simulate_session(iid, completeAfterSeconds=value)


def test_the_largest_timing_is_accepted_and_a_null_timing_is_an_instant_session(sb, c):
    iid = published_interview(c)
    far = simulate(c, iid, abandonAfterSeconds=86_400)
    assert ts(far["abandonsAt"]) == ts(far["createdAt"]) + timedelta(days=1)
    instant = simulate(c, iid, completeAfterSeconds=None, seed=2)
    assert instant["status"] == "COMPLETED" and "completesAt" not in instant
    twin = sb.simulate_session(iid, completeAfterSeconds=0.5, seed=2)
    assert twin["status"] == "IN_PROGRESS" and ts(twin["completesAt"]) > ts(twin["createdAt"])
    assert wait_until(lambda: listed(c, iid, twin["id"])["status"] == "COMPLETED", timeout=10)


# -- the MCP tool -----------------------------------------------------------------------------


async def _tool_call(client: Client, name: str, args: dict[str, Any]) -> Any:
    result = await client.call_tool(name, args)
    assert not result.is_error, text_of(result)
    return result


async def _published_over_mcp(client: Client) -> str:
    r = await _tool_call(client, "create_interview", {"title": "Timed screen"})
    iid: str = r.structured_content["data"]["id"]
    questions = [{"text": t} for t in QUESTIONS]
    await _tool_call(client, "add_questions", {"interviewId": iid, "questions": questions})
    await _tool_call(client, "publish_interview", {"interviewId": iid})
    return iid


TOOL_BAD_TIMINGS = [
    ({"completeAfterSeconds": 0}, "`completeAfterSeconds` must be greater than 0 (got 0)"),
    ({"abandonAfterSeconds": -1}, "`abandonAfterSeconds` must be greater than 0 (got -1)"),
    ({"completeAfterSeconds": 90_000}, "`completeAfterSeconds` must be at most 86400 (got 90000)"),
    ({"completeAfterSeconds": "soon"}, "`completeAfterSeconds` must be a number"),
    ({"abandonAfterSeconds": True}, "`abandonAfterSeconds` must be a number (got true)"),
    ({"completeAfterSeconds": 5, "abandonAfterSeconds": 5}, "send `completeAfterSeconds` or `abandonAfterSeconds`, not both"),
    ({"completeAfterSeconds": 5, "status": "ABANDONED"}, "`status` describes a session that has already happened: leave it out with `completeAfterSeconds`"),
]  # fmt: skip


@pytest.mark.anyio
async def test_the_simulate_session_tool_runs_a_timed_session_and_refuses_bad_timings():
    server = build_server(Settings(sandbox=True))
    async with Client(server) as client:
        sandbox = server.runtime.sandbox  # type: ignore[attr-defined]
        iid = await _published_over_mcp(client)
        tools = {t.name: t for t in (await client.list_tools()).tools}
        prop = tools["simulate_session"].input_schema["properties"]["completeAfterSeconds"]
        assert prop["type"] == "number" and prop["maximum"] == 86_400 and "(>0)" in prop["description"]

        for args, message in TOOL_BAD_TIMINGS:
            before = sandbox.stats["requests"]
            result = await client.call_tool("simulate_session", {"interviewId": iid, **args})
            assert result.is_error and message in text_of(result), (args, text_of(result))
            assert "Invalid arguments for `simulate_session`" in text_of(result)
            assert sandbox.stats["requests"] == before, f"{args}: the API was called"

        r = await _tool_call(
            client, "simulate_session", {"interviewId": iid, "completeAfterSeconds": 1, "seed": 4}
        )
        session = r.structured_content["data"]
        out = text_of(r)
        assert session["status"] == "IN_PROGRESS"
        assert "becomes COMPLETED by itself at " in out and f"get_session sessionId `{session['id']}`" in out
        assert f"list_sessions with interviewId `{iid}`" in out

        async def status_now() -> str:
            got = await _tool_call(client, "get_session", {"sessionId": session["id"]})
            status: str = got.structured_content["data"]["status"]
            return status

        latest = [await status_now()]
        deadline = time.monotonic() + 10
        while latest[-1] != "COMPLETED" and time.monotonic() < deadline:
            await anyio.sleep(0.05)  # a tool call per poll: the polling helpers take plain conditions
            latest.append(await status_now())
        assert latest[-1] == "COMPLETED" and "IN_PROGRESS" in latest, latest
        r = await _tool_call(client, "simulate_session", {"interviewId": iid, "abandonAfterSeconds": 60})
        assert "becomes ABANDONED by itself at " in text_of(r)
