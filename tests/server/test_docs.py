"""Agent-facing documents and start-up hygiene."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from aural_mcp import docs_gen, operations
from aural_mcp.server.resources import find_doc

ROOT = Path(__file__).resolve().parents[2]


def test_llms_full_txt_is_fresh():
    current = docs_gen.generate()
    committed = (ROOT / "llms-full.txt").read_text(encoding="utf-8")
    assert committed == current, "llms-full.txt is stale: run `python -m aural_mcp.docs_gen > llms-full.txt`"
    for op in operations.OPERATIONS:
        assert f"#### {op.name} — " in current and op.full_description in current
    assert "#### simulate_session — " in current and "design_interview(role, focus?, channels?)" in current


def test_llms_txt_follows_llmstxt_format_and_names_every_tool():
    text = (ROOT / "llms.txt").read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0].startswith("# ") and any(line.startswith("> ") for line in lines[:4])
    assert "## Docs" in text and "## Optional" in text
    for op in operations.OPERATIONS:
        assert f"`{op.name}`" in text


def test_skill_md_covers_routing_workflows_and_autonomy():
    text = (ROOT / "SKILL.md").read_text(encoding="utf-8")
    assert text.startswith("---\nname: aural-interviews\ndescription: ")
    for heading in (
        "Intent routing",
        "Screening set-up",
        "Inviting candidates in bulk",
        "Reviewing results",
        "Closing out an interview",
        "Working autonomously",
    ):
        assert heading in text
    for op in operations.OPERATIONS:
        assert f"`{op.name}`" in text, op.name


def test_docs_are_found_at_the_top_level_of_a_checkout():
    for name in ("SKILL.md", "llms.txt", "llms-full.txt"):
        assert find_doc(name).read_bytes() == (ROOT / name).read_bytes()


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys\nprint('\\n'.join(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "AURAL_API_KEY": "dlv_" + "k" * 32},
    )
    assert out.returncode == 0, out.stderr
    return set(out.stdout.split())


def test_the_sandbox_is_imported_only_when_serving_it():
    real = _modules_after(
        "from aural_mcp.server.app import build_server\nfrom aural_mcp.settings import Settings\n"
        "build_server(Settings.from_env())"
    )
    assert not any(m == "aural_mcp.sandbox" or m.startswith("aural_mcp.sandbox.") for m in real)
    sandboxed = _modules_after(
        "import anyio\nfrom mcp.client import Client\nfrom aural_mcp.server.app import build_server\n"
        "from aural_mcp.settings import Settings\n"
        "async def main():\n"
        "    async with Client(build_server(Settings(sandbox=True))) as c:\n"
        "        assert not (await c.call_tool('get_usage', {})).is_error\n"
        "anyio.run(main)"
    )
    assert "aural_mcp.sandbox" in sandboxed
