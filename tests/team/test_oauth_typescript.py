"""An OAuth client we did not write signs in to the team server: the MCP TypeScript SDK's
(`@modelcontextprotocol/sdk`, pinned, installed from the npm registry into the gitignored
`.bench-cache/node/mcp-sdk` on first use). It discovers, registers, authorizes with PKCE and
exchanges the code; the test plays the browser on the consent page with a real sandbox key. Then
it lists the tools and calls two, which act with the key the user consented with."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import anyio
import httpx2
import pytest
from anyio.streams.text import TextReceiveStream
from tests.team.oauth_support import consent, sandbox_api, team_server

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
SDK_DIR = ROOT / ".bench-cache" / "node" / "mcp-sdk"
PACKAGE, VERSION = "@modelcontextprotocol/sdk", "1.32.2"
SCRIPT = Path(__file__).with_name("oauth_client.mjs")
REDIRECT = "http://127.0.0.1:9/ts-callback"  # never followed: the test hands the query to the script


def ensure_sdk() -> Path:
    """The folder holding the pinned SDK, installed with npm if it is not there yet."""
    npm = shutil.which("npm")
    assert npm and shutil.which("node"), "this test needs Node.js and npm on PATH (install nodejs and npm)"
    SDK_DIR.mkdir(parents=True, exist_ok=True)
    manifest = SDK_DIR / "node_modules" / PACKAGE / "package.json"
    with open(SDK_DIR / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (manifest.exists() and json.loads(manifest.read_text())["version"] == VERSION):
            proc = subprocess.run(
                [npm, "install", "--prefix", str(SDK_DIR), "--no-save", "--no-audit", "--no-fund", f"{PACKAGE}@{VERSION}"],
                capture_output=True, text=True, timeout=300,
            )  # fmt: skip
            assert proc.returncode == 0 and manifest.exists(), f"npm install {PACKAGE}@{VERSION}: {proc.stderr[-500:]}"
    return SDK_DIR


async def test_the_typescript_sdk_signs_in_lists_and_calls_tools_as_the_user(tmp_path: Path) -> None:
    sdk = await anyio.to_thread.run_sync(ensure_sdk)
    with anyio.fail_after(60), sandbox_api() as (box, api), team_server(tmp_path, api) as served:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "SDK_DIR": str(sdk)}
        async with await anyio.open_process(["node", str(SCRIPT), served.mcp, REDIRECT], env=env) as node:
            assert node.stdout is not None and node.stdin is not None and node.stderr is not None
            output = TextReceiveStream(node.stdout)
            buffered = ""

            async def line() -> dict[str, object]:
                nonlocal buffered
                while "\n" not in buffered:
                    try:
                        buffered += await output.receive()
                    except anyio.EndOfStream:
                        errors = b"".join([chunk async for chunk in node.stderr]).decode()
                        raise AssertionError(f"the client exited: {errors[-2000:]}") from None
                first, buffered = buffered.split("\n", 1)
                parsed: dict[str, object] = json.loads(first)
                return parsed

            started = await line()
            authorize_url = str(started["authorize"])
            assert authorize_url.startswith(served.url + "/authorize?")
            async with httpx2.AsyncClient(timeout=20) as browser:
                to_consent = await browser.get(authorize_url)
                assert to_consent.status_code == 302, to_consent.text
                _, back = await consent(browser, to_consent.headers["location"], box.create_key())
            assert back.status_code == 302 and back.headers["location"].startswith(REDIRECT + "?")
            await node.stdin.send((urlsplit(back.headers["location"]).query + "\n").encode())
            done = await line()
            assert await node.wait() == 0
        assert done["iss"] == served.url and done["scope"] == "aural"
        assert {"list_interviews", "get_usage"} <= set(done["tools"])  # type: ignore[call-overload]
        # tools/call acts as the user who consented: the interview is in their organization
        made = done["created"]["data"]  # type: ignore[index]
        assert made["title"] == "Made by the TypeScript SDK"
        assert [iv["id"] for iv in done["listed"]["data"]] == [made["id"]]  # type: ignore[index]
        grants = await served.team.book.grants()
        assert [(g.kind, g.name) for g in grants] == [("oauth", "MCP TypeScript SDK test client")]
