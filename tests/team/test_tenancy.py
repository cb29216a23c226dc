"""Every request acts as its user: the team server (`serve --transport http --auth oauth`) on a real
loopback socket, in front of a real sandbox, with service tokens made by the real `aural-mcp
tokens create` command, and real MCP clients over Streamable HTTP, one per user.

Two users of two organizations each see only their own interviews, resources, completions and
resource updates; a read-only token lists and calls only read tools; `tokens revoke` makes the
next request 401; each user's pacing is their own.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.apps import APP_MIME_TYPE
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError
from mcp.shared.subscriptions import ResourceUpdated
from mcp_types import PromptReference, TextContent
from tests.support.net import free_port
from tests.support.polling import wait_until_async
from tests.support.processes import AURAL_MCP, env_without_aural, started, wait_for_output
from tests.support.servers import LiveServer
from tests.support.wire import INITIALIZE, STREAMABLE_HEADERS

from aural_mcp.operations import OPERATIONS
from aural_mcp.sandbox import Sandbox
from aural_mcp.server.app import build_for_serve
from aural_mcp.server.apps import SCORECARD_URI
from aural_mcp.server.http import HTTP_PATH, _bind, build_http_app
from aural_mcp.server.serve_settings import check_settings
from aural_mcp.settings import Settings
from aural_mcp.team.secrets import generate_secret_key

pytestmark = pytest.mark.anyio

WAIT = 30.0


@dataclass
class Team:
    server: Any  # the MCPServer (`.tenants` for inspection)
    url: str  # the MCP endpoint
    env: dict[str, str]  # what `aural-mcp tokens` needs to reach the same store
    sandbox: Sandbox
    db: Path

    def tokens(self, *args: str, key: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*AURAL_MCP, "tokens", *args], input=key, capture_output=True, text=True, env=env or self.env, timeout=WAIT
        )

    def create_token(self, name: str, key: str, *extra: str, env: dict[str, str] | None = None) -> str:
        done = self.tokens("create", "--name", name, *extra, key=key, env=env)
        assert done.returncode == 0, done.stderr
        token = done.stdout.strip()
        assert done.stdout == token + "\n" and token.startswith("amcp_st_"), "the token, alone on stdout"
        return token


@contextlib.contextmanager
def team_server(tmp_path: Path, **options: Any) -> Iterator[Team]:
    """The sandbox on one loopback port, the team server on another (uvicorn threads, lifespan on);
    `options` are more of the server's settings (rate_limit, stateless, read_only, toolsets)."""
    sandbox = Sandbox(":memory:", rate_limit=1000, rate_window=60)
    with LiveServer(sandbox.app) as api:
        base_url = api.url + "/api/v1"
        sock = _bind("127.0.0.1", 0)
        port = sock.getsockname()[1]
        public_url = f"http://127.0.0.1:{port}"
        db = tmp_path / "team.sqlite3"
        secret = generate_secret_key()
        settings = Settings(
            transport="http", auth_mode="oauth", public_url=public_url, secret_key=secret, team_db=str(db),
            base_url=base_url, **options,
        )  # fmt: skip
        check_settings(settings)  # what `serve` checks first
        server = build_for_serve(settings)
        env = env_without_aural(
            AURAL_MCP_SECRET_KEY=secret, AURAL_MCP_TEAM_DB=str(db), AURAL_MCP_PUBLIC_URL=public_url,
            AURAL_BASE_URL=base_url,
        )  # fmt: skip
        app = build_http_app(server, settings, port)
        with LiveServer(app, sock=sock, lifespan="on", log_level="warning", stop_timeout=15):
            yield Team(server, public_url + HTTP_PATH, env, sandbox, db)


@contextlib.asynccontextmanager
async def user(
    team: Team, token: str, on_message: Any = None, statuses: list[int] | None = None
) -> AsyncIterator[Client]:
    """A real MCP client over Streamable HTTP with the user's token; `statuses` gets each HTTP answer's status."""

    async def record(response: httpx2.Response) -> None:
        if statuses is not None:
            statuses.append(response.status_code)

    async with (
        create_mcp_http_client(headers={"Authorization": f"Bearer {token}"}) as http,
        Client(streamable_http_client(team.url, http_client=http), message_handler=on_message, mode="legacy") as client,
    ):
        http.event_hooks = {"response": [record]}
        yield client


def text(result: Any) -> str:
    return "".join(c.text for c in result.content if isinstance(c, TextContent))


async def ok(client: Client, tool: str, args: dict[str, Any]) -> Any:
    result = await client.call_tool(tool, args)
    assert not result.is_error, text(result)
    return result.structured_content


async def test_two_users_of_two_organizations_see_only_their_own(tmp_path: Path) -> None:
    with team_server(tmp_path) as team:
        key_a = team.sandbox.create_key(organization=team.sandbox.create_organization("Acme"))
        key_b = team.sandbox.create_key(organization=team.sandbox.create_organization("Globex"))
        token_a, token_b = team.create_token("alice", key_a), team.create_token("bob", key_b)
        updates: dict[str, list[str]] = {"a": [], "b": []}

        def recorder(who: str) -> Any:
            async def on_message(message: Any) -> None:
                if getattr(message, "method", "") == "notifications/resources/updated":
                    updates[who].append(str(message.params.uri))

            return on_message

        with anyio.fail_after(WAIT):
            async with user(team, token_a, recorder("a")) as alice, user(team, token_b, recorder("b")) as bob:
                ia = (await ok(alice, "create_interview", {"title": "Alpha backend"}))["data"]["id"]
                ib = (await ok(bob, "create_interview", {"title": "Beta designer"}))["data"]["id"]
                assert [iv["id"] for iv in (await ok(alice, "list_interviews", {}))["data"]] == [ia]
                assert [iv["id"] for iv in (await ok(bob, "list_interviews", {}))["data"]] == [ib]
                assert len(team.server.tenants) == 2

                # resources: one's own reads; the other's is not found, with this user's key
                assert "Alpha backend" in (await alice.read_resource(f"aural://interviews/{ia}")).contents[0].text
                with pytest.raises(MCPError):
                    await alice.read_resource(f"aural://interviews/{ib}")
                foreign = await bob.call_tool("get_interview", {"interviewId": ia})
                assert foreign.is_error and "Alpha" not in text(foreign)

                # prompts: the scoreboard embedded is read with the user's key
                board = await bob.get_prompt("review_sessions", {"interviewId": ia})
                assert "could not be read" in board.messages[0].content.text  # type: ignore[union-attr]
                own = await alice.get_prompt("review_sessions", {"interviewId": ia})
                assert "could not be read" not in own.messages[0].content.text  # type: ignore[union-attr]

                # completions: each user's own look-ups (and cache), never the other's
                ref = PromptReference(type="ref/prompt", name="review_sessions")
                got_a = (await alice.complete(ref, {"name": "interviewId", "value": ""})).completion.values
                got_b = (await bob.complete(ref, {"name": "interviewId", "value": ""})).completion.values
                assert got_a == [ia] and got_b == [ib]

                # subscriptions: bob subscribing to alice's interview hears nothing of her changes
                await alice.subscribe_resource(f"aural://interviews/{ia}")
                await bob.subscribe_resource(f"aural://interviews/{ia}")
                await ok(alice, "update_interview", {"interviewId": ia, "title": "Alpha backend II"})
                await ok(bob, "update_interview", {"interviewId": ib, "title": "Beta designer II"})
                deadline = time.monotonic() + 5
                while f"aural://interviews/{ia}" not in updates["a"] and time.monotonic() < deadline:
                    await anyio.sleep(0.05)
                await anyio.sleep(0.3)  # time for a stray notification to arrive, if one were sent
                assert f"aural://interviews/{ia}" in updates["a"]
                assert updates["b"] == [], updates["b"]
                tenants = team.server.tenants
                by_name = {g.name: g for g in await tenants.book.grants()}
                held_a = (await tenants.get(by_name["alice"])).subscriptions
                held_b = (await tenants.get(by_name["bob"])).subscriptions
                assert held_a.count() == 1 and held_b.count() == 1, "each subscription is held by its own user's tenant"
                assert held_a.bus is not held_b.bus


@pytest.mark.parametrize("stateless", [False, True], ids=["sessions", "stateless"])
async def test_a_read_only_token_lists_and_calls_only_read_tools(tmp_path: Path, stateless: bool) -> None:
    with team_server(tmp_path, stateless=stateless) as team:
        key = team.sandbox.create_key()
        reader, writer = team.create_token("reports", key, "--read-only"), team.create_token("ats", key)
        with anyio.fail_after(WAIT):
            async with user(team, reader) as read_only, user(team, writer) as full:
                read_tools = {t.name: t for t in (await read_only.list_tools()).tools}
                all_tools = {t.name for t in (await full.list_tools()).tools}
                assert read_tools and all(t.annotations and t.annotations.read_only_hint for t in read_tools.values())
                assert {"list_interviews", "get_interview", "compare_sessions"} <= set(read_tools)
                assert {"create_interview", "apply_interview_spec"} <= all_tools - set(read_tools)
                # the scorecard MCP App is the same for every user; its get_transcript calls are ordinary calls
                assert read_tools["compare_sessions"].meta == {"ui": {"resourceUri": SCORECARD_URI}}
                assert (await read_only.read_resource(SCORECARD_URI)).contents[0].mime_type == APP_MIME_TYPE

                # Its instructions name only tools it can call (the server's own name write tools too).
                writes = {op.name for op in OPERATIONS if not op.read_only} | {"apply_interview_spec"}
                assert set(instruction_tools(read_only.instructions)) & writes == set()
                assert "read-only" in str(read_only.instructions)
                assert {"create_interview", "publish_interview"} <= instruction_tools(full.instructions)
                async with modern_user(team, reader) as discovered:  # server/discover, not initialize
                    assert discovered.instructions == read_only.instructions

                refused = await read_only.call_tool("create_interview", {"title": "Not made"})
                assert refused.is_error and "read-only" in text(refused) and "aural:read" in text(refused)
                assert (await ok(read_only, "list_interviews", {}))["data"] == [], "nothing was created"
                made = (await ok(full, "create_interview", {"title": "Made"}))["data"]["id"]
                assert [iv["id"] for iv in (await ok(read_only, "list_interviews", {}))["data"]] == [made]


def instruction_tools(instructions: str | None) -> set[str]:
    """The tool names the server's instructions mention."""
    return {op.name for op in OPERATIONS if re.search(rf"\b{op.name}\b", instructions or "")} | (
        {"apply_interview_spec"} if "apply_interview_spec" in (instructions or "") else set()
    )


async def test_the_operators_flags_bound_every_grant(tmp_path: Path) -> None:
    from aural_mcp.server.tools import tool_names

    bounded = Settings(toolsets=["interviews"], read_only=True)
    with team_server(tmp_path, toolsets=bounded.toolsets, read_only=True) as team:
        token = team.create_token("ats", team.sandbox.create_key())  # a full grant
        with anyio.fail_after(WAIT):
            async with user(team, token) as client:
                listed = {t.name for t in (await client.list_tools()).tools}
                assert listed == set(tool_names(bounded)) and "create_interview" not in listed
                refused = await client.call_tool("create_interview", {"title": "Not made"})
                assert refused.is_error and "Unknown tool" in text(refused), "the server does not have it at all"


async def test_a_key_sealed_with_a_master_key_the_server_lacks_is_refused_clearly(tmp_path: Path) -> None:
    with team_server(tmp_path) as team:
        key = team.sandbox.create_key()
        other = {**team.env, "AURAL_MCP_SECRET_KEY": generate_secret_key()}
        token = team.create_token("ats", key, env=other)  # same store, another master key
        with anyio.fail_after(WAIT):
            async with user(team, token) as client:
                with pytest.raises(MCPError) as refused:
                    await client.call_tool("get_usage", {})
                assert "can no longer be opened" in str(refused.value) and "AURAL_MCP_SECRET_KEY" in str(refused.value)
                assert key not in str(refused.value)
        assert len(team.server.tenants) == 0


async def test_revoking_a_token_makes_its_next_request_401(tmp_path: Path) -> None:
    with team_server(tmp_path) as team:
        key = team.sandbox.create_key()
        token = team.create_token("ats", key)

        def initialize(bearer: str) -> int:
            headers = {**STREAMABLE_HEADERS, "Authorization": f"Bearer {bearer}"}
            return httpx2.post(team.url, json=INITIALIZE, headers=headers, timeout=WAIT).status_code

        assert initialize(token) == 200
        assert initialize("amcp_st_" + "x" * 43) == 401, "an unknown token"
        listed = team.tokens("list")
        assert listed.returncode == 0 and "ats" in listed.stdout and "aural" in listed.stdout
        assert token not in listed.stdout and key not in listed.stdout
        statuses: list[int] = []
        with anyio.fail_after(WAIT):
            async with user(team, token, statuses=statuses) as client:
                assert not (await client.call_tool("get_usage", {})).is_error
                assert 401 not in statuses
                revoked = team.tokens("revoke", "ats")
                assert revoked.returncode == 0, revoked.stderr
                with pytest.raises(MCPError):  # the client's next request is refused by the server...
                    await client.call_tool("get_usage", {})
                assert statuses[-1] == 401, statuses  # ...with 401
                # and its tenant (its watcher, subscriptions, listen streams, client) is closed within a second or so
                assert await wait_until_async(lambda: len(team.server.tenants) == 0, timeout=3.0)
        assert initialize(token) == 401
        assert "ats" not in team.tokens("list").stdout


async def test_each_users_pacing_is_their_own(tmp_path: Path) -> None:
    limit, window = 4, 3.0
    with team_server(tmp_path, rate_limit=limit, rate_window=window) as team:
        token_a = team.create_token("alice", team.sandbox.create_key(organization=team.sandbox.create_organization("A")))
        token_b = team.create_token("bob", team.sandbox.create_key(organization=team.sandbox.create_organization("B")))
        with anyio.fail_after(WAIT):
            async with user(team, token_a) as alice, user(team, token_b) as bob:
                await ok(bob, "get_usage", {})  # bob's tenant is open before the burst
                began = time.monotonic()
                done_a: list[float] = []

                async def burst_call() -> None:
                    await ok(alice, "get_usage", {})
                    done_a.append(time.monotonic() - began)

                async with anyio.create_task_group() as tasks:
                    for _ in range(limit + 2):  # two more than alice's budget: they wait for her window
                        tasks.start_soon(burst_call)
                    while len(done_a) < limit:
                        await anyio.sleep(0.02)
                    started = time.monotonic()
                    await ok(bob, "get_usage", {})
                    bob_took = time.monotonic() - started
                    alice_waiting = len(done_a) < limit + 2
                assert alice_waiting, "alice's last calls were still held by her pacing while bob's call ran"
                assert bob_took < 1.0, f"bob's call waited {bob_took:.2f} s behind alice's burst"
                assert max(done_a) >= window * 0.8, f"alice's burst was not paced: {sorted(done_a)}"


async def test_a_listen_stream_hears_only_its_own_users_changes(tmp_path: Path) -> None:
    with team_server(tmp_path) as team:
        key_a = team.sandbox.create_key(organization=team.sandbox.create_organization("Acme"))
        key_b = team.sandbox.create_key(organization=team.sandbox.create_organization("Globex"))
        token_a, token_b = team.create_token("alice", key_a), team.create_token("bob", key_b)
        heard: dict[str, list[str]] = {"a": [], "b": []}
        with anyio.fail_after(WAIT):
            async with modern_user(team, token_a) as alice, modern_user(team, token_b) as bob:
                ia = (await ok(alice, "create_interview", {"title": "Alpha"}))["data"]["id"]
                uri = f"aural://interviews/{ia}"

                async def listen(who: str, client: Client, ready: anyio.Event) -> None:
                    async with client.listen(resource_subscriptions=[uri]) as stream:
                        ready.set()
                        async for event in stream:
                            assert isinstance(event, ResourceUpdated)
                            heard[who].append(event.uri)

                async with anyio.create_task_group() as tasks:
                    ready_a, ready_b = anyio.Event(), anyio.Event()
                    tasks.start_soon(listen, "a", alice, ready_a)
                    tasks.start_soon(listen, "b", bob, ready_b)  # bob listens for alice's interview
                    await ready_a.wait()
                    await ready_b.wait()
                    await ok(alice, "update_interview", {"interviewId": ia, "title": "Alpha II"})
                    assert await wait_until_async(lambda: uri in heard["a"], timeout=5.0)
                    await anyio.sleep(0.3)  # time for a stray event to reach bob, if one were sent
                    tasks.cancel_scope.cancel()
        assert heard["b"] == []


@contextlib.asynccontextmanager
async def modern_user(team: Team, token: str) -> AsyncIterator[Client]:
    """A 2026-07-28 client (subscriptions/listen) with the user's token."""
    async with (
        create_mcp_http_client(headers={"Authorization": f"Bearer {token}"}) as http,
        Client(streamable_http_client(team.url, http_client=http)) as client,
    ):
        yield client


async def test_the_serve_command_starts_without_a_key_and_serves_each_user(tmp_path: Path) -> None:
    """The real `aural-mcp serve --auth oauth` process: no "AURAL_API_KEY is not set" at start (the
    keys come from users), and a service token's calls act with its key."""
    sandbox = Sandbox(":memory:", rate_limit=1000, rate_window=60)
    with LiveServer(sandbox.app) as api:
        port = free_port()
        public_url = f"http://127.0.0.1:{port}"
        env = env_without_aural(
            AURAL_MCP_SECRET_KEY=generate_secret_key(), AURAL_MCP_TEAM_DB=str(tmp_path / "team.sqlite3"),
            AURAL_MCP_PUBLIC_URL=public_url, AURAL_BASE_URL=api.url + "/api/v1",
        )  # fmt: skip
        made = subprocess.run(
            [*AURAL_MCP, "tokens", "create", "--name", "ats"], input=sandbox.create_key(), capture_output=True,
            text=True, env=env, timeout=WAIT,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        log = tmp_path / "serve.log"
        with log.open("w") as err, started(
            [*AURAL_MCP, "serve", "--transport", "http", "--auth", "oauth", "--port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=err,
        ) as proc:  # fmt: skip
            wait_for_output(log.read_text, re.compile("listening on"), proc=proc, timeout=WAIT)
            with anyio.fail_after(WAIT):
                async with (
                    create_mcp_http_client(headers={"Authorization": f"Bearer {made.stdout.strip()}"}) as http,
                    Client(streamable_http_client(public_url + HTTP_PATH, http_client=http)) as client,
                ):
                    made_iv = await ok(client, "create_interview", {"title": "From the ATS"})
                    assert made_iv["data"]["title"] == "From the ATS"
        said = log.read_text()
        assert "AURAL_API_KEY" not in said and "OAuth" in said, said


async def test_tenants_are_a_bounded_cache_and_an_evicted_one_is_closed_and_made_again(tmp_path: Path) -> None:
    with team_server(tmp_path) as team:
        token_a = team.create_token("alice", team.sandbox.create_key(organization=team.sandbox.create_organization("A")))
        token_b = team.create_token("bob", team.sandbox.create_key(organization=team.sandbox.create_organization("B")))
        tenants = team.server.tenants
        tenants.capacity = 1
        with anyio.fail_after(WAIT):
            async with user(team, token_a) as alice, user(team, token_b) as bob:
                ia = (await ok(alice, "create_interview", {"title": "Alpha"}))["data"]["id"]
                first = next(iter(tenants._open.values())).runtime
                await ok(bob, "get_usage", {})
                assert len(tenants) == 1 and first.config_error is None
                with pytest.raises(RuntimeError, match="not open"):
                    first.client  # noqa: B018 - evicted: its client is closed
                assert [iv["id"] for iv in (await ok(alice, "list_interviews", {}))["data"]] == [ia]
                assert len(tenants) == 1 and next(iter(tenants._open.values())).runtime is not first
