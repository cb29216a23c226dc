"""o200k token counts with a real tokenizer: the npm package `gpt-tokenizer`, run under Node.

Used by bench/run.py (figure 2) and tests/test_token_budget.py. The package is installed, pinned,
from the npm registry into the gitignored `.bench-cache/node` the first time it is needed.
Python's `tiktoken` is not used: its wheel does not ship the o200k_base file, it downloads it on
first use, which this project's machines and CI cannot do.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".bench-cache" / "node"
SCRIPT = Path(__file__).resolve().parent / "tokens.cjs"
PACKAGE = "gpt-tokenizer"
VERSION = "4.0.0"
LABEL = f"o200k_base, counted by npm {PACKAGE}@{VERSION} under Node (a real tokenizer, not an estimate)"


class TokenizerUnavailable(RuntimeError):
    pass


def ensure_installed() -> Path:
    """Install gpt-tokenizer into .bench-cache/node if it is not there yet; return that directory."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        raise TokenizerUnavailable("counting o200k tokens needs Node.js and npm on PATH (install nodejs)")
    CACHE.mkdir(parents=True, exist_ok=True)
    manifest = CACHE / "node_modules" / PACKAGE / "package.json"
    with open(CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if manifest.exists() and json.loads(manifest.read_text())["version"] == VERSION:
            return CACHE
        proc = subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(CACHE),
                "--no-save",
                "--no-audit",
                "--no-fund",
                f"{PACKAGE}@{VERSION}",
            ],
            capture_output=True,
            text=True,
            timeout=180,
        )
        if proc.returncode != 0 or not manifest.exists():
            raise TokenizerUnavailable(
                f"npm install {PACKAGE}@{VERSION} failed: {proc.stderr.strip()[-500:]}"
            )
    return CACHE


def count(texts: dict[str, str]) -> dict[str, int]:
    """o200k_base token count of each text, keyed as given."""
    directory = ensure_installed()
    proc = subprocess.run(
        ["node", str(SCRIPT)],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GPT_TOKENIZER_DIR": str(directory)},
    )
    if proc.returncode != 0:
        raise TokenizerUnavailable(f"node {SCRIPT.name} failed: {proc.stderr.strip()[-500:]}")
    return json.loads(proc.stdout)["counts"]


def compact(value: Any) -> str:
    """JSON as a server sends it: compact separators, UTF-8 kept."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def visible(tool: dict[str, Any]) -> dict[str, Any]:
    """The part of a tool a model sees: name, description and input schema."""
    return {k: tool[k] for k in ("name", "description", "inputSchema") if k in tool}


def tool_list_counts(tools: list[dict[str, Any]]) -> dict[str, Any]:
    """Tokens of the whole tools/list result, of its model-visible part, and per tool of each."""
    texts = {"whole": compact({"tools": tools}), "visible": compact([visible(t) for t in tools])}
    for t in tools:
        texts[f"whole:{t['name']}"] = compact(t)
        texts[f"visible:{t['name']}"] = compact(visible(t))
    counts = count(texts)
    return {
        "whole": counts["whole"],
        "visible": counts["visible"],
        "tools": len(tools),
        "per_tool": {
            t["name"]: {"whole": counts[f"whole:{t['name']}"], "visible": counts[f"visible:{t['name']}"]}
            for t in tools
        },
    }
