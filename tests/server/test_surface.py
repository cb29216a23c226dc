"""The public tool surface: one tool per operation, annotations, schemas, filtering, and a snapshot.

Update the snapshot deliberately with `UPDATE_SNAPSHOTS=1 pytest tests/server/test_surface.py`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from mcp.client import Client

from aural_mcp import operations
from aural_mcp.server.app import build_server
from aural_mcp.server.render.structured import output_schema
from aural_mcp.server.tools import JOB_TOOLS
from aural_mcp.settings import Settings

pytestmark = pytest.mark.anyio

SNAPSHOT = Path(__file__).parent / "snapshots" / "tools_list.json"
REGISTRY = {op.name for op in operations.OPERATIONS}
REVIEW = set(JOB_TOOLS)  # compare_sessions, get_transcript, wait_for_sessions: read-only, toolset sessions
SPEC = "apply_interview_spec"  # a write tool of toolset interviews
ALL = REGISTRY | REVIEW | {SPEC}


async def _tools(**settings) -> list[dict]:
    async with Client(build_server(Settings(api_key="dlv_" + "k" * 32, **settings))) as client:
        listed = await client.list_tools()
    return [t.model_dump(by_alias=True, mode="json", exclude_none=True) for t in listed.tools]


async def test_every_operation_has_exactly_one_tool_with_all_four_annotations():
    tools = await _tools()
    names = [t["name"] for t in tools]
    assert sorted(names) == sorted(ALL) and len(names) == len(set(names))
    for t in tools:
        if t["name"] in REVIEW:
            assert t["annotations"] == {"title": t["title"], "readOnlyHint": True, "destructiveHint": False,
                                        "idempotentHint": True, "openWorldHint": True}  # fmt: skip
            continue
        if t["name"] == SPEC:  # it updates what differs (and dryRun, the default, only reads)
            assert t["annotations"] == {"title": t["title"], "readOnlyHint": False, "destructiveHint": True,
                                        "idempotentHint": True, "openWorldHint": True}  # fmt: skip
            continue
        op = operations.get(t["name"])
        ann = t["annotations"]
        assert {"readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint", "title"} <= set(ann), t[
            "name"
        ]
        assert (ann["readOnlyHint"], ann["destructiveHint"], ann["idempotentHint"], ann["openWorldHint"]) == (
            op.read_only,
            op.destructive,
            op.idempotent,
            op.open_world,
        )
        assert t["description"] == op.full_description and t["title"] == op.summary
        # The projection's schema (tests/server/test_output_schemas.py checks results against it).
        assert t["outputSchema"] == output_schema(t["name"]), t["name"]


async def test_input_schemas_are_flat_objects_with_the_registry_arguments():
    for t in await _tools():
        schema = t["inputSchema"]
        # No additionalProperties (Gemini rejects the keyword); unknown arguments are still refused
        # by the tool layer, with a suggestion (tests/server/test_errors.py).
        assert schema["type"] == "object" and "additionalProperties" not in schema
        assert not {"anyOf", "oneOf", "allOf"} & set(schema), t["name"]
        if t["name"] in REVIEW:
            assert schema["required"] == {
                "compare_sessions": ["interviewId"], "get_transcript": ["sessionId"], "wait_for_sessions": ["interviewId"]
            }[t["name"]]  # fmt: skip
            continue
        if t["name"] == SPEC:
            assert schema["required"] == ["spec"] and schema["properties"]["dryRun"]["default"] is True
            continue
        op = operations.get(t["name"])
        assert list(schema["properties"]) == [a.name for a in op.args]
        assert schema.get("required", []) == [a.name for a in op.args if a.required]
    by_name = {t["name"]: t for t in await _tools()}
    assert by_name["end_sessions"]["inputSchema"]["properties"]["dryRun"]["default"] is True
    q = by_name["add_questions"]["inputSchema"]["properties"]["questions"]["items"]["properties"]["type"]
    assert q["enum"] == list(operations.QUESTION_TYPES)


async def test_tools_list_snapshot():
    tools = await _tools(sandbox=True)
    current = json.dumps(tools, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(current, encoding="utf-8")
    # A missing snapshot is a failure, not a new baseline: it would pass whatever the tools are.
    assert SNAPSHOT.exists(), (
        f"{SNAPSHOT} is missing; create it with UPDATE_SNAPSHOTS=1 pytest tests/server/test_surface.py"
    )
    assert current == SNAPSHOT.read_text(encoding="utf-8"), (
        "tools/list changed; if deliberate, run UPDATE_SNAPSHOTS=1 pytest tests/server/test_surface.py"
    )


async def test_tool_list_stays_inside_the_token_budget_estimate():
    """A cheap guard (chars/4, an estimate); tests/test_token_budget.py counts real o200k tokens.

    The budget is that of the full API tool list, what `aural-mcp serve` lists against a real API
    (the sandbox adds simulate_session): the model-visible part (name, description, input schema)
    stays at 4,000; the whole list, with the output schemas that clients do not show the model, at
    12,000. chars/4 overestimates o200k on these schemas (about 4,000 here against 3,540 counted).
    """
    tools = await _tools()
    visible = [{k: t[k] for k in ("name", "description", "inputSchema")} for t in tools]
    compact = dict(separators=(",", ":"), ensure_ascii=False)
    assert len(json.dumps(visible, **compact)) / 4 <= 4_000
    assert len(json.dumps({"tools": tools}, **compact)) / 4 <= 12_000


async def test_simulate_session_only_with_the_sandbox():
    names = {t["name"] for t in await _tools(sandbox=True)}
    assert names == ALL | {"simulate_session"}
    sim = next(t for t in await _tools(sandbox=True) if t["name"] == "simulate_session")
    assert sim["annotations"] == {
        "title": "Simulate a session (sandbox)",
        "readOnlyHint": False,
        "destructiveHint": False,
        "idempotentHint": False,
        "openWorldHint": False,
    }
    assert "Sandbox only" in sim["description"]
    assert sim["outputSchema"] == output_schema("get_session")  # it answers with the simulated session


async def test_toolsets_and_read_only_narrow_the_list():
    names = {t["name"] for t in await _tools(toolsets=["sessions", "usage"])}
    assert names == {"list_sessions", "get_session", "get_session_report", "end_sessions", "get_usage", *REVIEW}
    names = {t["name"] for t in await _tools(toolsets=["interviews"])}
    assert not names & REVIEW and SPEC in names
    names = {t["name"] for t in await _tools(read_only=True)}
    assert names == {op.name for op in operations.OPERATIONS if op.read_only} | REVIEW
    assert "end_sessions" not in names and "create_interview" not in names and SPEC not in names
    names = {t["name"] for t in await _tools(sandbox=True, toolsets=["sandbox"])}
    assert names == {"simulate_session"}
    names = {t["name"] for t in await _tools(sandbox=True, read_only=True)}
    assert "simulate_session" not in names


def test_unknown_toolset_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown toolset.*intervews.*choose from interviews"):
        build_server(Settings(toolsets=["intervews"]))


async def test_server_identity():
    async with Client(build_server(Settings(api_key="dlv_" + "k" * 32))) as client:
        info = client.server_info
        assert info.name == "aural-mcp" and info.version
        assert client.instructions  # generated from the enabled tools: tests/server/test_instructions.py


async def test_descriptions_say_what_is_true():
    tools = {t["name"]: t for t in await _tools(sandbox=True)}

    def props(name: str) -> dict:
        return tools[name]["inputSchema"]["properties"]

    assert "invite URL" in tools["list_candidates"]["description"]
    create = tools["create_interview"]["description"]
    assert "can take it at once, before any publish" in create and "never becomes invite-only again" in create
    order = props("update_question")["order"]["description"]
    assert "after the last" not in order and "the other questions keep theirs" in order
    assert "after the last" in props("add_questions")["questions"]["items"]["properties"]["order"]["description"]
    assert "create would default" not in tools["update_interview"]["description"]
    assert "UUIDs of IN_PROGRESS sessions, from list_sessions" in props("end_sessions")["ids"]["description"]
    assert "true (default): only preview" in props("end_sessions")["dryRun"]["description"]
    assert "options need that type in the same call" in tools["update_question"]["description"]
