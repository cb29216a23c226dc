"""Figure 8, watching: the API requests the session watcher spends against a hand-written poller.

Both sides watch the same 10 interviews of one in-process sandbox, in the same run, over the
same 30 rounds of changes, and are measured by the requests the sandbox answers (`Sandbox.stats`),
not by time:

- ours: one `Watcher.run_pass(everything=True)` per round over the 10 interviews. `everything`
  polls every interview every round, so the watcher gets no credit for its quiet backoff (a
  quiet interview is really polled less and less often, down to one pass in MAX_POLL_FACTOR);
- the baseline, `HandPoller` below: what an SDK user writes by hand. Each round, for each
  interview, `list_candidates` and `iter_sessions` to the end (every page of `list_sessions`,
  100 a page), and a diff of statuses, analyses and candidate ids against the previous round.

The workload (`Workload`, fixed seed): 10 interviews, each with 1,000 sessions from the 30 days
before the run (mostly COMPLETED and analysed, some ABANDONED, a handful still IN_PROGRESS and
old) and 30 candidates. Round 0 is each side's first pass, which records what exists and
announces nothing. Then 30 rounds, 30 simulated seconds apart; in a round that is not quiet each
interview may get new sessions (candidates starting; a few already finished and analysed, as
sessions that began and ended between two polls), completions of open sessions (by the
candidate, with the analysis landing then or one or two rounds later; or by `end_sessions`,
which makes no analysis), abandonments, and new candidates (`add_candidates`). The last rounds
are quiet so that an event found with the watcher's designed delay (it reads the candidates
list on every CANDIDATES_EVERY-th pass, or when new sessions appear) still falls inside the run;
how late each event was found is reported.

What the API itself writes goes through the API (`add_candidates`, `end_sessions`). What only
Aural's side does is written into the sandbox's store: sessions (rows are created when a
candidate starts, so they are seeded with the round's time, `Sandbox.seed`; `seed_sessions` and
`simulate_session` date rows by the real clock, and a simulated one even before it by its
simulated length, which would put a round's new sessions behind older ones in the list's
order), a candidate finishing or leaving, and the analysis job filling in summary and insights.

Both sides must find the same events as the workload made (session.started, .completed,
.abandoned, .analyzed, candidate.created): every one is checked, and a missing one is named.
"""

from __future__ import annotations

import asyncio
import inspect
import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2

from aural_mcp.api import AuralClient
from aural_mcp.api.pacing import DEFAULT_BACKGROUND_SHARE
from aural_mcp.sandbox import Sandbox
from aural_mcp.sandbox.store import iso
from aural_mcp.watch import EVENT_TYPES, Watcher, WatchState
from aural_mcp.watch import events as ev
from aural_mcp.watch.detector import CANDIDATES_EVERY, analyzed
from aural_mcp.watch.watcher import DEFAULT_POLL_SECONDS, MAX_POLL_FACTOR

INTERVIEWS = 10
EXISTING_SESSIONS = 1000  # per interview
EXISTING_CANDIDATES = 30  # per interview
EXISTING_ABANDONED = 0.08  # share of the existing sessions
OLD_OPEN = 3  # per interview: IN_PROGRESS sessions from days ago, among the existing ones
ROUNDS = 30
ROUND_SECONDS = DEFAULT_POLL_SECONDS  # simulated time between rounds
SEED = 11
QUIET_SHARE = 0.25  # of the rounds before the quiet tail

# Per interview and round (a round that is not quiet):
NEW_SESSIONS = (0, 0, 0, 0, 0, 1, 1, 1, 2)  # how many candidates start (one drawn)
BORN_FINISHED = 1 / 6  # of new sessions: already COMPLETED and analysed when first listed
NEW_CANDIDATES = 0.15  # chance that one or two candidates are invited
# Per open session and round: (finishes, leaves). Sessions open since before the run are mostly
# ones whose candidates are not coming back.
CHANGE_NEW = (0.30, 0.05)
CHANGE_OLD = (0.03, 0.02)
ENDED_BY_API = 1 / 5  # of completions: `end_sessions` (no analysis is ever made), else the candidate
ANALYSIS_DELAY = (0, 1, 2)  # rounds between a candidate's completion and its analysis (one drawn)

# Whose sessions the watcher's re-reads (get_session) were for.
REREAD_KINDS = {
    "old_open": "open since before the run (IN_PROGRESS from days ago)",
    "ended_by_api": "ended by `end_sessions` (COMPLETED, never analysed)",
    "other": "others",
}

# ---------------------------------------------------------------- the baseline


class HandPoller:
    """The poller an SDK user writes by hand: read everything, compare with the last round.

    Per interview and round: `list_candidates` (one request, the list is not paginated) and every
    page of `list_sessions` through `iter_sessions`. The first poll of an interview records what
    exists without announcing it, as the watcher's first pass does.
    """

    def __init__(self, client: Any) -> None:
        self.client = client
        # interview -> session -> (status, analysed)
        self.sessions: dict[str, dict[str, tuple[str, bool]]] = {}
        self.candidates: dict[str, set[str]] = {}

    async def poll(self, iid: str) -> list[tuple[str, str]]:
        """The events since the last poll of the interview: (type, session or candidate id)."""
        candidates = {c.id for c in await self.client.list_candidates(iid)}
        sessions = {
            s.id: (str(s.status), analyzed({"summary": s.summary, "insights": s.insights}))
            async for s in self.client.iter_sessions(iid)
        }
        first = iid not in self.sessions
        before, known = self.sessions.get(iid, {}), self.candidates.get(iid, set())
        self.sessions[iid], self.candidates[iid] = sessions, candidates
        if first:
            return []
        found = [(ev.CANDIDATE_CREATED, cid) for cid in sorted(candidates - known)]
        for sid, (status, done) in sessions.items():
            old_status, old_done = before.get(sid, (None, False))
            if sid not in before:
                found.append((ev.SESSION_STARTED, sid))
            if status in ev.STATUS_EVENTS and status != old_status:
                found.append((ev.STATUS_EVENTS[status], sid))
            if done and not old_done:
                found.append((ev.SESSION_ANALYZED, sid))
        return found


class CountingCaller:
    """Passes the watcher's calls to the client and counts them by operation (a breakdown; the
    figure's counts are the sandbox's)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.base_url: str = client.base_url
        self.by_operation: dict[str, int] = {}
        self.reads: dict[str, int] = {}  # session id -> get_session calls

    async def call(
        self, operation: str, args: dict[str, Any] | None = None, *, background: bool = False
    ) -> dict[str, Any]:
        self.by_operation[operation] = self.by_operation.get(operation, 0) + 1
        if operation == "get_session" and args:
            sid = str(args.get("sessionId"))
            self.reads[sid] = self.reads.get(sid, 0) + 1
        result: dict[str, Any] = await self.client.call(operation, args, background=background)
        return result


# ---------------------------------------------------------------- the workload


@dataclass
class Open:
    """A session something may still happen to, as the workload knows it."""

    id: str
    interview: str
    old: bool


@dataclass
class Workload:
    """The sandbox, its 10 interviews, and the changes of each round (deterministic: one seeded RNG)."""

    sandbox: Any
    api: Any  # an AuralClient for the workload's own API calls (not counted)
    rng: random.Random = field(default_factory=lambda: random.Random(SEED))
    interviews: list[str] = field(default_factory=list)
    open: list[Open] = field(default_factory=list)  # IN_PROGRESS
    analysis_due: dict[int, list[str]] = field(default_factory=dict)  # round -> sessions analysed then
    start: datetime = field(
        default_factory=lambda: datetime.now(UTC) - timedelta(seconds=ROUNDS * ROUND_SECONDS)
    )
    changes: dict[str, int] = field(default_factory=dict)
    old_open: set[str] = field(default_factory=set)  # IN_PROGRESS since before the run
    ended_by_api: set[str] = field(default_factory=set)  # completed by end_sessions: never analysed

    def _id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def at(self, rnd: int, seconds_before: float = 0.0) -> str:
        """The time `seconds_before` round `rnd`, as the sandbox writes times."""
        return iso(self.start + timedelta(seconds=rnd * ROUND_SECONDS - seconds_before))

    def _session(self, iid: str, status: str, created: str, n: int) -> dict[str, Any]:
        row: dict[str, Any] = {
            "id": self._id(),
            "status": status,
            "createdAt": created,
            "startedAt": created,
            "updatedAt": created,
            "participantName": f"Candidate {n}",
            "participantEmail": f"candidate{n}@example.com",
        }
        if status == "COMPLETED":
            row.update(completedAt=created, totalDurationSeconds=900, **_analysis(n))
        return row

    async def set_up(self) -> None:
        for i in range(INTERVIEWS):
            interview = await self.api.create_interview(
                f"Watching bench {i + 1}", objective="benchmark fixture"
            )
            await self.api.add_questions(
                interview.id, [{"text": "Tell us about a system you built.", "type": "OPEN_ENDED"}]
            )
            await self.api.publish_interview(interview.id)
            self.interviews.append(interview.id)
        seeds = []
        for iid in self.interviews:
            old_open = set(self.rng.sample(range(EXISTING_SESSIONS // 3, EXISTING_SESSIONS), OLD_OPEN))
            sessions = []
            for n in range(EXISTING_SESSIONS):
                age = timedelta(days=30) * (n + 1) / EXISTING_SESSIONS  # n = 0 is the newest
                created = iso(self.start - age)
                if n in old_open:
                    status = "IN_PROGRESS"
                else:
                    status = "ABANDONED" if self.rng.random() < EXISTING_ABANDONED else "COMPLETED"
                row = self._session(iid, status, created, n)
                sessions.append(row)
                if status == "IN_PROGRESS":
                    self.open.append(Open(row["id"], iid, old=True))
                    self.old_open.add(row["id"])
            candidates = [
                {"id": self._id(), "name": f"Invited {n}", "email": f"invited{n}@example.com"}
                for n in range(EXISTING_CANDIDATES)
            ]
            seeds.append({"id": iid, "sessions": sessions, "candidates": candidates})
        self.sandbox.seed({"interviews": seeds})

    async def round(self, rnd: int, quiet: bool) -> set[tuple[str, str]]:
        """Make this round's changes; the events they are (type, session or candidate id)."""
        made: set[tuple[str, str]] = set()
        for sid in self.analysis_due.pop(rnd, []):
            self._analyse(sid)
            made.add((ev.SESSION_ANALYZED, sid))
        if quiet:
            return made
        ended: dict[str, list[str]] = {}
        for s in list(self.open):
            finishes, leaves = CHANGE_OLD if s.old else CHANGE_NEW
            draw = self.rng.random()
            if draw < finishes:
                self.open.remove(s)
                made.add((ev.SESSION_COMPLETED, s.id))
                if self.rng.random() < ENDED_BY_API:
                    ended.setdefault(s.interview, []).append(s.id)
                    self.ended_by_api.add(s.id)
                    continue
                self._finish(s.id, rnd)
                delay = self.rng.choice(ANALYSIS_DELAY)
                if delay == 0:
                    self._analyse(s.id)
                    made.add((ev.SESSION_ANALYZED, s.id))
                else:
                    self.analysis_due.setdefault(rnd + delay, []).append(s.id)
            elif draw < finishes + leaves:
                self.open.remove(s)
                self._leave(s.id, rnd)
                made.add((ev.SESSION_ABANDONED, s.id))
        for iid, ids in ended.items():
            result = await self.api.end_sessions(iid, ids, dry_run=False)
            if any(str(r.status) != "succeeded" for r in result.results):
                raise RuntimeError(f"end_sessions did not complete every session: {result.results}")
            self._count("ended by end_sessions", len(ids))
        new_rows: dict[str, list[dict[str, Any]]] = {}
        for iid in self.interviews:
            for _ in range(self.rng.choice(NEW_SESSIONS)):
                n = self.rng.randrange(10_000, 99_999)
                finished = self.rng.random() < BORN_FINISHED
                row = self._session(
                    iid, "COMPLETED" if finished else "IN_PROGRESS", self.at(rnd, self.rng.uniform(1, 25)), n
                )
                new_rows.setdefault(iid, []).append(row)
                made.add((ev.SESSION_STARTED, row["id"]))
                if finished:
                    made |= {(ev.SESSION_COMPLETED, row["id"]), (ev.SESSION_ANALYZED, row["id"])}
                else:
                    self.open.append(Open(row["id"], iid, old=False))
            if self.rng.random() < NEW_CANDIDATES:
                people = [
                    {"name": f"Invited {rnd}-{k}", "email": f"invited-{rnd}-{k}-{iid[:8]}@example.com"}
                    for k in range(self.rng.choice((1, 2)))
                ]
                for c in await self.api.add_candidates(iid, people):
                    made.add((ev.CANDIDATE_CREATED, c.id))
                self._count("candidates invited", len(people))
        if new_rows:
            self.sandbox.seed(
                {"interviews": [{"id": iid, "sessions": rows} for iid, rows in new_rows.items()]}
            )
            self._count("sessions started", sum(len(r) for r in new_rows.values()))
        return made

    def _count(self, what: str, n: int) -> None:
        self.changes[what] = self.changes.get(what, 0) + n

    def _update(self, sid: str, **fields: Any) -> None:
        store = self.sandbox.store
        row = store.get("sessions", sid)
        row.update(fields)
        store.save_session(row)

    def _finish(self, sid: str, rnd: int) -> None:
        """The candidate answers the last question (the analysis comes separately)."""
        self._update(
            sid,
            status="COMPLETED",
            completedAt=self.at(rnd),
            updatedAt=self.at(rnd),
            totalDurationSeconds=900,
        )
        self._count("completed by the candidate", 1)

    def _leave(self, sid: str, rnd: int) -> None:
        self._update(sid, status="ABANDONED", updatedAt=self.at(rnd), totalDurationSeconds=300)
        self._count("abandoned", 1)

    def _analyse(self, sid: str) -> None:
        """Aural's analysis job writes the summary and insights (no API call does)."""
        self._update(sid, **_analysis(0))
        self._count("analyses landed", 1)


def _analysis(n: int) -> dict[str, Any]:
    return {
        "summary": f"Benchmark session {n}: a clear account of a system the candidate built.",
        "insights": {"keyInsights": ["explains trade-offs"], "scoring": "sandbox heuristic"},
    }


# ---------------------------------------------------------------- the run


def _budget() -> dict[str, float]:
    """The default background budget per poll interval, from the SDK's own defaults."""
    params = inspect.signature(AuralClient).parameters
    limit, window = params["rate_limit"].default, params["rate_window"].default
    per_minute = DEFAULT_BACKGROUND_SHARE * limit * 60 / window
    return {
        "rate_limit_per_minute": limit * 60 / window,
        "share": DEFAULT_BACKGROUND_SHARE,
        "per_minute": per_minute,
        "poll_seconds": DEFAULT_POLL_SECONDS,
        "per_poll": per_minute * DEFAULT_POLL_SECONDS / 60,
    }


def _subject(event: Any) -> tuple[str, str]:
    return (event.type, event.session_id or event.candidate_id or "")


async def _run() -> dict[str, Any]:
    sandbox = Sandbox(":memory:", rate_limit=10**9, rate_window=1)
    key = sandbox.create_key()

    def client() -> Any:
        return AuralClient(
            key,
            base_url="http://sandbox/api/v1",
            rate_limit=10**9,
            rate_window=1,
            transport=httpx2.ASGITransport(app=sandbox.app),
        )

    api, ours_client, base_client = client(), client(), client()
    state = WatchState(":memory:")
    try:
        work = Workload(sandbox, api)
        await work.set_up()
        counting = CountingCaller(ours_client)
        watcher = Watcher(counting, state, interviews=work.interviews)
        poller = HandPoller(base_client)
        tail = CANDIDATES_EVERY - 1  # quiet rounds at the end: the watcher's longest designed delay
        quiet = {r for r in range(1, ROUNDS - tail + 1) if work.rng.random() < QUIET_SHARE}
        quiet |= set(range(ROUNDS - tail + 1, ROUNDS + 1))

        def answered() -> int:
            return int(sandbox.stats["api_requests"])

        rounds: list[dict[str, Any]] = []
        found_at: dict[str, dict[tuple[str, str], int]] = {
            "ours": {},
            "baseline": {},
            "truth": {},
        }  # event -> round
        for rnd in range(ROUNDS + 1):
            made = await work.round(rnd, rnd in quiet) if rnd else set()
            before_ops = dict(counting.by_operation)
            t0 = answered()
            ours = {_subject(e) for e in await watcher.run_pass(everything=True)}
            t1 = answered()
            base: set[tuple[str, str]] = set()
            for iid in work.interviews:
                base |= set(await poller.poll(iid))
            t2 = answered()
            for side, events in (("truth", made), ("ours", ours), ("baseline", base)):
                for e in events:
                    found_at[side].setdefault(e, rnd)
            ops = {
                k: v - before_ops.get(k, 0)
                for k, v in counting.by_operation.items()
                if v - before_ops.get(k, 0)
            }
            if sum(ops.values()) != t1 - t0:
                raise RuntimeError(
                    f"round {rnd}: the watcher made {sum(ops.values())} calls, the sandbox answered {t1 - t0}"
                )
            rounds.append(
                {
                    "round": rnd,
                    "quiet": rnd in quiet,
                    "ours": t1 - t0,
                    "baseline": t2 - t1,
                    "ours_by_operation": ops,
                    "events": {"made": len(made), "ours": len(ours), "baseline": len(base)},
                    "open_sessions": state.open_sessions(),
                }
            )
        stats = sandbox.stats
    finally:
        for c in (api, ours_client, base_client):
            await c.aclose()
        state.close()
        sandbox.close()
    return _figure(rounds, found_at, work, counting.reads, stats, sorted(quiet), tail)


def _figure(
    rounds: list[dict[str, Any]],
    found_at: dict[str, dict[tuple[str, str], int]],
    work: Workload,
    reads: dict[str, int],
    stats: dict[str, Any],
    quiet: list[int],
    tail: int,
) -> dict[str, Any]:
    measured = rounds[1:]  # round 0 is each side's first pass (everything read, nothing announced)
    ours, base = sum(r["ours"] for r in measured), sum(r["baseline"] for r in measured)
    by_operation: dict[str, int] = {}
    for r in measured:
        for op, n in r["ours_by_operation"].items():
            by_operation[op] = by_operation.get(op, 0) + n
    truth, o, b = found_at["truth"], found_at["ours"], found_at["baseline"]

    def named(events: set[tuple[str, str]]) -> list[str]:
        return [f"{kind} {subject}" for kind, subject in sorted(events)]

    late = {e: o[e] - b[e] for e in o.keys() & b.keys() if o[e] > b[e]}
    budget = _budget()
    rereads = {
        "ended_by_api": sum(n for s, n in reads.items() if s in work.ended_by_api),
        "old_open": sum(n for s, n in reads.items() if s in work.old_open - work.ended_by_api),
        "other": sum(n for s, n in reads.items() if s not in work.old_open | work.ended_by_api),
    }
    per_interview = {
        side: total / (len(measured) * INTERVIEWS) for side, total in (("ours", ours), ("baseline", base))
    }
    return {
        "workload": {
            "interviews": INTERVIEWS,
            "existing_sessions": EXISTING_SESSIONS,
            "existing_candidates": EXISTING_CANDIDATES,
            "old_open": OLD_OPEN,
            "existing_abandoned": EXISTING_ABANDONED,
            "max_poll_factor": MAX_POLL_FACTOR,
            "rounds": ROUNDS,
            "round_seconds": ROUND_SECONDS,
            "seed": SEED,
            "quiet_rounds": quiet,
            "quiet_tail": tail,
            "candidates_every": CANDIDATES_EVERY,
            "changes": work.changes,
        },
        "first_pass": {"ours": rounds[0]["ours"], "baseline": rounds[0]["baseline"]},
        "rounds": measured,
        "totals": {"ours": ours, "baseline": base},
        "ours_by_operation": by_operation,
        "rereads": rereads,
        "floor_ratio": (ours - by_operation.get("get_session", 0)) / base,
        "ratio": ours / base,
        "per_round": {
            "ours_max": max(r["ours"] for r in measured),
            "baseline_min": min(r["baseline"] for r in measured),
            "worst_ratio": max(r["ours"] / r["baseline"] for r in measured),
        },
        "events": {
            k: {side: sum(1 for e in d if e[0] == k) for side, d in found_at.items()} for k in EVENT_TYPES
        },
        "completeness": {
            "ours_vs_baseline": len(o.keys() & b.keys()) / len(b) if b else 1.0,
            "missing_from_ours": named(b.keys() - o.keys()),
            "extra_in_ours": named(o.keys() - b.keys()),
            "ours_missing_made": named(truth.keys() - o.keys()),
            "baseline_missing_made": named(truth.keys() - b.keys()),
            "ours_not_made": named(o.keys() - truth.keys()),
        },
        "late": {
            "events": len(late),
            "max_rounds": max(late.values(), default=0),
            "by_kind": {
                k: sum(1 for e in late if e[0] == k) for k in EVENT_TYPES if any(e[0] == k for e in late)
            },
        },
        "budget": {
            **budget,
            "per_interview_pass": per_interview,
            "interviews": {
                side: math.floor(budget["per_poll"] / n) if n else None for side, n in per_interview.items()
            },
        },
        "rate_limited": stats.get("rate_limited", 0),
    }


def fig_watching() -> dict[str, Any]:
    return asyncio.run(_run())
