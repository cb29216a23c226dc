"""Figures from a real run, for RELIABILITY.md: each test writes its numbers to
`.cache/reliability-results/<name>.json` (gitignored) and prints them (`pytest -s` shows them)."""

from __future__ import annotations

import json
from typing import Any

from .support import REPO

RESULTS_DIR = REPO / ".cache" / "reliability-results"


def record(name: str, data: dict[str, Any]) -> None:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"{name}.json").write_text(json.dumps(data, indent=1, sort_keys=True, default=str) + "\n")
