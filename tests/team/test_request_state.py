"""Replicas share the keys of the multi-round-trip `requestState`: a state sealed by one opens on another.

Each replica is the real `MCPServer` that `aural-mcp serve` builds (`build_for_serve`); the state
goes through the request-state boundary the SDK installs in it, the middleware every `tools/call`
crosses: an `input_required` answer of a tool is sealed on its way out of replica A, and the
client's echo of it is unsealed on its way into replica B. (No tool of ours asks for input over
several rounds yet, so the boundary is driven directly with the requests a client would send.)

Then over real HTTP: two team-server replicas on one store and one secret key, each given a
test tool that asks for one more round; a real MCP client with a service token (from the real
`aural-mcp tokens create`) gets the first round's sealed state from replica A and finishes the
call on replica B.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import Context
from mcp.server.request_state import RequestStateBoundary
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError
from mcp_types import InputRequiredResult
from tests.support.processes import AURAL_MCP, env_without_aural
from tests.support.servers import LiveServer

from aural_mcp.sandbox import Sandbox
from aural_mcp.server.app import build_for_serve
from aural_mcp.server.http import HTTP_PATH, _bind, build_http_app
from aural_mcp.settings import Settings
from aural_mcp.team.secrets import generate_secret_key

pytestmark = pytest.mark.anyio

CALL = {"name": "create_interview", "arguments": {"title": "Backend screen"}}


@pytest.fixture
async def replica(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """Makes one replica's MCP server, as `serve` builds it: `replica(secret, **settings)` (OAuth
    mode on one shared store unless the settings say otherwise). Their stores are closed at the end."""
    made: list[Any] = []

    def make(secret: str | None, **options: Any) -> Any:
        team = {"auth_mode": "oauth", "public_url": "https://mcp.example.com", "team_db": str(tmp_path / "team.sqlite3")}
        settings = Settings(transport="http", secret_key=secret, base_url="http://127.0.0.1:9/api/v1", **{**team, **options})
        made.append(build_for_serve(settings))
        return made[-1]

    yield make
    for server in made:
        if server.team is not None:
            await server.team.store.close()


def boundary(server: Any) -> RequestStateBoundary:
    found = [m for m in server._lowlevel_server.middleware if isinstance(m, RequestStateBoundary)]
    assert len(found) == 1
    return found[0]


def request(params: dict[str, Any]) -> ServerRequestContext[Any, Any]:
    return ServerRequestContext(session=None, lifespan_context=None, protocol_version="2026-07-28",  # type: ignore[arg-type]
                                method="tools/call", params=params, request_id=1)  # fmt: skip


async def sealed_by(server: Any, state: str) -> str:
    """The `requestState` a client receives when a tool of `server` answers input_required with `state`."""

    async def tool(_: Any) -> dict[str, Any]:
        return {"resultType": "input_required", "inputRequests": {}, "requestState": state}

    answer = await boundary(server)(request(CALL), tool)
    wire = answer["requestState"]
    assert isinstance(wire, str) and state not in wire, "sealed, not readable by the client"
    return wire


async def opened_by(server: Any, wire: str) -> str:
    """What the tool of `server` sees when the client echoes `wire` in its next round."""
    seen: list[str] = []

    async def tool(ctx: ServerRequestContext[Any, Any]) -> dict[str, Any]:
        assert ctx.params is not None
        seen.append(ctx.params["requestState"])
        return {"content": [], "isError": False}

    await boundary(server)(request({**CALL, "requestState": wire}), tool)
    return seen[0]


async def test_a_state_sealed_by_one_replica_opens_on_another_with_the_same_secret_key(replica: Callable[..., Any]):
    secret = generate_secret_key()
    a, b = replica(secret), replica(secret)
    wire = await sealed_by(a, "step-2 of the interview draft")
    assert await opened_by(b, wire) == "step-2 of the interview draft"
    assert await opened_by(a, await sealed_by(b, "and back")) == "and back"


async def test_rotation_the_new_key_seals_and_the_old_one_still_opens(replica: Callable[..., Any]):
    old, new = generate_secret_key(), generate_secret_key()
    before, during, after = (replica(k) for k in (old, f"{new},{old}", new))
    from_before = await sealed_by(before, "minted before the rotation")
    assert await opened_by(during, from_before) == "minted before the rotation"
    from_during = await sealed_by(during, "minted during it")
    assert await opened_by(after, from_during) == "minted during it"
    with pytest.raises(MCPError) as refused:
        await opened_by(after, from_before)  # the old key is gone: its states no longer open
    assert refused.value.error.message == "Invalid or expired requestState"


async def test_another_secret_key_refuses_the_state(replica: Callable[..., Any]):
    wire = await sealed_by(replica(generate_secret_key()), "for this deployment only")
    with pytest.raises(MCPError) as refused:
        await opened_by(replica(generate_secret_key()), wire)
    assert refused.value.error.message == "Invalid or expired requestState"


async def test_token_mode_replicas_share_the_keys_only_when_given_one_secret_key(replica: Callable[..., Any]):
    token_mode = {"auth_mode": "token", "auth_token": "t" * 32, "public_url": None, "team_db": None,
                  "api_key": "dlv_" + "k" * 40}  # fmt: skip
    secret = generate_secret_key()
    wire = await sealed_by(replica(secret, **token_mode), "shared")
    assert await opened_by(replica(secret, **token_mode), wire) == "shared"
    # Without AURAL_MCP_SECRET_KEY each process has a key of its own (the SDK's default).
    alone = await sealed_by(replica(None, **token_mode), "this process only")
    with pytest.raises(MCPError):
        await opened_by(replica(None, **token_mode), alone)


def two_rounds(ctx: Context) -> Any:
    """A tool that asks for one more round, then says what state came back to it."""
    if ctx.request_state is None:
        return InputRequiredResult(request_state="draft 7 of the shortlist")
    return f"resumed with: {ctx.request_state}"


@contextlib.contextmanager
def http_replicas(tmp_path: Path, count: int) -> Iterator[tuple[list[str], str]]:
    """`count` team-server replicas (stateless JSON, one SQLite store, one secret key) in process
    on loopback, with the `two_rounds` tool; yields their MCP URLs and a service token."""
    box = Sandbox(":memory:")
    secret, db, public = generate_secret_key(), str(tmp_path / "team.sqlite3"), "http://127.0.0.1:8999"
    with contextlib.ExitStack() as stack:
        api = stack.enter_context(LiveServer(box.app)).url + "/api/v1"
        urls = []
        for _ in range(count):
            sock = _bind("127.0.0.1", 0)
            port = sock.getsockname()[1]
            settings = Settings(transport="http", port=port, auth_mode="oauth", public_url=public, secret_key=secret,
                                team_db=db, base_url=api, stateless=True, json_response=True)  # fmt: skip
            server = build_for_serve(settings)
            server.add_tool(two_rounds)
            stack.enter_context(LiveServer(build_http_app(server, settings, port), sock=sock, lifespan="on"))
            urls.append(f"http://127.0.0.1:{port}{HTTP_PATH}")
        env = env_without_aural(AURAL_MCP_SECRET_KEY=secret, AURAL_MCP_TEAM_DB=db, AURAL_MCP_PUBLIC_URL=public,
                                AURAL_BASE_URL=api)  # fmt: skip
        made = subprocess.run([*AURAL_MCP, "tokens", "create", "--name", "ats"], input=box.create_key() + "\n",
                              env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
        assert made.returncode == 0, made.stderr
        yield urls, made.stdout.strip()
    box.close()


@contextlib.asynccontextmanager
async def client(url: str, token: str) -> AsyncIterator[Client]:
    async with (
        create_mcp_http_client(headers={"Authorization": f"Bearer {token}"}) as http,
        Client(streamable_http_client(url, http_client=http)) as connected,
    ):
        yield connected


async def test_over_http_a_call_started_on_one_replica_finishes_on_another(tmp_path: Path):
    with anyio.fail_after(30), http_replicas(tmp_path, 2) as ((a, b), token):
        async with client(a, token) as on_a:
            first = await on_a.session.call_tool("two_rounds", {}, allow_input_required=True)
        assert isinstance(first, InputRequiredResult) and first.request_state
        assert "shortlist" not in first.request_state, "sealed on the wire"
        async with client(b, token) as on_b:
            done = await on_b.call_tool("two_rounds", {}, request_state=first.request_state)
        assert not done.is_error
        assert [getattr(block, "text", "") for block in done.content] == ["resumed with: draft 7 of the shortlist"]
