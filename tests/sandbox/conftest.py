"""Fixtures for the sandbox tests: an in-memory sandbox, keys, an in-process client, a live server."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from tests.support.net import wait_until_answers
from tests.support.processes import AURAL_MCP
from tests.support.servers import LiveServer

from aural_mcp.sandbox import Sandbox

BASE = "http://sandbox.test"


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    box = Sandbox(rate_limit=10_000)
    yield box
    box.close()


@pytest.fixture
def key(sb: Sandbox) -> str:
    return sb.create_key()


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
async def client(sb: Sandbox, key: str) -> AsyncIterator[httpx2.AsyncClient]:
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=sb.app), base_url=BASE, headers=auth(key)
    ) as c:
        yield c


async def new_interview(client: httpx2.AsyncClient, **fields: Any) -> dict[str, Any]:
    r = await client.post("/api/v1/interviews", json={"title": "Backend screening", **fields})
    assert r.status_code == 200, r.text
    return r.json()["data"]


async def add_questions(client: httpx2.AsyncClient, iid: str, *texts: str) -> list[dict[str, Any]]:
    r = await client.post(f"/api/v1/interviews/{iid}/questions", json=[{"text": t} for t in texts])
    assert r.status_code == 200, r.text
    return r.json()["data"]


def err(r: httpx2.Response) -> tuple[int, str, str]:
    body = r.json()
    return r.status_code, body["error"]["code"], body["error"]["message"]


@pytest.fixture
def server(sb: Sandbox) -> Iterator[LiveServer]:
    """The `sb` sandbox served by uvicorn on 127.0.0.1 (a free port)."""
    with LiveServer(sb.app) as live:
        yield live


@pytest.fixture
async def http(server: LiveServer, key: str) -> AsyncIterator[httpx2.AsyncClient]:
    """A client of `server` over real HTTP, sending `key`."""
    async with httpx2.AsyncClient(base_url=server.url, headers=auth(key), timeout=30) as c:
        yield c


class SandboxProcess:
    """`aural-mcp sandbox` as a subprocess on a free port; reads the printed port and key, and
    waits until it answers on 127.0.0.1.
    `kill()` is SIGKILL on purpose: the durability tests crash the sandbox mid-write."""

    def __init__(self, db: Path, *extra: str) -> None:
        self.args = [
            *AURAL_MCP,
            "sandbox",
            "--db",
            str(db),
            "--port",
            "0",
            *extra,
        ]
        self.proc: subprocess.Popen[str] | None = None
        self.key: str | None = None
        self.base = ""
        self.output: list[str] = []
        self.stderr_path = Path(f"{db}.stderr")

    def start(self) -> SandboxProcess:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.stderr_file = open(self.stderr_path, "w")  # noqa: SIM115 - closed in kill()
        self.proc = subprocess.Popen(
            self.args, stdout=subprocess.PIPE, stderr=self.stderr_file, text=True, env=env
        )
        deadline = time.monotonic() + 20
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.output.append(line)
            if m := re.search(r"serving http://\S+:(\d+)/api/v1", line):
                self.base = f"http://127.0.0.1:{m.group(1)}/api/v1"  # tests reach it on loopback only
            if m := re.search(r"(dlv_[a-z0-9]{32})", line):
                self.key = m.group(1)
            if line.startswith("Press Ctrl+C"):
                break
        assert self.base, "".join(self.output)
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        root = self.base.rsplit("/api/v1", 1)[0]
        wait_until_answers(root + "/healthz", timeout=15, proc=self.proc, log=self.stderr)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
        if self.proc:
            self.proc.wait(timeout=10)
            if self.proc.stdout:
                self.proc.stdout.close()
            self.stderr_file.close()

    def stderr(self) -> str:
        return self.stderr_path.read_text()
