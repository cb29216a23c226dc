"""`aural_mcp.pipelines.invite` from the SDK: reading files, profile fields, people without an
email on a re-run, and the progress it reports; against a sandbox over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.servers import LiveServer

from aural_mcp.api import AuralClient
from aural_mcp.pipelines.invite import BadRowsError, invite, read_people
from aural_mcp.pipelines.progress import ProgressUpdate
from aural_mcp.sandbox import Sandbox

pytestmark = pytest.mark.anyio


@pytest.fixture
def served() -> Iterator[tuple[Sandbox, str, str]]:
    sb = Sandbox()
    with LiveServer(sb.app) as live:
        yield sb, live.url, sb.create_key()
    sb.close()


def test_csv_headers_match_fields_in_any_case_and_bad_rows_name_line_and_field(tmp_path: Path) -> None:
    src = tmp_path / "p.csv"
    src.write_text(
        "NAME,E-Mail,Graduation Year,birthday,Favourite Colour\n"
        "Ada,ADA@Example.com,2025,1990-01-31,red\n"
        "Bob,bob@example.com,twenty,,\n"
        "Cy,cy@example.com,,2026-02-30,\n"
        "\n"
        ",,,,blue\n"
        'Di,"di@example.com",,,\n'
    )
    people = read_people(src)
    assert [(p.line, p.fields) for p in people.rows] == [
        (2, {"name": "Ada", "email": "ADA@Example.com", "graduationYear": 2025, "birthday": "1990-01-31"}),
        (7, {"name": "Di", "email": "di@example.com"}),
    ]
    assert people.rows[0].email == "ada@example.com"
    assert [(b.line, b.problem.split(" ")[0]) for b in people.bad] == [
        (3, "`graduationYear`"), (4, "`birthday`"), (6, "no")
    ]  # fmt: skip
    assert people.ignored_columns == ["Favourite Colour"]


def test_jsonl_rows_and_lines_that_are_not_objects(tmp_path: Path) -> None:
    src = tmp_path / "p.jsonl"
    src.write_text('{"Name": "Ada", "EMAIL": "ada@example.com", "notes": "x"}\n\n[1]\nnot json\n{"email": "b@c"}\n')
    people = read_people(src)
    assert [(p.line, p.fields) for p in people.rows] == [(1, {"name": "Ada", "email": "ada@example.com", "notes": "x"})]
    assert [b.line for b in people.bad] == [3, 4, 5]
    assert "is not an email address" in people.bad[2].problem


async def test_people_without_an_email_are_not_added_again_on_a_rerun(served, tmp_path: Path) -> None:
    sb, url, key = served
    src = tmp_path / "p.csv"
    src.write_text("name,email\nAda,\nAda,\nBo,bo@example.com\nBO,BO@EXAMPLE.COM\n")
    journal = tmp_path / "j.jsonl"
    seen: list[ProgressUpdate] = []
    async with AuralClient(key, base_url=f"{url}/api/v1") as client:
        iid = (await client.create_interview("Bulk")).id
        first = await invite(client, iid, read_people(src), journal_path=journal, progress=seen.append)
        again = await invite(client, iid, read_people(src), journal_path=journal)
        listed = await client.list_candidates(iid)
    assert first.summary.line() == "created 3, updated 0, unchanged 0, skipped 1, failed 0"
    assert again.summary.line() == "created 0, updated 0, unchanged 3, skipped 1, failed 0"
    assert first.repeats == [5] and len(listed) == 3  # two people named Ada, one Bo
    assert sorted(c["id"] for c in again.links) == sorted(c["id"] for c in first.links)
    assert all(c["inviteUrl"].startswith(f"{url}/i/invite/") for c in again.links)
    assert (seen[-1].done, seen[-1].total, seen[-1].message) == (3, 3, "chunk 1 of 1 sent")
    events = [json.loads(t)["event"] for t in journal.read_text().splitlines()]
    assert events == ["sent", "answered"]  # the re-run had nothing to send


async def test_abort_raises_before_any_request(served, tmp_path: Path) -> None:
    sb, url, key = served
    src = tmp_path / "p.csv"
    src.write_text("name,email,notes\n,\u00a0,hi\nZed,zed,\n")
    async with AuralClient(key, base_url=f"{url}/api/v1") as client:
        iid = (await client.create_interview("Bulk")).id
        before = sb.stats["api_requests"]
        with pytest.raises(BadRowsError) as raised:
            await invite(client, iid, read_people(src), journal_path=tmp_path / "j", on_error="abort")
    assert [b.line for b in raised.value.bad] == [2, 3]
    assert sb.stats["api_requests"] == before and not (tmp_path / "j").exists()
