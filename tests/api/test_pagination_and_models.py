"""Pagination iterators over hundreds of items (with the interview list's repeated boundary item
and silent restarts), and the models' leniency."""

from __future__ import annotations

import gc
import json
import weakref
from datetime import UTC, datetime, timedelta

import httpx2
import pytest

from aural_mcp.api import errors, models

from .helpers import client, err, ok, uid

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 3, 16, 10, 0, 0, 123456, tzinfo=UTC)


def iso(dt: datetime) -> str:
    return dt.isoformat()


class FakeInterviewList:
    """GET /interviews as the API pages it: updatedAt desc, no tie-breaker, cursor items with
    `updatedAt <= cursor's` (so the boundary repeats), unknown cursors silently restart."""

    def __init__(self, n: int, tie: int = 1) -> None:
        # `tie` interviews share each updatedAt value
        self.rows = [
            {"id": uid(), "title": f"I{i}", "updatedAt": iso(T0 - timedelta(seconds=i // tie)), "_count": {}}
            for i in range(n)
        ]
        self.by_id = {r["id"]: r for r in self.rows}
        self.calls = 0

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.calls += 1
        limit = int(request.url.params.get("limit", 20))
        rows = self.rows
        cur = self.by_id.get(request.url.params.get("cursor", ""))
        if cur is not None:
            rows = [r for r in rows if r["updatedAt"] <= cur["updatedAt"]]
        page = rows[: limit + 1]
        more = len(page) > limit
        page = page[:limit]
        return ok(page, cursor=page[-1]["id"] if more else None)


class FakeSessionList:
    """GET /interviews/{id}/sessions: createdAt desc then id desc, a proper keyset, 400 on bad cursor."""

    def __init__(self, n: int) -> None:
        self.rows = sorted(
            (
                {
                    "id": uid(),
                    "status": "COMPLETED",
                    "createdAt": iso(T0 - timedelta(seconds=i // 2)),
                    "_count": {},
                }
                for i in range(n)
            ),
            key=lambda r: (r["createdAt"], r["id"]),
            reverse=True,
        )
        self.index = {r["id"]: i for i, r in enumerate(self.rows)}
        self.calls = 0

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.calls += 1
        limit = int(request.url.params.get("limit", 20))
        cursor = request.url.params.get("cursor")
        start = 0
        if cursor:
            if cursor not in self.index:
                return err(400, "BAD_REQUEST", "Invalid cursor")
            start = self.index[cursor] + 1
        page = self.rows[start : start + limit]
        more = start + limit < len(self.rows)
        return ok(page, cursor=page[-1]["id"] if more and page else None)


@pytest.mark.parametrize(("n", "tie", "page_size"), [(250, 1, 100), (250, 3, 100), (301, 4, 20), (5, 1, 100)])
async def test_iter_interviews_dedupes_the_repeated_boundary(n, tie, page_size):
    fake = FakeInterviewList(n, tie)
    c, _ = client(fake)
    ids = [i.id async for i in c.iter_interviews(page_size=page_size)]
    assert len(ids) == n and len(set(ids)) == n
    assert ids == [r["id"] for r in fake.rows]
    assert fake.calls <= n // (page_size - tie) + 2


async def test_iter_interviews_stops_on_silent_restart():
    """An unknown cursor restarts at page one; the iterator notices no new ids and stops."""
    rows = [{"id": uid(), "title": str(i)} for i in range(5)]
    calls = []

    def answer(request):
        calls.append(request.url.params.get("cursor"))
        return ok(rows, cursor=uid())  # always a cursor that will not resolve

    c, _ = client(answer)
    out = [i async for i in c.iter_interviews(page_size=5)]
    assert len(out) == 5
    assert len(calls) == 2


async def test_iter_interviews_stops_when_a_whole_page_shares_one_timestamp():
    fake = FakeInterviewList(30, tie=30)  # the cursor can never move
    c, _ = client(fake)
    out = [i async for i in c.iter_interviews(page_size=10)]
    assert len(out) == 10 and fake.calls == 2


async def test_iter_interviews_stops_when_a_cursor_repeats():
    pages = {None: ["a", "b"], "c1": ["c"], "c2": ["d"]}
    cursors = {None: "c1", "c1": "c2", "c2": "c1"}  # a cycle that keeps bringing... nothing new after d

    def answer(request):
        cur = request.url.params.get("cursor")
        return ok([{"id": i} for i in pages[cur]], cursor=cursors[cur])

    c, _ = client(answer)
    assert [i.id async for i in c.iter_interviews()] == ["a", "b", "c", "d"]


@pytest.mark.parametrize(("n", "page_size"), [(300, 100), (300, 7), (0, 100), (100, 100)])
async def test_iter_sessions_follows_the_keyset(n, page_size):
    fake = FakeSessionList(n)
    c, _ = client(fake)
    iid = uid()
    ids = [s.id async for s in c.iter_sessions(iid, page_size=page_size)]
    assert ids == [r["id"] for r in fake.rows]
    assert fake.calls == max(1, -(-n // page_size))


async def test_iter_sessions_stops_on_a_repeating_cursor():
    rows = [{"id": uid()} for _ in range(3)]
    calls = []

    def answer(request):
        calls.append(1)
        return ok(rows, cursor=rows[-1]["id"])

    c, _ = client(answer)
    assert len([s async for s in c.iter_sessions(uid())]) == 3
    assert len(calls) == 2


async def test_iter_sessions_keeps_memory_flat():
    """Items already yielded are not kept alive by the iterator."""
    fake = FakeSessionList(250)
    c, _ = client(fake)
    refs = []
    count = 0
    async for s in c.iter_sessions(uid(), page_size=50):
        if count % 50 == 0:
            refs.append(weakref.ref(s))
        count += 1
        del s
    gc.collect()
    assert count == 250
    assert sum(r() is not None for r in refs) == 0


async def test_iter_sessions_bad_cursor_is_an_error():
    c, _ = client(lambda r: err(400, "BAD_REQUEST", "Invalid cursor"))
    with pytest.raises(errors.BadRequestError):
        [s async for s in c.iter_sessions(uid())]


async def test_typed_pages():
    fake = FakeInterviewList(3)
    c, _ = client(fake)
    page = await c.list_interviews(limit=2)
    assert isinstance(page, models.Page) and len(page.data) == 2 and page.cursor == page.data[-1].id
    assert isinstance(page.data[0], models.InterviewListItem)


# --- models ----------------------------------------------------------------------------------


SESSION_DETAIL = {
    "id": "5d0c0f7e-8a52-4a43-9a55-4f1a0b0c0d0e",
    "status": "COMPLETED",
    "participantName": "Ada",
    "participantEmail": None,
    "summary": "Solid.",
    "insights": {"keyInsights": ["a"], "questionEvaluations": [{"score": 4}]},
    "themes": ["python", "testing"],
    "sentiment": {"overall": "positive", "details": "upbeat"},
    "totalDurationSeconds": 612,
    "createdAt": "2026-03-16T10:20:30.123456+00:00",
    "messages": [
        {"id": "m1", "role": "SYSTEM", "content": "nav", "timestamp": "2026-03-16T10:20:30Z"},
        {"id": "m2", "role": "assistant", "content": "Hi", "timestamp": "2026-03-16T10:20:31.5+00:00"},
    ],
    "interview": {"id": "i", "title": "T", "objective": None},
    "somethingNew": {"x": 1},
}


def test_session_detail_is_parsed_leniently():
    s = models.SessionDetail.model_validate(SESSION_DETAIL)
    assert s.status is models.SessionStatus.COMPLETED
    assert s.createdAt == datetime(2026, 3, 16, 10, 20, 30, 123456, tzinfo=UTC)
    assert s.messages[0].timestamp.tzinfo is not None and s.messages[0].role is models.MessageRole.SYSTEM
    assert s.messages[1].role == "assistant"  # an unexpected value is kept, not rejected
    assert s.insights["keyInsights"] == ["a"] and s.sentiment["overall"] == "positive"
    assert s.somethingNew == {"x": 1}  # unknown fields kept
    dumped = s.model_dump(mode="json", by_alias=True)
    assert dumped["createdAt"].startswith("2026-03-16T10:20:30.123456")
    assert json.loads(s.model_dump_json())["somethingNew"] == {"x": 1}


def test_models_accept_odd_but_real_shapes():
    # the OpenAPI document's (wrong) shapes: insights as array, sentiment as string
    item = models.SessionListItem.model_validate(
        {
            "id": "x",
            "status": "IN_PROGRESS",
            "insights": [],
            "sentiment": "positive",
            "themes": [],
            "_count": {"messages": 3},
        }
    )
    assert item.count == {"messages": 3} and item.sentiment == "positive"
    q = models.Question.model_validate(
        {"id": "q", "type": "FUTURE_TYPE", "order": 2, "starterCode": {"python": "print()"}, "showIf": [1]}
    )
    assert q.type == "FUTURE_TYPE" and q.order == 2
    i = models.Interview.model_validate(
        {
            "id": "i",
            "aiTone": "FORMAL",
            "createdAt": "2026-03-16 10:20:30.1234567+00",
            "updatedAt": "not a date",
        }
    )
    assert i.aiTone is models.AiTone.FORMAL
    assert i.createdAt == datetime(2026, 3, 16, 10, 20, 30, 123456, tzinfo=UTC)
    assert i.updatedAt == "not a date"
    u = models.Usage.model_validate(
        {
            "plan": "self-hosted",
            "templates": {"used": 7, "limit": None},
            "session_hours": {"used": 1.5, "limit": 10},
            "ai_tokens": {"used": 0, "limit": None},
            "seats": {"used": 4, "limit": None},
        }
    )
    assert u.session_hours.used == 1.5 and u.templates.limit is None
    r = models.SessionReport.model_validate(
        {
            "antiCheatingLog": [{"type": "paste", "timestamp": 1773656430123}],
            "screenshots": None,
            "messages": [],
        }
    )
    assert r.antiCheatingLog[0]["timestamp"] == 1773656430123
    d = models.InterviewDetail.model_validate(
        {"id": "i", "questions": [{"id": "q"}], "_count": {"sessions": 2}}
    )
    assert d.count == {"sessions": 2} and isinstance(d.questions[0], models.Question)
    p = models.PracticeReport.model_validate(
        {"session": {"id": "p"}, "attempts": [{"id": "a", "score": 3.5}]}
    )
    assert p.attempts[0].score == 3.5
    e = models.EndSessionsResult.model_validate(
        {"dryRun": False, "results": [{"id": "s", "status": "failed", "reason": "Operation failed."}]}
    )
    assert e.results[0].status is models.BulkItemStatus.FAILED
