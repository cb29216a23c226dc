"""Helpers for the end-to-end tests: real `aural-mcp` subprocesses, real MCP clients.

Every process is started on 127.0.0.1 (port 0: the OS picks a free port and the server prints it)
and is always stopped in a `finally`.
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
from tests.support.net import free_port, wait_until_answers
from tests.support.processes import AURAL_MCP, env_without_aural, started, stop_process, wait_for_output
from tests.support.results import text_of

LISTENING = re.compile(r"listening on http://(\S+?):(\d+)(/\S*)")
KEY = re.compile(r"dlv_[a-z0-9]{32}")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass
class Proc:
    popen: subprocess.Popen[bytes]
    stderr_path: Path
    port: int = 0
    path: str = ""
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return self.base + self.path

    def stderr(self) -> str:
        if "stderr" in self.info:  # the process is gone and its directory with it
            return self.info["stderr"]
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def close(self) -> None:
        """Stop the process, then keep its whole stderr (its directory is about to go)."""
        stop_process(self.popen)
        self.info["stderr"] = self.stderr()


@contextlib.contextmanager
def serve_http(
    transport: str, *args: str, env: dict[str, str] | None = None, sandbox: bool = True
) -> Iterator[Proc]:
    """`aural-mcp serve --transport T --port 0 …`; waits for /healthz; always stopped."""
    with tempfile.TemporaryDirectory() as tmp:
        err = Path(tmp) / "stderr.txt"
        argv = [*AURAL_MCP, "serve", "--transport", transport, "--port", "0", *args]
        if sandbox:
            argv.append("--sandbox")
        with (
            err.open("wb") as errf,
            started(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=errf,
                env=env or env_without_aural(),
                cwd=tmp,
            ) as popen,
        ):
            proc = Proc(popen, err)
            try:
                listening = wait_for_output(proc.stderr, LISTENING, proc=popen)
                proc.port, proc.path = int(listening.group(2)), listening.group(3)
                wait_until_answers(proc.base + "/healthz", proc=popen, log=proc.stderr)
                yield proc
            finally:
                proc.close()


@contextlib.contextmanager
def sandbox_server(rate_limit: str = "1000/60") -> Iterator[Proc]:
    """`aural-mcp sandbox` on a free port with a database in a temporary directory; `.info['key']`
    is its key."""
    with tempfile.TemporaryDirectory() as tmp:
        err = Path(tmp) / "stderr.txt"
        out = Path(tmp) / "stdout.txt"
        port = free_port()
        argv = [
            *AURAL_MCP,
            "sandbox",
            "--port",
            str(port),
            "--db",
            str(Path(tmp) / "sb.db"),
            "--rate-limit",
            rate_limit,
        ]
        with (
            err.open("wb") as errf,
            out.open("wb") as outf,
            started(
                argv, stdin=subprocess.DEVNULL, stdout=outf, stderr=errf, env=env_without_aural(), cwd=tmp
            ) as popen,
        ):
            proc = Proc(popen, err, port=port, path="/api/v1")
            try:

                def output() -> str:
                    return out.read_text(errors="replace") + proc.stderr()

                proc.info["key"] = wait_for_output(output, KEY, proc=popen).group(0)
                wait_until_answers(proc.url + "/openapi.json", proc=popen, log=output)
                yield proc
            finally:
                proc.close()


# ---------------------------------------------------------------- the lifecycle, as an agent runs it


def dump(obj: Any) -> str:
    """Everything a client received, as one string (for secret scans)."""
    if hasattr(obj, "model_dump"):
        return json.dumps(obj.model_dump(mode="json"), ensure_ascii=False)
    return json.dumps(obj, default=str, ensure_ascii=False)


class Seen:
    """Collects every result the client saw."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, obj: Any) -> Any:
        self.items.append(dump(obj))
        return obj

    def text(self) -> str:
        return "\n".join(self.items)


async def call_ok(client: Any, seen: Seen, tool: str, args: dict[str, Any]) -> Any:
    result = seen.add(await client.call_tool(tool, args))
    assert not result.is_error, f"{tool} failed: {text_of(result)}"
    return result


def first_id(result: Any) -> str:
    data = result.structured_content
    node = data.get("data", data) if isinstance(data, dict) else data
    if isinstance(node, list):
        node = node[0]
    if isinstance(node, dict) and isinstance(node.get("id"), str):
        return node["id"]
    found = UUID.findall(text_of(result))
    assert found, f"no id in {text_of(result)[:300]}"
    return found[0]


Simulator = Callable[[Any, Seen, str, str, str], Awaitable[str]]


async def simulate_with_tool(client: Any, seen: Seen, interview_id: str, name: str, status: str) -> str:
    """The sandbox-only `simulate_session` tool (present with `serve --sandbox`)."""
    args = {"interviewId": interview_id, "participantName": name, "status": status, "seed": 7}
    return first_id(await call_ok(client, seen, "simulate_session", args))


def simulate_over_http(api_url: str, key: str) -> Simulator:
    """The sandbox's own simulate endpoint, for servers pointed at a separate `aural-mcp sandbox`."""

    async def simulate(client: Any, seen: Seen, interview_id: str, name: str, status: str) -> str:
        root = api_url.removesuffix("/api/v1")
        async with httpx2.AsyncClient(timeout=10) as http:
            r = await http.post(
                f"{root}/sandbox/interviews/{interview_id}/simulate",
                json={"participantName": name, "status": status, "seed": 7},
                headers={"Authorization": f"Bearer {key}"},
            )
        r.raise_for_status()
        return r.json()["data"]["id"]

    return simulate


async def run_lifecycle(
    client: Any, seen: Seen | None = None, *, simulate: Simulator = simulate_with_tool
) -> dict[str, Any]:
    """create → questions → publish → candidates → simulate → sessions → transcript → archive."""
    seen = seen or Seen()
    tools = {t.name for t in seen.add(await client.list_tools()).tools}
    assert {
        "create_interview",
        "add_questions",
        "publish_interview",
        "add_candidates",
        "list_sessions",
    } <= tools

    usage = await call_ok(client, seen, "get_usage", {})
    assert "plan" in text_of(usage).lower()

    created = await call_ok(client, seen, "create_interview", {"title": "E2E screen", "objective": "test"})
    interview_id = first_id(created)
    assert interview_id in text_of(created)

    questions = [
        {"text": "Describe a system you built.", "type": "OPEN_ENDED"},
        {"text": "Pick one", "type": "SINGLE_CHOICE", "options": ["A", "B"]},
        {"text": "Reverse a list.", "type": "CODING"},
    ]
    added = await call_ok(
        client, seen, "add_questions", {"interviewId": interview_id, "questions": questions}
    )
    assert "3" in text_of(added)
    listed_q = await call_ok(client, seen, "list_questions", {"interviewId": interview_id})
    assert "Reverse a list." in text_of(listed_q)

    published = await call_ok(client, seen, "publish_interview", {"interviewId": interview_id})
    assert "http" in text_of(published)

    cands = [{"name": "Grace Hopper", "email": "grace@example.com"}, {"name": "Edsger Dijkstra"}]
    added_c = await call_ok(
        client, seen, "add_candidates", {"interviewId": interview_id, "candidates": cands}
    )
    assert "Grace Hopper" in text_of(added_c) and "invite" in text_of(added_c).lower()

    session_ids: list[str] = []
    if simulate:
        for i, status in enumerate(("COMPLETED", "IN_PROGRESS")):
            session_ids.append(await simulate(client, seen, interview_id, cands[i]["name"], status))
        sessions = await call_ok(client, seen, "list_sessions", {"interviewId": interview_id})
        for sid in session_ids:
            assert sid in text_of(sessions)
        got = await call_ok(client, seen, "get_session", {"sessionId": session_ids[0]})
        assert "Grace Hopper" in text_of(got)
        transcript = seen.add(await client.read_resource(f"aural://sessions/{session_ids[0]}/transcript"))
        body = "\n".join(getattr(c, "text", "") or "" for c in transcript.contents)
        assert "Grace Hopper" in body and len(body.splitlines()) > 5
        report = await call_ok(client, seen, "get_session_report", {"sessionId": session_ids[0]})
        assert session_ids[0] in text_of(report)

    archived = await call_ok(client, seen, "archive_interview", {"interviewId": interview_id})
    assert interview_id in text_of(archived)
    return {"interviewId": interview_id, "sessionIds": session_ids, "seen": seen}


async def provoke_errors(client: Any, seen: Seen) -> None:
    """Calls that fail in every way an agent can make them fail; all results are recorded."""
    bad_id = "00000000-0000-4000-8000-000000000000"
    for tool, args in [
        ("get_interview", {"interviewId": bad_id}),
        ("get_interview", {"interviewId": "not-a-uuid"}),
        ("add_questions", {"interviewId": bad_id, "questions": [{"text": "x", "type": "NOPE"}]}),
        ("create_interview", {"title": ""}),
        ("get_session", {"sessionId": bad_id}),
        ("no_such_tool", {}),
    ]:
        try:
            seen.add(await client.call_tool(tool, args))
        except Exception as exc:  # protocol errors are fine too; record what the client saw
            seen.add({"error": repr(exc), "str": str(exc)})
    for uri in (f"aural://sessions/{bad_id}/transcript", "aural://nope", "skill://aural-interviews/SKILL.md"):
        try:
            seen.add(await client.read_resource(uri))
        except Exception as exc:
            seen.add({"error": repr(exc), "str": str(exc)})
    try:
        prompts = seen.add(await client.list_prompts())
        for prompt in prompts.prompts[:3]:
            args = {a.name: "x" for a in (prompt.arguments or []) if a.required}
            try:
                seen.add(await client.get_prompt(prompt.name, args))
            except Exception as exc:
                seen.add({"error": repr(exc), "str": str(exc)})
    except Exception as exc:
        seen.add({"error": repr(exc)})
