"""Pacing under concurrency, 429 handling, retries of safe requests, and creates that are never
repeated once they may have reached the server."""

from __future__ import annotations

import time

import anyio
import httpx2
import pytest

from aural_mcp import operations
from aural_mcp.api import Pacer, errors

from .helpers import client, err, ok, uid

pytestmark = pytest.mark.anyio


def flaky(failures, then):
    """Answer with each of `failures` in turn (a Response, or an exception class to raise), then `then`."""
    queue = list(failures)

    def answer(request):
        if queue:
            f = queue.pop(0)
            if isinstance(f, httpx2.Response):
                return f
            raise f("simulated", request=request)
        return then(request)

    return answer


# --- pacing ----------------------------------------------------------------------------------


async def test_burst_of_three_windows_is_paced_and_all_succeed():
    arrivals: list[float] = []

    def answer(request):
        arrivals.append(time.monotonic())
        return ok({"plan": "x"})

    c, rec = client(answer, rate_limit=5, rate_window=0.5)
    start = time.monotonic()
    async with anyio.create_task_group() as tg:
        for _ in range(15):
            tg.start_soon(c.get_usage)
    elapsed = time.monotonic() - start
    assert rec.count == 15
    assert elapsed >= 1.0  # three windows' worth takes at least two windows
    assert elapsed < 3.0
    arrivals.sort()
    for i in range(len(arrivals) - 5):  # never more than 5 in any 0.5 s
        assert arrivals[i + 5] - arrivals[i] >= 0.5 - 1e-3


async def test_openapi_is_not_paced():
    c, rec = client(lambda r: httpx2.Response(200, json={"openapi": "3.1.0"}), rate_limit=1, rate_window=30)
    with anyio.fail_after(2):
        for _ in range(5):
            assert (await c.openapi())["openapi"] == "3.1.0"
    assert rec.count == 5


async def test_pacer_unit_behaviour():
    now = [0.0]
    p = Pacer(2, 10.0, clock=lambda: now[0])
    await p.acquire()
    await p.acquire()
    assert p.delay() == float("inf")  # both slots in flight
    p.release()
    assert p.delay() == pytest.approx(10.0)
    now[0] = 10.0
    assert p.delay() == 0.0
    p.block(3)
    assert p.delay() == pytest.approx(3.0)
    with pytest.raises(ValueError):
        Pacer(0, 1.0)


async def test_background_requests_keep_to_their_share_and_give_way():
    now = [0.0]
    p = Pacer(10, 10.0, background_share=0.2, clock=lambda: now[0])
    assert p.background_limit == 2
    for _ in range(2):
        assert p.delay(background=True) == 0.0
        await p.acquire(background=True)
        p.release(background=True)
    assert p.delay(background=True) == pytest.approx(10.0)  # its two slots are used in this window
    # The rest of the limit stays free for foreground requests: none of them waits.
    for _ in range(8):
        assert p.delay() == 0.0
        await p.acquire()
        p.release()
    assert p.stats["foreground_waits"] == 0
    assert p.delay() == pytest.approx(10.0)
    now[0] = 10.0
    assert p.delay(background=True) == 0.0
    # A foreground request waiting for a slot goes before any background one.
    p._foreground_waiting = 1
    assert p.delay(background=True) == float("inf")
    p._foreground_waiting = 0
    assert Pacer(3, 1.0, background_share=0.2).background_limit == 1  # at least one
    for bad in (0, 1.5, -0.1, True, "0.2"):
        with pytest.raises(ValueError, match="fraction"):
            Pacer(10, 1.0, background_share=bad)


async def test_a_waiting_foreground_request_holds_back_background_ones():
    p = Pacer(2, 0.3, background_share=1.0)
    order: list[str] = []
    await p.acquire()
    await p.acquire()  # the window is full

    async def take(name: str, background: bool) -> None:
        await p.acquire(background=background)
        order.append(name)

    async with anyio.create_task_group() as tg:
        tg.start_soon(take, "background", True)
        await anyio.sleep(0.01)
        tg.start_soon(take, "foreground", False)
        await anyio.sleep(0.01)
        p.release()
        p.release()
    assert order[0] == "foreground"
    assert p.stats["foreground_waits"] == 1 and p.stats["foreground_wait_seconds"] > 0


async def test_cancelled_waiter_takes_no_slot():
    p = Pacer(1, 60.0)
    await p.acquire()
    with anyio.move_on_after(0.05):
        await p.acquire()
    assert p.in_flight == 1


# --- 429 -------------------------------------------------------------------------------------


async def test_429_waits_retry_after_then_retries():
    c, rec = client(
        flaky(
            [
                httpx2.Response(
                    429,
                    headers={"Retry-After": "1"},
                    json={"error": {"code": "RATE_LIMITED", "message": "m"}},
                )
            ],
            lambda r: ok({"plan": "x"}),
        )
    )
    start = time.monotonic()
    usage = await c.get_usage()
    assert usage.plan == "x" and rec.count == 2
    assert time.monotonic() - start >= 1.0  # the header's value was honoured


async def test_429_body_retry_after_blocks_concurrent_requests_too():
    times: list[float] = []
    state = {"limited": 1}

    def answer(request):
        times.append(time.monotonic())
        if state["limited"]:
            state["limited"] -= 1
            return err(429, "RATE_LIMITED", "Too many requests. Retry after 1s.", retry_after=1)
        return ok({"plan": "x"})

    c, rec = client(answer)
    await c.get_usage()  # the first request is limited; everything after waits it out
    start = times[0]
    async with anyio.create_task_group() as tg:
        for _ in range(3):
            tg.start_soon(c.get_usage)
    assert rec.count == 5
    assert all(t - start >= 1.0 for t in times[1:])


async def test_429_on_a_create_is_retried_because_the_server_refused_it():
    c, rec = client(
        flaky([err(429, "RATE_LIMITED", "m", retry_after=0)], lambda r: ok({"id": uid(), "title": "T"}))
    )
    created = await c.create_interview("T")
    assert created.title == "T" and rec.count == 2


# --- retries of safe requests ---------------------------------------------------------------


@pytest.mark.parametrize(
    "failures",
    [
        [httpx2.Response(502, text="Bad Gateway")],
        [httpx2.Response(503, text=""), httpx2.Response(504, text="")],
        [httpx2.ConnectError, httpx2.ReadTimeout],
        [httpx2.RemoteProtocolError, httpx2.ReadError, httpx2.Response(503)],
    ],
)
async def test_gets_retry_on_gateway_errors_and_network_failures(failures):
    c, rec = client(flaky(failures, lambda r: ok([])))
    assert await c.list_questions(uid()) == []
    assert rec.count == len(failures) + 1


async def test_retries_are_bounded():
    c, rec = client(lambda r: httpx2.Response(503, text="busy"), max_retries=3)
    with pytest.raises(errors.ServerError) as info:
        await c.get_usage()
    assert info.value.status == 503 and rec.count == 4

    c2, rec2 = client(flaky([httpx2.ConnectError] * 10, lambda r: ok({})), max_retries=2)
    with pytest.raises(errors.TransportError, match="after 3 attempts"):
        await c2.get_usage()
    assert rec2.count == 3


async def test_patch_and_publish_and_end_sessions_are_retried():
    iid = uid()
    for call in (
        lambda c: c.update_interview(iid, title="x"),
        lambda c: c.publish_interview(iid),
        lambda c: c.end_sessions(iid, [uid()], dry_run=False),
        lambda c: c.archive_interview(iid),
    ):
        c, rec = client(flaky([httpx2.ReadError, httpx2.Response(502)], lambda r: ok({"id": iid})))
        await call(c)
        assert rec.count == 3


async def test_500_is_not_retried():
    c, rec = client(lambda r: err(500, "INTERNAL_ERROR", "db"))
    with pytest.raises(errors.ServerError):
        await c.get_usage()
    assert rec.count == 1


async def test_delete_retried_after_lost_answer_explains_the_404():
    c, rec = client(flaky([httpx2.ReadError], lambda r: err(404, "NOT_FOUND", "Question not found")))
    with pytest.raises(errors.NotFoundError) as info:
        await c.delete_question(uid())
    assert rec.count == 2
    assert "may have done it already" in str(info.value)


# --- creates are never repeated -------------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [
        httpx2.ReadError,
        httpx2.ReadTimeout,
        httpx2.RemoteProtocolError,
        httpx2.WriteError,
        httpx2.Response(502, text="Bad Gateway"),
        httpx2.Response(503),
        httpx2.Response(504),
    ],
)
@pytest.mark.parametrize(
    ("call", "expect"),
    [
        (lambda c, iid: c.create_interview("Backend screen"), ["list_interviews", "Backend screen"]),
        (
            lambda c, iid: c.add_questions(iid, [{"text": "Why Rust?"}]),
            ["list_questions", "Why Rust?"],
        ),
        (
            lambda c, iid: c.add_candidates(iid, [{"name": "Ada", "email": "ada@example.com"}]),
            ["list_candidates", "ada@example.com"],
        ),
        (
            lambda c, iid: c.raw_request(
                "POST", f"/sandbox/interviews/{iid}/simulate", {"participantName": "A"}
            ),
            ["list_sessions"],
        ),
    ],
)
async def test_creates_are_sent_once_and_reported_unknown(failure, call, expect):
    c, rec = client(flaky([failure], lambda r: ok([])))
    iid = uid()
    with pytest.raises(errors.OutcomeUnknownError) as info:
        await call(c, iid)
    assert rec.count == 1  # exactly one request reached the mock
    e = info.value
    assert "outcome is unknown" in str(e)
    for text in expect:
        assert text in e.check and text in str(e)
    if "interview" in e.check and "list_interviews" not in e.check:
        assert iid in e.check


@pytest.mark.parametrize("failure", [httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout])
async def test_creates_retry_when_nothing_was_sent(failure):
    c, rec = client(flaky([failure, failure], lambda r: ok({"id": uid(), "title": "T"})))
    assert (await c.create_interview("T")).title == "T"
    assert rec.count == 3


async def test_idempotent_raw_request_is_retried():
    c, rec = client(flaky([httpx2.ReadError], lambda r: ok({"ok": True})))
    assert await c.raw_request("GET", "/sandbox/health", idempotent=True) == {"data": {"ok": True}}
    assert rec.count == 2


async def test_outcome_unknown_check_names_the_list_and_what_was_sent():
    c, rec = client(flaky([httpx2.ReadError], lambda r: ok([])))
    iid = uid()
    with pytest.raises(errors.OutcomeUnknownError) as info:
        await c.call("add_questions", {"interviewId": iid, "questions": [{"text": "Why Go?"}]})
    assert rec.count == 1
    assert info.value.check == operations.outcome_check_text(
        operations.get("add_questions"), {"interviewId": iid, "questions": [{"text": "Why Go?"}]}
    )
    assert info.value.check == (
        f'call list_questions for interview {iid} and look for "Why Go?" before trying add_questions again'
    )
    assert info.value.check in info.value.message


async def test_refused_connection_over_real_loopback_is_retried_then_reported():
    """Nothing listens on the port: a connect error, so even a create may be retried (nothing was sent)."""
    from tests.support.net import free_port

    from aural_mcp.api import AuralClient

    from .helpers import KEY

    async with AuralClient(
        KEY, base_url=f"http://127.0.0.1:{free_port()}/api/v1", max_retries=2, backoff_base=0.01, timeout=2
    ) as c:
        with pytest.raises(errors.TransportError) as info:
            await c.create_interview("never sent")
        assert "after 3 attempts" in str(info.value) and "ConnectError" in str(info.value)
        assert info.value.may_have_applied is False


async def test_stats_count_attempts_retries_429s_and_unknown_outcomes():
    reads = flaky(
        [httpx2.Response(503), err(429, "RATE_LIMITED", "m", retry_after=0)], lambda r: ok({"plan": "x"})
    )

    def answer(request):
        if request.method == "POST":
            raise httpx2.ReadError("reset", request=request)
        return reads(request)

    c, _ = client(answer)
    await c.get_usage()  # 503, 429, then ok
    with pytest.raises(errors.OutcomeUnknownError):
        await c.create_interview("T")  # ReadError: not repeated
    assert c.stats == {"requests": 4, "retries": 2, "rate_limited": 1, "outcome_unknown": 1, "skipped_rows": 0}


async def test_unexpected_response_shape_is_an_sdk_error():
    c, _ = client(lambda r: ok({"plan": "x"}))  # no id where an interview is expected
    with pytest.raises(errors.ServerError) as info:
        await c.get_interview(uid())
    assert info.value.code == "INVALID_RESPONSE" and "InterviewDetail" in str(info.value)
    c2, _ = client(lambda r: ok(["not", "objects"]))
    with pytest.raises(errors.ServerError):
        await c2.list_questions(uid())


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (httpx2.ReadError, "ReadError: simulated"),
        (httpx2.Response(502, text="Bad Gateway"), "a proxy answered 502"),
        (httpx2.Response(200, text="<html>"), "HTTP 200 with a body that is not a JSON object"),
    ],
)
async def test_outcome_unknown_reason(failure, reason):
    c, _ = client(flaky([failure], lambda r: ok({"id": uid()})))
    with pytest.raises(errors.OutcomeUnknownError) as info:
        await c.create_interview("T")
    assert info.value.reason == reason
