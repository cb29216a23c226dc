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
