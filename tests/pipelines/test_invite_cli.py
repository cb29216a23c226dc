"""`aural-mcp invite` as a user runs it: a subprocess against a sandbox served over real HTTP
with the default 60/60 limiter, counted by `/sandbox/stats`."""

from __future__ import annotations

import csv
import json
import random
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx2
import pytest
from tests.support.processes import AURAL_MCP, env_without_aural, started
from tests.support.servers import LiveServer

from aural_mcp.sandbox import Sandbox
from aural_mcp.sandbox.faults import FaultInjector, FaultSpec

CREATE_ROUTE = "POST /api/v1/interviews/{id}/candidates"
DISTINCT = 1170


def people_file(path: Path) -> Path:
    """1,205 rows: 1,170 distinct people, 30 repeats in other letter case, 5 bad rows."""
    rows: list[list[str]] = [[f"Person {i}", f"person{i}@example.com", "Berlin"] for i in range(DISTINCT)]
    rows += [[f"Person {i}", f"PERSON{i}@Example.COM", ""] for i in range(0, 300, 10)]
    rows += [["", "", "no one"], ["", "", "Paris"], ["  ", " ", "x"], ["Bad Email", "not-an-email", ""]]
    rows += [["Bad Too", "a@b", ""]]
    random.Random(12).shuffle(rows)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["Name", "EMAIL", "School"])
        writer.writerows(rows)
    return path


@pytest.fixture
def sandbox_factory():
    made: list[tuple[Sandbox, LiveServer]] = []

    def make(**kw: Any) -> tuple[Sandbox, LiveServer, str]:
        sb = Sandbox(**kw)  # the default limiter: 60 requests per 60 s
        live = LiveServer(sb.app).__enter__()
        made.append((sb, live))
        return sb, live, sb.create_key()

    yield make
    for sb, live in made:
        live.__exit__()
        sb.close()


def new_interview(base: str, key: str) -> str:
    r = httpx2.post(f"{base}/api/v1/interviews", json={"title": "Bulk"}, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.text
    return str(r.json()["data"]["id"])


def candidates(base: str, key: str, iid: str) -> list[dict[str, Any]]:
    r = httpx2.get(f"{base}/api/v1/interviews/{iid}/candidates", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.text
    return list(r.json()["data"])


def creates(base: str) -> int:
    return int(httpx2.get(f"{base}/sandbox/stats").json()["by_route"].get(CREATE_ROUTE, 0))


def invite_argv(iid: str, csv_path: Path, *extra: str) -> list[str]:
    return [*AURAL_MCP, "invite", iid, "--csv", str(csv_path), *extra]


def env(base: str, key: str) -> dict[str, str]:
    return env_without_aural(AURAL_API_KEY=key, AURAL_BASE_URL=f"{base}/api/v1")


def read_links(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_invite_adds_each_person_once_in_three_requests_with_working_links(sandbox_factory, tmp_path):
    sb, live, key = sandbox_factory()
    iid = new_interview(live.url, key)
    src = people_file(tmp_path / "people.csv")
    out = tmp_path / "links.csv"
    run = subprocess.run(invite_argv(iid, src, "--out", str(out)), env=env(live.url, key), capture_output=True,
                         text=True, timeout=300, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "created 1170, updated 0, unchanged 0, skipped 35, failed 0" in run.stderr
    assert "chunk 3 of 3 sent" in run.stderr
    # the five bad rows, each with its line and the field
    assert run.stderr.count(f"{src}:") == 5 and "not-an-email" in run.stderr
    assert creates(live.url) == 3

    listed = candidates(live.url, key, iid)
    assert len(listed) == DISTINCT
    assert {c["email"] for c in listed} == {f"person{i}@example.com" for i in range(DISTINCT)}

    links = read_links(out)
    assert len(links) == DISTINCT and len({row["inviteUrl"] for row in links}) == DISTINCT
    by_id = {c["id"]: c for c in listed}
    with httpx2.Client() as http:
        for row in links:
            assert row["inviteUrl"].startswith(f"{live.url}/i/invite/")
            page = http.get(row["inviteUrl"])
            assert page.status_code == 200
            assert by_id[row["candidateId"]]["name"] in page.text

    # a re-run sends nothing, and still writes every link (built from the listed tokens)
    again = subprocess.run(invite_argv(iid, src, "--out", str(out)), env=env(live.url, key), capture_output=True,
                           text=True, timeout=300, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "created 0, updated 0, unchanged 1170" in again.stderr
    assert creates(live.url) == 3
    assert sorted(r["inviteUrl"] for r in read_links(out)) == sorted(r["inviteUrl"] for r in links)


def test_sigkill_in_the_second_chunk_then_a_rerun_under_dropped_answers_gives_each_person_once(
    sandbox_factory, tmp_path
):
    sb, live, key = sandbox_factory()
    iid = new_interview(live.url, key)
    # from now on, 40% of the API's answers are lost after the write (the test's own reads go
    # without faults, below)
    sb.faults = FaultInjector(FaultSpec.parse("0.4:drop_after:26"))
    src = people_file(tmp_path / "people.csv")
    out = tmp_path / "links.csv"
    journal = tmp_path / "links.csv.journal.jsonl"

    def second_chunk_sent() -> bool:
        if not journal.exists():
            return False
        lines = [json.loads(t) for t in journal.read_text().splitlines() if t.strip()]
        return any(e["event"] == "sent" and e["chunk"].split("-")[1] == "2" for e in lines)

    with started(invite_argv(iid, src, "--out", str(out)), env=env(live.url, key), cwd=tmp_path,
                 stderr=subprocess.PIPE, stdout=subprocess.DEVNULL) as proc:
        deadline = time.monotonic() + 120
        while not second_chunk_sent():
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "the second chunk was never sent"
            time.sleep(0.002)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert not out.exists()  # it died before writing the links
    faults, sb.faults = sb.faults, None
    assert len(candidates(live.url, key, iid)) < DISTINCT
    sb.faults = faults

    for _ in range(3):  # a lost answer may stop a run (exit 1); each re-run goes on from the journal
        rerun = subprocess.run(invite_argv(iid, src, "--out", str(out)), env=env(live.url, key),
                               capture_output=True, text=True, timeout=300, cwd=tmp_path)
        if rerun.returncode == 0:
            break
        assert rerun.returncode == 1 and "run the same command again" in rerun.stderr, rerun.stderr
    assert rerun.returncode == 0, rerun.stderr
    assert faults.counts.get("drop_after", 0) > 0  # answers were really lost
    sb.faults = None
    listed = candidates(live.url, key, iid)
    assert len(listed) == DISTINCT
    assert len({c["email"] for c in listed}) == DISTINCT
    assert len(read_links(out)) == DISTINCT


def test_on_error_abort_sends_nothing_and_lists_the_bad_lines(sandbox_factory, tmp_path):
    sb, live, key = sandbox_factory()
    iid = new_interview(live.url, key)
    src = tmp_path / "people.csv"
    src.write_text("name,email,school\nAda,ada@example.com,\n,,Berlin\n\nBob,bob-at-example,\n")
    before = httpx2.get(f"{live.url}/sandbox/stats").json()["api_requests"]
    run = subprocess.run(invite_argv(iid, src, "--on-error", "abort"), env=env(live.url, key),
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert run.returncode == 2
    assert f"{src}:3: no name and no email" in run.stderr
    assert f"{src}:5: `email` 'bob-at-example' is not an email address" in run.stderr
    assert "nothing was sent" in run.stderr
    assert httpx2.get(f"{live.url}/sandbox/stats").json()["api_requests"] == before
    assert candidates(live.url, key, iid) == []
