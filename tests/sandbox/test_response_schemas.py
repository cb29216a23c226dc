"""Every operation's answer, as the sandbox serves it over real HTTP, matches the one description
of its `data` in `aural_mcp.responses` (the schema the registry names in `Operation.response`).

One lifecycle drives all registry operations against a uvicorn-served sandbox: an interview
with criteria, choice and coding questions, candidates, a completed simulated session with its
analysis, an in-progress one ended in bulk, a practice run, usage, then delete and archive. The
test fails when a registry operation is not driven here, so a new operation needs its shape
checked too. Rows seeded as the dashboard makes them are read back too: they differ from the
schemas only in the few fields the dashboard writes otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2
import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from aural_mcp import operations, responses
from aural_mcp.sandbox import Sandbox

pytestmark = pytest.mark.anyio
API = "/api/v1"


def validator(schema: dict[str, Any]) -> Draft202012Validator:
    """A validator of `schema` whose `#/components/schemas/...` references resolve to the
    response components, with the formats uuid and date-time asserted."""
    root = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
    root["components"] = {"schemas": responses.schemas()}
    Draft202012Validator.check_schema(root)
    return Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)


def assert_matches(schema: dict[str, Any], data: Any, what: str) -> None:
    errors = sorted(validator(schema).iter_errors(data), key=lambda e: list(e.absolute_path))
    assert not errors, f"{what}: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path)) or '(data)'}: {e.message}" for e in errors[:5]
    )


class Lifecycle:
    """Calls over HTTP, keeping each operation's `data` for the schema check."""

    def __init__(self, http: httpx2.AsyncClient) -> None:
        self.http = http
        self.answers: dict[str, list[Any]] = {}

    async def call(self, name: str, ids: dict[str, str] | None = None, **request: Any) -> Any:
        op = operations.get(name)
        path = op.path.format(**(ids or {}))
        r = await self.http.request(op.method, API + path, **request)
        assert r.status_code == 200, f"{name}: {r.status_code} {r.text}"
        data = r.json()["data"]
        self.answers.setdefault(name, []).append(data)
        return data

    async def sandbox(self, path: str, body: dict[str, Any]) -> Any:
        r = await self.http.post(path, json=body)
        assert r.status_code == 200, f"{path}: {r.status_code} {r.text}"
        return r.json()["data"]


async def drive_every_operation(http: httpx2.AsyncClient) -> tuple[Lifecycle, dict[str, Any]]:
    """The whole lifecycle; returns the calls made and the sandbox-only answers by schema name."""
    run = Lifecycle(http)
    criteria = [{"name": "Depth", "description": "Explains trade-offs"}]
    iv = await run.call(
        "create_interview",
        json={"title": "Backend screening", "objective": "Hire", "assessmentCriteria": criteria},
    )
    iid = {"id": iv["id"]}
    await run.call("update_interview", iid, json={"timeLimitMinutes": 30, "aiTone": "FRIENDLY"})
    questions = await run.call(
        "add_questions",
        iid,
        json=[
            {"text": "Tell me about a system you scaled."},
            {"text": "Pick a store", "type": "SINGLE_CHOICE", "options": ["Postgres", "SQLite"]},
            {
                "text": "Fix add()",
                "type": "CODING",
                "starterCode": {"language": "python", "code": "def add(a, b): return a - b"},
                "timeLimitSeconds": 300,
            },
        ],
    )
    await run.call("update_question", {"id": questions[0]["id"]}, json={"required": False, "order": 5})
    await run.call("list_questions", iid)
    candidates = await run.call(
        "add_candidates",
        iid,
        json=[
            {"name": "Ada", "email": "ada@example.com", "graduationYear": 2019, "birthday": "1990-01-02"},
            {"name": "Grace", "email": "grace@example.com"},
        ],
    )
    await run.call(
        "update_candidate", {"id": iv["id"], "candidateId": candidates[0]["id"]}, json={"notes": "referred"}
    )
    await run.call("list_candidates", iid)
    await run.call("publish_interview", iid)
    await run.call("get_interview", iid)
    await run.call("list_interviews", params={"limit": 5})

    own: dict[str, Any] = {}
    simulate = f"/sandbox/interviews/{iv['id']}/simulate"
    done = await run.sandbox(simulate, {"candidateId": candidates[0]["id"], "seed": 7})
    assert done["status"] == "COMPLETED" and done["summary"] and done["insights"] and done["sentiment"]
    live = await run.sandbox(simulate, {"participantName": "Linus", "status": "IN_PROGRESS"})
    own["SessionWithResults"] = [done, live]
    await run.call("list_sessions", iid)
    await run.call("get_session", {"id": done["id"]})
    await run.call("get_session_report", {"id": done["id"]})
    await run.call("end_sessions", iid, json={"ids": [live["id"], done["id"], "not-a-uuid"]})
    ended = await run.call("end_sessions", iid, json={"ids": [live["id"]], "dryRun": False})
    assert ended["results"] == [{"id": live["id"], "status": "succeeded"}]
    await run.call("get_session_report", {"id": live["id"]})  # ended in bulk: no analysis

    practice = await run.sandbox(f"/sandbox/interviews/{iv['id']}/practices", {"seed": 3})
    own["PracticeReport"] = [practice]
    await run.call("list_practices", iid)
    await run.call("get_practice", {"id": practice["session"]["id"]})

    await run.call("get_usage")
    await run.call("delete_question", {"id": questions[2]["id"]})
    await run.call("archive_interview", iid)
    return run, own


async def test_every_answer_matches_its_response_schema(http: httpx2.AsyncClient) -> None:
    run, own = await drive_every_operation(http)
    assert set(run.answers) == {op.name for op in operations.OPERATIONS}, "drive every operation here"
    for op in operations.OPERATIONS:
        for data in run.answers[op.name]:
            if op.response.many:
                assert data, f"{op.name}: an empty list checks nothing"
            assert_matches(responses.data_schema(op.response), data, op.name)
    # The sandbox's simulate routes answer with the shapes of get_session and get_practice.
    for name, answers in own.items():
        for data in answers:
            assert_matches(responses.ref(name), data, f"sandbox answer as {name}")


def test_the_schemas_reject_a_wrong_shape() -> None:
    """The check above can fail: references resolve to the real components, formats are asserted."""
    interview = responses.data_schema(operations.get("get_interview").response)
    with pytest.raises(ValidationError):
        validator(interview).validate({"id": "x"})
    usage = responses.data_schema(operations.get("get_usage").response)
    counter = {"used": 0, "limit": None}
    good = {
        "plan": "free",
        "templates": counter,
        "session_hours": counter,
        "ai_tokens": counter,
        "seats": counter,
    }
    validator(usage).validate(good)
    with pytest.raises(ValidationError):
        validator(usage).validate({**good, "seats": {"used": "0", "limit": None}})
    archived = responses.data_schema(operations.get("archive_interview").response)
    with pytest.raises(ValidationError, match="is not a 'uuid'"):
        validator(archived).validate({"id": "not-a-uuid", "archived": True})


SEED = Path(__file__).resolve().parents[2] / "examples" / "dashboard-seed.json"
# Where rows made in the dashboard differ from what the API writes (and the schemas describe):
# newer enum values, nulls in columns the API always fills, options as objects. Clients must
# read such rows leniently; everything else about them matches.
DASHBOARD_ONLY = {"aiTone", "language", "type", "options", "isRequired"}


async def test_seeded_dashboard_rows_differ_only_where_the_dashboard_writes_otherwise(
    sb: Sandbox, http: httpx2.AsyncClient
) -> None:
    (iid,) = sb.seed_file(SEED)["interviewIds"]
    (session,) = (await http.get(f"{API}/interviews/{iid}/sessions")).json()["data"]
    reads = {
        "list_interviews": "/interviews",
        "get_interview": f"/interviews/{iid}",
        "list_questions": f"/interviews/{iid}/questions",
        "list_candidates": f"/interviews/{iid}/candidates",
        "list_sessions": f"/interviews/{iid}/sessions",
        "get_session": f"/sessions/{session['id']}",
        "get_session_report": f"/sessions/{session['id']}/report",
    }
    differing: set[str] = set()
    for name, path in reads.items():
        r = await http.get(API + path)
        assert r.status_code == 200, (name, r.text)
        schema = responses.data_schema(operations.get(name).response)
        for error in validator(schema).iter_errors(r.json()["data"]):
            field = next((p for p in reversed(error.absolute_path) if isinstance(p, str)), "(data)")
            differing.add(field)
    assert differing == DASHBOARD_ONLY
