"""Sandbox set-ups the watcher tests share."""

from __future__ import annotations

from typing import Any


async def published_interview(client: Any, title: str = "Watched interview") -> str:
    iv = (await client.call("create_interview", {"title": title}))["data"]
    await client.call("add_questions", {"interviewId": iv["id"], "questions": [{"text": "Why us?"}]})
    await client.call("publish_interview", {"interviewId": iv["id"]})
    return str(iv["id"])


def backdate(sb: Any, session_id: str, at: str) -> None:
    """Make a sandbox session older than the others (the sandbox stamps sessions with its clock)."""
    row = sb.store.get("sessions", session_id)
    row["createdAt"] = row["startedAt"] = at
    sb.store.save_session(row)
    with sb.store.tx() as db:  # the list orders by the indexed column
        db.execute("UPDATE sessions SET created_at=? WHERE id=?", (at, session_id))
