"""docs/webhooks.md shows the event schema of `aural_mcp.watch.schema` verbatim, names every
event type and every flag of `aural-mcp watch`; README and llms.txt point to it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from jsonschema import Draft202012Validator

from aural_mcp.cli import build_parser
from aural_mcp.watch.events import EVENT_TYPES
from aural_mcp.watch.schema import EVENT_SCHEMA, schema_json

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "webhooks.md").read_text(encoding="utf-8")


def test_the_docs_copy_of_the_schema_is_the_schema() -> None:
    marker = "<!-- event-schema: generated from aural_mcp.watch.schema; a test keeps this copy equal -->\n```json\n"
    start = DOC.index(marker) + len(marker)
    shown = DOC[start : DOC.index("\n```", start)]
    assert shown == schema_json()
    Draft202012Validator.check_schema(EVENT_SCHEMA)


def test_the_docs_example_payload_follows_the_schema() -> None:
    example = re.search(r"### Payload\n.*?```json\n(.*?)\n```", DOC, re.S)
    assert example is not None
    Draft202012Validator(EVENT_SCHEMA).validate(json.loads(example.group(1)))


def test_the_docs_name_every_event_type_and_flag() -> None:
    for kind in EVENT_TYPES:
        assert f"| `{kind}` |" in DOC
    watch = next(
        action.choices["watch"]
        for action in build_parser()._actions
        if getattr(action, "choices", None) and "watch" in action.choices  # the subcommands
    )
    for action in watch._actions:
        for flag in action.option_strings:
            if flag not in ("-h", "--help"):
                assert f"`{flag}" in DOC, flag
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Webhooks before Aural ships them" in readme and "(docs/webhooks.md)" in readme
    assert "[Webhooks](docs/webhooks.md): `aural-mcp watch" in (ROOT / "llms.txt").read_text(encoding="utf-8")
