"""`aural-mcp sandbox` flags: the non-loopback warning and the help text."""

from __future__ import annotations

import subprocess
import sys

import httpx2
import pytest

from .conftest import SandboxProcess

WARNING = (
    "aural-mcp sandbox: warning: listening on {host}, so the sandbox and its test API keys are reachable"
    " from the network; use --host 127.0.0.1 to keep it on this machine"
)


@pytest.mark.parametrize(("host", "warned"), [("0.0.0.0", True), ("127.0.0.1", False), ("localhost", False)])
def test_non_loopback_bind_warns_once_on_stderr(tmp_path, host, warned):
    proc = SandboxProcess(tmp_path / "bind.db", "--host", host).start()  # answers on 127.0.0.1 once started
    try:
        # only ever reached through loopback
        assert httpx2.get(proc.base.removesuffix("/api/v1") + "/healthz", timeout=2).text == "ok"
    finally:
        proc.kill()
    lines = proc.stderr().splitlines()
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
