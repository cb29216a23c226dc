"""docs/interview-spec.md: its copy of the JSON Schema is the one the code checks specs with, and
its example is a valid spec."""

from __future__ import annotations

import json
import re
from pathlib import Path

from aural_mcp.pipelines.spec import parse_spec
from aural_mcp.pipelines.spec_schema import SPEC_SCHEMA

DOC = Path(__file__).resolve().parents[2] / "docs" / "interview-spec.md"


def test_the_docs_schema_is_the_code_schema() -> None:
    blocks = re.findall(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert json.loads(blocks[-1]) == SPEC_SCHEMA


def test_the_docs_example_is_a_valid_spec() -> None:
    import yaml

    (example,) = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    spec = parse_spec(yaml.safe_load(example))
    assert [q.key for q in spec.interviews[0].questions] == ["intro", "db", "code"]
