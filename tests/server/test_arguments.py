"""Argument checking against the generated schemas (pure functions, no server)."""

from __future__ import annotations

import pytest

from aural_mcp import operations
from aural_mcp.server.tools.arguments import ArgumentError, check_arguments
from aural_mcp.server.tools.base import input_schema

ID = "0b7e6f1c-2d3a-4e5f-8a9b-0c1d2e3f4a5b"


def check(op_name: str, args: dict) -> dict:
    op = operations.get(op_name)
    return check_arguments(input_schema(op), args, op)


def problems(op_name: str, args: dict) -> list[str]:
    with pytest.raises(ArgumentError) as err:
        check(op_name, args)
    return err.value.problems


def test_json_strings_and_scalar_strings_are_coerced():
    out = check(
        "add_questions",
        {"interviewId": ID, "questions": '[{"text": "a", "order": "2", "required": "false"}]'},
    )
    assert out["questions"] == [{"text": "a", "order": 2, "required": False}]
    out = check(
        "create_interview", {"title": "t", "assessmentCriteria": '[{"name": "n", "description": "d"}]'}
    )
    assert out["assessmentCriteria"] == [{"name": "n", "description": "d"}]
    out = check("list_interviews", {"limit": "10", "cursor": None})
    assert out == {"limit": 10}  # a null for an optional non-nullable argument is dropped
    out = check("end_sessions", {"interviewId": ID, "ids": ID, "dryRun": "false"})
    assert out == {"interviewId": ID, "ids": [ID], "dryRun": False}


def test_a_single_object_becomes_a_list():
    assert check("add_candidates", {"interviewId": ID, "candidates": {"name": "Ada"}})["candidates"] == [
        {"name": "Ada"}
    ]


def test_nullable_fields_accept_null_and_others_do_not():
    assert check("update_interview", {"interviewId": ID, "timeLimitMinutes": None}) == {
        "interviewId": ID,
        "timeLimitMinutes": None,
    }
    assert problems("update_interview", {"interviewId": ID, "timeLimitMinutes": 0}) == [
        "`timeLimitMinutes` must be at least 1 (got 0)"
    ]
    assert problems("create_interview", {"title": None}) == ["`title` is required and cannot be null"]


def test_messages_name_nested_fields():
    msgs = problems(
        "add_questions",
        {
            "interviewId": ID,
            "questions": [{"text": "ok"}, {"type": "CODING", "starterCode": {"py": 1}}, {"text": " "}],
        },
    )
    assert "`questions[1].text` is required" in msgs
    assert "`questions[1].starterCode.py` must be a string (got 1)" in msgs
    assert "`questions[2].text` must not be empty" in msgs


def test_hidden_question_fields_are_accepted_but_unknown_ones_are_not():
    out = check("add_questions", {"interviewId": ID, "questions": [{"text": "a", "probeThreshold": 3}]})
    assert out["questions"][0]["probeThreshold"] == 3
    assert check("update_question", {"questionId": ID, "skipIf": {"x": 1}})["skipIf"] == {"x": 1}
    assert problems("add_candidates", {"interviewId": ID, "candidates": [{"fullName": "x"}]})[0].startswith(
        "unknown argument `candidates[0].fullName`"
    )


def test_bounds_and_types():
    assert problems("add_candidates", {"interviewId": ID, "candidates": [{"name": "x"}] * 501}) == [
        "`candidates` takes at most 500 items (got 501); split the call"
    ]
    assert problems("list_practices", {"interviewId": ID, "limit": True}) == [
        "`limit` must be an integer (got true)"
    ]
    assert problems("update_candidate", {"interviewId": ID, "candidateId": ID, "birthday": "1990/01/01"}) == [
        '`birthday` must be a date YYYY-MM-DD (got "1990/01/01")'
    ]
