"""Resources, templates and the Skills extension (SEP-2640), through a real MCP client."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import mcp_types as types
import pytest
from mcp.client import Client
from mcp.shared.exceptions import MCPError
from tests.server.conftest import MISSING, call, setup_interview

from aural_mcp.server.app import build_server
from aural_mcp.server.skills import parse_frontmatter
from aural_mcp.settings import Settings

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
SKILL_URI = "skill://aural-interviews/SKILL.md"


async def _read(client: Client, uri: str):
    result = await client.read_resource(uri)
    assert len(result.contents) == 1
    return result.contents[0]


async def test_listed_resources_and_templates(mcp):
    listed = {str(r.uri): r for r in (await mcp.list_resources()).resources}
    assert set(listed) == {
        SKILL_URI,
        "aural://docs/llms.txt",
        "aural://docs/llms-full.txt",
        "aural://openapi.json",
        "aural://specs/interview.schema.json",
    }
    fm = parse_frontmatter((ROOT / "SKILL.md").read_text())
    assert listed[SKILL_URI].name == fm["name"] == "aural-interviews"
    assert listed[SKILL_URI].description == fm["description"]
    assert listed[SKILL_URI].mime_type == "text/markdown"
    templates = {t.uri_template for t in (await mcp.list_resource_templates()).resource_templates}
    assert templates == {
        "aural://interviews/{interviewId}",
        "aural://interviews/{interviewId}/invites.csv",
        "aural://sessions/{sessionId}",
        "aural://sessions/{sessionId}/transcript",
    }


async def test_skill_resource_is_the_top_level_skill_md_byte_for_byte(mcp):
    content = await _read(mcp, SKILL_URI)
    assert content.mime_type == "text/markdown"
    assert content.text.encode("utf-8") == (ROOT / "SKILL.md").read_bytes()


async def test_docs_and_openapi(mcp):
    for name in ("llms.txt", "llms-full.txt"):
        content = await _read(mcp, f"aural://docs/{name}")
        assert content.text == (ROOT / name).read_text(encoding="utf-8")
    doc = json.loads((await _read(mcp, "aural://openapi.json")).text)
    assert doc["openapi"].startswith("3.") and "/interviews" in doc["paths"]
    schema = await _read(mcp, "aural://specs/interview.schema.json")
    assert schema.mime_type == "application/schema+json"
    assert json.loads(schema.text)["$id"] == "aural://specs/interview.schema.json"
    assert "questions" in json.loads(schema.text)["properties"]["interviews"]["items"]["properties"]


async def test_interview_session_and_transcript_templates(mcp):
    iid = (await setup_interview(mcp))["interviewId"]
    r = await call(mcp, "simulate_session", {"interviewId": iid, "participantName": "Ada Lovelace"})
    sid = r.structured_content["data"]["id"]

    interview = (await _read(mcp, f"aural://interviews/{iid}")).text
    assert interview.startswith("# Backend screen") and "## Questions (2)" in interview

    session = (await _read(mcp, f"aural://sessions/{sid}")).text
    assert "# Session of Ada Lovelace" in session and "## Summary" in session
    assert f"aural://sessions/{sid}/transcript" in session

    transcript = (await _read(mcp, f"aural://sessions/{sid}/transcript")).text
    assert transcript.startswith("# Transcript — Backend screen")
    assert "## Question 1 — Describe a recent API you designed." in transcript
    assert "## Question 2 — Pick a database" in transcript
    assert "**Aural** <sub>" in transcript and "**Ada Lovelace** <sub>" in transcript  # speakers named
    assert "<sub>[" in transcript  # SYSTEM navigation, discreet
    assert transcript.index("## Question 1") < transcript.index("## Scores and insights")


async def test_template_errors_are_protocol_errors_with_a_fix(mcp):
    with pytest.raises(MCPError) as err:
        await mcp.read_resource(f"aural://sessions/{MISSING}/transcript")
    assert err.value.error.code == types.INVALID_PARAMS
    assert f"No session {MISSING}" in err.value.error.message
    with pytest.raises(MCPError) as err:
        await mcp.read_resource("aural://interviews/not-a-uuid")
    assert "must be a UUID" in err.value.error.message


@pytest.mark.parametrize(
    "template",
    [
        "aural://interviews/{}",
        "aural://interviews/{}/invites.csv",
        "aural://sessions/{}",
        "aural://sessions/{}/transcript",
    ],
)
async def test_every_template_rejects_an_id_that_is_not_exactly_a_uuid(mcp, template):
    for bad in (MISSING + "\n", MISSING + "%0A", "not-a-uuid", "x" * 5_000):
        with pytest.raises(MCPError) as err:
            await mcp.read_resource(template.format(bad))
        assert err.value.error.code == types.INVALID_PARAMS
        message = err.value.error.message
        assert "must be a UUID" in message and "shows the ids" in message and len(message) < 250


async def test_invites_csv_of_a_missing_interview_is_a_protocol_error(mcp):
    with pytest.raises(MCPError) as err:
        await mcp.read_resource(f"aural://interviews/{MISSING}/invites.csv")
    assert err.value.error.code == types.INVALID_PARAMS and MISSING in err.value.error.message


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_skills_extension_list_and_get(mode):
    async with Client(build_server(Settings(sandbox=True)), mode=mode) as mcp:
        if mode == "auto":  # `capabilities.extensions` exists from protocol 2026-07-28 on
            assert mcp.server_capabilities.extensions == {
                "io.modelcontextprotocol/skills": {},
                "io.modelcontextprotocol/ui": {},  # MCP Apps: the scorecard (server/apps)
            }
        assert mcp.server_capabilities.resources is not None
        send = mcp.session._dispatcher.send_raw_request  # no client helper for extension methods
        listed = await send("skills/list", {}, {})
        raw = (ROOT / "SKILL.md").read_bytes()
        entry = {
            "uri": SKILL_URI,
            "frontmatter": parse_frontmatter(raw.decode()),
            "resources": [
                {"uri": SKILL_URI, "digest": "sha256:" + hashlib.sha256(raw).hexdigest(), "size": len(raw)}
            ],
        }
        assert listed["skills"] == [entry]
        assert listed["ttlMs"] > 0 and listed["cacheScope"] == "public"
        assert "nextCursor" not in listed
        got = await send("skills/get", {"uri": SKILL_URI}, {})
        assert got["skill"] == entry and got["cacheScope"] == "public" and "nextCursor" not in got
        with pytest.raises(MCPError) as err:
            await send("skills/get", {"uri": "skill://nope/SKILL.md"}, {})
        assert err.value.error.code == types.INVALID_PARAMS


def test_frontmatter_is_plain_yaml_a_strict_parser_reads_the_same():
    """Our tiny parser reads `key: value`; values must not need YAML quoting to mean the same."""
    fm = parse_frontmatter((ROOT / "SKILL.md").read_text())
    assert set(fm) == {"name", "description"}
    for value in fm.values():
        assert (
            ": " not in value and " #" not in value and not value.startswith(("'", '"', "[", "{", ">", "|"))
        )
