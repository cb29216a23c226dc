"""Figures from a real run, for RELIABILITY.md: each test writes its numbers to
`<the system's temporary directory>/aural-mcp-reliability-results/<name>.json` (outside the
repository: tests never write into it) and prints them (`pytest -s` shows them)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(tempfile.gettempdir()) / "aural-mcp-reliability-results"


def record(name: str, data: dict[str, Any]) -> None:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"{name}.json").write_text(json.dumps(data, indent=1, sort_keys=True, default=str) + "\n")
