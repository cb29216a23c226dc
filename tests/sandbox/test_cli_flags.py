"""`aural-mcp sandbox` flags: the non-loopback warning and the help text."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest

WARNING = (
    "aural-mcp sandbox: warning: listening on {host}, so the sandbox and its test API keys are reachable"
    " from the network; use --host 127.0.0.1 to keep it on this machine"
)


def start(db: Path, host: str) -> tuple[subprocess.Popen[str], int, Path]:
    stderr_path = db.with_suffix(".stderr")
    with open(stderr_path, "w") as stderr:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "aural_mcp.cli",
                "sandbox",
                "--db",
                str(db),
                "--host",
                host,
                "--port",
                "0",
            ],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    assert proc.stdout is not None
    port, deadline = 0, time.monotonic() + 20
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if m := re.search(r"Aural sandbox serving http://[^ ]*:(\d+)/api/v1", line):
            port = int(m.group(1))
        if line.startswith("Press Ctrl+C"):
            break
    assert port, "the sandbox printed no URL"
    return proc, port, stderr_path


def stop(proc: subprocess.Popen[str]) -> None:
    proc.kill()
    proc.wait(timeout=10)
    if proc.stdout:
        proc.stdout.close()


@pytest.mark.parametrize(("host", "warned"), [("0.0.0.0", True), ("127.0.0.1", False), ("localhost", False)])
def test_non_loopback_bind_warns_once_on_stderr(tmp_path, host, warned):
    proc, port, stderr_path = start(tmp_path / "bind.db", host)
    try:
        # only ever reached through loopback
        deadline = time.monotonic() + 15
        while True:
            try:
                assert httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=2).text == "ok"
                break
            except httpx2.HTTPError:
                assert time.monotonic() < deadline, "the sandbox did not answer on 127.0.0.1"
                time.sleep(0.05)
    finally:
        stop(proc)
    lines = stderr_path.read_text().splitlines()
    expected = WARNING.format(host=host)
    assert lines.count(expected) == (1 if warned else 0), lines
    assert not any("warning" in line for line in lines if line != expected)


def test_help_explains_host_port_and_db_default():
    out = subprocess.run(
        [sys.executable, "-m", "aural_mcp.cli", "sandbox", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0
    text = " ".join(out.stdout.split())  # argparse wraps lines at the terminal width
    assert "--host HOST address to listen on (default 127.0.0.1, this machine only;" in text
    assert "--port PORT port to listen on; 0 picks a free one (default 8400)" in text
    assert "--db DB SQLite file, or :memory: (default ./aural-sandbox.db)" in text
    assert "--seed FILE.json insert dashboard-made rows from this file at start" in text
    assert "--max-body-bytes BYTES larger request bodies get 413 (default 1048576)" in text
