"""`aural-mcp demo` end to end, and stdio hygiene: nothing but JSON-RPC ever reaches stdout."""

from __future__ import annotations

import contextlib
import io
import json
import queue
import re
import select
import subprocess
import sys
import threading
import time

import pytest
from tests.support.forms import hidden_fields
from tests.support.processes import AURAL_MCP, env_without_aural, stop_process

DEMO_STEPS = [
    "get_usage",
    "create_interview",
    "add_questions",
    "publish_interview",
    "add_candidates",
    "simulate_session",
    "wait_for_sessions",
    "list_sessions",
    "get_session",
    "read resource aural://sessions/",
    "get_session_report",
    "archive_interview",
]


def test_demo_walks_the_lifecycle() -> None:
    started = time.monotonic()
    done = subprocess.run(
        [*AURAL_MCP, "demo"], capture_output=True, text=True, timeout=60, env=env_without_aural()
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    positions = [out.find(step) for step in DEMO_STEPS]
    assert all(p >= 0 for p in positions), [s for s, p in zip(DEMO_STEPS, positions, strict=True) if p < 0]
    assert positions == sorted(positions)
    assert out.count("simulate_session(") == 3
    assert "completeAfterSeconds=2" in out and "1 COMPLETED of interview" in out  # the wait saw it finish
    assert "SINGLE_CHOICE" in out and "CODING" in out and "OPEN_ENDED" in out
    assert re.search(r"Ada Lovelace's link, to take the interview in a browser: http://127\.0\.0\.1:\d+/i/invite/\w+", out)
    assert "Done in" in out and "FAILED" not in out
    assert "Traceback" not in out + done.stderr
    assert elapsed < 30


LINK = re.compile(r"Ada Lovelace's link, to take the interview in a browser: (http://127\.0\.0\.1:\d+)(/i/invite/\w+)")
MY_ANSWER = "I split the billing service into a queue and workers, because retries must not double-charge."


def _take_the_interview(base: str, invite_path: str) -> None:
    """What a person does in the browser, as its plain form posts: start, answer each question, finish."""
    import httpx2

    with httpx2.Client(base_url=base, timeout=10) as http:
        start = http.get(invite_path)
        started = http.post(invite_path, data=hidden_fields(start.text))
        assert started.status_code == 303, started.text[-300:]
        page_url = started.headers["location"]
        for _ in range(10):
            page = http.get(page_url).text
            if "Thank you" in page:
                return
            fields = hidden_fields(page)
            if "name='choice'" in page:
                fields["choice"] = "1"
            else:
                fields["answer"] = MY_ANSWER
            answered = http.post(page_url, data=fields)
            assert answered.status_code == 303, answered.text[-300:]
        raise AssertionError("the interview did not finish after 10 answers")


def test_demo_as_candidate_waits_for_the_person_then_ranks_their_session() -> None:
    proc = subprocess.Popen(
        [*AURAL_MCP, "demo", "--as-candidate", "--wait-minutes", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env_without_aural(),
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout or ()], daemon=True).start()
    seen: list[str] = []
    try:
        found = None
        deadline = time.monotonic() + 30
        while found is None and time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                seen.append(lines.get(timeout=1.0))
                found = LINK.search(seen[-1])
        assert found, "".join(seen)
        _take_the_interview(found.group(1), found.group(2))
        proc.wait(timeout=60)
        err = proc.stderr.read() if proc.stderr else ""
    finally:
        stop_process(proc)
    time.sleep(0.2)  # the reader thread drains what is left of stdout
    while not lines.empty():
        seen.append(lines.get())
    out = "".join(seen)
    assert proc.returncode == 0, out + err
    assert "the agent waits for you" in out and "your session completed:" in out
    assert out.count("simulate_session(") == 2  # Alan and Sam; Ada's session is the one taken by hand
    assert re.search(r"you rank #[123] of 3, overall \d", out) and "(one of them yours)" in out
    assert "Traceback" not in out + err


@pytest.mark.anyio
async def test_demo_reports_a_broken_server() -> None:
    from aural_mcp.cli.demo import run

    out = io.StringIO()
    code = "import sys; sys.stderr.write('boom: cannot start\\n'); sys.exit(3)"
    rc = await run(out, command=[sys.executable, "-c", code])
    assert rc == 1
    text = out.getvalue()
    assert "aural-mcp demo FAILED" in text
    assert "boom: cannot start" in text  # the server's stderr is shown to help


NOISY_SERVER = """
import os, sys
import aural_mcp.server.app as app

original = app.build_server

def noisy(settings, **options):
    print("NOISE: a library printed during start-up")
    server = original(settings, **options)

    @server.tool()
    def shout() -> str:
        '''Print to stdout three ways.'''
        print("NOISE: print() in a tool")
        sys.stdout.write("NOISE: sys.stdout.write in a tool\\n")
        sys.stdout.flush()
        os.write(1, b"NOISE: os.write(1) in a tool\\n")
        return "shouted"

    return server

app.build_server = noisy
from aural_mcp.cli import main
sys.exit(main(["serve", "--sandbox"]))
"""


def rpc(i: int, method: str, params: dict | None = None) -> str:
    msg = {"jsonrpc": "2.0", "id": i, "method": method}
    if params is not None:
        msg["params"] = params
    return json.dumps(msg)


def test_stdio_stdout_carries_only_json_rpc() -> None:
    lines = [
        rpc(
            1,
            "initialize",
            {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "1"},
            },
        ),
        json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        rpc(2, "tools/list", {}),
        rpc(3, "tools/call", {"name": "shout", "arguments": {}}),
        rpc(4, "tools/call", {"name": "get_usage", "arguments": {}}),
        "this is not json",
        rpc(5, "tools/call", {"name": "get_interview", "arguments": {"interviewId": 42}}),
        rpc(6, "resources/read", {"uri": "aural://nope"}),
        rpc(7, "ping"),
    ]
    proc = subprocess.Popen(
        [sys.executable, "-c", NOISY_SERVER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env_without_aural(AURAL_MCP_LOG_LEVEL="DEBUG"),
    )
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(("\n".join(lines) + "\n").encode())
        proc.stdin.flush()
        replies: dict[int, dict] = {}
        unaddressed: list[dict] = []
        raw_lines: list[bytes] = []
        deadline = time.monotonic() + 30
        while 7 not in replies and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            raw_lines.append(line)
            message = json.loads(line)  # every stdout line is JSON …
            assert message.get("jsonrpc") == "2.0"  # … and JSON-RPC
            if "id" in message and message["id"] is not None:
                replies[message["id"]] = message
            elif "error" in message:
                unaddressed.append(message)
        proc.stdin.close()
        proc.wait(timeout=10)
        rest = proc.stdout.read()
        stderr = proc.stderr.read().decode() if proc.stderr else ""
    finally:
        stop_process(proc)
    assert not rest.strip(), rest
    assert set(replies) >= {1, 2, 3, 4, 5, 6, 7}, replies.keys()
    assert replies[3]["result"]["content"][0]["text"] == "shouted"
    assert not replies[4]["result"].get("isError")
    assert replies[5]["result"]["isError"] is True or "error" in replies[5]
    assert "error" in replies[6] or replies[6].get("result", {}).get("isError")
    assert replies[7]["result"] == {}
    assert [m["error"]["code"] for m in unaddressed] == [-32700]  # "this is not json" got a parse error
    assert not any(b"NOISE" in line for line in raw_lines)
    for noise in (
        "during start-up",
        "print() in a tool",
        "sys.stdout.write in a tool",
        "os.write(1) in a tool",
    ):
        assert noise in stderr, noise  # diverted to stderr, not lost
    assert proc.returncode == 0


def test_a_client_that_stops_reading_gets_a_quiet_exit() -> None:
    """The client closes its end of stdout mid-session: the server ends with 0 and no traceback."""
    proc = subprocess.Popen(
        [*AURAL_MCP, "serve", "--sandbox"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env_without_aural(),
    )
    try:
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        hello = {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        }
        proc.stdin.write((rpc(1, "initialize", hello) + "\n").encode())
        proc.stdin.flush()
        assert select.select([proc.stdout], [], [], 30)[0], "no answer to initialize"
        assert json.loads(proc.stdout.readline())["id"] == 1
        proc.stdout.close()  # the client stops reading
        proc.stdin.write((rpc(2, "tools/list") + "\n").encode())
        proc.stdin.flush()
        time.sleep(0.5)
        proc.stdin.close()
        assert proc.wait(timeout=20) == 0
        assert "Traceback" not in proc.stderr.read().decode()
    finally:
        stop_process(proc)
