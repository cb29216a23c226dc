"""The request-body limit: checked before the body is read, and no body is read before the key check.

A declared Content-Length over the limit is answered 413 at once, key or not. A chunked body
(no length) is not read at all without a valid key (401), and read only up to the limit with one
(413). The 200 MB bodies below are offered over a raw socket to the `aural-mcp sandbox` process
while its resident memory is sampled; each offer stops as soon as the server answers.
"""

from __future__ import annotations

import select
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx2
import pytest
from tests.support.servers import LiveServer

from aural_mcp.sandbox import Sandbox

from .conftest import SandboxProcess, auth

OFFERED = 200 * 1024 * 1024
CHUNK = b"x" * 65536


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


class PeakRss:
    """The highest resident size of a process, sampled every 20 ms while in the block."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self.stop = pid, rss_bytes(pid), threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(0.02):
            self.peak = max(self.peak, rss_bytes(self.pid))

    def __enter__(self) -> PeakRss:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=5)


def offer(port: int, head: bytes, *, chunked: bool, limit_seconds: float = 60) -> tuple[int, int]:
    """Send `head`, then up to OFFERED body bytes until the server answers. Returns (status, bytes sent)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sent = 0
    try:
        sock.sendall(head)
        piece = b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK) if chunked else CHUNK
        deadline = time.monotonic() + limit_seconds
        try:
            while sent < OFFERED and time.monotonic() < deadline:
                readable, writable, _ = select.select([sock], [sock], [], 5)
                if readable:
                    break  # the server has answered (or closed)
                if writable:
                    sock.sendall(piece)
                    sent += len(CHUNK)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass  # the server stopped reading and closed: expected
        response = b""
        while b"\r\n" not in response:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:  # closed with our unread bytes queued: the answer came first
                break
            if not data:
                break
            response += data
        assert response.startswith(b"HTTP/1.1 "), response[:200]
        return int(response.split()[1]), sent
    finally:
        sock.close()


def request_head(port: int, key: str | None, length: int | None) -> bytes:
    lines = ["POST /api/v1/interviews HTTP/1.1", f"Host: 127.0.0.1:{port}", "Content-Type: application/json"]
    if key:
        lines.append(f"Authorization: Bearer {key}")
    lines.append(f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_large_bodies_get_413_or_401_with_bounded_memory(tmp_path):
    proc = SandboxProcess(tmp_path / "limit.db").start()
    try:
        assert proc.proc is not None and proc.key
        port = int(proc.base.split(":")[2].split("/")[0])
        pid = proc.proc.pid
        api = proc.base
        httpx2.get(api + "/interviews", headers=auth(proc.key))  # warm up before the baseline
        baseline = rss_bytes(pid)
        cases = [
            (None, OFFERED, 413),  # declared too large: answered before the key is even looked at
            (proc.key, OFFERED, 413),
            (None, None, 401),  # chunked without a key: never read
            (proc.key, None, 413),  # chunked with a key: read up to the limit only
        ]
        with PeakRss(pid) as peak:
            for key, length, expected in cases:
                status, sent = offer(port, request_head(port, key, length), chunked=length is None)
                assert status == expected, (key is not None, length, status)
                assert sent < OFFERED  # the server answered long before the body ended
                ok = httpx2.get(api + "/interviews", headers=auth(proc.key), timeout=10)
                assert ok.status_code == 200 and ok.json() == {"data": [], "cursor": None}  # nothing stored
        assert peak.peak - baseline < 50 * 1024 * 1024, (baseline, peak.peak)
        r = httpx2.post(
            api + "/interviews", json={"title": "Still serving"}, headers=auth(proc.key), timeout=10
        )
        assert r.status_code == 200
        assert "Traceback" not in proc.stderr()
    finally:
        proc.kill()


def test_limit_is_configurable_and_enveloped():
    box = Sandbox(max_body_bytes=1000)
    try:
        key = box.create_key()
        with LiveServer(box.app) as server:
            url = server.url + "/api/v1/interviews"
            small = httpx2.post(url, json={"title": "x" * 900}, headers=auth(key))
            assert small.status_code == 200
            big = httpx2.post(url, json={"title": "x" * 1000}, headers=auth(key))
            assert big.status_code == 413 and big.json()["error"] == {
                "code": "PAYLOAD_TOO_LARGE",
                "message": "Request body is larger than the sandbox's limit of 1000 bytes (--max-body-bytes).",
            }

            def chunks():
                for _ in range(20):
                    yield b" " * 100  # a streamed (chunked) body of 2,000 bytes

            streamed = httpx2.post(url, content=chunks(), headers=auth(key))
            assert streamed.status_code == 413
            assert len(httpx2.get(url, headers=auth(key)).json()["data"]) == 1
    finally:
        box.close()
    with pytest.raises(ValueError, match="max_body_bytes must be a positive number of bytes"):
        Sandbox(max_body_bytes=0)


def test_cli_rejects_a_bad_limit_in_one_line():
    out = subprocess.run(
        [sys.executable, "-m", "aural_mcp.cli", "sandbox", "--db", ":memory:", "--max-body-bytes", "-1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert "max_body_bytes must be a positive number of bytes, not -1" in out.stderr
