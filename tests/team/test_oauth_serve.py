"""`aural-mcp serve --transport http --auth oauth` as users start it (a subprocess): the whole
sign-in works through the command, and the key and tokens are nowhere in its output or its file."""

from __future__ import annotations

import subprocess
from pathlib import Path

import anyio
import httpx2
import pytest
from tests.support.net import free_port, wait_until_answers
from tests.support.processes import AURAL_MCP, env_without_aural, started
from tests.team.oauth_support import discover, mcp_status, register, sandbox_api, sign_in

from aural_mcp.team.secrets import generate_secret_key

pytestmark = pytest.mark.anyio


async def test_serve_with_auth_oauth_signs_a_user_in(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    secret = generate_secret_key()
    log = tmp_path / "serve.log"
    with anyio.fail_after(60), sandbox_api() as (box, api), open(log, "wb") as out:
        argv = [*AURAL_MCP, "serve", "--transport", "http", "--auth", "oauth", "--port", str(port), "--public-url", url,
                "--base-url", api, "--team-db", str(tmp_path / "team.sqlite3"), "--log-level", "info"]  # fmt: skip
        env = env_without_aural(AURAL_MCP_SECRET_KEY=secret, AURAL_WATCH_STATE=str(tmp_path / "watch.sqlite3"))
        with started(argv, env=env, stdout=out, stderr=subprocess.STDOUT) as proc:
            await anyio.to_thread.run_sync(lambda: wait_until_answers(url + "/healthz", proc=proc, log=log.read_text))
            key = box.create_key()
            async with httpx2.AsyncClient(timeout=20) as http:
                metadata = await discover(http, url + "/mcp")
                client = await register(http, metadata)
                tokens = await sign_in(http, metadata, client["client_id"], key)
                assert (await mcp_status(http, url + "/mcp", tokens["access_token"])).status_code == 200
    output = log.read_text()
    assert "OAuth, issuer " + url in output
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("team.sqlite3"))
    for plain in (key, tokens["access_token"], tokens["refresh_token"], secret):
        assert plain not in output and plain.encode() not in stored, plain[:10]


def test_a_public_url_with_a_path_is_refused_at_start() -> None:
    argv = [*AURAL_MCP, "serve", "--transport", "http", "--auth", "oauth", "--port", "0",
            "--public-url", "https://mcp.example.com/aural"]  # fmt: skip
    env = env_without_aural(AURAL_MCP_SECRET_KEY=generate_secret_key())
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert "must be an origin such as https://mcp.example.com, without path" in proc.stderr
