"""Minimal MCP clients for the benchmarks: raw JSON-RPC, so client cost stays out of the figures.

`StdioPeer` spawns a server and talks newline-delimited JSON-RPC over its pipes (what every
stdio client does). `HttpSession` is one Streamable HTTP session on a shared `httpx2.AsyncClient`.
Both measure the server, not a client library: a request is one `json.dumps`, one write and one
read of the answer.
"""

from __future__ import annotations

import itertools
import json
import os
import select
import subprocess
import time
from typing import Any

PROTOCOL_VERSION = "2025-06-18"
CLIENT_INFO = {"name": "aural-bench", "version": "1"}


class PeerError(RuntimeError):
    pass


class StdioPeer:
    """One stdio MCP server process. Always use as a context manager: the process is killed on exit."""

    def __init__(
        self,
        argv: list[str],
        env: dict[str, str] | None = None,
        cwd: str | None = None,
        *,
        kill: bool = False,
    ):
        self.argv = argv
        self.kill = kill  # on exit: SIGKILL at once instead of EOF and a wait (for start-up loops)
        self.env = env
        self.cwd = cwd
        self.proc: subprocess.Popen[bytes] | None = None
        self._buf = b""
        self._ids = itertools.count(1)
        self.spawned_at = 0.0

    def __enter__(self) -> StdioPeer:
        self.spawned_at = time.perf_counter()
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=self.env,
            cwd=self.cwd,
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def close(self) -> None:
        proc = self.proc
        if proc is None:
            return
        try:
            if self.kill:
                proc.kill()
            if proc.stdin:
                proc.stdin.close()
            proc.wait(timeout=3)
        except (subprocess.TimeoutExpired, OSError):
            proc.kill()
            proc.wait(timeout=5)
        finally:
            if proc.stdout:
                proc.stdout.close()
            self.proc = None

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")
        self.proc.stdin.flush()

    def _read_line(self, deadline: float) -> bytes:
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buf:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise PeerError(f"no answer from {self.argv[-1]} in time")
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise PeerError(f"{self.argv} closed stdout (exit code {self.proc.poll()})")
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        return line

    def request(
        self, method: str, params: dict[str, Any] | None = None, timeout: float = 30.0
    ) -> dict[str, Any]:
        """Send a request and return its `result`; server notifications in between are skipped."""
        rid = next(self._ids)
        msg: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)
        deadline = time.perf_counter() + timeout
        while True:
            answer = json.loads(self._read_line(deadline))
            if answer.get("id") != rid or "method" in answer:
                continue
            if "error" in answer:
                raise PeerError(f"{method}: {answer['error']}")
            return answer["result"]

    def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)

    def initialize(self, timeout: float = 60.0) -> dict[str, Any]:
        result = self.request(
            "initialize",
            {"protocolVersion": PROTOCOL_VERSION, "capabilities": {}, "clientInfo": CLIENT_INFO},
            timeout=timeout,
        )
        self.notify("notifications/initialized")
        return result

    def list_tools(self) -> list[dict[str, Any]]:
        tools: list[dict[str, Any]] = []
        cursor = None
        for _ in range(50):
            result = self.request("tools/list", {"cursor": cursor} if cursor else {})
            tools.extend(result["tools"])
            cursor = result.get("nextCursor")
            if not cursor:
                return tools
        raise PeerError("tools/list did not end after 50 pages")

    def call_tool(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        result = self.request("tools/call", {"name": name, "arguments": arguments})
        if result.get("isError"):
            text = " ".join(c.get("text", "") for c in result.get("content", []))
            raise PeerError(f"{name} returned an error: {text[:300]}")
        return result


def _sse_messages(body: str) -> list[dict[str, Any]]:
    out = []
    for event in body.replace("\r\n", "\n").split("\n\n"):
        data = "\n".join(line[5:].lstrip() for line in event.split("\n") if line.startswith("data:"))
        if data:
            out.append(json.loads(data))
    return out


class HttpSession:
    """One MCP session over Streamable HTTP (JSON or SSE answers), on a shared httpx2.AsyncClient.
    With `token`, every request carries `Authorization: Bearer <token>` (the team server's OAuth or
    service tokens)."""

    def __init__(self, client: Any, url: str, token: str | None = None):
        self.client = client
        self.url = url
        self.token = token
        self.session_id: str | None = None
        self.protocol_version = PROTOCOL_VERSION
        self._ids = itertools.count(1)

    def _headers(self) -> dict[str, str]:
        h = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
        if self.token:
            h["Authorization"] = f"Bearer {self.token}"
        if self.session_id:
            h["Mcp-Session-Id"] = self.session_id
            h["Mcp-Protocol-Version"] = self.protocol_version
        return h

    async def _post(self, message: dict[str, Any]) -> Any:
        r = await self.client.post(self.url, content=json.dumps(message), headers=self._headers())
        if r.status_code >= 400:
            raise PeerError(f"HTTP {r.status_code} from {self.url}: {r.text[:300]}")
        return r

    async def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        rid = next(self._ids)
        msg: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            msg["params"] = params
        r = await self._post(msg)
        if sid := r.headers.get("mcp-session-id"):
            self.session_id = sid
        ctype = r.headers.get("content-type", "")
        messages = _sse_messages(r.text) if ctype.startswith("text/event-stream") else [r.json()]
        for answer in messages:
            if answer.get("id") == rid and "method" not in answer:
                if "error" in answer:
                    raise PeerError(f"{method}: {answer['error']}")
                return answer["result"]
        raise PeerError(f"{method}: no answer in {r.text[:300]!r}")

    async def initialize(self) -> dict[str, Any]:
        result = await self.request(
            "initialize", {"protocolVersion": PROTOCOL_VERSION, "capabilities": {}, "clientInfo": CLIENT_INFO}
        )
        self.protocol_version = result.get("protocolVersion", PROTOCOL_VERSION)
        await self._post({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return result

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        result = await self.request("tools/call", {"name": name, "arguments": arguments})
        if result.get("isError"):
            text = " ".join(c.get("text", "") for c in result.get("content", []))
            raise PeerError(f"{name} returned an error: {text[:300]}")
        return result
