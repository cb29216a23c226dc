"""The operation registry is the one source for tools, the OpenAPI document and llms-full.txt."""

import re

from aural_mcp import operations


def test_twenty_keyed_operations_with_unique_names_and_routes():
    ops = operations.OPERATIONS
    assert len(ops) == 20
    assert len({op.name for op in ops}) == 20
    assert len({op.operation_id for op in ops}) == 20
    assert len({(op.method, op.path) for op in ops}) == 20


def test_every_path_placeholder_is_filled_by_a_path_argument():
    for op in operations.OPERATIONS:
        args = {a.name: "00000000-0000-4000-8000-000000000000" for a in op.args}
        path = operations.wire_path(op, args)
        assert "{" not in path, op.name
        assert len(re.findall(r"\{", op.path)) == len(op.args_in("path")), op.name


def test_read_only_operations_are_gets_and_creates_are_not_retry_safe():
    for op in operations.OPERATIONS:
        assert op.read_only == (op.method == "GET"), op.name
        if op.name.startswith(("create_", "add_")):
            assert not op.retry_safe and not op.idempotent, op.name
        if op.read_only:
            assert op.idempotent and not op.destructive, op.name


def test_is_uuid_takes_the_whole_string_only() -> None:
    good = "0b7e6f1c-2d3a-4e5f-8a9b-0c1d2e3f4a5b"
    assert operations.is_uuid(good)
    assert operations.is_uuid(good.upper())
    for bad in (good + "\n", " " + good, good[:-1], good + "0", None, 7, ""):
        assert not operations.is_uuid(bad), repr(bad)


def test_show_input_echoes_at_most_100_characters() -> None:
    shown = operations.show_input("x" * 5000)
    assert len(shown) <= operations.SHOWN_INPUT_CHARS
    assert shown.startswith('"xxx') and shown.endswith("…")
    assert operations.show_input([1, "a"]) == '[1, "a"]'


def test_every_operation_names_a_response_schema_that_exists() -> None:
    from aural_mcp import responses

    known = responses.schemas()
    for op in operations.OPERATIONS:
        assert op.response.schema in known, op.name
        # A list answer is rows with ids; a paginated one is always a list.
        assert op.response.many or not op.paginated, op.name


def test_outcome_checks_and_id_kinds_name_real_list_operations() -> None:
    for kind in operations.ID_KINDS.values():
        listing = operations.get(kind.list_operation)
        assert listing.read_only and listing.response.many, kind.arg
    for op in operations.OPERATIONS:
        for a in op.args_in("path"):
            assert a.name in operations.ID_KINDS, (op.name, a.name)
        if op.outcome_check is None:
            continue
        listing = operations.get(op.outcome_check.list_operation)
        assert listing.read_only, op.name
        # What is looked for is something the caller sent.
        fields = {a.name for a in op.args}
        if op.body_list_arg:
            fields |= set(op.arg(op.body_list_arg).schema["items"]["properties"])
        assert set(op.outcome_check.look_for) <= fields, op.name


def test_changed_resources_are_filled_from_known_ids_and_only_writes_change_anything() -> None:
    for op in operations.OPERATIONS:
        if op.read_only:
            assert not op.changes, op.name
        for uri in op.changes:
            assert uri.startswith("aural://"), (op.name, uri)
            assert set(re.findall(r"\{(\w+)\}", uri)) <= {"interviewId", "sessionId"}, (op.name, uri)


def test_outcome_check_text_names_the_list_and_what_was_sent() -> None:
    text = operations.outcome_check_text(
        operations.get("add_candidates"),
        {"interviewId": "i-1", "candidates": [{"name": "Ada", "email": "ada@example.com"}, {"name": "Bo"}]},
    )
    assert text == (
        'call list_candidates for interview i-1 and look for "ada@example.com", "Bo" '
        "before trying add_candidates again"
    )
    assert operations.outcome_check_text(operations.get("get_usage"), {}) is None
