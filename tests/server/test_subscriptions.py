"""resources/subscribe and logging/setLevel for clients on protocols before 2026-07-28."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from mcp.client import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS
from tests.server.conftest import call, setup_interview
from tests.server.http_inprocess import Running, serve_in_process

from aural_mcp.server.app import build_server
from aural_mcp.server.subscriptions import MAX_PER_CONNECTION
from aural_mcp.settings import Settings

# These methods exist for clients on protocols before 2026-07-28; the SDK warns that they are legacy.
pytestmark = [
    pytest.mark.anyio,
    pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning"),
]
WAIT = 60.0  # bounds each test over a real transport; they take a few seconds


def updates_collector() -> tuple[list[str], Any]:
    """The URIs of `notifications/resources/updated` a client receives, and its message handler."""
    updates: list[str] = []

    async def on_message(message: Any) -> None:
        params = getattr(getattr(message, "params", None), "uri", None)
        if getattr(message, "method", "") == "notifications/resources/updated" and params is not None:
            updates.append(str(params))

    return updates, on_message


async def test_a_write_through_the_server_notifies_subscribers_of_the_interview():
    updates, on_message = updates_collector()

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


async def test_adding_candidates_notifies_subscribers_of_the_invites_csv():
    updates, on_message = updates_collector()

    async with Client(build_server(Settings(sandbox=True)), mode="legacy", message_handler=on_message) as client:
        iid = (await setup_interview(client))["interviewId"]
        uri = f"aural://interviews/{iid}/invites.csv"
        await client.subscribe_resource(uri)
        await call(client, "add_candidates", {"interviewId": iid, "candidates": [{"name": "Ada"}]})
        with anyio.fail_after(5):
            while not updates:
                await anyio.sleep(0.01)
        assert updates == [uri]


async def test_each_write_notifies_the_resources_its_registry_entry_says_it_changes():
    updates, on_message = updates_collector()

    async def updated_with(*expected: str) -> None:
        with anyio.fail_after(5):
            while len(updates) < len(expected):
                await anyio.sleep(0.01)
        assert sorted(updates) == sorted(expected)
        updates.clear()

    async with Client(build_server(Settings(sandbox=True)), mode="legacy", message_handler=on_message) as client:
        ids = await setup_interview(client)
        iid = ids["interviewId"]
        live = (
            await call(client, "simulate_session", {"interviewId": iid, "status": "IN_PROGRESS"})
        ).structured_content["data"]["id"]
        done = (await call(client, "simulate_session", {"interviewId": iid})).structured_content["data"]["id"]
        watched = [
            f"aural://interviews/{iid}",
            *(f"aural://sessions/{sid}{tail}" for sid in (live, done) for tail in ("", "/transcript")),
        ]
        for uri in watched:
            await client.subscribe_resource(uri)

        # the question's row names its interview (the call names only the question)
        await call(client, "update_question", {"questionId": ids["questionIds"][0], "text": "Changed"})
        await updated_with(f"aural://interviews/{iid}")
        await call(client, "simulate_session", {"interviewId": iid})  # a new session of the interview
        await updated_with(f"aural://interviews/{iid}")
        await call(client, "end_sessions", {"interviewId": iid, "ids": [live, done]})  # a dry run ends nothing
        await updated_with(f"aural://interviews/{iid}")
        await call(client, "end_sessions", {"interviewId": iid, "ids": [live, done], "dryRun": False})
        # only the session that was in progress ended; the completed one was skipped
        await updated_with(f"aural://interviews/{iid}", f"aural://sessions/{live}", f"aural://sessions/{live}/transcript")


# ---------------------------------------------------------------- bounds, over real transports


@contextlib.asynccontextmanager
async def remote_client(running: Running, transport: str, on_message: Any = None) -> AsyncIterator[Client]:
    if transport == "sse":
        async with Client(
            sse_client(running.url, timeout=WAIT), message_handler=on_message, mode="legacy"
        ) as client:
            yield client
    else:
        async with (
            create_mcp_http_client() as http,
            Client(
                streamable_http_client(running.url, http_client=http),
                message_handler=on_message,
                mode="legacy",
            ) as client,
        ):
            yield client


async def subscribe_error(client: Client, uri: str) -> MCPError:
    with pytest.raises(MCPError) as err:
        await client.subscribe_resource(uri)
    assert err.value.error.code == INVALID_PARAMS
    return err.value


@pytest.mark.parametrize("transport", ["http", "sse"])
async def test_subscriptions_are_checked_bounded_and_end_with_the_client(transport: str) -> None:
    updates: list[str] = []

    async def on_message(message: Any) -> None:
        if getattr(message, "method", "") == "notifications/resources/updated":
            updates.append(str(message.params.uri))

    with serve_in_process(Settings(sandbox=True, transport=transport)) as running:
        held = running.server.runtime.subscriptions
        with anyio.fail_after(WAIT):
            async with remote_client(running, transport, on_message) as client:
                # Only this server's resources: anything else is refused, naming the accepted forms.
                for bad in (
                    "aural://nope",
                    "https://example.com/x",
                    "aural://interviews/not-a-uuid",
                    f"aural://interviews/{uuid.uuid4()}/../../x",
                    f"aural://sessions/{uuid.uuid4()}/transcript\n",
                ):
                    error = await subscribe_error(client, bad)
                    assert "aural://interviews/{interviewId}" in error.error.message, bad
                    assert "aural://sessions/{sessionId}/transcript" in error.error.message
                huge = "aural://interviews/" + "x" * 200_000
                error = await subscribe_error(client, huge)
                assert (
                    "x" * 70 in error.error.message and "x" * 100 not in error.error.message
                )  # at most ~100 shown
                assert held.count() == 0

                ids = await setup_interview(client)
                watched = f"aural://interviews/{ids['interviewId']}"
                for uri in (watched, "aural://docs/llms.txt", f"aural://sessions/{uuid.uuid4()}/transcript"):
                    await client.subscribe_resource(uri)
                await client.subscribe_resource(watched)  # again: still one subscription
                assert held.count() == 3

                # At most MAX_PER_CONNECTION per client, with an error that says what to do.
                for _ in range(MAX_PER_CONNECTION - 3):
                    await client.subscribe_resource(f"aural://sessions/{uuid.uuid4()}")
                error = await subscribe_error(client, f"aural://sessions/{uuid.uuid4()}")
                assert "unsubscribe" in error.error.message and str(MAX_PER_CONNECTION) in error.error.message
                await client.unsubscribe_resource("aural://docs/llms.txt")
                await client.subscribe_resource(f"aural://sessions/{uuid.uuid4()}")  # room again
                assert held.count() == MAX_PER_CONNECTION

                # Subscribers still hear of changes.
                await call(
                    client, "update_interview", {"interviewId": ids["interviewId"], "title": "Renamed"}
                )
                while watched not in updates:
                    await anyio.sleep(0.02)

            # The client is gone: so is everything it subscribed to.
            while held.count():
                await anyio.sleep(0.02)
