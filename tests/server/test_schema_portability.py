"""Every tool's inputSchema, as a real `tools/list` returns it, is accepted by Gemini and OpenAI.

What each provider accepts (looked up for this test):

- Gemini function declarations: `parameters` is a `Schema`, "a select subset of an OpenAPI 3.0
  schema object" (google.ai.generativelanguage.v1beta.Schema): type, format, title, description,
  nullable, enum, items, properties, required, minItems, maxItems, minLength, maxLength,
  minProperties, maxProperties, minimum, maximum, pattern, example, default, anyOf,
  propertyOrdering. Rejected with HTTP 400 in practice (provider issue threads):
  `additionalProperties`, `const`, `$ref`/`$defs` ("Unknown name ... Cannot find field"), a list
  as `type`, `format` on a string other than "enum" or "date-time", `enum` on a non-STRING type,
  and an OBJECT without properties ("should be non-empty for OBJECT type").
- OpenAI function calling: `parameters` is JSON Schema; rejected with HTTP 400: a root that is not
  `type: "object"`, or has `oneOf`/`anyOf`/`allOf`/`enum`/`not` at the top level ("schema must
  have type 'object' and not have ..."), and an array without `items`. The Structured Outputs
  (strict) subset documents: types string, number, boolean, integer, object, array, plus enum and
  nested anyOf; string pattern and format; number minimum, maximum, exclusive bounds, multipleOf;
  array minItems, maxItems; object properties, required, additionalProperties. Strict mode also
  demands every property be required and `additionalProperties: false`, which Gemini rejects and
  optional arguments cannot meet, so MCP clients call tools without it.

The intersection, which this test allows: `type` (one of the six JSON types), `description`,
`enum` (strings, on strings), `items`, `properties` (non-empty on objects), `required`,
`minItems`, `maxItems`, `minimum`, `maximum`, `minLength`, `default`. Nullable fields keep their
non-null type and say "null clears it"; the tool layer still accepts null there.
"""

from __future__ import annotations

from typing import Any

import pytest
from mcp.client import Client
from tests.server.conftest import call, setup_interview, text

from aural_mcp.server.app import build_server
from aural_mcp.settings import Settings

pytestmark = pytest.mark.anyio

ALLOWED_KEYWORDS = {
    "type",
    "description",
    "enum",
    "items",
    "properties",
    "required",
    "minItems",
    "maxItems",
    "minimum",
    "maximum",
    "minLength",
    "default",
}
JSON_TYPES = {"string", "number", "integer", "boolean", "array", "object"}
TOP_LEVEL_FORBIDDEN = {"anyOf", "oneOf", "allOf", "not", "enum", "if", "then", "else", "$ref", "const"}
_PYTHON_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool}


def portability_problems(schema: Any, path: str, *, root: bool = True) -> list[str]:
    """Every construct in `schema` outside what both providers accept, one line each.

    Only the root may be an object without properties: MCP requires `type: "object"` for a tool
    without arguments, and clients leave Gemini's `parameters` unset for such a tool.
    """
    if not isinstance(schema, dict):
        return [f"{path}: not a schema object"]
    out = [f"{path}: `{k}` is not accepted by both providers" for k in schema if k not in ALLOWED_KEYWORDS]
    t = schema.get("type")
    if not isinstance(t, str) or t not in JSON_TYPES:
        out.append(f"{path}: `type` must be one JSON type, got {t!r}")
    if "enum" in schema and (t != "string" or not all(isinstance(v, str) for v in schema["enum"])):
        out.append(f"{path}: `enum` is accepted only on strings, with string values")
    if "default" in schema and t in _PYTHON_TYPES:
        value = schema["default"]
        if not isinstance(value, _PYTHON_TYPES[t]) or (t != "boolean" and isinstance(value, bool)):
            out.append(f"{path}: default {value!r} is not a {t}")
    if t == "array":
        if not isinstance(schema.get("items"), dict):
            out.append(f"{path}: an array needs `items`")
        else:
            out += portability_problems(schema["items"], f"{path}[]", root=False)
    elif "items" in schema:
        out.append(f"{path}: `items` on a non-array")
    if t == "object":
        props = schema.get("properties")
        if not isinstance(props, dict) or (not props and not root):
            out.append(f"{path}: an object needs non-empty `properties`")
        else:
            for name, sub in props.items():
                out += portability_problems(sub, f"{path}.{name}", root=False)
            missing = [r for r in schema.get("required", []) if r not in props]
            if missing:
                out.append(f"{path}: required names no property: {missing}")
    elif "properties" in schema or "required" in schema:
        out.append(f"{path}: `properties`/`required` on a non-object")
    return out


async def _listed(**settings: Any) -> list[dict[str, Any]]:
    async with Client(build_server(Settings(**settings))) as client:
        tools = (await client.list_tools()).tools
    return [t.model_dump(by_alias=True, mode="json", exclude_none=True) for t in tools]


def test_the_walker_catches_what_providers_reject():
    bad = {
        "type": "object",
        "anyOf": [],
        "additionalProperties": False,
        "properties": {
            "a": {"type": ["string", "null"]},
            "b": {"type": "string", "format": "uuid"},
            "c": {"type": "array"},
            "d": {"type": "object", "additionalProperties": {"type": "string"}},
            "e": {"type": "integer", "enum": [1, 2]},
            "f": {"$ref": "#/$defs/x"},
        },
    }
    found = "\n".join(portability_problems(bad, "t"))
    for construct in ("`anyOf`", "`additionalProperties`", "t.a: `type`", "`format`", "t.c: an array needs",
                      "t.d: an object needs", "t.e: `enum`", "`$ref`"):  # fmt: skip
        assert construct in found, construct


async def test_every_tool_schema_is_inside_both_providers_subsets():
    for settings in ({"api_key": "dlv_" + "k" * 32}, {"sandbox": True}):
        tools = await _listed(**settings)
        assert len(tools) >= 20
        problems: list[str] = []
        for tool in tools:
            schema = tool["inputSchema"]
            assert schema.get("type") == "object", tool["name"]
            problems += [f"{tool['name']}: top-level `{k}`" for k in TOP_LEVEL_FORBIDDEN & set(schema)]
            problems += portability_problems(schema, tool["name"])
        assert not problems, "\n".join(problems)


async def test_nullable_fields_say_null_clears_and_still_accept_null(mcp):
    tools = {t["name"]: t for t in await _listed(sandbox=True)}
    props = tools["update_interview"]["inputSchema"]["properties"]
    assert props["timeLimitMinutes"]["type"] == "integer"
    for name in ("description", "objective", "assessmentCriteria", "timeLimitMinutes"):
        assert "null clears it" in props[name].get("description", ""), name
    for name in ("title", "aiTone", "chatEnabled"):  # not nullable: no such promise
        assert "null clears" not in props[name].get("description", ""), name
    # A create has nothing to clear; a tool whose description says "null clears" says it once.
    created = tools["create_interview"]["inputSchema"]["properties"]
    assert not any("null clears" in created[name].get("description", "") for name in ("description", "objective"))
    candidate = tools["update_candidate"]
    assert "null clears" in candidate["description"]
    assert not any("null clears" in p.get("description", "") for p in candidate["inputSchema"]["properties"].values())
    ids = await setup_interview(mcp)
    iid = ids["interviewId"]
    await call(mcp, "update_interview", {"interviewId": iid, "timeLimitMinutes": 30, "objective": "depth"})
    r = await call(mcp, "update_interview", {"interviewId": iid, "timeLimitMinutes": None, "objective": None})
    data = r.structured_content["data"]
    assert data["timeLimitMinutes"] is None and data["objective"] is None
    r = await call(mcp, "update_question", {"questionId": ids["questionIds"][0], "description": None})
    assert r.structured_content["data"]["description"] is None


async def test_ids_say_uuid_and_starter_code_advertises_the_pages_shape(mcp):
    tools = {t["name"]: t for t in await _listed(sandbox=True)}
    for tool in tools.values():
        for name, prop in tool["inputSchema"]["properties"].items():
            if name.endswith("Id") or name == "cursor":
                assert "UUID" in prop.get("description", ""), (tool["name"], name)
    ids_items = tools["end_sessions"]["inputSchema"]["properties"]["ids"]["items"]
    assert "UUID" in ids_items.get("description", "")
    question = tools["add_questions"]["inputSchema"]["properties"]["questions"]["items"]
    assert set(question["properties"]["starterCode"]["properties"]) == {"language", "code"}

    # The tool layer still takes a language -> code map, the API's documented shape.
    iid = (await setup_interview(mcp))["interviewId"]
    r = await call(
        mcp,
        "add_questions",
        {
            "interviewId": iid,
            "questions": [
                {"text": "FizzBuzz", "type": "CODING", "starterCode": {"language": "python", "code": "pass"}},
                {"text": "Sum", "type": "CODING", "starterCode": {"python": "def f(): ..."}},
            ],
        },
    )
    assert [q["starterCode"] for q in r.structured_content["data"]] == [
        {"language": "python", "code": "pass"},
        {"python": "def f(): ..."},
    ]
    out = await mcp.call_tool(
        "add_questions",
        {"interviewId": iid, "questions": [{"text": "x", "type": "CODING", "starterCode": {"code": 1}}]},
    )
    assert out.is_error and "`questions[0].starterCode.code` must be a string" in text(out)
