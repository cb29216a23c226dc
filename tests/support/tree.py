"""The files of a directory tree, less the caches that tools (not tests) write: what the suite
compares before and after a run to see that no test wrote into the repository."""

from __future__ import annotations

import os
from pathlib import Path

# Not test output: the caches of git, the interpreter, the linters and pytest, and the install
# caches that are filled once and then reused like .venv (the conformance suite's Node, the
# tokenizer and FastMCP venv of bench/).
NOT_TEST_OUTPUT_NAMES = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache"}
NOT_TEST_OUTPUT_PATHS = {".bench-cache", ".cache/conformance"}


def files_under(top: Path) -> set[str]:
    """Every file under `top`, as a path relative to it, less the caches above."""
    found: set[str] = set()
    for root, dirs, files in os.walk(top):
        here = Path(root).relative_to(top)
        dirs[:] = [
            d
            for d in dirs
            if d not in NOT_TEST_OUTPUT_NAMES and (here / d).as_posix() not in NOT_TEST_OUTPUT_PATHS
        ]
        found.update((here / f).as_posix() for f in files)
    return found
