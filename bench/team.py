"""Figure 9, the team server: `aural-mcp serve --transport http --auth oauth --stateless --json-response`
as a team deploys it, with service tokens made by the real `aural-mcp tokens create`.

- `one_replica`: one replica on its embedded SQLite team store.
- `redis_replicas`: three replicas on one real Redis, reached through a round-robin client (each
  request goes to the next replica, as a load balancer without affinity sends it).
- `pacing_burst`: three replicas on one Redis in front of a sandbox with a small per-key limit,
  two users of two organizations, each sending three windows' worth of tool calls at once spread
  over the replicas; the sandbox logs each API request's arrival per key.

bench/run.py measures the first two with figure 4's alternating slices against the direct SDK.
The Redis server, the loopback uvicorn and the arrivals log are the team tests' own helpers
(`tests/support`). Every process started here is stopped by its PID on the way out.
"""

from __future__ import annotations

import contextlib
import itertools
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mcpio
import psutil
import pytest
from tests.support.arrivals import Arrivals
from tests.support.net import free_port, wait_until_answers
from tests.support.processes import AURAL_MCP, env_without_aural, started
from tests.support.redis import redis_server, redis_server_binary
from tests.support.servers import LiveServer

REPLICAS = 3
PACING_LIMIT, PACING_WINDOW = 10, 2.0  # the pacing sandbox's per-key limit: 10 requests per 2 s
BURST_WINDOWS = 3  # each user's burst: this many windows' worth of calls, all at once


class RoundRobinSession(mcpio.HttpSession):
    """An `HttpSession` whose every request goes to the next replica of a cycle shared by all sessions."""

    def __init__(self, client: Any, replicas: Iterator[str], token: str):
        super().__init__(client, "", token)
        self.replicas = replicas

    async def _post(self, message: dict[str, Any]) -> Any:
        self.url = next(self.replicas)
        return await super()._post(message)


@dataclass
class Deployment:
    urls: list[str]  # each replica's MCP endpoint
    tokens: dict[str, str]  # user -> service token
    pids: dict[str, list[int]] = field(default_factory=dict)  # "mcp_server" (the replicas), "redis"
    _cycle: Iterator[str] = field(init=False)

    def __post_init__(self) -> None:
        self._cycle = itertools.cycle(self.urls)

    def session(self, http: Any, user: str = "bench") -> RoundRobinSession:
        return RoundRobinSession(http, self._cycle, self.tokens[user])


def redis_available() -> bool:
    try:
        redis_server_binary()
    except pytest.fail.Exception:
        return False
    return True


def create_token(env: dict[str, str], name: str, key: str) -> str:
    """A service token for `key` from the real `aural-mcp tokens create` (the key on stdin)."""
    made = subprocess.run(
        [*AURAL_MCP, "tokens", "create", "--name", name], input=key + "\n", env=env, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip
    if made.returncode != 0:
        raise RuntimeError(f"aural-mcp tokens create --name {name} exited {made.returncode}: {made.stderr[-500:]}")
    return made.stdout.strip()


@contextlib.contextmanager
def _replicas(count: int, env: dict[str, str], logs: Path) -> Iterator[list[tuple[str, int]]]:
    """`count` team replicas on free ports (the public URL is the first one's); yields (MCP URL, PID) each."""
    ports = [free_port() for _ in range(count)]
    public = f"http://127.0.0.1:{ports[0]}"
    out = []
    with contextlib.ExitStack() as stack:
        for n, port in enumerate(ports):
            argv = [*AURAL_MCP, "serve", "--transport", "http", "--port", str(port), "--auth", "oauth",
                    "--public-url", public, "--stateless", "--json-response"]  # fmt: skip
            log = stack.enter_context((logs / f"team-replica-{count}-{n}.log").open("wb"))
            proc = stack.enter_context(
                started(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env)
            )
            out.append((f"http://127.0.0.1:{port}/mcp", proc.pid))
            wait_until_answers(f"http://127.0.0.1:{port}/healthz", proc=proc)
        yield out


def _team_env(data: str, base_url: str, rate_limit: str, **store: str) -> dict[str, str]:
    from aural_mcp.team.secrets import generate_secret_key

    return env_without_aural(
        AURAL_MCP_SECRET_KEY=generate_secret_key(), AURAL_BASE_URL=base_url, AURAL_RATE_LIMIT=rate_limit,
        XDG_DATA_HOME=data, **store,
    )  # fmt: skip


@contextlib.contextmanager
def one_replica(base_url: str, key: str, rate_limit: str, cache: Path) -> Iterator[Deployment]:
    """One replica on its SQLite team store, and a service token for `key`."""
    with tempfile.TemporaryDirectory(prefix="aural-team-", dir=cache) as data:
        env = _team_env(data, base_url, rate_limit, AURAL_MCP_TEAM_DB=str(Path(data) / "team.sqlite3"))
        with _replicas(1, env, cache) as replicas:
            token = create_token({**env, "AURAL_MCP_PUBLIC_URL": _public(replicas)}, "bench", key)
            yield Deployment([u for u, _ in replicas], {"bench": token}, {"mcp_server": [p for _, p in replicas]})


def _public(replicas: list[tuple[str, int]]) -> str:
    return replicas[0][0].removesuffix("/mcp")


@contextlib.contextmanager
def redis_replicas(base_url: str, keys: dict[str, str], rate_limit: str, cache: Path) -> Iterator[Deployment]:
    """`REPLICAS` replicas on one Redis, and a service token for each user's key."""
    with tempfile.TemporaryDirectory(prefix="aural-team-", dir=cache) as data, redis_server() as redis_url:
        redis_pids = [p.pid for p in psutil.Process().children() if p.name() == "redis-server"]
        env = _team_env(data, base_url, rate_limit, AURAL_MCP_REDIS_URL=redis_url)
        with _replicas(REPLICAS, env, cache) as replicas:
            token_env = {**env, "AURAL_MCP_PUBLIC_URL": _public(replicas)}
            tokens = {user: create_token(token_env, user, key) for user, key in keys.items()}
            yield Deployment(
                [u for u, _ in replicas], tokens, {"mcp_server": [p for _, p in replicas], "redis": redis_pids}
            )


async def pacing_burst(cache: Path) -> dict[str, Any]:
    """Two users, three replicas on one Redis, a sandbox allowing each key `PACING_LIMIT` requests per
    `PACING_WINDOW` s: each user sends `BURST_WINDOWS` windows' worth of `get_usage` calls at once,
    dealt round-robin over the replicas. Counted at the sandbox: its 429 answers and each key's most
    requests in any window-long interval."""
    import asyncio

    import httpx2

    from aural_mcp.sandbox import Sandbox

    box = Sandbox(":memory:", rate_limit=PACING_LIMIT, rate_window=PACING_WINDOW)
    keys = {
        "ada": box.create_key(organization=box.create_organization("Ada's agency")),
        "bo": box.create_key(organization=box.create_organization("Bo's startup")),
    }
    arrivals = Arrivals(box.app, PACING_WINDOW)
    calls = BURST_WINDOWS * PACING_LIMIT
    try:
        with (
            LiveServer(arrivals, log_level="warning") as api,
            redis_replicas(api.url + "/api/v1", keys, f"{PACING_LIMIT}/{PACING_WINDOW:g}", cache) as d,
        ):
            # `tokens create` checked each key with one request outside the replicas' shared budget:
            # let that window pass so that the burst starts on a fresh one.
            await asyncio.sleep(PACING_WINDOW)
            rate_limited_before = box.stats["rate_limited"]
            async with httpx2.AsyncClient(timeout=60, limits=httpx2.Limits(max_connections=2 * calls)) as http:
                start = time.monotonic()
                finished: dict[str, list[float]] = {user: [] for user in keys}
                errors: dict[str, list[str]] = {user: [] for user in keys}

                async def one(user: str) -> None:
                    try:
                        await d.session(http, user).call_tool("get_usage", {})
                    except mcpio.PeerError as exc:
                        errors[user].append(str(exc)[:200])
                    finished[user].append(time.monotonic() - start)

                await asyncio.gather(*(one(user) for _ in range(calls) for user in keys))
            per_user = {
                user: {
                    "calls": calls,
                    "errors": len(errors[user]),
                    "error_samples": errors[user][:3],
                    "arrivals": sum(1 for t, k in arrivals.seen if k == key and t >= start),
                    "most_in_a_window": arrivals.most_in_a_window(key, since=start),
                    "seconds": max(finished[user]),
                }
                for user, key in keys.items()
            }
            return {
                "limit": PACING_LIMIT,
                "window_s": PACING_WINDOW,
                "replicas": len(d.urls),
                "users": len(keys),
                "calls_per_user": calls,
                "sandbox_429": box.stats["rate_limited"] - rate_limited_before,
                "users_detail": per_user,
                "most_in_a_window": max(u["most_in_a_window"] for u in per_user.values()),
                "seconds": max(u["seconds"] for u in per_user.values()),
                # the floor: a budget of `limit` per window lets the last of `calls` start only after this
                "floor_seconds": (calls / PACING_LIMIT - 1) * PACING_WINDOW,
            }
    finally:
        box.close()
