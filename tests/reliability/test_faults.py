"""Issue 4, item 2: faults.

The sandbox injects faults into 20% of API requests, every kind (connection dropped before the
request is processed, dropped after it is processed and committed, 500, 502, 503, added
latency, kept tiny so the run is fast). Eight simulated agents share one MCP session (the SDK's
client over its in-memory transport) to a server built by `build_server`, and run at least 500
mixed tool calls: creates (interviews, questions, candidates), updates, publishes and reads.
They behave as the tool texts tell an agent to: a read that fails is read again; an idempotent
write that fails is sent again; a create whose outcome is unknown is first *checked* with the
list tool the message names, and created again only if it is not there.

Every create carries a unique marker per attempt (title, question text, candidate email), so the
database, read directly with sqlite3 afterwards, shows:

- zero duplicates (no marker stored twice, no logical object stored under two attempts);
- every write the agent was told succeeded is there, with the value it was told;
- no write the agent was told *failed* is there (a definite failure really is one);
- every create whose outcome was unknown was reported as unknown with how to check, and the
  check found it exactly when it had in fact been stored;
- every read eventually returned the right data.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client
from tests.support.results import text_of

from aural_mcp.sandbox import FaultSpec, Sandbox
from aural_mcp.sandbox.faults import KINDS

from .inprocess import server_for
from .results import record

FAULT_RATE = 0.2
SEED = 20261124
WORKERS = 8
MIN_OPS = 1000
MAX_CYCLES = 40  # per worker; the run stops once MIN_OPS calls have been made
MAX_TRIES = 25  # per logical operation
RUN = "rel"

UNKNOWN = "outcome is unknown"
CHECK_TOOL = {"interview": "list_interviews", "question": "list_questions", "candidate": "list_candidates"}


@dataclass
class Ledger:
    """What the agents were told, kept to compare with the database afterwards."""

    ops: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    acked: dict[str, dict[str, Any]] = field(default_factory=dict)  # marker -> {kind, id, ...}
    failed: dict[str, str] = field(default_factory=dict)  # marker -> kind: told it failed
    unknown: list[dict[str, Any]] = field(default_factory=list)  # create attempts told "unknown"
    logical: dict[str, list[list[str]]] = field(default_factory=dict)  # object -> markers of each attempt
    expected_interviews: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> expected fields
    reads: Counter[str] = field(default_factory=Counter)
    read_retries: int = 0

    @property
    def total_ops(self) -> int:
        return sum(self.ops.values())


class Agent:
    def __init__(self, client: Client, ledger: Ledger, worker: int) -> None:
        self.client = client
        self.ledger = ledger
        self.worker = worker

    async def call(self, name: str, args: dict[str, Any]) -> types.CallToolResult:
        self.ledger.ops[name] += 1
        result = await self.client.call_tool(name, args)
        assert isinstance(result, types.CallToolResult)
        assert result.content, f"{name}: empty result"
        if result.is_error:
            self.ledger.errors[name] += 1
        return result

    async def read(self, name: str, args: dict[str, Any]) -> Any:
        """A read, repeated while it fails (as an agent would); returns its data."""
        self.ledger.reads[name] += 1
        for _ in range(MAX_TRIES):
            result = await self.call(name, args)
            if not result.is_error:
                return result.structured_content["data"]  # type: ignore[index]
            self.ledger.read_retries += 1
        pytest.fail(f"{name} {args} never succeeded in {MAX_TRIES} tries")

    async def write(self, name: str, args: dict[str, Any]) -> Any:
        """An idempotent write, repeated while it fails; returns its data once told it succeeded."""
        for _ in range(MAX_TRIES):
            result = await self.call(name, args)
            if not result.is_error:
                return result.structured_content["data"]  # type: ignore[index]
            assert UNKNOWN not in text_of(result).lower(), f"{name} is idempotent, yet: {text_of(result)}"
        pytest.fail(f"{name} {args} never succeeded in {MAX_TRIES} tries")

    async def create(self, kind: str, logical: str, attempt_args, find) -> list[dict[str, Any]]:
        """Create with the unknown-outcome discipline. `attempt_args(n)` builds attempt n's arguments
        (fresh markers); `find(n)` looks the attempt's markers up with the list tool."""
        self.ledger.logical[logical] = []
        tool = {"interview": "create_interview", "question": "add_questions", "candidate": "add_candidates"}[
            kind
        ]
        for n in range(MAX_TRIES):
            args, markers = attempt_args(n)
            self.ledger.logical[logical].append(markers)
            result = await self.call(tool, args)
            text = text_of(result)
            if not result.is_error:
                data = result.structured_content["data"]  # type: ignore[index]
                rows = data if isinstance(data, list) else [data]
                assert len(rows) == len(markers), (kind, rows)
                for marker, row in zip(markers, rows, strict=True):
                    self.ledger.acked[marker] = {"kind": kind, "id": row["id"]}
                return rows
            if UNKNOWN in text.lower():
                found = await find(n)
                self.ledger.unknown.append(
                    {"kind": kind, "markers": markers, "text": text, "found": [r["id"] for r in found]}
                )
                if found:
                    assert len(found) == len(markers), f"all-or-nothing create found partially: {found}"
                    for marker, row in zip(markers, found, strict=True):
                        self.ledger.acked[marker] = {"kind": kind, "id": row["id"], "via": "check"}
                    return found
                continue  # checked: it is not there, so creating again cannot duplicate it
            for marker in markers:
                self.ledger.failed[marker] = kind
        pytest.fail(f"could not create {logical} in {MAX_TRIES} tries")

    # -- the workload -------------------------------------------------------------------------

    async def find_interview(self, title: str) -> list[dict[str, Any]]:
        cursor = None
        seen: list[dict[str, Any]] = []
        for _ in range(20):
            args: dict[str, Any] = {"limit": 100}
            if cursor:
                args["cursor"] = cursor
            self.ledger.reads["list_interviews"] += 1
            result = None
            for _ in range(MAX_TRIES):
                result = await self.call("list_interviews", args)
                if not result.is_error:
                    break
                self.ledger.read_retries += 1
            assert result is not None and not result.is_error
            page = result.structured_content  # type: ignore[assignment]
            seen += [row for row in page["data"] if row["title"] == title]  # type: ignore[index]
            cursor = page.get("cursor")  # type: ignore[union-attr]
            if not cursor:
                break
        unique = {row["id"]: row for row in seen}  # the boundary item repeats across pages
        return list(unique.values())

    async def cycle(self, i: int) -> None:
        base = f"{RUN}w{self.worker}c{i}"

        # 1. interview
        async def find_interview(n: int) -> list[dict[str, Any]]:
            return await self.find_interview(f"{base}a{n}")

        (interview,) = await self.create(
            "interview", base, lambda n: ({"title": f"{base}a{n}"}, [f"{base}a{n}"]), find_interview
        )
        iid = interview["id"]

        # 2. questions (two, all or nothing)
        def question_args(n: int) -> tuple[dict[str, Any], list[str]]:
            texts = [f"{base}q{k}a{n}" for k in range(2)]
            return {"interviewId": iid, "questions": [{"text": t} for t in texts]}, texts

        async def find_questions(n: int) -> list[dict[str, Any]]:
            texts = question_args(n)[1]
            rows = await self.read("list_questions", {"interviewId": iid})
            return [r for t in texts for r in rows if r["text"] == t]

        questions = await self.create("question", f"{base}q", question_args, find_questions)

        # 3. candidates (two)
        def candidate_args(n: int) -> tuple[dict[str, Any], list[str]]:
            emails = [f"{base}p{k}a{n}@rel.test" for k in range(2)]
            return {
                "interviewId": iid,
                "candidates": [{"name": e.split("@")[0], "email": e} for e in emails],
            }, emails

        async def find_candidates(n: int) -> list[dict[str, Any]]:
            emails = candidate_args(n)[1]
            rows = await self.read("list_candidates", {"interviewId": iid})
            return [r for e in emails for r in rows if r["email"] == e]

        candidates = await self.create("candidate", f"{base}p", candidate_args, find_candidates)

        # 4. updates and publish (idempotent: repeated until told they succeeded)
        description = f"{base} description"
        await self.write("update_interview", {"interviewId": iid, "description": description})
        q_description = f"{base} probe deeper"
        await self.write("update_question", {"questionId": questions[0]["id"], "description": q_description})
        notes = f"{base} strong"
        await self.write(
            "update_candidate", {"interviewId": iid, "candidateId": candidates[0]["id"], "notes": notes}
        )
        published = await self.write("publish_interview", {"interviewId": iid})
        expected = {
            "title": interview["title"],
            "description": description,
            "isActive": True,
            "publicSlug": published["publicSlug"],
            "questions": {q["id"]: q["text"] for q in questions},
            "question_description": (questions[0]["id"], q_description),
            "candidates": {c["id"]: c["email"] for c in candidates},
            "candidate_notes": (candidates[0]["id"], notes),
        }
        self.ledger.expected_interviews[iid] = expected

        # 5. reads: each must eventually succeed, and then be right
        got = await self.read("get_interview", {"interviewId": iid})
        assert got["title"] == expected["title"] and got["description"] == description, got
        assert got["isActive"] is True and got["publicSlug"] == expected["publicSlug"], got
        assert {q["id"]: q["text"] for q in got["questions"]} == expected["questions"], got["questions"]
        listed_q = await self.read("list_questions", {"interviewId": iid})
        by_id = {q["id"]: q for q in listed_q}
        assert {k: v["text"] for k, v in by_id.items()} == expected["questions"]
        assert by_id[questions[0]["id"]]["description"] == q_description
        listed_c = await self.read("list_candidates", {"interviewId": iid})
        assert {c["id"]: c["email"] for c in listed_c} == expected["candidates"]
        assert next(c for c in listed_c if c["id"] == candidates[0]["id"])["notes"] == notes
        if i % 2 == 0:
            await self.read("list_interviews", {"limit": 10})
        else:
            await self.read("get_usage", {})


def load_rows(db_path: Path) -> dict[str, list[dict[str, Any]]]:
    db = sqlite3.connect(db_path)
    try:
        return {
            table: [json.loads(data) for (data,) in db.execute(f"SELECT data FROM {table}")]  # noqa: S608
            for table in ("interviews", "questions", "candidates")
        }
    finally:
        db.close()


@pytest.mark.anyio
async def test_500_operations_under_20_percent_faults(tmp_path: Path) -> None:
    db_path = tmp_path / "faults.db"
    spec = FaultSpec(FAULT_RATE, KINDS, SEED, max_latency=0.02)
    sandbox = Sandbox(str(db_path), rate_limit=1_000_000, rate_window=1.0, faults=spec)
    ledger = Ledger()
    started = time.monotonic()
    try:
        server = server_for(sandbox, rate_limit=1_000_000, rate_window=1.0)
        async with Client(server, mode="legacy", read_timeout_seconds=120) as client:

            async def worker(w: int) -> None:
                agent = Agent(client, ledger, w)
                for i in range(MAX_CYCLES):
                    if ledger.total_ops >= MIN_OPS:
                        return
                    await agent.cycle(i)

            with anyio.fail_after(150):
                async with anyio.create_task_group() as tg:
                    for w in range(WORKERS):
                        tg.start_soon(worker, w)
        stats = sandbox.stats
    finally:
        sandbox.close()
    elapsed = time.monotonic() - started

    rows = load_rows(db_path)
    interviews = [r for r in rows["interviews"] if r["title"].startswith(RUN)]
    questions = [r for r in rows["questions"] if r["text"].startswith(RUN)]
    candidates = [r for r in rows["candidates"] if (r.get("email") or "").startswith(RUN)]
    stored: dict[str, list[dict[str, Any]]] = {}
    for row in interviews:
        stored.setdefault(row["title"], []).append(row)
    for row in questions:
        stored.setdefault(row["text"], []).append(row)
    for row in candidates:
        stored.setdefault(row["email"], []).append(row)

    # Zero duplicates: no attempt stored twice, no logical object stored under two attempts.
    duplicates = {m: len(v) for m, v in stored.items() if len(v) > 1}
    assert not duplicates, f"duplicated creates: {duplicates}"
    stored_attempts = {
        name: [ms for ms in attempts if any(m in stored for m in ms)]
        for name, attempts in ledger.logical.items()
    }
    logical_dupes = {name: hits for name, hits in stored_attempts.items() if len(hits) != 1}
    assert not logical_dupes, f"objects stored more than once (or never): {logical_dupes}"

    # Every write the agent was told succeeded is present, with the id it was told.
    for marker, ack in ledger.acked.items():
        assert marker in stored, f"acknowledged {ack['kind']} {marker} is missing from the database"
        assert stored[marker][0]["id"] == ack["id"], (marker, ack, stored[marker][0]["id"])
    # Nothing the agent was told failed (for certain) was stored anyway.
    phantom = [m for m in ledger.failed if m in stored]
    assert not phantom, f"creates reported as failed were stored: {phantom}"
    # Nothing is stored that the agent does not know about.
    unaccounted = [m for m in stored if m not in ledger.acked]
    assert not unaccounted, f"stored but never acknowledged or found by a check: {unaccounted}"

    # Unknown outcomes: reported as unknown, with how to check; the check was right.
    for u in ledger.unknown:
        text = u["text"]
        assert UNKNOWN in text.lower() and "check with" in text.lower(), text
        assert CHECK_TOOL[u["kind"]] in text, (
            f"the {u['kind']} message does not name {CHECK_TOOL[u['kind']]}: {text}"
        )
        assert "trying again" in text.lower() or "before" in text.lower(), text
        present = [m in stored for m in u["markers"]]
        assert all(present) == bool(u["found"]) and (all(present) or not any(present)), u

    # Updates and publishes the agent was told succeeded are in the database.
    by_id = {r["id"]: r for r in rows["interviews"]}
    q_by_id = {r["id"]: r for r in rows["questions"]}
    c_by_id = {r["id"]: r for r in rows["candidates"]}
    for iid, exp in ledger.expected_interviews.items():
        row = by_id[iid]
        assert row["description"] == exp["description"] and row["isActive"] is True, row
        assert row["publicSlug"] == exp["publicSlug"], row
        assert {q for q, r in q_by_id.items() if r["interviewId"] == iid} == set(exp["questions"])
        qid, qdesc = exp["question_description"]
        assert q_by_id[qid]["description"] == qdesc
        assert {c for c, r in c_by_id.items() if r["interviewId"] == iid} == set(exp["candidates"])
        cid, notes = exp["candidate_notes"]
        assert c_by_id[cid]["notes"] == notes

    assert ledger.total_ops >= MIN_OPS, ledger.total_ops
    faults = stats["faults"]
    assert sum(faults.values()) > 0.1 * stats["api_requests"], stats  # faults really were injected
    assert set(faults) == set(KINDS), f"not every fault kind fired: {faults}"
    assert ledger.unknown, "no create had an unknown outcome: the path under test never ran"
    unknown_found = sum(1 for u in ledger.unknown if u["found"])
    figures = {
        "fault_rate": FAULT_RATE,
        "seed": SEED,
        "workers": WORKERS,
        "tool_calls": ledger.total_ops,
        "tool_calls_by_name": dict(ledger.ops),
        "tool_errors_seen_by_agent": dict(ledger.errors),
        "api_requests": stats["api_requests"],
        "faults_by_kind": faults,
        "faults_total": sum(faults.values()),
        "interviews": len(interviews),
        "questions": len(questions),
        "candidates": len(candidates),
        "acknowledged_creates": len(ledger.acked),
        "unknown_outcomes": len(ledger.unknown),
        "unknown_outcomes_by_kind": dict(Counter(u["kind"] for u in ledger.unknown)),
        "unknown_then_found_stored": unknown_found,
        "unknown_then_found_absent_and_recreated": len(ledger.unknown) - unknown_found,
        "definite_failures": len(ledger.failed),
        "reads": sum(ledger.reads.values()),
        "read_retries": ledger.read_retries,
        "duplicates": len(duplicates),
        "seconds": round(elapsed, 1),
    }
    record("faults", figures)
    print(f"faults: {json.dumps(figures, indent=1)}")
