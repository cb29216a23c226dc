"""The tool list stays within its token budget as tools and descriptions grow (issue 5, row 2).

Budget for the full API tool list (all 20 tools, what `aural-mcp serve` lists against a real API):
the model-visible part (name, description, inputSchema of each tool) <= 4,000 o200k tokens; the
whole tools/list result <= 12,000, as it also carries each tool's outputSchema, which clients
validate results against but do not show the model (issue 10).

Counted with a REAL tokenizer, not an estimate: the npm package `gpt-tokenizer` (o200k_base)
under Node, installed pinned from the npm registry into the gitignored `.bench-cache/node` on
first use (bench/tokenizer.py; about 5 s once). This needs `node` and `npm` on PATH and the npm
registry reachable, as on the project's machines and CI. Python's `tiktoken` was not used: its
wheel does not ship the o200k_base file and downloads it at run time.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from tests.support.net import free_port

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import mcpio  # noqa: E402
import tokenizer  # noqa: E402

WHOLE_BUDGET = 12_000
VISIBLE_BUDGET = 4_000
DUMMY_KEY = "dlv_" + "0123456789abcdefghijklmnopqrstuv"


@pytest.fixture(scope="module")
def tools() -> list[dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AURAL_", "PYTHON"))}
    env.update(AURAL_API_KEY=DUMMY_KEY, AURAL_BASE_URL=f"http://127.0.0.1:{free_port()}/api/v1")
    with mcpio.StdioPeer([str(Path(sys.executable).parent / "aural-mcp"), "serve"], env=env) as peer:
        peer.initialize()
        return peer.list_tools()


@pytest.fixture(scope="module")
def counts(tools: list[dict]) -> dict:
    return {**tokenizer.tool_list_counts(tools), "listed": tools}


def test_the_tokenizer_is_real_o200k() -> None:
    # Counts that tell o200k_base from cl100k_base (2 vs 4, 6 vs 8) and from a characters/4 guess.
    got = tokenizer.count({"a": "hello world", "b": "こんにちは世界", "c": "Привет, как дела?"})
    assert got == {"a": 2, "b": 2, "c": 6}


def test_all_twenty_tools_are_counted(tools: list[dict]) -> None:
    # The budget covers the full list; it must keep holding when tools are added.
    assert len(tools) >= 20, [t["name"] for t in tools]


def test_whole_tool_list_within_budget(counts: dict) -> None:
    # The output schemas are counted here: every tool declares one.
    assert all("outputSchema" in t for t in counts["listed"]), [t["name"] for t in counts["listed"]]
    assert counts["whole"] <= WHOLE_BUDGET, _report(counts, "whole", WHOLE_BUDGET)


def test_model_visible_tool_list_within_budget(counts: dict) -> None:
    assert counts["visible"] <= VISIBLE_BUDGET, _report(counts, "visible", VISIBLE_BUDGET)


def _report(counts: dict, part: str, budget: int) -> str:
    worst = sorted(counts["per_tool"].items(), key=lambda kv: -kv[1][part])[:5]
    return (
        f"tools/list {part} is {counts[part]:,} o200k tokens, over the budget of {budget:,}; "
        f"largest tools: {', '.join(f'{n} {c[part]}' for n, c in worst)}"
    )
