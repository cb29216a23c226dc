"""The team server as a team deploys it: three real `aural-mcp serve --auth oauth --stateless
--json-response` replicas on one real Redis, behind a round-robin proxy at the public URL, in front
of one real sandbox whose limiter counts per key. Two users of two organizations: one signs in
with OAuth (each step of the flow lands on another replica), the other uses a service token made
by the real `aural-mcp tokens create`. Checked:

- each user sees only their own interviews, whichever replica answers;
- a token issued through one replica works on the others, and revoking it takes effect on all
  three within a second;
- a burst of three windows per user, spread over the replicas, gets no 429 from the sandbox and
  never more than the key's limit in any window (one budget per key across replicas);
- no Aural key, token or secret is in Redis, in the replicas' logs or in any answer, in plain text;
- `wait_for_sessions` carries on from one replica to another: a `since` cursor given by one works on
  the others, and each event reaches the user once, whichever replica answers.

The deployment is started once for the module (each test makes its own users and tokens).
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from tests.e2e.aural_e2e import serve_http
from tests.support.arrivals import Arrivals
from tests.support.processes import AURAL_MCP, env_without_aural
from tests.support.redis import redis_server
from tests.support.servers import LiveServer
from tests.team.oauth_support import discover, register, sign_in

from aural_mcp.sandbox import Sandbox
from aural_mcp.team.secrets import generate_secret_key

pytestmark = pytest.mark.anyio

LIMIT, WINDOW = 10, 2.0
REPLICAS = 3
HOP_BY_HOP = {b"host", b"content-length", b"connection", b"transfer-encoding", b"accept-encoding"}


class RoundRobin:
    """ASGI: each request goes to the next replica in turn (a load balancer with no affinity)."""

    def __init__(self) -> None:
        self.upstreams: list[str] = []
        self.sent = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        upstream = self.upstreams[self.sent % len(self.upstreams)]
        self.sent += 1
        query = scope.get("query_string", b"").decode()
        url = upstream + scope["path"] + (f"?{query}" if query else "")
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in HOP_BY_HOP]
        async with httpx2.AsyncClient(timeout=30) as http:
            answer = await http.request(scope["method"], url, headers=headers, content=body, follow_redirects=False)
        out = [(k.encode(), v.encode()) for k, v in answer.headers.multi_items()
               if k.lower().encode() not in HOP_BY_HOP | {b"content-encoding"}]  # fmt: skip
        out.append((b"content-length", str(len(answer.content)).encode()))
        await send({"type": "http.response.start", "status": answer.status_code, "headers": out})
        await send({"type": "http.response.body", "body": answer.content})


@pytest.fixture(scope="module")
def d() -> Iterator[dict[str, Any]]:
    """The deployment, shared by the module's tests: starting three replicas is the slow part."""
    with deployment() as started_once:
        yield started_once


@contextmanager
def deployment() -> Iterator[dict[str, Any]]:
    box = Sandbox(":memory:", rate_limit=LIMIT, rate_window=WINDOW)
    keys = {"ada": box.create_key(organization=box.create_organization("Ada's agency")),
            "bo": box.create_key(organization=box.create_organization("Bo's startup"))}
    arrivals = Arrivals(box.app, WINDOW)
    proxy = RoundRobin()
    secret = generate_secret_key()
    with ExitStack() as stack:
        api = stack.enter_context(LiveServer(arrivals, log_level="warning")).url + "/api/v1"
        public = stack.enter_context(LiveServer(proxy, log_level="warning")).url
        redis_url = stack.enter_context(redis_server())
        env = env_without_aural(AURAL_MCP_SECRET_KEY=secret, AURAL_MCP_REDIS_URL=redis_url, AURAL_BASE_URL=api)
        flags = ("--auth", "oauth", "--public-url", public, "--stateless", "--json-response",
                 "--rate-limit", f"{LIMIT}/{WINDOW:g}")  # fmt: skip
        replicas = [stack.enter_context(serve_http("http", *flags, env=env, sandbox=False)) for _ in range(REPLICAS)]
        proxy.upstreams = [r.base for r in replicas]
        try:
            yield {"box": box, "keys": keys, "arrivals": arrivals, "public": public, "redis": redis_url,
                   "env": env, "replicas": replicas, "secret": secret}  # fmt: skip
        finally:
            box.close()


@asynccontextmanager
async def mcp_client(url: str, token: str) -> AsyncIterator[Client]:
    async with (
        create_mcp_http_client(headers={"Authorization": f"Bearer {token}"}) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        yield client


def texts(result: Any) -> str:
    return "".join(getattr(block, "text", "") for block in result.content) + json.dumps(result.structured_content or {})


async def initialize_status(url: str, token: str) -> int:
    message = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}  # fmt: skip
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"}
    async with httpx2.AsyncClient(timeout=10) as http:
        return (await http.post(url, json=message, headers=headers)).status_code


def redis_contents(redis_url: str) -> str:
    import redis

    db = redis.Redis.from_url(redis_url)
    out = []
    for name in db.scan_iter(count=1000):
        kind = db.type(name).decode()
        value = {"string": lambda n: db.get(n), "zset": lambda n: db.zrange(n, 0, -1, withscores=True),
                 "set": lambda n: db.smembers(n), "hash": lambda n: db.hgetall(n),
                 "list": lambda n: db.lrange(n, 0, -1)}.get(kind, lambda n: b"")(name)  # fmt: skip
        out.append(f"{name!r}={value!r}")
    db.close()
    return "\n".join(out)


def service_token(d: dict[str, Any], key: str, name: str) -> str:
    """A service token made by the real `aural-mcp tokens create`, on the deployment's Redis."""
    made = subprocess.run([*AURAL_MCP, "tokens", "create", "--name", name], input=key + "\n",
                          env={**d["env"], "AURAL_MCP_PUBLIC_URL": d["public"]}, capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert made.returncode == 0, made.stderr
    return made.stdout.strip()


async def test_three_replicas_two_users_isolation_shared_tokens_budget_and_no_plain_secrets(d: dict[str, Any]):
    with anyio.fail_after(150):
        public, keys, box = d["public"], d["keys"], d["box"]
        mcp_url = public + "/mcp"
        seen_text: list[str] = []

        # Ada signs in with OAuth through the proxy: discovery, registration, consent and the token
        # request each land on another replica (the round-robin proxy has no affinity).
        async with httpx2.AsyncClient(timeout=30) as http:
            metadata = await discover(http, mcp_url)
            client = await register(http, metadata)
            ada = await sign_in(http, metadata, client["client_id"], keys["ada"])
        # Bo's pipeline gets a service token from the real command, on the same Redis.
        tokens = {"ada": ada["access_token"], "bo": service_token(d, keys["bo"], "bo-pipeline")}
        for replica in d["replicas"]:  # issued through one replica (or the command), good on every one
            for token in tokens.values():
                assert await initialize_status(replica.url, token) == 200

        # Each user makes an interview and, whichever replica answers, lists only their own.
        ids = {}
        for user, token in tokens.items():
            async with mcp_client(mcp_url, token) as mcp:
                made_iv = await mcp.call_tool("create_interview", {"title": f"{user}'s screen"})
                assert not made_iv.is_error, texts(made_iv)
                ids[user] = made_iv.structured_content["data"]["id"]
                seen_text.append(texts(made_iv))
        for user, token in tokens.items():
            async with mcp_client(mcp_url, token) as mcp:
                for _ in range(REPLICAS):
                    listed = await mcp.call_tool("list_interviews", {"limit": 50})
                    assert not listed.is_error, texts(listed)
                    assert [i["id"] for i in listed.structured_content["data"]] == [ids[user]]
                    seen_text.append(texts(listed))

        # A burst of three windows' worth per user, both users at once, over the three replicas.
        before = box.stats["rate_limited"]

        async def burst(token: str) -> None:
            async with mcp_client(mcp_url, token) as mcp, anyio.create_task_group() as tg:
                for _ in range(3 * LIMIT):
                    tg.start_soon(_ok, mcp)

        async def _ok(mcp: Client) -> None:
            result = await mcp.call_tool("get_usage", {})
            assert not result.is_error, texts(result)
            seen_text.append(texts(result))

        async with anyio.create_task_group() as tg:
            for token in tokens.values():
                tg.start_soon(burst, token)
        assert box.stats["rate_limited"] == before, "no 429 at the sandbox"
        for key in keys.values():
            assert d["arrivals"].most_in_a_window(key) <= LIMIT

        # Ada revokes her token through the proxy: every replica refuses it within a second.
        async with httpx2.AsyncClient(timeout=10) as http:
            revoked = await http.post(metadata["revocation_endpoint"],
                                      data={"token": ada["refresh_token"], "client_id": client["client_id"]})  # fmt: skip
        assert revoked.status_code == 200, revoked.text
        at = time.monotonic()
        while time.monotonic() - at < 1.0:
            statuses = [await initialize_status(r.url, tokens["ada"]) for r in d["replicas"]]
            if statuses == [401] * REPLICAS:
                break
            await anyio.sleep(0.05)
        assert statuses == [401] * REPLICAS, statuses
        assert [await initialize_status(r.url, tokens["bo"]) for r in d["replicas"]] == [200] * REPLICAS

        # No secret in plain text anywhere a user, an operator or an attacker with the store could read.
        secrets = [*keys.values(), *tokens.values(), ada["refresh_token"], d["secret"], d["redis"].split("@")[0]]
        places = {"redis": redis_contents(d["redis"]), "answers": "\n".join(seen_text),
                  **{f"replica {n} log": r.stderr() for n, r in enumerate(d["replicas"])}}  # fmt: skip
        for where, content in places.items():
            for secret in secrets:
                assert secret not in content, f"a secret ({secret[:6]}…) in {where}"
        assert "aural-mcp:grant:" in places["redis"], "the grep looked at the real store"


async def wait_on(replica: Any, token: str, iid: str, **args: Any) -> dict[str, Any]:
    """`wait_for_sessions` called on one replica (its own URL, not the proxy); the structured result."""
    async with mcp_client(replica.url, token) as mcp:
        result = await mcp.call_tool("wait_for_sessions", {"interviewId": iid, **args})
    assert not result.is_error, texts(result)
    return dict(result.structured_content)


async def test_wait_for_sessions_carries_on_from_one_replica_to_another(d: dict[str, Any]):
    box, (a, b, c) = d["box"], d["replicas"]
    token = service_token(d, box.create_key(organization=box.create_organization("Cy's studio")), "cy")
    with anyio.fail_after(60):
        async with mcp_client(a.url, token) as mcp:
            iid = (await mcp.call_tool("create_interview", {"title": "Watched screen"})).structured_content["data"]["id"]
            for step, args in (("add_questions", {"questions": [{"text": "Why us?"}]}), ("publish_interview", {})):
                done = await mcp.call_tool(step, {"interviewId": iid, **args})
                assert not done.is_error, texts(done)
        box.simulate_session(iid, seed=1)  # there before the first wait: the baseline, never announced
        first = await wait_on(a, token, iid, timeoutSeconds=1)
        assert (first["met"], first["sessions"], first["otherEvents"]) == (False, [], [])

        finished = box.simulate_session(iid, seed=2)["id"]  # a candidate finishes, seen by no replica yet
        on_b = await wait_on(b, token, iid, since=first["since"], timeoutSeconds=20)
        assert on_b["met"] and [s["sessionId"] for s in on_b["sessions"]] == [finished]
        assert on_b["since"] != first["since"]

        # B's cursor on A and on C: nothing again; the next session, exactly once, wherever it is asked.
        assert (await wait_on(a, token, iid, since=on_b["since"], timeoutSeconds=1))["sessions"] == []
        later = box.simulate_session(iid, seed=3)["id"]
        on_c = await wait_on(c, token, iid, since=on_b["since"], timeoutSeconds=20)
        assert [s["sessionId"] for s in on_c["sessions"]] == [later]
        again = await wait_on(a, token, iid, since=first["since"], timeoutSeconds=1)  # A's old cursor: both, once each
        assert [s["sessionId"] for s in again["sessions"]] == [finished, later]
        assert again["since"] == on_c["since"]


async def test_a_change_made_through_one_replica_reaches_a_subscriber_on_another():
    # Stateful replicas (subscriptions live in a session): the subscriber holds its session on
    # replica 0, the change is made by another client of the same user through replica 1.
    box = Sandbox(":memory:", rate_limit=1000)
    key = box.create_key(organization=box.create_organization("Ada's agency"))
    secret = generate_secret_key()
    with ExitStack() as stack, anyio.fail_after(60):
        api = stack.enter_context(LiveServer(box.app, log_level="warning")).url + "/api/v1"
        redis_url = stack.enter_context(redis_server())
        public = "http://127.0.0.1:8999"  # the balancer's address, as the replicas are told; not dialled
        env = env_without_aural(AURAL_MCP_SECRET_KEY=secret, AURAL_MCP_REDIS_URL=redis_url, AURAL_BASE_URL=api)
        flags = ("--auth", "oauth", "--public-url", public)
        replicas = [stack.enter_context(serve_http("http", *flags, env=env, sandbox=False)) for _ in range(2)]
        made = subprocess.run([*AURAL_MCP, "tokens", "create", "--name", "ada"], input=key + "\n",
                              env={**env, "AURAL_MCP_PUBLIC_URL": public}, capture_output=True, text=True,
                              timeout=60)  # fmt: skip
        assert made.returncode == 0, made.stderr
        token = made.stdout.strip()
        heard: list[str] = []

        async def on_message(message: Any) -> None:
            if getattr(message, "method", "") == "notifications/resources/updated":
                heard.append(str(message.params.uri))

        async with (
            create_mcp_http_client(headers={"Authorization": f"Bearer {token}"}) as http,
            Client(streamable_http_client(replicas[0].url, http_client=http), message_handler=on_message,
                   mode="legacy") as watcher,
            mcp_client(replicas[1].url, token) as writer,
        ):  # fmt: skip
            created = await writer.call_tool("create_interview", {"title": "Backend screen"})
            iid = created.structured_content["data"]["id"]
            await watcher.subscribe_resource(f"aural://interviews/{iid}")
            updated = await writer.call_tool("update_interview", {"interviewId": iid, "title": "Backend screen II"})
            assert not updated.is_error, texts(updated)
            while f"aural://interviews/{iid}" not in heard:
                await anyio.sleep(0.05)
    box.close()
