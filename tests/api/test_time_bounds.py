"""`timeout` bounds a whole request attempt, not each read: an API that trickles a byte every
0.5 s forever (or never sends its headers) still ends each call, retries included, within about
5 x timeout, and a stuck request never keeps its pacing slot. Real HTTP to a fake API on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from starlette.requests import Request

from aural_mcp.api import AuralClient, errors

from .fake_api import FakeAPI, fake_api, trickle
from .helpers import KEY

pytestmark = pytest.mark.anyio

TIMEOUT = 1.0
# A bound for the test itself, not a speed goal: without the fix these calls never end.
GUARD = 5 * TIMEOUT + 5


async def _never_answer(request: Request) -> Any:
    await asyncio.sleep(3600)


def routes(request: Request) -> Any:
    path = request.url.path
    if path.endswith("/usage") or (request.method == "POST" and path.endswith("/interviews")):
        return trickle(0.5)
    if path.endswith("/practices"):
        return _never_answer(request)  # accepts the request, never sends the headers
    return {"data": [], "cursor": None}


@pytest.fixture(scope="module")
def api() -> Iterator[FakeAPI]:
    with fake_api() as server:
        server.answer = routes
        yield server


def new_client(api: FakeAPI, **kw: Any) -> AuralClient:
    return AuralClient(KEY, base_url=api.base_url, timeout=TIMEOUT, **kw)


async def test_trickling_read_is_a_retryable_timeout(api: FakeAPI) -> None:
    before = api.count("/usage")
    async with new_client(api) as c:
        with anyio.fail_after(GUARD):
            with pytest.raises(errors.TransportError) as info:
                await c.get_usage()
        assert "no complete answer within 1 s" in info.value.message
        assert info.value.code == "TRANSPORT" and info.value.may_have_applied is False
        attempts = api.count("/usage") - before
        assert 2 <= attempts <= 5  # retried, but only while the attempts fit in 5 x timeout
        assert c.pacer.in_flight == 0


async def test_trickling_create_is_outcome_unknown_and_not_repeated(api: FakeAPI) -> None:
    before = api.count("/interviews")
    async with new_client(api) as c:
        with anyio.fail_after(GUARD), pytest.raises(errors.OutcomeUnknownError) as info:
            await c.create_interview("Backend screen")
        assert "no complete answer within 1 s" in info.value.reason
        assert api.count("/interviews") - before == 1
        assert c.pacer.in_flight == 0


async def test_headers_that_never_come(api: FakeAPI) -> None:
    async with new_client(api, max_retries=1) as c:
        with anyio.fail_after(GUARD), pytest.raises(errors.TransportError):
            await c.list_practices("3f2b8c1e-9a4d-4e6f-8b1a-2c3d4e5f6a7b")
        assert c.pacer.in_flight == 0


async def test_a_stuck_request_does_not_keep_its_pacing_slot(api: FakeAPI) -> None:
    """One slot per window: the stuck call's attempts end, so the other call gets the slot."""
    outcomes: dict[str, Any] = {}
    async with new_client(api, rate_limit=1, rate_window=0.2) as c:

        async def stuck() -> None:
            try:
                await c.get_usage()
            except errors.TransportError as exc:
                outcomes["stuck"] = exc

        async def quick() -> None:
            await anyio.sleep(0.1)  # start after the stuck call has taken the only slot
            outcomes["quick"] = await c.list_interviews()

        with anyio.fail_after(GUARD):
            async with anyio.create_task_group() as tg:
                tg.start_soon(stuck)
                tg.start_soon(quick)
        assert isinstance(outcomes["stuck"], errors.TransportError)
        assert outcomes["quick"].data == []
        assert c.pacer.in_flight == 0
