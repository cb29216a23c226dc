"""Size limits, and fitting results into them without losing what matters.

A result never loses its ids: long text fields are shortened first, the longest first and one at
a time until the result fits, and a list that still does not fit keeps the items that fit and
says exactly how to get the rest (the next cursor, a resource, or a narrower call).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from aural_mcp import operations
from aural_mcp.server.render.safe import flat, plural, raw

TEXT_LIMIT = 30_000  # characters of markdown per tool result
STRUCTURED_LIMIT = 50_000  # characters of JSON for structuredContent; both together stay under ~20k tokens
RESOURCE_LIMIT = 80_000  # characters of a resource read (a transcript of a very long session)


def cut(text: str, limit: int, how_to_get_rest: str) -> str:
    """Cut `text` at a line boundary below `limit`, ending with a note on how to read the rest."""
    if len(text) <= limit:
        return text
    head = text[: limit - 300 - len(how_to_get_rest)]
    if "\n" in head:
        head = head[: head.rfind("\n")]
    return f"{head}\n\n… cut here ({plural(len(text) - len(head), 'more character')}). {how_to_get_rest}"


# Where every row of an answer's shape can be read when a result had to be cut (by response
# schema, so a new operation with a known shape needs no entry).
_WHOLE_OF_SHAPE = {
    "Question": "read aural://interviews/{interviewId} for every question",
    "InterviewWithQuestions": "read aural://interviews/{interviewId} for every question",
    "Candidate": "read aural://interviews/{interviewId}/invites.csv for every candidate and invite URL",
    "CandidateWithInviteUrl": "read aural://interviews/{interviewId}/invites.csv for every candidate and invite URL",
    "CandidateRow": "read aural://interviews/{interviewId}/invites.csv for every candidate and invite URL",
    "SessionWithResults": "read aural://sessions/{sessionId}/transcript for every message",
    "SessionReport": "read aural://sessions/{sessionId}/transcript for every message",
}


def rest_hint(op_name: str, args: dict[str, Any], last_id: str | None = None) -> str:
    """The exact call or read that returns what a cut result of `op_name` left out."""
    op = operations.get(op_name)
    iid = flat(args.get("interviewId"), 80)
    last_id = flat(last_id, 80).replace("`", "'") or None
    if op.paginated:
        if not last_id:
            return f"call {op.name} with a smaller limit"
        scope = f"interviewId `{iid}` and " if any(a.name == "interviewId" for a in op.args) else ""
        return f"call {op.name} with {scope}cursor `{last_id}` for the rest"
    whole = _WHOLE_OF_SHAPE.get(op.response.schema)
    if whole is not None:
        ids = {name: flat(args.get(name), 80) or "{" + name + "}" for name in ("interviewId", "sessionId")}
        return whole.format_map(ids)
    if any(a.name == "limit" for a in op.args):
        return f"call {op.name} with a smaller limit"
    id_lists = [a.name for a in op.args if a.schema.get("items", {}).get("format") == "uuid"]
    if id_lists:
        return f"call {op.name} with fewer {id_lists[0]}"
    return "narrow the request"


def not_shown(total: int, noun: str, op: str, args: dict[str, Any]) -> Callable[[int], str]:
    """The `left_out` line of `fit_lines`: how many `noun`s did not fit and the call that returns them."""
    return lambda shown: f"… {plural(total - shown, noun)} not shown: {rest_hint(op, args)}."


def fit_lines(
    head: list[str],
    items: list[str],
    tail: list[str],
    left_out: Callable[[int], str],
    limit: int,
    *,
    tail_when_cut: bool = True,
) -> list[str]:
    """`head`, as many `items` as fit in `limit` characters, then `left_out(shown)` if some did not, `tail`."""
    budget = limit - sum(len(line) + 1 for line in head + tail) - 800
    shown = 0
    for line in items:
        budget -= len(line) + 1
        if budget < 0:
            break
        shown += 1
    if shown == len(items):
        return head + items + tail
    return [*head, *items[:shown], "", left_out(shown), *(tail if tail_when_cut else [])]


# ------------------------------------------------------------------ structuredContent

SHORT_FIELD = 500  # characters a long text field is shortened to
_KEPT_KEYS = {"id", "url", "inviteToken", "publicSlug", "cursor"}  # never shortened before the last resort
_ESSENTIAL_KEYS = {"id", "title", "name", "email", "status", "url", "inviteUrl", "inviteToken", "publicSlug"}
_NOTE_ROOM = 800  # characters kept free for the `truncated` note


def _size(value: Any) -> int:
    return len(json.dumps(value, default=str))  # ASCII-escaped: the larger of the two encodings


def _kept(key: str) -> bool:
    return key in _KEPT_KEYS or key.endswith(("Id", "Url"))


def _shortened(text: str, cap: int) -> str:
    return text[:cap] + f"… [cut: {plural(len(text) - cap, 'more character')}]"


def _long_texts(
    value: Any, path: tuple[Any, ...] = (), key: str = ""
) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Every string longer than `SHORT_FIELD` with its path, except ids and links."""
    if isinstance(value, str):
        if len(value) > SHORT_FIELD and not _kept(key):
            yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _long_texts(v, (*path, k), str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _long_texts(v, (*path, i), key)


def _with_shortened(value: Any, paths: set[tuple[Any, ...]], path: tuple[Any, ...] = ()) -> Any:
    if isinstance(value, str):
        return _shortened(value, SHORT_FIELD) if path in paths else value
    if isinstance(value, dict):
        return {k: _with_shortened(v, paths, (*path, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_shortened(v, paths, (*path, i)) for i, v in enumerate(value)]
    return value


def _shorten_longest_first(data: Any, excess: int, notes: list[str]) -> Any:
    """`data` with its longest text fields shortened, one at a time, until `excess` characters are saved."""
    chosen: set[tuple[Any, ...]] = set()
    for path, text in sorted(_long_texts(data), key=lambda found: -len(found[1])):
        if excess <= 0:
            break
        chosen.add(path)
        excess -= _size(text) - _size(_shortened(text, SHORT_FIELD))
    if not chosen:
        return data
    notes.append(f"{plural(len(chosen), 'long text field')} shortened to {SHORT_FIELD:,} characters")
    return _with_shortened(data, chosen)


def _essentials(value: Any) -> Any:
    """Only the keys that identify an item (ids, names, links), each at most 200 characters."""
    if not isinstance(value, dict):
        return value[:200] if isinstance(value, str) else value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if str(key) in _ESSENTIAL_KEYS or str(key).endswith("Id"):
            out[key] = (
                item[:200] if isinstance(item, str) else (item if not isinstance(item, dict | list) else None)
            )
    return out


def _fitting_count(items: list[Any], room: int) -> int:
    shown = 0
    for item in items:
        room -= _size(item) + 2
        if room < 0:
            break
        shown += 1
    return shown


def fit_structured(op: str, args: dict[str, Any], envelope: dict[str, Any]) -> dict[str, Any]:
    """The envelope as structuredContent within `STRUCTURED_LIMIT`, saying what was cut and how to get it."""
    out: dict[str, Any] = {"data": envelope.get("data")}
    if "cursor" in envelope:
        out["cursor"] = envelope["cursor"]
    if _size(out) <= STRUCTURED_LIMIT:
        return out
    limit = STRUCTURED_LIMIT - _NOTE_ROOM
    data = out["data"]
    notes: list[str] = []
    data = _shorten_longest_first(data, _size(out) - limit, notes)
    if _size({**out, "data": data}) > limit:
        data = _cut_list(op, args, out, data, notes, limit)
    if _size({**out, "data": data}) > limit:  # the last resort: identities only
        data = [_essentials(i) for i in data] if isinstance(data, list) else _essentials(data)
        notes.append("only ids, names, statuses and links kept")
        data = _cut_list(op, args, out, data, notes, limit)
    out["data"] = data
    out["truncated"] = "; ".join(notes) + "."
    return out


def _cut_list(
    op: str, args: dict[str, Any], out: dict[str, Any], data: Any, notes: list[str], limit: int
) -> Any:
    """`data` (or its largest list) cut to the items that fit, with a note and the cursor to go on."""
    if isinstance(data, list):
        items, where = data, "data"
    elif isinstance(data, dict):
        lists = [(k, v) for k, v in data.items() if isinstance(v, list) and v]
        if not lists:
            return data
        key, items = max(lists, key=lambda kv: _size(kv[1]))
        where = f"data.{key}"
    else:
        return data
    without_items = [] if where == "data" else {**data, key: []}
    room = limit - _size({**out, "data": without_items})
    shown = _fitting_count(items, room)
    kept = items[:shown]
    last = kept[-1] if kept else None
    last_id = raw(last.get("id")) if isinstance(last, dict) and last.get("id") else None
    if operations.get(op).paginated and where == "data":
        out["cursor"] = last_id if last_id else out.get("cursor")
    notes.append(f"{where} holds {shown:,} of {plural(len(items), 'item')}; {rest_hint(op, args, last_id)}")
    return kept if where == "data" else {**data, key: kept}
