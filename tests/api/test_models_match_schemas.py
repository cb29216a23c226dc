"""The SDK's models name exactly the fields the one response description (`aural_mcp.responses`) gives.

For every operation, the model its typed method returns (read from the method's return type, so
a new method is checked without being listed here) is compared with the component schema the
registry names for that operation; models nested in fields are compared with the schema of the
same property, all the way down. Only the exceptions listed below, each with its reason, may differ.
"""

from __future__ import annotations

import typing
from typing import Any

import pytest

from aural_mcp import operations, responses
from aural_mcp.api import AuralClient, models

# (model, field alias) -> why the model names a field its schema does not.
MODEL_ONLY: dict[tuple[str, str], str] = {
    **{
        ("Question", name): "the API returns every question column, this any-JSON one included; "
        "responses.py's Question does not list it yet"
        for name in ("validationRules", "followUpPrompts", "showIf", "skipIf")
    },
    **{
        ("Message", name): "Message also reads the report's full message rows, which responses.py "
        "describes as plain objects; get_session's messages have only id, role, content, timestamp"
        for name in (
            "sessionId",
            "contentType",
            "audioUrl",
            "audioDurationSeconds",
            "transcription",
            "whiteboardData",
            "whiteboardImageUrl",
            "whiteboardPages",
            "questionId",
            "isFollowUp",
            "parentMessageId",
            "sentiment",
            "wordCount",
            "readingTimeSeconds",
        )
    },
    **{
        ("PracticeAttempt", name): "the API returns it on each attempt; responses.py's attempt items "
        "do not list it yet"
        for name in ("followUp", "audioDurationSeconds")
    },
}
# (model, property) -> why the schema names a field its model does not. None today.
SCHEMA_ONLY: dict[tuple[str, str], str] = {}


def _returned_model(operation: str) -> type[models.Model]:
    """The model the typed method `operation` returns, inside `list[...]` or `Page[...]`."""
    hint = typing.get_type_hints(getattr(AuralClient, operation))["return"]
    if typing.get_origin(hint) is list:
        (hint,) = typing.get_args(hint)
    if isinstance(hint, type) and issubclass(hint, models.Page):
        (hint,) = hint.__pydantic_generic_metadata__["args"]
    assert isinstance(hint, type) and issubclass(hint, models.Model), (operation, hint)
    return hint


def _nested_model(annotation: Any) -> type[models.Model] | None:
    """The model a field holds (alone, in a list, in a union with None or loose JSON), if any."""
    if isinstance(annotation, type) and issubclass(annotation, models.Model):
        return annotation
    for arg in typing.get_args(annotation):
        found = _nested_model(arg)
        if found is not None:
            return found
    return None


def _schema_properties(schema: dict[str, Any]) -> dict[str, Any] | None:
    """The properties an object schema (a reference, an `allOf`, or a list's items) describes."""
    if "$ref" in schema:
        return responses.properties(schema["$ref"].rsplit("/", 1)[1])
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(_schema_properties(part) or {})
        return merged
    if isinstance(schema.get("items"), dict):
        return _schema_properties(schema["items"])
    props = schema.get("properties")
    return props if isinstance(props, dict) else None


def _differences(model: type[models.Model], props: dict[str, Any], where: str) -> list[str]:
    """Every unlisted difference between `model`'s aliases and `props`, here and in nested models."""
    fields = {field.alias or name: field for name, field in model.model_fields.items()}
    found = []
    for alias in sorted(fields.keys() - props.keys()):
        if (model.__name__, alias) not in MODEL_ONLY:
            found.append(f"{where}: {model.__name__}.{alias} is not in the schema")
    for prop in sorted(props.keys() - fields.keys()):
        if (model.__name__, prop) not in SCHEMA_ONLY:
            found.append(f"{where}: schema property {prop} is not a field of {model.__name__}")
    for alias in sorted(fields.keys() & props.keys()):
        nested = _nested_model(fields[alias].annotation)
        nested_props = _schema_properties(props[alias])
        if nested is not None and nested_props:
            found += _differences(nested, nested_props, f"{where}.{alias}")
    return found


@pytest.mark.parametrize("op", operations.OPERATIONS, ids=lambda op: op.name)
def test_the_returned_model_names_the_schema_fields(op: operations.Operation) -> None:
    model = _returned_model(op.name)
    assert _differences(model, responses.properties(op.response.schema), op.name) == []


def test_every_listed_exception_is_still_needed() -> None:
    """An exception that no longer differs is removed, so the list stays the truth."""
    seen: set[tuple[str, str]] = set()

    def walk(model: type[models.Model], props: dict[str, Any]) -> None:
        fields = {field.alias or name: field for name, field in model.model_fields.items()}
        seen.update((model.__name__, alias) for alias in fields.keys() - props.keys())
        seen.update((model.__name__, prop) for prop in props.keys() - fields.keys())
        for alias in fields.keys() & props.keys():
            nested = _nested_model(fields[alias].annotation)
            nested_props = _schema_properties(props[alias])
            if nested is not None and nested_props:
                walk(nested, nested_props)

    for op in operations.OPERATIONS:
        walk(_returned_model(op.name), responses.properties(op.response.schema))
    assert set(MODEL_ONLY) | set(SCHEMA_ONLY) <= seen


def test_nested_models_are_reached() -> None:
    """The comparison goes down into nested models (it would pass vacuously otherwise)."""
    nested = {
        (model.__name__, alias)
        for op in operations.OPERATIONS
        for model in [_returned_model(op.name)]
        for alias, field in ((f.alias or n, f) for n, f in model.model_fields.items())
        if _nested_model(field.annotation) is not None
        and _schema_properties(responses.properties(op.response.schema).get(alias, {}))
    }
    assert {
        ("InterviewDetail", "questions"),
        ("Interview", "assessmentCriteria"),
        ("SessionDetail", "messages"),
        ("SessionDetail", "interview"),
        ("EndSessionsResult", "results"),
        ("PracticeReport", "attempts"),
        ("Usage", "templates"),
        ("Usage", "session_hours"),
    } <= nested


def test_a_model_that_drifts_from_its_schema_is_caught() -> None:
    class Drifted(models.Model):
        id: str
        title: str | None = None
        colour: str | None = None

    assert _differences(Drifted, {"id": {}, "title": {}, "createdAt": {}}, "x") == [
        "x: Drifted.colour is not in the schema",
        "x: schema property createdAt is not a field of Drifted",
    ]
