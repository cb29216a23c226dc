"""Checking a success envelope against the operation's response description.

The registry says what each operation's `data` is (`Operation.response`, a schema in
`aural_mcp.responses`):

- `data` must be present: a list of rows when the response is `many` (a single object from a
  bulk create is read as a list of one), an object otherwise. Anything else (no `data`, the
  wrong kind) is a typed error: `ServerError` with code `INVALID_RESPONSE`, or
  `OutcomeUnknownError` for a request that is not safe to repeat.
- In a list of rows, a row that is not an object with an `id` is skipped and logged (a warning
  on the `aural_mcp.api` logger, counted in `stats["skipped_rows"]`), and the good rows are kept:
  one odd row never fails a read. A non-empty list with no usable row at all is `INVALID_RESPONSE`.
- In an object answer, the lists the schema describes as lists of objects (an interview's
  questions, a transcript's messages, bulk results, ...) drop items that are not objects, the
  same way.
"""

from __future__ import annotations

import logging
from typing import Any

from .. import responses
from ..operations import Operation
from . import errors
from .sending import Sender

log = logging.getLogger("aural_mcp.api")


def checked(op: Operation, payload: dict[str, Any], *, check: str | None, sender: Sender) -> dict[str, Any]:
    """`payload` checked to be the envelope `op` answers with, odd rows skipped."""

    def invalid(why: str) -> errors.AuralError:
        return sender.not_json(200, label=op.name, retry_safe=op.retry_safe, check=check, why=why)

    if "data" not in payload:
        raise invalid("the body has no `data`")
    data = payload["data"]
    if op.response.many:
        if isinstance(data, dict) and op.body_list_arg:
            data = [data]
        if not isinstance(data, list):
            raise invalid(f"`data` is {errors.json_kind(data)}, not a list")
        rows = _rows(sender.stats, op.name, data, need_id=True)
        if data and not rows:
            raise invalid("`data` holds no object with an `id`")
        return {**payload, "data": rows}
    if not isinstance(data, dict):
        raise invalid(f"`data` is {errors.json_kind(data)}, not an object")
    nested = {
        name: _rows(sender.stats, f"{op.name} {name}", data[name], need_id=False)
        for name in responses.row_lists(op.response.schema)
        if isinstance(data.get(name), list)
    }
    return {**payload, "data": {**data, **nested}} if nested else payload


def _rows(stats: dict[str, int], where: str, items: list[Any], *, need_id: bool) -> list[Any]:
    rows = [item for item in items if isinstance(item, dict) and (not need_id or _usable_id(item.get("id")))]
    skipped = len(items) - len(rows)
    if skipped:
        stats["skipped_rows"] += skipped
        what = "objects with an id" if need_id else "objects"
        log.warning("%s: skipped %d of %d items that are not %s", where, skipped, len(items), what)
    return rows


def _usable_id(value: Any) -> bool:
    return (isinstance(value, str) and value != "") or (
        isinstance(value, int) and not isinstance(value, bool)
    )
