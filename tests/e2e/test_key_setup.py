"""`aural-mcp serve` with a missing or malformed key: the client connects and lists the tools, and
every call answers with what is wrong with the key and how to set it (a server that exits at start
shows up in clients only as "Connection closed"). Real stdio, the `mcp` client."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from tests.support.processes import AURAL_MCP, env_without_aural
from tests.support.results import text_of

pytestmark = pytest.mark.anyio

INTERVIEW = "aural://interviews/00000000-0000-4000-8000-000000000000"


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        (None, "AURAL_API_KEY is not set"),
        ("REPLACE_ME", "still the placeholder"),
        ("Bearer dlv_x", "without 'Bearer '"),
        ("sk_live_0123456789", "does not start with dlv_"),
    ],
    ids=["missing", "placeholder", "bearer", "no-prefix"],
)
async def test_a_bad_key_is_explained_by_every_call(tmp_path: Path, key: str | None, problem: str) -> None:
    env = env_without_aural(AURAL_API_KEY=key) if key is not None else env_without_aural()
    params = StdioServerParameters(command=AURAL_MCP[0], args=[*AURAL_MCP[1:], "serve"], env=env)
    errlog_path = tmp_path / "stderr.txt"
    with open(errlog_path, "w") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            tools = (await client.list_tools()).tools
            assert {"get_usage", "create_interview"} <= {t.name for t in tools}
            for name, args in (("get_usage", {}), ("create_interview", {"title": "x"})):
                result = await client.call_tool(name, args)
                assert result.is_error, text_of(result)
                message = text_of(result)
                assert problem in message, message
                assert "AURAL_API_KEY=dlv_" in message and "Settings → API Keys" in message, message
            with pytest.raises(Exception) as read_error:
                await client.read_resource(INTERVIEW)
            assert problem in str(read_error.value), read_error.value
            guide = await client.read_resource("skill://aural-interviews/SKILL.md")  # needs no key
            assert guide.contents
    stderr = errlog_path.read_text()
    assert stderr.count(problem) == 1, stderr  # said once at start, not per call
    assert "--sandbox" in stderr and "Traceback" not in stderr
    if key:
        assert key not in stderr.replace(problem, "")
