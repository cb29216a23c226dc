"""Print the figures of the last reliability run (for RELIABILITY.md).

.venv/bin/python -m pytest tests/reliability && .venv/bin/python -m tests.reliability.report
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from .results import RESULTS_DIR


def load(name: str) -> dict[str, Any] | None:
    path = RESULTS_DIR / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def main() -> None:
    rate = load("rate-limits")
    if rate:
        print(f"rate limits: {json.dumps(rate)}")
    faults = load("faults")
    if faults:
        print(f"faults: {json.dumps(faults)}")
    fuzz = [json.loads(p.read_text()) for p in sorted(RESULTS_DIR.glob("fuzz-*.json"))]
    if fuzz:
        outcomes: Counter[str] = Counter()
        mutations: Counter[str] = Counter()
        for f in fuzz:
            outcomes.update(f["outcomes"])
            mutations.update(f["mutations"])
        print(f"fuzz: {len(fuzz)} tools, {sum(f['cases'] for f in fuzz)} cases, outcomes {dict(outcomes)}")
        print(f"fuzz mutations: {dict(sorted(mutations.items()))}")
    for p in sorted(RESULTS_DIR.glob("conformance-*.json")):
        c = json.loads(p.read_text())
        print(
            f"conformance {c['run']}: {c['scenarios']} scenarios, {len(c['passed'])} passed, "
            f"{len(c['expected_failures'])} expected failures, "
            f"passed except fixture checks {c.get('passed_but_baselined_fixture_checks')}, "
            f"gaps {c.get('known_server_gaps')}, "
            f"unexpected {c['unexpected_failures']}, checks {c['checks']}"
        )


if __name__ == "__main__":
    main()
