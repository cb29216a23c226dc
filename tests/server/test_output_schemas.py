"""Every tool declares an outputSchema, and its structuredContent validates against it.

Through the door users use: a real MCP client (which itself validates structuredContent against
the listed outputSchema and raises on a mismatch) of the real server. Each result is also checked
here with jsonschema against the schema the client was given, and searched for the internal
columns that structuredContent must never carry.

Two sources of rows: the in-process sandbox with a dashboard-made interview seeded in
(examples/dashboard-seed.json), driving every tool; and a fake API on loopback answering rows
with arbitrary JSON (Hypothesis) in every field, for every registry operation.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import anyio
import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp.client import Client
from tests.server.fake_api import FakeApi, client_of, fake_api
from tests.support.results import text_of as text

from aural_mcp import operations, responses
from aural_mcp.server.app import build_server
from aural_mcp.server.render.structured import INTERNAL_COLUMNS
from aural_mcp.settings import Settings

pytestmark = pytest.mark.anyio

SEED = Path(__file__).resolve().parents[2] / "examples" / "dashboard-seed.json"


def internal_keys(value: Any, path: str = "") -> list[str]:
    """Where an internal column appears in `value`, at any depth."""
    if isinstance(value, dict):
        found = [f"{path}.{k}" for k in value if k in INTERNAL_COLUMNS]
        return found + [p for k, v in value.items() for p in internal_keys(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in internal_keys(v, f"{path}[{i}]")]
    return []


def check_against_listed(schemas: dict[str, dict[str, Any]], name: str, structured: Any) -> None:
    schema = schemas[name]
    validator = jsonschema.Draft202012Validator(schema)
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(structured)
    ]
    assert not errors, f"{name}: structuredContent does not match its outputSchema: {errors[:5]}"
    assert not internal_keys(structured), (
        f"{name}: internal columns in structuredContent: {internal_keys(structured)}"
    )


async def listed_output_schemas(client: Client) -> dict[str, dict[str, Any]]:
    tools = (await client.list_tools()).tools
    missing = [t.name for t in tools if not t.output_schema]
    assert not missing, f"tools without an outputSchema: {missing}"
    for t in tools:
        jsonschema.Draft202012Validator.check_schema(t.output_schema)
    return {t.name: dict(t.output_schema or {}) for t in tools}


class Driver:
    """Calls tools through the client, keeping every successful result by tool name."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.results: dict[str, list[Any]] = {}

    async def __call__(self, name: str, args: dict[str, Any] | None = None) -> Any:
        result = await self.client.call_tool(name, args or {})  # the client validates here too
        assert not result.is_error, f"{name}: {text(result)}"
        self.results.setdefault(name, []).append(result.structured_content)
        structured = result.structured_content
        return structured.get("data", structured)


async def test_every_tool_on_the_sandbox_and_a_dashboard_interview_validates() -> None:
    server = build_server(Settings(sandbox=True, sandbox_seed=str(SEED)))
    async with Client(server) as client:
        schemas = await listed_output_schemas(client)
        call = Driver(client)

        iv = await call("create_interview", {"title": "Backend screen", "objective": "depth"})
        iid = iv["id"]
        await call("update_interview", {"interviewId": iid, "aiTone": "FRIENDLY", "timeLimitMinutes": 30})
        questions = await call(
            "add_questions",
            {
                "interviewId": iid,
                "questions": [
                    {"text": "Describe an API you designed."},
                    {"text": "Pick a database", "type": "SINGLE_CHOICE", "options": ["Postgres", "SQLite"]},
                    {"text": "Fix it", "type": "CODING", "starterCode": {"python": "def f(): ..."}},
                    {"text": "Remove me"},
                ],
            },
        )
        await call("update_question", {"questionId": questions[0]["id"], "description": "one you shipped"})
        await call("delete_question", {"questionId": questions[3]["id"]})
        await call("list_questions", {"interviewId": iid})
        await call("publish_interview", {"interviewId": iid})
        candidates = await call(
            "add_candidates",
            {"interviewId": iid, "candidates": [{"name": "Ada", "email": "ada@example.com"}]},
        )
        await call(
            "update_candidate", {"interviewId": iid, "candidateId": candidates[0]["id"], "notes": "strong"}
        )
        listed = await call("list_candidates", {"interviewId": iid})
        assert listed[0]["inviteUrl"], listed  # the projection keeps the link the API does not list
        done = await call("simulate_session", {"interviewId": iid, "participantName": "Ada", "seed": 3})
        live = await call("simulate_session", {"interviewId": iid, "status": "IN_PROGRESS", "seed": 4})
        await call("list_sessions", {"interviewId": iid, "limit": 1})
        await call("get_session", {"sessionId": done["id"]})
        await call("get_session_report", {"sessionId": done["id"]})
        await call("compare_sessions", {"interviewId": iid})
        await call("compare_sessions", {"interviewId": iid, "status": "ALL", "limit": 1})
        await call("get_transcript", {"sessionId": done["id"]})
        await call("get_transcript", {"sessionId": done["id"], "format": "full"})
        await call("end_sessions", {"interviewId": iid, "ids": [live["id"]], "dryRun": False})
        # A first look at the interview is a silent baseline: this one times out, with a cursor.
        waited = await call("wait_for_sessions", {"interviewId": iid, "status": "ANY", "timeoutSeconds": 1})
        assert waited["met"] is False and waited["since"]
        await call("simulate_session", {"interviewId": iid, "participantName": "Grace", "seed": 5})
        waited = await call("wait_for_sessions", {"interviewId": iid, "since": waited["since"], "timeoutSeconds": 30})
        assert waited["met"] is True and waited["sessions"][0]["participantName"] == "Grace"
        runtime = client.server.runtime  # type: ignore[attr-defined]
        await runtime.client.raw_request(
            "POST", f"/sandbox/interviews/{iid}/practices", json={}, idempotent=False
        )
        practices = await call("list_practices", {"interviewId": iid})
        await call("get_practice", {"practiceId": practices[0]["id"]})
        await call("get_usage")
        await call("get_interview", {"interviewId": iid})
        await call("list_interviews", {"limit": 1})

        # The dashboard-made interview: options as an object and as label/value pairs, starter code
        # as {language, code}, enum values newer than ours, nulls.
        seeded = await call("list_interviews", {"limit": 100})
        dashboard = next(i for i in seeded if i.get("mode") == "VOICE_FIRST")
        got = await call("get_interview", {"interviewId": dashboard["id"]})
        assert got["aiTone"] == "PLAYFUL" and got["language"] is None
        assert got["questions"][0]["options"] == {
            "options": ["Redux", "Zustand", "Signals"],
            "allowMultiple": False,
        }
        await call("list_questions", {"interviewId": dashboard["id"]})
        await call("list_candidates", {"interviewId": dashboard["id"]})
        for session in await call("list_sessions", {"interviewId": dashboard["id"]}):
            await call("get_session", {"sessionId": session["id"]})
            await call("get_session_report", {"sessionId": session["id"]})
            await call("get_transcript", {"sessionId": session["id"]})
        await call("compare_sessions", {"interviewId": dashboard["id"], "status": "ALL"})
        # A spec that adopts the dashboard-made interview (its odd rows are compared, not trusted)
        # and creates one: the plan, then the apply.
        spec = {"interviews": [
            {"key": "dash", "interviewId": dashboard["id"], "title": str(dashboard["title"]), "aiTone": "CASUAL",
             "questions": [{"key": "state", "text": str(got["questions"][0]["text"]), "type": "SINGLE_CHOICE",
                            "options": ["Redux", "Zustand"]}]},
            {"key": "new", "title": "Made from a spec", "questions": [{"key": "q", "text": "Why us?"}]},
        ]}  # fmt: skip
        planned = await call("apply_interview_spec", {"spec": spec})
        assert [i["action"] for i in planned["interviews"]] == ["update", "create"]
        applied = await call("apply_interview_spec", {"spec": spec, "dryRun": False})
        assert applied["failures"] == [] and applied["applied"]["created"] == 2, applied
        await call("archive_interview", {"interviewId": iid})

        # The SDK still hands out the raw rows: the internal columns are really there to drop.
        raw = (await runtime.client.call("get_interview", {"interviewId": iid}))["data"]
        assert {"projectId", "userId", "llmProvider", "parsedResume"} <= set(raw)

    assert set(call.results) == set(schemas), (
        f"tools listed but not driven here: {sorted(set(schemas) - set(call.results))}; add a call for each"
    )
    for name, results in call.results.items():
        for structured in results:
            check_against_listed(schemas, name, structured)


# ---------------------------------------------------------------- arbitrary JSON inside rows

ID = str(uuid.uuid4())
CANDIDATE = str(uuid.uuid4())

# One valid call per registry operation; every id argument names the same fake row.
ARGS: dict[str, dict[str, Any]] = {
    "list_interviews": {},
    "get_interview": {"interviewId": ID},
    "create_interview": {"title": "x"},
    "update_interview": {"interviewId": ID, "title": "y"},
    "archive_interview": {"interviewId": ID},
    "publish_interview": {"interviewId": ID},
    "list_questions": {"interviewId": ID},
    "add_questions": {"interviewId": ID, "questions": [{"text": "q"}]},
    "update_question": {"questionId": ID, "text": "q2"},
    "delete_question": {"questionId": ID},
    "list_candidates": {"interviewId": ID},
    "add_candidates": {"interviewId": ID, "candidates": [{"name": "Ada"}]},
    "update_candidate": {"interviewId": ID, "candidateId": CANDIDATE, "notes": "n"},
    "list_sessions": {"interviewId": ID},
    "get_session": {"sessionId": ID},
    "get_session_report": {"sessionId": ID},
    "end_sessions": {"interviewId": ID, "ids": [ID], "dryRun": True},
    "list_practices": {"interviewId": ID},
    "get_practice": {"practiceId": ID},
    "get_usage": {},
}

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),  # what a JSON answer can hold
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=20),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["id", "name", "userId", "x"]), inner, max_size=3),
    ),
    max_leaves=8,
)


def row_of(schema_name: str) -> st.SearchStrategy[dict[str, Any]]:
    """A row with arbitrary JSON in any of its documented fields, internal columns and an extra key."""
    keys = [*responses.properties(schema_name), *INTERNAL_COLUMNS, "someNewerColumn"]
    return st.fixed_dictionaries(
        {"id": st.one_of(st.uuids().map(str), st.integers(1, 10**6))},
        optional={k: JSON for k in keys if k != "id"},
    )


def data_of(op: operations.Operation) -> st.SearchStrategy[Any]:
    row = row_of(op.response.schema)
    return st.lists(row, min_size=1, max_size=3) if op.response.many else row


ANSWERS = st.fixed_dictionaries({op.name: data_of(op) for op in operations.OPERATIONS})


@pytest.fixture(scope="module")
def api() -> Any:
    with fake_api() as api:
        yield api


def test_the_fuzz_covers_every_registry_operation() -> None:
    assert set(ARGS) == {op.name for op in operations.OPERATIONS}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answers=ANSWERS)
def test_rows_with_arbitrary_json_still_validate(api: FakeApi, answers: dict[str, Any]) -> None:
    for op in operations.OPERATIONS:
        path = op.path.replace("{id}", ID).replace("{candidateId}", CANDIDATE)
        api.answer(op.method, path, {"data": answers[op.name], "cursor": None})
    anyio.run(_call_every_operation, api)


async def _call_every_operation(api: FakeApi) -> None:
    async with client_of(api) as client:
        schemas = await listed_output_schemas(client)
        call = Driver(client)
        for op in operations.OPERATIONS:
            await call(op.name, ARGS[op.name])
    for name, results in call.results.items():
        for structured in results:
            check_against_listed(schemas, name, structured)
