"""`aural-mcp doctor` (a subprocess) against a hostile fake API on loopback: an API that trickles
a byte every 0.5 s forever, and one that echoes the key in its answers."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.requests import Request
from tests.support.processes import AURAL_MCP, env_without_aural

from aural_mcp.cli.doctor import _is_sandbox

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the shared fake API of tests/api
from api.fake_api import FakeAPI, fake_api, raw, trickle  # noqa: E402

KEY = "dlv_e3ho5ecr3t0123456789abcdefghijkl"
MASKED = f"dlv_…{KEY[-4:]}"


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with fake_api() as server:
        yield server


def doctor(api: FakeAPI, timeout: str = "1") -> subprocess.CompletedProcess[str]:
    # subprocess.run's own timeout is the test's bound: without a total bound doctor never ends
    return subprocess.run(
        [*AURAL_MCP, "doctor", "--timeout", timeout],
        capture_output=True,
        text=True,
        timeout=60,
        env=env_without_aural(AURAL_API_KEY=KEY, AURAL_BASE_URL=api.base_url),
    )


def test_doctor_timeout_bounds_a_trickling_api(api: FakeAPI) -> None:
    api.answer = lambda request: trickle(0.5)
    done = doctor(api)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "no complete answer from" in done.stdout and "within 1 s" in done.stdout
    assert api.count("/openapi.json") == 1 and "Traceback" not in done.stderr


def test_doctor_timeout_bounds_a_trickling_usage(api: FakeAPI) -> None:
    api.answer = lambda request: (
        trickle(0.5) if request.url.path.endswith("/usage") else {"info": {"title": "Aural", "version": "1"}}
    )
    done = doctor(api)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "GET /usage failed" in done.stdout and "no complete answer within 1 s" in done.stdout
    assert api.count("/usage") == 1


def _escaped(text: str) -> str:
    """`text` as a JSON string with its first letter written as a \\u escape."""
    return f'"\\u{ord(text[0]):04x}{text[1:]}"'


def echoing(request: Request) -> Any:
    path = request.url.path
    if path.endswith("/openapi.json"):
        return {"info": {"title": f"Aural echo {KEY}", "version": f"Bearer {KEY}"}}
    body = (
        f'{{"data": {{"plan": "Authorization: Bearer {KEY}", "templates": {{"used": 1, "limit": null}}, '
        f'"note": {_escaped(KEY)}, "{KEY}": {{"used": 2}}}}}}'
    )
    return raw(body)


def test_doctor_masks_a_key_echoed_in_answers(api: FakeAPI) -> None:
    api.answer = echoing
    done = doctor(api)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert KEY not in out and KEY[4:] not in out and KEY[-12:] not in out
    assert f"Aural echo {MASKED}" in out and f"plan: Authorization: Bearer {MASKED}" in out
    assert f"note: {MASKED}" in out


def test_doctor_masks_a_key_echoed_in_a_401_and_names_the_sandbox_fix(api: FakeAPI) -> None:
    def answer(request: Request) -> Any:
        if request.url.path.endswith("/openapi.json"):
            return {"info": {"title": "Aural", "version": "1"}}
        error = {"error": {"code": "UNAUTHORIZED", "message": f"Invalid or revoked API key: {KEY}"}}
        return raw(json.dumps(error), 401)

    api.answer = answer
    done = doctor(api)
    out = done.stdout + done.stderr
    assert done.returncode == 1 and KEY not in out and KEY[4:] not in out
    assert f"Invalid or revoked API key: {MASKED}" in out
    assert "`aural-mcp sandbox --new-key`" in out  # a loopback base URL is a sandbox


@pytest.mark.parametrize("timeout", ["0", "-1", "inf", "nan"])
def test_doctor_rejects_an_unusable_timeout(api: FakeAPI, timeout: str) -> None:
    done = doctor(api, timeout)
    assert done.returncode == 1 and "--timeout" in done.stdout and "Traceback" not in done.stderr
    assert api.seen == []


def test_sandbox_is_a_loopback_host_or_an_aural_mcp_document() -> None:
    assert _is_sandbox("http://127.0.0.1:8000/api/v1", {})
    assert _is_sandbox("http://localhost:9/api/v1", {"info": "odd"})
    assert _is_sandbox("https://sandbox.example/api/v1", {"info": {"x-generator": "aural-mcp 0.9"}})
    assert not _is_sandbox("https://aural-ai.com/api/v1", {"info": {"title": "Aural Developer API"}})
