"""Fixtures: the real server over the SDK's in-process client, against an in-memory sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest
from mcp.client import Client
from tests.support.results import text_of as text  # the server tests' short name for it

from aural_mcp.api import AuralClient
from aural_mcp.sandbox import Sandbox
from aural_mcp.server.app import build_server
from aural_mcp.settings import Settings

SANDBOX_URL = "http://sandbox.local/api/v1"
MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
async def mcp() -> AsyncIterator[Client]:
    """A client of `build_server(Settings(sandbox=True))`: the server owns its sandbox and key."""
    async with Client(build_server(Settings(sandbox=True))) as client:
        yield client


def sandbox_client(sb: Sandbox, key: str | None = None, **kw: Any) -> AuralClient:
    return AuralClient(
        key or sb.create_key(), base_url=SANDBOX_URL, transport=httpx2.ASGITransport(app=sb.app), **kw
    )


async def call(client: Client, name: str, args: dict[str, Any] | None = None) -> Any:
    result = await client.call_tool(name, args or {})
    assert not result.is_error, text(result)
    return result


async def setup_interview(client: Client, *, title: str = "Backend screen") -> dict[str, Any]:
    """Create an interview with two questions and publish it; return ids."""
    r = await call(client, "create_interview", {"title": title, "objective": "find backend depth"})
    iid = r.structured_content["data"]["id"]
    r = await call(
        client,
        "add_questions",
        {
            "interviewId": iid,
            "questions": [
                {"text": "Describe a recent API you designed."},
                {"text": "Pick a database", "type": "SINGLE_CHOICE", "options": ["Postgres", "SQLite"]},
            ],
        },
    )
    qids = [q["id"] for q in r.structured_content["data"]]
    await call(client, "publish_interview", {"interviewId": iid})
    return {"interviewId": iid, "questionIds": qids}
