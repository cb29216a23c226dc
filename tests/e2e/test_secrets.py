"""Secrets (issue 4, item 4): with a known API key and bearer token, on every transport, a full
lifecycle plus error-provoking calls never shows either secret to the client or in the server's
stderr (logged at DEBUG, the most talkative level)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aural_e2e import (
    Proc,
    Seen,
    provoke_errors,
    run_lifecycle,
    sandbox_server,
    serve_http,
    simulate_over_http,
)
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from tests.support.processes import AURAL_MCP, env_without_aural

pytestmark = pytest.mark.anyio

TOKEN = "tok-SECRET-9f8e7d6c5b4a39281706"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Proc]:
    with sandbox_server(rate_limit="2000/60") as proc:
        yield proc


def secrets_env(sandbox: Proc, **extra: str) -> dict[str, str]:
    return env_without_aural(
        AURAL_API_KEY=sandbox.info["key"],
        AURAL_BASE_URL=sandbox.url,
        AURAL_RATE_LIMIT="2000/60",
        AURAL_MCP_LOG_LEVEL="DEBUG",
        **extra,
    )


def assert_no_secret(text: str, key: str, where: str) -> None:
    for secret in (key, key[4:], key[-12:], TOKEN):
        assert secret not in text, f"a secret leaked into {where}"


async def exercise(client: Client, sandbox: Proc) -> Seen:
    seen = Seen()
    await run_lifecycle(client, seen, simulate=simulate_over_http(sandbox.url, sandbox.info["key"]))
    await provoke_errors(client, seen)
    return seen


async def test_secrets_over_stdio(sandbox: Proc, tmp_path: Path) -> None:
    key = sandbox.info["key"]
    params = StdioServerParameters(
        command=AURAL_MCP[0], args=[*AURAL_MCP[1:], "serve"], env=secrets_env(sandbox)
    )
    errpath = tmp_path / "stderr.txt"
    with open(errpath, "w") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            seen = await exercise(client, sandbox)
    assert len(seen.items) > 20
    assert_no_secret(seen.text(), key, "a result the client saw")
    stderr = errpath.read_text()
    assert "DEBUG" in stderr  # the server did log, and at the most talkative level
    assert_no_secret(stderr, key, "the server's stderr")


@contextlib.asynccontextmanager
async def http_client(server: Proc, transport: str) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    if transport == "sse":
        async with Client(sse_client(server.url, headers=headers, timeout=10)) as client:
            yield client
    else:
        async with (
            create_mcp_http_client(headers=headers) as http,
            Client(streamable_http_client(server.url, http_client=http)) as client,
        ):
            yield client


@pytest.mark.parametrize(
    ("transport", "flags"),
    [("sse", []), ("http", []), ("http", ["--stateless"])],
    ids=["sse", "http", "http-stateless"],
)
async def test_secrets_over_http(sandbox: Proc, transport: str, flags: list[str]) -> None:
    key = sandbox.info["key"]
    with serve_http(
        transport, *flags, env=secrets_env(sandbox, AURAL_MCP_TOKEN=TOKEN), sandbox=False
    ) as server:
        async with http_client(server, transport) as client:
            seen = await exercise(client, sandbox)
    assert len(seen.items) > 20
    assert_no_secret(seen.text(), key, "a result the client saw")
    stderr = server.stderr()
    assert "DEBUG" in stderr
    assert_no_secret(stderr, key, "the server's stderr")


def test_errors_at_start_up_do_not_echo_secrets() -> None:
    import subprocess

    bad_key = "dlv_ABC DEF-" + "x" * 20  # malformed: has a space
    done = subprocess.run(  # the server starts (every call explains the key) and ends at EOF on stdin
        [*AURAL_MCP, "serve"],
        capture_output=True,
        text=True,
        timeout=30,
        env=env_without_aural(AURAL_API_KEY=bad_key),
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0
    assert "AURAL_API_KEY" in done.stderr and "dlv_" in done.stderr
    assert bad_key not in done.stderr and "x" * 20 not in done.stderr
    done = subprocess.run(
        [*AURAL_MCP, "serve", "--transport", "http", "--host", "0.0.0.0", "--auth-token", "has space"],
        capture_output=True,
        text=True,
        timeout=30,
        env=env_without_aural(AURAL_API_KEY="dlv_" + "a" * 32),
    )
    assert done.returncode == 2 and "has space" not in done.stderr
