"""`aural-mcp sandbox` as a subprocess: first-start key, --new-key, and the hosted quick start's
curl sequence run verbatim (only the base URL, key and ids replaced) with real curl."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest

from .conftest import SandboxProcess

SEED = Path(__file__).parent / "data" / "hosted-quick-start-curl.txt"
HOSTED = "https://aural-ai.com/api/v1"


def quick_start_commands() -> list[str]:
    """The curl commands of the quick start, exactly as printed (line continuations kept)."""
    lines = SEED.read_text().splitlines()
    commands, i = [], 0
    while i < len(lines):
        if lines[i].startswith("curl "):
            block = [lines[i]]
            while block[-1].rstrip().endswith("\\"):
                i += 1
                block.append(lines[i])
            commands.append("\n".join(block))
        i += 1
    return commands


def run_curl(command: str) -> dict:
    out = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.mark.skipif(not shutil.which("curl"), reason="needs curl")
def test_quick_start_verbatim(tmp_path):
    commands = quick_start_commands()
    assert len(commands) == 6 and all(HOSTED in c and "dlv_YOUR_KEY_HERE" in c for c in commands)
    proc = SandboxProcess(tmp_path / "qs.db").start()
    try:
        assert proc.key and proc.base.startswith("http://127.0.0.1:")
        ids: dict[str, str] = {}

        def fill(cmd: str) -> str:
            cmd = cmd.replace(HOSTED, proc.base).replace("dlv_YOUR_KEY_HERE", proc.key)
            for name, value in ids.items():
                cmd = cmd.replace(name, value)
            return cmd

        listed, create, add_q, publish, sessions, get_session = commands
        assert run_curl(fill(listed)) == {"data": [], "cursor": None}
        created = run_curl(fill(create))["data"]
        assert created["title"] == "Backend screening" and created["voiceEnabled"] is True
        ids["INTERVIEW_ID"] = created["id"]
        q = run_curl(fill(add_q))["data"]
        assert q[0]["text"] == "Describe a recent API you designed." and q[0]["type"] == "OPEN_ENDED"
        pub = run_curl(fill(publish))["data"]
        assert pub["url"] == proc.base.replace("/api/v1", "") + "/i/" + created["publicSlug"]
        assert run_curl(fill(sessions)) == {"data": [], "cursor": None}
        sim = httpx2.post(
            proc.base.replace("/api/v1", f"/sandbox/interviews/{created['id']}/simulate"),
            json={"participantName": "Quick Start", "seed": 1},
            headers={"Authorization": f"Bearer {proc.key}"},
        )
        assert sim.status_code == 200, sim.text
        listed_sessions = run_curl(fill(sessions))["data"]
        assert len(listed_sessions) == 1
        ids["SESSION_ID"] = listed_sessions[0]["id"]
        session = run_curl(fill(get_session))["data"]
        assert session["participantName"] == "Quick Start" and session["messages"] and session["summary"]
        # the public page the published url points at
        page = httpx2.get(pub["url"])
        assert page.status_code == 200 and "Backend screening" in page.text
        # the curl line the CLI printed works too
        printed = next(line for line in proc.output if line.strip().startswith("curl"))
        assert run_curl(printed.strip())["data"][0]["id"] == created["id"]
    finally:
        proc.kill()


def test_restart_keeps_data_and_new_key(tmp_path):
    db = tmp_path / "keep.db"
    first = SandboxProcess(db).start()
    try:
        h = {"Authorization": f"Bearer {first.key}"}
        iv = httpx2.post(first.base + "/interviews", json={"title": "Persisted"}, headers=h).json()["data"]
    finally:
        first.kill()
    out = subprocess.run(
        [sys.executable, "-m", "aural_mcp.cli", "sandbox", "--db", str(db), "--new-key"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    new_key = out.stdout.strip()
    assert re.fullmatch(r"dlv_[a-z0-9]{32}", new_key)
    second = SandboxProcess(db, "--rate-limit", "2/60").start()
    try:
        assert second.key is None and any("--new-key" in line for line in second.output)
        for k in (first.key, new_key):
            r = httpx2.get(second.base + f"/interviews/{iv['id']}", headers={"Authorization": f"Bearer {k}"})
            assert r.json()["data"]["title"] == "Persisted"
        r = httpx2.get(second.base + "/usage", headers={"Authorization": f"Bearer {new_key}"})
        assert r.status_code == 200
        r = httpx2.get(second.base + "/usage", headers={"Authorization": f"Bearer {new_key}"})
        assert r.status_code == 429  # --rate-limit 2/60
    finally:
        second.kill()


def test_bad_flags_fail_clearly(tmp_path):
    for flags, fragment in (
        (["--rate-limit", "x"], "rate limit"),
        (["--faults", "2:500"], "fault rate"),
        (["--plan", "gold"], "unknown plan"),
    ):
        out = subprocess.run(
            [sys.executable, "-m", "aural_mcp.cli", "sandbox", "--db", str(tmp_path / "x.db"), *flags],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert out.returncode == 2 and fragment in out.stderr, (flags, out.stderr)
