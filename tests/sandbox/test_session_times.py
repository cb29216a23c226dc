"""Sessions' times and message counts agree across the list, the detail and the report.

A real session row is created when the candidate starts, so `createdAt` is the start (the first
message), and the duration runs from it to the last message. The list's `_count.messages` and the
detail's `messages` both include SYSTEM navigation messages: the API counts every message row of
the session and returns every row in the transcript, so the two numbers are always equal.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from .conftest import add_questions, new_interview

pytestmark = pytest.mark.anyio
API = "/api/v1"


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def listed_and_detail(http, iid):
    rows = (await http.get(f"{API}/interviews/{iid}/sessions?limit=100")).json()["data"]
    out = []
    for row in rows:
        detail = (await http.get(f"{API}/sessions/{row['id']}")).json()["data"]
        out.append((row, detail))
    return out


def assert_consistent(sb, row, detail):
    messages = detail["messages"]
    assert row["_count"]["messages"] == len(messages) > 0
    assert row["createdAt"] == detail["createdAt"] == messages[0]["timestamp"]  # the start
    stamps = [ts(m["timestamp"]) for m in messages]
    assert stamps == sorted(stamps) and ts(row["updatedAt"]) >= stamps[-1]
    stored = sb.store.get("sessions", row["id"])
    assert stored["startedAt"] == row["createdAt"]
    if row["status"] == "IN_PROGRESS":
        assert row["totalDurationSeconds"] is None and stored["completedAt"] is None
    else:
        assert row["totalDurationSeconds"] == round((stamps[-1] - stamps[0]).total_seconds())
    if row["status"] == "COMPLETED":
        assert stored["completedAt"] == messages[-1]["timestamp"]


async def test_simulated_sessions_start_at_created_at_and_counts_match(sb, http):
    iv = await new_interview(http)
    await add_questions(http, iv["id"], "Describe a queue you built.", "How do you test it?", "What broke?")
    await http.post(f"{API}/interviews/{iv['id']}/publish")
    before = datetime.now().astimezone()
    for status in ("COMPLETED", "IN_PROGRESS", "ABANDONED"):
        r = await http.post(f"/sandbox/interviews/{iv['id']}/simulate", json={"status": status, "seed": 4})
        assert r.status_code == 200, r.text
    pairs = await listed_and_detail(http, iv["id"])
    assert sorted(row["status"] for row, _ in pairs) == ["ABANDONED", "COMPLETED", "IN_PROGRESS"]
    for row, detail in pairs:
        assert_consistent(sb, row, detail)
        assert "SYSTEM" in {m["role"] for m in detail["messages"]}  # counted and listed alike
        assert ts(row["createdAt"]) < before  # the simulated candidate began before the call
    # ending the in-progress session keeps its start and measures from it
    (live,) = [row for row, _ in pairs if row["status"] == "IN_PROGRESS"]
    ended = await http.post(
        f"{API}/interviews/{iv['id']}/sessions/end", json={"ids": [live["id"]], "dryRun": False}
    )
    assert ended.json()["data"]["results"] == [{"id": live["id"], "status": "succeeded"}]
    row = next(r for r, _ in await listed_and_detail(http, iv["id"]) if r["id"] == live["id"])
    stored = sb.store.get("sessions", live["id"])
    assert row["createdAt"] == live["createdAt"] == stored["startedAt"]
    elapsed = ts(stored["completedAt"]) - ts(row["createdAt"])
    assert row["totalDurationSeconds"] == round(elapsed.total_seconds())


async def test_bulk_and_file_seeded_sessions_are_consistent(sb, http):
    iv = await new_interview(http)
    sb.seed_sessions(iv["id"], 3)
    sb.seed_sessions(iv["id"], 2, status="IN_PROGRESS")
    messages = [
        {"role": "SYSTEM", "content": "Session started.", "timestamp": "2026-10-01T08:00:00.000000+00:00"},
        {"role": "ASSISTANT", "content": "Hello", "timestamp": "2026-10-01T08:00:04.000000+00:00"},
        {"role": "USER", "content": "Hi", "timestamp": "2026-10-01T08:01:40.000000+00:00"},
    ]
    sb.seed(
        {
            "interviews": [
                {
                    "id": iv["id"],  # already present: left as it is, its new sessions added
                    "sessions": [{"status": "COMPLETED", "totalDurationSeconds": 100, "messages": messages}],
                }
            ]
        }
    )
    pairs = await listed_and_detail(http, iv["id"])
    assert len(pairs) == 6
    for row, detail in pairs:
        assert_consistent(sb, row, detail)
    from_file = next(row for row, _ in pairs if row["totalDurationSeconds"] == 100)
    assert from_file["createdAt"] == messages[0]["timestamp"]  # no createdAt given: the first message
