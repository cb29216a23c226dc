"""`aural-mcp serve --auth oauth` on Redis: two real replicas (subprocesses) behind one public URL
share one real Redis, so a token issued through either (here: written to the store as `aural-mcp
tokens` would) works on both, and revoking it takes effect on both. `--redis` is refused without
`--auth oauth`, and a malformed URL is refused with its password masked."""

from __future__ import annotations

import subprocess
import time

import anyio
import httpx2
import pytest
from tests.e2e.aural_e2e import serve_http
from tests.support.net import free_port
from tests.support.processes import AURAL_MCP, env_without_aural
from tests.support.redis import redis_server

from aural_mcp.team.grants import SCOPE_READ, GrantBook
from aural_mcp.team.redis_store import RedisStore
from aural_mcp.team.secrets import SecretBox, generate_secret_key

pytestmark = pytest.mark.anyio

KEY = "dlv_" + "r3plica" * 5
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}


def initialize(url: str, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"}
    return httpx2.post(url, json=INITIALIZE, headers=headers, timeout=10).status_code


async def test_two_replicas_on_one_redis_honour_the_same_tokens_and_revocations():
    secret = generate_secret_key()
    public = f"http://127.0.0.1:{free_port()}"  # the address of the load balancer in front
    with anyio.fail_after(60), redis_server() as redis_url:
        env = env_without_aural(AURAL_MCP_SECRET_KEY=secret, AURAL_MCP_REDIS_URL=redis_url)
        flags = ("--auth", "oauth", "--public-url", public, "--stateless")
        with (
            serve_http("http", *flags, env=env, sandbox=False) as first,
            serve_http("http", *flags, "--redis", redis_url, env=env_without_aural(AURAL_MCP_SECRET_KEY=secret),
                       sandbox=False) as second,
        ):  # fmt: skip
            book = GrantBook(RedisStore(redis_url), SecretBox.from_text(secret), base_url="http://127.0.0.1:9/api/v1")
            grant = await book.create_grant(kind="service", name="ats", scopes=[SCOPE_READ], resource=public + "/mcp", key=KEY)
            token = await book.issue_service_token(grant)
            assert [initialize(p.url, token) for p in (first, second)] == [200, 200]
            assert [initialize(p.url, token + "x") for p in (first, second)] == [401, 401]
            await book.revoke_grant(grant.id)
            revoked = time.monotonic()
            while time.monotonic() - revoked < 1.0 and any(initialize(p.url, token) != 401 for p in (first, second)):
                await anyio.sleep(0.05)
            assert [initialize(p.url, token) for p in (first, second)] == [401, 401], "revoked everywhere within 1 s"
            for proc in (first, second):
                assert redis_url.split("@")[0] not in proc.stderr() and KEY not in proc.stderr()


@pytest.mark.parametrize(
    ("flags", "fragment"),
    [
        (["--redis", "redis://:hunter2hunter2@127.0.0.1:1/0"], "add --auth oauth"),
        (["--auth", "oauth", "--public-url", "http://127.0.0.1:1234", "--redis", "http://:hunter2hunter2@127.0.0.1:1/0"],
         "must be a redis://"),
    ],
)  # fmt: skip
def test_serve_refuses_a_misplaced_or_malformed_redis_url_without_showing_its_password(flags: list[str], fragment: str):
    env = env_without_aural(AURAL_MCP_SECRET_KEY=generate_secret_key())
    done = subprocess.run(
        [*AURAL_MCP, "serve", "--transport", "http", "--port", "0", *flags],
        env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode != 0 and fragment in done.stderr, done.stderr
    assert "hunter2" not in done.stderr + done.stdout
