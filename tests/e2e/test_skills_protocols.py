"""The Skills extension is visible at every protocol version a client negotiates: in
`capabilities.extensions` from 2026-07-28, in `capabilities.experimental` before (the 2025 schema
has no `extensions`), and `skills/list` / `skills/get` answer at both. Real stdio, the `mcp` client."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from tests.support.processes import AURAL_MCP, env_without_aural

pytestmark = pytest.mark.anyio

SKILLS = "io.modelcontextprotocol/skills"
APPS = "io.modelcontextprotocol/ui"
SKILL_URI = "skill://aural-interviews/SKILL.md"


async def send(client: Client, method: str, params: dict[str, Any]) -> dict[str, Any]:
    """A raw request (no client helper exists for extension methods), with the 2026 `_meta`
    envelope stamped on it the way the client stamps its own requests."""
    data: dict[str, Any] = {"method": method, "params": params}
    options: dict[str, Any] = {}
    client.session._stamp(data, options)
    return await client.session._dispatcher.send_raw_request(method, data.get("params"), options)


@pytest.mark.parametrize(("mode", "version"), [("legacy", "2025-11-25"), ("auto", "2026-07-28")])
async def test_skills_extension_is_visible_at_both_protocol_versions(
    tmp_path: Path, mode: str, version: str
) -> None:
    params = StdioServerParameters(
        command=AURAL_MCP[0], args=[*AURAL_MCP[1:], "serve", "--sandbox"], env=env_without_aural()
    )
    with open(tmp_path / "stderr.txt", "w") as errlog:
        async with Client(stdio_client(params, errlog=errlog), mode=mode) as client:
            assert client.session.protocol_version == version
            caps = client.server_capabilities
            if version == "2025-11-25":
                assert caps.experimental == {SKILLS: {}}
            else:
                # and MCP Apps (the scorecard, server/apps), which the SDK declares there only
                assert caps.extensions == {SKILLS: {}, APPS: {}} and not caps.experimental
            assert caps.resources is not None  # the extension requires the resources capability
            listed = await send(client, "skills/list", {})
            assert [s["uri"] for s in listed["skills"]] == [SKILL_URI]
            got = await send(client, "skills/get", {"uri": SKILL_URI})
            assert got["skill"] == listed["skills"][0]
            body = await client.read_resource(SKILL_URI)
            assert "aural-interviews" in body.contents[0].text
    assert "Traceback" not in (tmp_path / "stderr.txt").read_text()
