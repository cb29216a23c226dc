"""`aural-mcp doctor` against a real `aural-mcp sandbox` subprocess."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest
from aural_e2e import Proc, sandbox_server
from tests.support.processes import AURAL_MCP, env_without_aural


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Proc]:
    with sandbox_server(rate_limit="1/60") as proc:  # one keyed request a minute: the 2nd doctor run gets 429
        yield proc


def doctor(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*AURAL_MCP, "doctor", "--timeout", "5"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env_without_aural(**env),
    )


def test_doctor_ok_then_rate_limited(sandbox: Proc) -> None:
    key = sandbox.info["key"]
    done = doctor(AURAL_API_KEY=key, AURAL_BASE_URL=sandbox.url)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert out.count("[ok  ]") == 3
    assert f"dlv_…{key[-4:]}" in out and key not in out and key[4:12] not in out
    assert "reachable" in out and "usage:" in out and "plan:" in out and "templates:" in out
    # the sandbox allows one keyed request a minute: the second run is told to wait
    again = doctor(AURAL_API_KEY=key, AURAL_BASE_URL=sandbox.url)
    assert again.returncode == 1
    assert "rate limited (429" in again.stdout and "wait" in again.stdout
    assert key not in again.stdout + again.stderr


def test_doctor_wrong_key(sandbox: Proc) -> None:
    wrong = "dlv_" + "0" * 32
    done = doctor(AURAL_API_KEY=wrong, AURAL_BASE_URL=sandbox.url)
    assert done.returncode == 1
    assert "refused the key (401" in done.stdout
    # the base URL is a sandbox: the advice is the sandbox's own way to get a key, not the dashboard
    assert "`aural-mcp sandbox --new-key`" in done.stdout and "Settings → API Keys" not in done.stdout
    assert wrong not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


def test_doctor_wrong_base_url(sandbox: Proc) -> None:
    done = doctor(AURAL_API_KEY=sandbox.info["key"], AURAL_BASE_URL=sandbox.base + "/v2")
    assert done.returncode == 1
    assert "answered HTTP 404" in done.stdout and "/api/v1" in done.stdout
