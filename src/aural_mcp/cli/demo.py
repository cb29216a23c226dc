"""`aural-mcp demo`: the interview lifecycle, walked by a real MCP client over stdio.

It spawns `aural-mcp serve --sandbox` (the same command a client such as Claude Desktop runs),
connects with the MCP SDK's stdio client and calls the tools an agent would, in order, printing
each call and the first lines of what the agent reads back. Nothing leaves the machine: the
server talks to an in-process sandbox. Exit code 0 when every step worked, 1 otherwise.
With `--as-candidate` the first candidate is the person running it: the agent hands out their
invite link, waits for them to take the interview in a browser, then reads and ranks their session.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any, TextIO

from aural_mcp.server.render.safe import plural

TIMEOUT_SECONDS = 60.0
WAIT_CALL_SECONDS = 120  # one wait_for_sessions call while the demo waits for you (the tool allows 300)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class StepFailed(Exception):
    pass


def short_args(args: dict[str, Any], width: int = 40) -> str:
    """A one-line, human-sized rendering of tool arguments."""
    parts = []
    for key, value in args.items():
        if isinstance(value, list):
            shown = f"[{len(value)} item{'s' if len(value) != 1 else ''}]"
        elif isinstance(value, dict):
            shown = "{…}"
        elif isinstance(value, str):
            shown = json.dumps(value if len(value) <= width else value[: width - 1] + "…", ensure_ascii=False)
        else:
            shown = json.dumps(value)
        parts.append(f"{key}={shown}")
    return ", ".join(parts)


def first_lines(text: str, count: int = 3, width: int = 110) -> list[str]:
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    out = [line if len(line) <= width else line[: width - 1] + "…" for line in lines[:count]]
    if len(lines) > count:
        out.append(f"… ({plural(len(lines) - count, 'more line')})")
    return out


def result_text(result: Any) -> str:
    return "\n".join(getattr(block, "text", "") for block in getattr(result, "content", []) or [])


def find_ids(result: Any) -> list[str]:
    """Ids of the objects a tool returned: structured content first, the text as a fallback."""
    found: list[str] = []
    structured = getattr(result, "structured_content", None)

    def visit(node: Any, depth: int) -> None:
        if depth > 3:
            return
        if isinstance(node, dict):
            if isinstance(node.get("id"), str):
                found.append(node["id"])
                return
            for key in (
                "data",
                "interview",
                "session",
                "items",
                "questions",
                "candidates",
                "sessions",
                "result",
            ):
                if key in node:
                    visit(node[key], depth + 1)
        elif isinstance(node, list):
            for item in node:
                visit(item, depth + 1)

    visit(structured, 0)
    if not found:
        found = list(dict.fromkeys(_UUID.findall(result_text(result))))
    return found


class Walk:
    def __init__(self, client: Any, out: TextIO) -> None:
        self.client = client
        self.out = out
        self.step = 0

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    async def call(self, tool: str, args: dict[str, Any], lines: int = 3) -> Any:
        self.step += 1
        self.say(f"{self.step:>2}. {tool}({short_args(args)})")
        result = await self.client.call_tool(tool, args)
        text = result_text(result)
        if result.is_error:
            for line in first_lines(text, 6):
                self.say(f"    ✗ {line}")
            raise StepFailed(
                f"step {self.step} ({tool}) returned an error: {first_lines(text, 1)[0] if text else '?'}"
            )
        for i, line in enumerate(first_lines(text, lines)):
            self.say(f"    {'→' if i == 0 else ' '} {line}")
        return result

    async def read(self, uri: str, lines: int = 6) -> str:
        self.step += 1
        self.say(f"{self.step:>2}. read resource {uri}")
        result = await self.client.read_resource(uri)
        text = "\n".join(getattr(c, "text", "") or "" for c in result.contents)
        if not text.strip():
            raise StepFailed(f"step {self.step}: the resource {uri} was empty")
        for i, line in enumerate(first_lines(text, lines)):
            self.say(f"    {'→' if i == 0 else ' '} {line}")
        return text


def _invite_url(result: Any) -> str | None:
    """The first candidate's invite link in an add_candidates result."""
    rows = (getattr(result, "structured_content", None) or {}).get("data")
    first = rows[0] if isinstance(rows, list) and rows and isinstance(rows[0], dict) else {}
    url = first.get("inviteUrl")
    return url if isinstance(url, str) else None


def _one_id(result: Any, what: str) -> str:
    ids = find_ids(result)
    if not ids:
        raise StepFailed(f"could not find the new {what}'s id in the result")
    return ids[0]


QUESTIONS = [
    {
        "text": "Tell me about a backend service you designed. What trade-offs did you make?",
        "type": "OPEN_ENDED",
    },
    {
        "text": "Which isolation level prevents non-repeatable reads in PostgreSQL?",
        "type": "SINGLE_CHOICE",
        "options": ["Read uncommitted", "Read committed", "Repeatable read", "Serializable"],
    },
    {
        "text": "Write a function that merges overlapping intervals and explain its complexity.",
        "type": "CODING",
    },
]

CANDIDATES = [
    {"name": "Ada Lovelace", "email": "ada@example.com"},
    {"name": "Alan Turing", "email": "alan@example.com"},
]


async def walk(
    walker: Walk, check: Callable[[bool, str], None], wait_for_you: float | None = None
) -> dict[str, int]:
    """The lifecycle. With `wait_for_you` (seconds), the first candidate is the person running the demo:
    instead of simulating their session, the agent waits for them to take it at their invite link."""
    await walker.call("get_usage", {})
    created = await walker.call(
        "create_interview",
        {
            "title": "Backend engineer screen",
            "objective": "Assess API design, databases and coding for a mid-level backend role.",
            "chatEnabled": True,
        },
    )
    interview_id = _one_id(created, "interview")
    added = await walker.call(
        "add_questions", {"interviewId": interview_id, "questions": QUESTIONS}, lines=len(QUESTIONS) + 1
    )
    check(
        len(find_ids(added)) >= len(QUESTIONS) or "3" in result_text(added), "add_questions added 3 questions"
    )
    await walker.call("publish_interview", {"interviewId": interview_id})
    added_candidates = await walker.call("add_candidates", {"interviewId": interview_id, "candidates": CANDIDATES})
    invite = _invite_url(added_candidates)
    check(invite is not None, "add_candidates returned an invite link")
    if wait_for_you is None:
        walker.say(f"    ↳ {CANDIDATES[0]['name']}'s link, to take the interview in a browser: {invite}")
        walker.say("      (open while this demo runs; `aural-mcp demo --as-candidate` waits for you to take it)")
    session_ids = []
    for seed, candidate in enumerate(CANDIDATES, start=1):
        if wait_for_you is not None and candidate is CANDIDATES[0]:
            continue  # that session is yours, taken in the browser
        simulated = await walker.call(
            "simulate_session",
            {
                "interviewId": interview_id,
                "participantName": candidate["name"],
                "status": "COMPLETED",
                "seed": seed,
            },
            lines=2,
        )
        session_ids.append(_one_id(simulated, "session"))
    # A third candidate is still answering: the session completes by itself in two seconds, and
    # the agent waits for it instead of polling.
    running = await walker.call(
        "simulate_session",
        {"interviewId": interview_id, "participantName": "Sam Rivera", "seed": 3, "completeAfterSeconds": 2},
        lines=2,
    )
    running_id = _one_id(running, "session")
    waited = await walker.call(
        "wait_for_sessions", {"interviewId": interview_id, "status": "COMPLETED", "timeoutSeconds": 30}, lines=3
    )
    check(running_id in result_text(waited), "wait_for_sessions returned when the third session completed")
    session_ids.append(running_id)
    if wait_for_you is not None:  # the link only now, so the cursor of that wait is from before you began
        walker.say(f"    ↳ {CANDIDATES[0]['name']}'s link, to take the interview in a browser: {invite}")
        walker.say(f"      Open it now and take the interview as {CANDIDATES[0]['name']}: the agent waits for you")
        walker.say(f"      (up to {wait_for_you / 60:g} min; Ctrl+C stops the demo).")
        since = (getattr(waited, "structured_content", None) or {}).get("since")
        session_ids.insert(0, await _wait_for_you(walker, interview_id, since, wait_for_you))
    listed = await walker.call("list_sessions", {"interviewId": interview_id}, lines=4)
    listed_ids = set(find_ids(listed)) | set(_UUID.findall(result_text(listed)))
    check(all(s in listed_ids for s in session_ids), "list_sessions shows the three simulated sessions")
    session_id = session_ids[0]
    await walker.call("get_session", {"sessionId": session_id}, lines=4)
    transcript = await walker.read(f"aural://sessions/{session_id}/transcript")
    check(len(transcript.splitlines()) > 3, "the transcript has the conversation")
    await walker.call("get_session_report", {"sessionId": session_id}, lines=4)
    if wait_for_you is not None:  # where the agent ranks you among the others
        board = await walker.call("compare_sessions", {"interviewId": interview_id}, lines=5)
        walker.say(f"    ↳ {_your_place(board, session_id)}")
    await walker.call("archive_interview", {"interviewId": interview_id}, lines=2)
    return {"questions": len(QUESTIONS), "candidates": len(CANDIDATES), "sessions": len(session_ids)}


async def _wait_for_you(walker: Walk, interview_id: str, since: Any, seconds: float) -> str:
    """The id of the next session to complete (the one taken in the browser), waiting up to `seconds`."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) >= 1:
        timeout = int(min(left, WAIT_CALL_SECONDS))
        args: dict[str, Any] = {"interviewId": interview_id, "status": "COMPLETED", "timeoutSeconds": timeout}
        if isinstance(since, str):
            args["since"] = since
        waited = await walker.call("wait_for_sessions", args, lines=3)
        structured = getattr(waited, "structured_content", None) or {}
        since = structured.get("since", since)
        for row in structured.get("sessions") or []:
            session_id = row.get("sessionId") if isinstance(row, dict) else None
            if isinstance(session_id, str):
                walker.say(f"    ↳ your session completed: {session_id}")
                return session_id
    raise StepFailed(f"nobody took the interview at the invite link within {seconds / 60:g} min")


def _your_place(board: Any, session_id: str) -> str:
    """Your rank and overall score on compare_sessions' scoreboard, in words."""
    rows = (getattr(board, "structured_content", None) or {}).get("sessions") or []
    mine = next((r for r in rows if isinstance(r, dict) and r.get("sessionId") == session_id), None)
    if mine is None:
        return "your session is not on the first page of the scoreboard"
    if mine.get("rank") is None:
        return "your session has no score yet, so it is not ranked"
    return f"you rank #{mine['rank']} of {len(rows)}, overall {mine.get('overallScore')} (the sandbox's heuristic scores)"


async def run(out: TextIO, command: list[str] | None = None, wait_for_you: float | None = None) -> int:
    import anyio
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters, stdio_client

    from aural_mcp.cli.config import server_command

    if command is None:
        exe, prefix = server_command()
        command = [exe, *prefix, "serve", "--sandbox"]
    started = time.monotonic()
    problems: list[str] = []

    def check(ok: bool, what: str) -> None:
        if not ok:
            problems.append(what)

    print("aural-mcp demo: the interview lifecycle, as an agent runs it, on a local sandbox", file=out)
    print(
        f"  server: {' '.join(command[-2:])} over stdio (spawned), client: the MCP SDK\n",
        file=out,
        flush=True,
    )
    params = StdioServerParameters(
        command=command[0], args=command[1:], env={"AURAL_MCP_LOG_LEVEL": "WARNING"}
    )
    with tempfile.TemporaryFile("w+", encoding="utf-8") as errlog:
        try:
            with anyio.fail_after(TIMEOUT_SECONDS + (wait_for_you or 0)):
                async with Client(stdio_client(params, errlog=errlog)) as client:
                    tools = await client.list_tools()
                    names = {t.name for t in tools.tools}
                    print(f"connected: {len(names)} tools", file=out, flush=True)
                    missing = {"create_interview", "simulate_session", "archive_interview"} - names
                    if missing:
                        raise StepFailed(f"the server does not offer {', '.join(sorted(missing))}")
                    counts = await walk(Walk(client, out), check, wait_for_you)
        except Exception as exc:  # a failed step, a protocol error, the server died, …
            leaf = _leaf(exc)
            if isinstance(leaf, StepFailed):
                why = str(leaf)
            elif isinstance(leaf, TimeoutError):
                why = f"the walk did not finish within {TIMEOUT_SECONDS + (wait_for_you or 0):g} s"
            else:
                why = f"{type(leaf).__name__}: {leaf}"
            return _failed(out, why, errlog)
    if problems:
        return _failed(out, "; ".join(problems), None)
    elapsed = time.monotonic() - started
    yours = " (one of them yours)" if wait_for_you is not None else ""
    print(
        f"\nDone in {elapsed:.1f} s: 1 interview, {counts['questions']} questions, {counts['candidates']} candidates, "
        f"{counts['sessions']} sessions{yours}, read a transcript and a report, archived.\n"
        "Next: `aural-mcp config claude-desktop --sandbox` to try it from your own client.",
        file=out,
        flush=True,
    )
    return 0


def _leaf(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _failed(out: TextIO, why: str, errlog: Any) -> int:
    print(f"\naural-mcp demo FAILED: {why}", file=out, flush=True)
    if errlog is not None:
        errlog.seek(0)
        tail = errlog.read().splitlines()[-15:]
        if tail:
            print("last lines the server wrote to stderr:", file=out)
            for line in tail:
                print(f"  | {line}", file=out)
    return 1


def main(args: argparse.Namespace | None = None) -> int:
    import anyio

    wait_for_you = None
    if args is not None and getattr(args, "as_candidate", False):
        wait_for_you = float(args.wait_minutes) * 60
    try:
        return anyio.run(run, sys.stdout, None, wait_for_you)
    except KeyboardInterrupt:
        print("\naural-mcp demo: stopped (Ctrl+C)", file=sys.stdout, flush=True)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
