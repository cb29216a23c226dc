"""Interview-specific steps of the generic operation handler: overlap-free paging, the archived note."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver.exceptions import ToolError

from aural_mcp import operations
from aural_mcp.api.errors import AuralError, NotFoundError
from aural_mcp.api.pacing import OnWait

if TYPE_CHECKING:
    from aural_mcp.server.runtime import Runtime

logger = logging.getLogger("aural_mcp.server")


async def page_without_overlap(
    runtime: Runtime, op: operations.Operation, args: dict[str, Any], on_wait: OnWait | None = None
) -> dict[str, Any]:
    """One page of a list whose pages overlap (`op.pages_overlap`) that does not overlap the previous one.

    The API's next page starts with the cursor item again (it pages by `updatedAt <=`), so with
    limit 1 an agent would never move on. Asking for one more item when a cursor is given and
    dropping the cursor item returns `limit` new items and the cursor of the last one. A cursor
    that resolves to nothing makes the API restart at page one; that is reported, not looped.
    The one such list is list_interviews, so a cursor is an interview id.
    """
    cursor = args.get("cursor")
    if not cursor:
        return await runtime.client.call(op.name, args, on_wait=on_wait)
    limit = int(args.get("limit", op.arg("limit").schema["default"]))
    asked = min(limit + 1, op.arg("limit").schema["maximum"])  # the API clamps at its maximum
    envelope = await runtime.client.call(op.name, {**args, "limit": asked}, on_wait=on_wait)
    items = envelope.get("data")
    if not isinstance(items, list):
        return envelope  # not a list: the renderer reports the unexpected shape
    ids = [item.get("id") if isinstance(item, dict) else None for item in items]
    if str(cursor).lower() not in (str(i).lower() for i in ids[:1]):
        await _check_cursor_is_an_interview(runtime, op, cursor, on_wait)
    kept = [item for item, ident in zip(items, ids, strict=True) if str(ident).lower() != str(cursor).lower()]
    more = len(kept) > limit or envelope.get("cursor") is not None
    page = kept[:limit]
    next_cursor = page[-1].get("id") if more and page else None
    return {**envelope, "data": page, "cursor": next_cursor}


async def _check_cursor_is_an_interview(
    runtime: Runtime, op: operations.Operation, cursor: str, on_wait: OnWait | None
) -> None:
    # The page does not start with the cursor item: either it moved (updated meanwhile) or the
    # cursor is no interview and the API restarted at page one. One read tells which.
    try:
        await runtime.client.call("get_interview", {"interviewId": cursor}, on_wait=on_wait)
    except NotFoundError as exc:
        raise ToolError(
            f"`cursor` {operations.show_input(cursor)} is not an interview this key can see, so the "
            f"API would silently start again at page one. Pass the cursor the previous {op.name} page "
            "returned, or omit it for the first page."
        ) from exc


async def archived_note(runtime: Runtime, interview_id: str) -> str:
    """A warning line when the call went to an archived interview (`op.warns_if_archived`), else ''."""
    try:
        envelope = await runtime.client.call("get_interview", {"interviewId": interview_id})
    except AuralError as exc:  # the call succeeded; the note is a courtesy
        logger.info("archived check after a write failed: %s", exc.code)
        return ""
    data = envelope.get("data")
    if isinstance(data, dict) and data.get("isActive") is False:
        return (
            f"Note: interview `{interview_id}` is archived (isActive false): the questions were added, but "
            "candidates cannot start it until publish_interview re-activates it.\n\n"
        )
    return ""
