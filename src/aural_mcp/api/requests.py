"""Building a request from the operation registry: method, path, query and JSON body.

Only wire-level checks happen here, the ones without which no request can be formed: each path
id is present and a UUID (it becomes part of the URL), required arguments are present, the body
list of a bulk create is a list (it becomes the whole body), arguments the request has no place
for are rejected, and the body encodes as JSON. Values go on the wire as given: the API's own
validation judges them. Repairing what careless MCP clients send (JSON text, "true", one object
for a list, the names the API reads back) is the MCP server's job, not the SDK's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from pydantic import BaseModel

from .. import operations
from ..operations import Arg, Operation
from . import errors


@dataclass(frozen=True)
class Request:
    """What to send for one operation; `content` is None when the request has no body."""

    method: str
    path: str  # under the base URL, ids filled in
    params: dict[str, str]
    content: bytes | None


def operation(name: str) -> Operation:
    """The registry entry `name`; an unknown name is a programming error (ValueError)."""
    try:
        return operations.get(name)
    except KeyError:
        known = ", ".join(op.name for op in operations.OPERATIONS)
        raise ValueError(f"unknown operation {name!r}; known operations: {known}") from None


def build(op: Operation, args: dict[str, Any]) -> Request:
    """The request for `op` with its API-named `args`; a BadRequestError names what cannot be sent."""
    body_args = op.args_in("body")
    known = {a.name for a in op.args}
    unknown = [name for name in args if name not in known]
    # An object body carries unknown fields through (the API ignores what it does not know);
    # a request without a body, or whose body is a list, has no place for them.
    if unknown and (not body_args or op.body_list_arg):
        expected = ", ".join(a.name for a in op.args) or "no arguments"
        raise errors.BadRequestError(
            f"unknown argument{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} for {op.name}; "
            f"expected: {expected}",
            operation=op.name,
        )
    for a in op.args_in("path"):
        _check_id(op, a, args.get(a.name))
    for a in (*op.args_in("query"), *body_args):
        if a.required and args.get(a.name) is None:
            raise errors.BadRequestError(f"{a.name} is required for {op.name}", operation=op.name)

    path = operations.wire_path(op, args)
    params = {
        a.name: query_value(args[a.name])
        for a in op.args_in("query")
        if args.get(a.name) is not None and args.get(a.name) != ""
    }
    if op.method == "GET" or not body_args:
        return Request(op.method, path, params, None)
    if op.body_list_arg:
        items = args[op.body_list_arg]
        if not isinstance(items, list | tuple):
            raise errors.BadRequestError(
                f"{op.body_list_arg} must be a list (got {errors.json_kind(items)}); pass [item] for a single one",
                operation=op.name,
            )
        return Request(op.method, path, params, json_content(list(items), op.name))

    body: dict[str, Any] = {}
    for a in body_args:
        value = args.get(a.name)
        # None means "not given" where the API gives null no meaning.
        if a.name not in args or (value is None and not _nullable(a)):
            if a.always_sent:
                body[a.name] = a.schema["default"]
            continue
        body[a.name] = value
    for name in unknown:
        body[name] = args[name]
    return Request(op.method, path, params, json_content(body, op.name))


def json_content(body: Any, label: str) -> bytes:
    """`body` encoded as JSON (models, enums, dates and sets as their JSON forms)."""
    try:
        return json.dumps(body, default=_json_default, ensure_ascii=False).encode()
    except (TypeError, ValueError) as exc:
        raise errors.BadRequestError(f"the request body is not JSON: {exc}", operation=label) from None


def query_value(value: Any) -> str:
    """A query-string value as the API reads it: booleans lower-case, enums by value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def _check_id(op: Operation, arg: Arg, value: Any) -> None:
    source = operations.ID_KINDS[arg.name].list_operation
    if value is None or value == "":
        raise errors.BadRequestError(f"{arg.name} is required; {source} shows the ids", operation=op.name)
    if not operations.is_uuid(value):
        raise errors.BadRequestError(operations.not_an_id(arg.name, value), operation=op.name)


def _nullable(arg: Arg) -> bool:
    kind = arg.schema.get("type")
    return kind == "null" or (isinstance(kind, list) and "null" in kind)


def _json_default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
