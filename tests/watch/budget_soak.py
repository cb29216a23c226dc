"""The watcher's budget over three minutes, as a script: `python -m tests.watch.budget_soak OUT.json`.

A real sandbox on a loopback port with a short rate limit (20 requests per 10 s window) and one
`AuralClient` shared, as in an agent's process, by `AuralClient.watch()` over six interviews
(polling every second: it always wants more than its share) and an "agent" task calling the API
evenly at 12 requests per window, within the 16 that the watcher's 20% share leaves. Candidates
finish sessions every 15 s. It writes what the test asserts: 429s seen by the sandbox, how often
and how long the agent's calls waited for the pacer, what the watcher found and missed.

It runs for SOAK_SECONDS, so the suite starts it in the background at collection and the test
(`test_budget_soak.py`) reads its result at the end (see `tests/conftest.py`).
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import anyio

SOAK_SECONDS = float(os.environ.get("AURAL_SOAK_SECONDS", "180"))
LIMIT, WINDOW = 20, 10.0
SHARE = 0.2
AGENT_PER_WINDOW = 12
FINISH_EVERY = 15.0
INTERVIEWS = 6


async def soak(out: str) -> None:
    from tests.support.servers import LiveServer
    from tests.watch.helpers import published_interview

    from aural_mcp.api import AuralClient
    from aural_mcp.sandbox import Sandbox

    sb = Sandbox(":memory:", rate_limit=LIMIT, rate_window=WINDOW)
    result: dict[str, Any] = {}
    with LiveServer(sb.app, log_level="warning") as live:
        base = live.url + "/api/v1"
        key = sb.create_key()
        # The set-up has its own client: its requests are not the agent's and not the watcher's.
        async with AuralClient(key, base_url=base, rate_limit=LIMIT, rate_window=WINDOW) as setup:
            ids = [await published_interview(setup, f"Soak {i}") for i in range(INTERVIEWS)]
        await anyio.sleep(WINDOW)  # start with an empty window at the sandbox
        finished: list[tuple[float, str]] = []
        found: dict[str, list[str]] = {}
        agent_calls = 0
        started = time.monotonic()
        async with AuralClient(
            key, base_url=base, rate_limit=LIMIT, rate_window=WINDOW, background_share=SHARE
        ) as client:

            async def watch() -> None:
                async for event in client.watch(ids, state=":memory:", poll_seconds=1.0):
                    if event.session_id:
                        found.setdefault(event.session_id, []).append(event.type)

            async def agent() -> None:
                nonlocal agent_calls
                step = WINDOW / AGENT_PER_WINDOW
                operations = [("list_interviews", {}), ("get_interview", {"interviewId": ids[0]}),
                              ("list_sessions", {"interviewId": ids[1]}), ("get_usage", {})]  # fmt: skip
                while time.monotonic() - started < SOAK_SECONDS:
                    name, args = operations[agent_calls % len(operations)]
                    await client.call(name, args)
                    agent_calls += 1
                    await anyio.sleep(max(0.0, started + agent_calls * step - time.monotonic()))

            async def candidates() -> None:
                n = 0
                while time.monotonic() - started < SOAK_SECONDS - FINISH_EVERY:
                    await anyio.sleep(FINISH_EVERY)
                    n += 1
                    row = sb.simulate_session(ids[n % INTERVIEWS], seed=n, profile="strong")
                    finished.append((time.monotonic() - started, row["id"]))

            async with anyio.create_task_group() as tg:
                tg.start_soon(watch)
                tg.start_soon(candidates)
                await agent()
                await anyio.sleep(1.0)
                tg.cancel_scope.cancel()
            pacer = client.pacer.stats
            # Sessions finished early enough for a watcher polling each interview every ~30 s.
            due = [sid for at, sid in finished if at < SOAK_SECONDS - 45]
            result = {
                "seconds": round(time.monotonic() - started, 1),
                "rate_limited": sb.stats["rate_limited"],
                "client_rate_limited": client.stats["rate_limited"],
                "agent_calls": agent_calls,
                "agent_calls_planned": int(SOAK_SECONDS / (WINDOW / AGENT_PER_WINDOW)),
                "foreground_waits": pacer["foreground_waits"],
                "foreground_wait_seconds": round(pacer["foreground_wait_seconds"], 3),
                "api_requests": sb.stats["api_requests"],
                "finished": len(finished),
                "due": len(due),
                "missed": [sid for sid in due if found.get(sid) != ["session.started", "session.completed", "session.analyzed"]],
                "events": sum(len(v) for v in found.values()),
            }
    sb.close()
    with open(out, "w", encoding="utf-8") as f:
        json.dump(result, f)


if __name__ == "__main__":
    anyio.run(soak, sys.argv[1])
