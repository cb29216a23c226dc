"""Issue 4, item 3 (tools half): Hypothesis drives every tool with arguments generated from its
input schema and mutated away from it, through a real MCP client (the SDK's in-memory JSON-RPC
transport) against `build_server(sandbox=True)`.

Every call must come back as a well-formed CallToolResult: success, or `isError` with a clear
text (no traceback, no "Error executing tool") that names the offending field when the
mutation made one field certainly invalid (a required field removed, a value of a JSON type the
schema forbids). A protocol error (an exception in the client) fails the test. After each
tool's run the server must still answer. Reproducible: `derandomize=True`, no example database.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import anyio
import mcp_types as types
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client

from aural_mcp.server.app import build_server
from aural_mcp.settings import Settings

from .results import record
from .schema_strategies import Case, cases

MIN_TOTAL_CASES = 5000
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
BAD_TEXT = ("Traceback (most recent call last)", "Error executing tool", 'File "/')


class Harness:
    """One MCP client session, driven from synchronous Hypothesis tests through a blocking portal."""

    def __init__(self, portal: BlockingPortal, client: Client) -> None:
        self.portal = portal
        self.client = client
        self.tools: dict[str, types.Tool] = {}
        self.real_ids: dict[str, str] = {}

    def call(self, name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        return self.portal.call(self.client.call_tool, name, arguments)


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    settings_ = Settings.from_env(sandbox=True, rate_limit=1_000_000, rate_window=1.0, log_level="CRITICAL")
    server = build_server(settings_)
    with start_blocking_portal(backend="asyncio") as portal:
        client = Client(server, mode="legacy", read_timeout_seconds=60)
        with portal.wrap_async_context_manager(client) as entered:
            h = Harness(portal, entered)
            h.tools = {t.name: t for t in portal.call(entered.list_tools).tools}
            _seed_real_ids(h)
            yield h


def _seed_real_ids(h: Harness) -> None:
    """Real ids so that schema-valid calls also reach the success paths, not only not-found."""
    created = h.call("create_interview", {"title": "fuzz target"})
    interview_id = created.structured_content["data"]["id"]  # type: ignore[index]
    h.real_ids["interviewId"] = interview_id
    q = h.call(
        "add_questions", {"interviewId": interview_id, "questions": [{"text": "Why?"}, {"text": "How?"}]}
    )
    h.real_ids["questionId"] = q.structured_content["data"][0]["id"]  # type: ignore[index]
    c = h.call(
        "add_candidates", {"interviewId": interview_id, "candidates": [{"name": "Fuzz", "email": "f@x.dev"}]}
    )
    h.real_ids["candidateId"] = c.structured_content["data"][0]["id"]  # type: ignore[index]
    h.call("publish_interview", {"interviewId": interview_id})
    if "simulate_session" in h.tools:
        s = h.call("simulate_session", {"interviewId": interview_id})
        sid = _find_uuid(s.structured_content, "sessionId") or _find_uuid(s.structured_content, "id")
        if sid:
            h.real_ids["sessionId"] = sid


def _find_uuid(data: Any, key: str) -> str | None:
    if isinstance(data, dict):
        if isinstance(data.get(key), str) and UUID_RE.match(data[key]):
            return data[key]
        for v in data.values():
            found = _find_uuid(v, key)
            if found:
                return found
    if isinstance(data, list):
        for v in data:
            found = _find_uuid(v, key)
            if found:
                return found
    return None


def check_result(tool: str, case: Case, result: Any) -> None:
    assert isinstance(result, types.CallToolResult), f"{tool}: not a CallToolResult: {type(result)}"
    assert result.content, f"{tool}: empty content for {case.mutation}"
    texts = [c.text for c in result.content if isinstance(c, types.TextContent)]
    assert texts and all(isinstance(t, str) for t in texts), f"{tool}: no text content"
    text = "\n".join(texts)
    for bad in BAD_TEXT:
        assert bad not in text, f"{tool} ({case.mutation}): raw failure text {bad!r} in:\n{text[:800]}"
    if result.is_error:
        assert text.strip(), f"{tool}: isError with empty text"
    if case.field is not None:
        assert result.is_error, (
            f"{tool}: {case.mutation} of `{case.field}` was accepted: {_short(case.arguments)} -> {text[:300]}"
        )
        assert case.field in text, (
            f"{tool}: the error for {case.mutation} does not name `{case.field}`:\n{text[:800]}\n"
            f"arguments: {_short(case.arguments)}"
        )


def _short(value: Any, n: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= n else text[:n] + "…"


def _tool_names() -> list[str]:
    server = build_server(Settings.from_env(sandbox=True))

    async def names() -> list[str]:
        return [t.name for t in await server.list_tools()]

    return anyio.run(names)


TOOL_NAMES = _tool_names()
PER_TOOL = math.ceil(MIN_TOTAL_CASES / len(TOOL_NAMES)) + 10


@pytest.mark.parametrize("tool", TOOL_NAMES)
def test_tool_survives_generated_and_mutated_arguments(tool: str, harness: Harness) -> None:
    schema = harness.tools[tool].input_schema
    seen: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    timing = {"calls": 0.0}
    run_started = time.perf_counter()

    @settings(
        max_examples=PER_TOOL,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )
    @given(case=cases(schema), use_real=st.booleans())
    def run(case: Case, use_real: bool) -> None:
        arguments = dict(case.arguments)
        if use_real:
            for name, real in harness.real_ids.items():
                if (
                    name != case.field
                    and isinstance(arguments.get(name), str)
                    and UUID_RE.match(arguments[name])
                ):
                    arguments[name] = real
        if tool == "wait_for_sessions" and case.field != "timeoutSeconds":
            # A well-formed wait on the real interview runs its whole timeout (up to 300 s): 1 s each.
            arguments["timeoutSeconds"] = 1
        case = Case(arguments, case.mutation, case.field)
        started = time.perf_counter()
        result = harness.call(tool, arguments)
        timing["calls"] += time.perf_counter() - started
        check_result(tool, case, result)
        seen[case.mutation] += 1
        outcomes["error" if result.is_error else "success"] += 1

    run()
    elapsed = time.perf_counter() - run_started
    total = sum(seen.values())
    # The server still answers, on this tool and on the protocol.
    alive = harness.call("get_usage", {})
    assert not alive.is_error, alive
    assert harness.portal.call(harness.client.list_tools).tools
    record(
        f"fuzz-{tool}",
        {
            "tool": tool,
            "cases": total,
            "mutations": dict(seen),
            "outcomes": dict(outcomes),
            "seconds": round(elapsed, 2),
            "seconds_in_calls": round(timing["calls"], 2),
        },
    )
    print(f"{tool}: {total} cases {dict(outcomes)}")
    assert total >= math.ceil(MIN_TOTAL_CASES / len(TOOL_NAMES)), f"{tool}: only {total} cases ran"
