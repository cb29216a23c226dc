"""resources/subscribe and logging/setLevel for clients on protocols before 2026-07-28."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from mcp.client import Client
from tests.server.conftest import call, setup_interview

from aural_mcp.server.app import build_server
from aural_mcp.settings import Settings

# These methods exist for clients on protocols before 2026-07-28; the SDK warns that they are legacy.
pytestmark = [
    pytest.mark.anyio,
    pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning"),
]


async def test_a_write_through_the_server_notifies_subscribers_of_the_interview():
    updates: list[str] = []

    async def on_message(message: Any) -> None:
        params = getattr(getattr(message, "params", None), "uri", None)
        if getattr(message, "method", "") == "notifications/resources/updated" and params is not None:
            updates.append(str(params))

    server = build_server(Settings(sandbox=True))
    async with Client(server, mode="legacy", message_handler=on_message) as client:
        caps = client.session.server_capabilities if hasattr(client, "session") else None
        if caps is not None:
            assert caps.resources is not None and caps.resources.subscribe
            assert caps.logging is not None
        ids = await setup_interview(client)
        iid = ids["interviewId"]
        other = (await call(client, "create_interview", {"title": "Unwatched"})).structured_content["data"][
            "id"
        ]
        uri = f"aural://interviews/{iid}"
        await client.subscribe_resource(uri)

        await call(client, "update_interview", {"interviewId": other, "title": "Still unwatched"})
        await call(client, "update_interview", {"interviewId": iid, "title": "Renamed"})
        await call(client, "get_interview", {"interviewId": iid})  # reads notify nobody
        with anyio.fail_after(5):
            while not updates:
                await anyio.sleep(0.01)
        assert updates == [uri]

        await client.unsubscribe_resource(uri)
        await call(client, "update_interview", {"interviewId": iid, "title": "Renamed again"})
        await anyio.sleep(0.1)
        assert updates == [uri]
