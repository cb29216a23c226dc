"""Fault injection (issue 4 item 2): what a client sees over real HTTP and in-process, and what is stored."""

from __future__ import annotations

import collections
import time

import httpx2
import pytest
from tests.support.servers import LiveServer

from aural_mcp.sandbox import DroppedConnection, FaultSpec, Sandbox


def test_spec_parsing():
    s = FaultSpec.parse("0.2:drop_before,500:7")
    assert (s.rate, s.kinds, s.seed) == (0.2, ("drop_before", "500"), 7)
    assert FaultSpec.parse("0.5").kinds == ("drop_before", "drop_after", "500", "502", "503", "latency")
    for bad in ("x", "1.5", "0.2:boom", "0.2:500:x"):
        with pytest.raises(ValueError):
            FaultSpec.parse(bad)


def outcome(c: httpx2.Client, title: str) -> str:
    try:
        r = c.post("/api/v1/interviews", json={"title": title})
    except httpx2.TransportError:
        return "broken"
    return str(r.status_code)


def titles_in(box: Sandbox) -> set[str]:
    return {r[0] for r in box.store.all("SELECT json_extract(data, '$.title') FROM interviews")}


def test_mixed_faults_over_real_http():
    box = Sandbox(rate_limit=1_000_000, faults=FaultSpec(0.5, seed=11, max_latency=0.05))
    key = box.create_key()
    seen: collections.Counter[str] = collections.Counter()
    with (
        LiveServer(box.app) as server,
        httpx2.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=5) as c,
    ):
        for i in range(300):
            seen[outcome(c, f"t{i}")] += 1
        # the document and the sandbox routes are never faulted
        assert all(c.get("/api/v1/openapi.json").status_code == 200 for _ in range(20))
        assert c.get("/sandbox/stats").json()["faults_total"] == box.stats["faults_total"]
    faults = box.stats["faults"]
    failed = seen["broken"] + seen["500"] + seen["502"] + seen["503"]
    assert 0.3 < failed / 300 < 0.55, seen  # 5 of the 6 kinds fail; latency succeeds
    assert seen["broken"] == faults.get("drop_before", 0) + faults.get("drop_after", 0)
    for kind in ("500", "502", "503"):
        assert seen[kind] == faults.get(kind, 0)
    assert seen["200"] == 300 - failed
    assert 0.35 < box.stats["faults_total"] / box.stats["api_requests"] < 0.65
    # stored: every 200 plus exactly the drop_after ones
    stored = len(titles_in(box))
    assert stored == seen["200"] + faults.get("drop_after", 0)
    box.close()


@pytest.mark.parametrize(("kind", "stored"), [("drop_before", False), ("drop_after", True)])
def test_drops_are_broken_connections_and_store_accordingly(kind, stored):
    box = Sandbox(faults=f"1.0:{kind}")
    key = box.create_key()
    with (
        LiveServer(box.app) as server,
        httpx2.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=5) as c,
        pytest.raises(httpx2.TransportError),
    ):
        c.post("/api/v1/interviews", json={"title": "maybe"})
    assert ("maybe" in titles_in(box)) is stored
    assert box.stats["faults"] == {kind: 1}
    box.close()


@pytest.mark.anyio
@pytest.mark.parametrize(("kind", "stored"), [("drop_before", False), ("drop_after", True)])
async def test_drops_in_process_raise(kind, stored):
    box = Sandbox(faults=f"1.0:{kind}")
    key = box.create_key()
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=box.app),
        base_url="http://x",
        headers={"Authorization": f"Bearer {key}"},
    ) as c:
        with pytest.raises(DroppedConnection):
            await c.post("/api/v1/interviews", json={"title": "maybe"})
    assert ("maybe" in titles_in(box)) is stored
    assert issubclass(DroppedConnection, httpx2.TransportError)
    box.close()


@pytest.mark.anyio
async def test_status_faults_store_nothing_and_latency_delays():
    for kind, status in (("500", 500), ("502", 502), ("503", 503)):
        box = Sandbox(faults=f"1.0:{kind}")
        key = box.create_key()
        async with httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=box.app),
            base_url="http://x",
            headers={"Authorization": f"Bearer {key}"},
        ) as c:
            r = await c.post("/api/v1/interviews", json={"title": "no"})
            assert r.status_code == status
            if status == 500:
                assert r.json() == {
                    "error": {"code": "INTERNAL_ERROR", "message": "Unable to complete request."}
                }
            else:
                assert not r.headers["content-type"].startswith("application/json")
            if status == 503:
                assert r.headers["retry-after"] == "1"
        assert titles_in(box) == set()
        box.close()
    box = Sandbox(faults=FaultSpec(1.0, ("latency",), seed=1, max_latency=0.1))
    key = box.create_key()
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=box.app),
        base_url="http://x",
        headers={"Authorization": f"Bearer {key}"},
    ) as c:
        t0 = time.monotonic()
        r = await c.post("/api/v1/interviews", json={"title": "slow"})
        assert r.status_code == 200 and time.monotonic() - t0 >= 0.02
    assert titles_in(box) == {"slow"}
    box.close()


def test_same_seed_same_faults():
    def run() -> list[str | None]:
        from aural_mcp.sandbox.faults import FaultInjector

        inj = FaultInjector(FaultSpec(0.5, seed=3))
        return [inj.pick() for _ in range(50)]

    assert run() == run()


def test_cli_with_faults_keeps_logs_quiet(tmp_path):
    from .conftest import SandboxProcess

    proc = SandboxProcess(tmp_path / "f.db", "--faults", "1.0:drop_before:1")
    proc.start()
    try:
        assert any("Fault injection: rate 1.0" in line for line in proc.output)
        with pytest.raises(httpx2.TransportError):
            httpx2.get(proc.base + "/usage", headers={"Authorization": f"Bearer {proc.key}"})
    finally:
        proc.kill()
    assert "Traceback" not in proc.stderr()
