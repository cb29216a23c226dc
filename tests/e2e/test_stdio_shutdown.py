"""stdin closing while a call is in flight: the call finishes and its result is written before the
server exits (a retry would duplicate the write), or, past the grace period, the server says on
stderr which call's outcome is unknown. Real `aural-mcp serve` over real stdio, pointed at a slow
Aural API on loopback."""

from __future__ import annotations

import json
import subprocess

import httpx2
from loopback import SlowApi
from tests.support.processes import AURAL_MCP, env_without_aural, stop_process
from tests.support.servers import LiveServer

TITLE = "Shutdown grace screen"


def _lines() -> bytes:
    hello = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": hello},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "create_interview", "arguments": {"title": TITLE, "objective": "grace"}},
        },
    ]
    return b"".join(json.dumps(m).encode() + b"\n" for m in messages)


def _serve_and_close_stdin(api: LiveServer, key: str, **env: str) -> tuple[int, dict[int, dict], str]:
    """Send initialize and a create, close stdin at once, read everything until the server exits."""
    proc = subprocess.Popen(
        [*AURAL_MCP, "serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env_without_aural(AURAL_API_KEY=key, AURAL_BASE_URL=f"{api.url}/api/v1", **env),
    )
    try:
        out, err = proc.communicate(_lines(), timeout=60)  # writes, closes stdin, reads to EOF
    finally:
        stop_process(proc)
    replies = {}
    for line in out.splitlines():
        message = json.loads(line)
        if message.get("id") is not None:
            replies[message["id"]] = message
    return proc.returncode, replies, err.decode(errors="replace")


def _interviews_titled(api: LiveServer, key: str) -> list[dict]:
    r = httpx2.get(f"{api.url}/api/v1/interviews", headers={"Authorization": f"Bearer {key}"}, timeout=10)
    r.raise_for_status()
    return [i for i in r.json()["data"] if i.get("title") == TITLE]


def test_a_create_in_flight_when_stdin_closes_is_finished_and_answered() -> None:
    slow = SlowApi(delay=3.0)
    with LiveServer(slow, start_timeout=15) as api:
        # a grace period well past the API's 3 s, so a loaded machine cannot make it run out
        code, replies, stderr = _serve_and_close_stdin(api, slow.key, AURAL_MCP_SHUTDOWN_GRACE="30")
        assert code == 0, stderr
        assert 2 in replies, f"no answer to the create: {replies} {stderr}"
        result = replies[2].get("result")
        assert result is not None and not result.get("isError"), replies[2]
        created = _interviews_titled(api, slow.key)
        assert len(created) == 1, created
        assert created[0]["id"] in json.dumps(result)
        assert "Traceback" not in stderr


def test_a_call_past_the_grace_period_is_reported_as_unknown() -> None:
    slow = SlowApi(delay=8.0)
    with LiveServer(slow, start_timeout=15) as api:
        code, replies, stderr = _serve_and_close_stdin(api, slow.key, AURAL_MCP_SHUTDOWN_GRACE="0.5")
        assert code == 0, stderr
        assert "result" not in replies.get(2, {}), replies[2]
        assert "tools/call create_interview (request id 2)" in stderr, stderr
        assert "outcome is unknown" in stderr, stderr
        assert "Traceback" not in stderr
