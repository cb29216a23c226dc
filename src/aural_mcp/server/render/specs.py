"""`apply_interview_spec`'s result: the plan (and, once applied, the counts) as structuredContent,
described by `APPLY_INTERVIEW_SPEC_OUTPUT`, and the text rendered from it.

Titles, question texts and stored values may have been written by anyone with access to the
account: the text shows them through `safe.field` (one line, bounded, no markdown structure).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aural_mcp.server.render.fit import TEXT_LIMIT, cut
from aural_mcp.server.render.safe import code, field, plural

if TYPE_CHECKING:
    from aural_mcp.pipelines.apply import ApplySummary, Change, Plan, State

ACTIONS = {"+": "create", "~": "update", "-": "delete", "=": "unchanged"}
VALUE_CHARS = 200  # a changed value longer than this (as JSON) is shown cut, as a string

_STR = {"type": "string"}
_STR_OR_NULL = {"type": ["string", "null"]}
_ACTION = {"type": "string", "enum": list(ACTIONS.values())}
_CHANGE = {"type": "object", "properties": {"field": _STR, "from": {}, "to": {}}, "required": ["field", "from", "to"]}
_COUNTS = {"type": "object", "properties": {name: {"type": "integer"} for name in ACTIONS.values()}}

APPLY_INTERVIEW_SPEC_OUTPUT: dict[str, Any] = {
    "type": "object",
    "description": "The plan (what differs between the spec and Aural) and, unless dryRun, what was applied.",
    "properties": {
        "dryRun": {"type": "boolean"},
        "interviews": {"type": "array", "items": {"type": "object", "properties": {
            "key": _STR, "action": _ACTION, "interviewId": _STR_OR_NULL, "title": _STR, "publish": {"type": "boolean"},
            "changes": {"type": "array", "items": _CHANGE},
            "questions": {"type": "array", "items": {"type": "object", "properties": {
                "key": _STR_OR_NULL, "action": _ACTION, "questionId": _STR_OR_NULL, "text": _STR,
                "changes": {"type": "array", "items": _CHANGE}}, "required": ["key", "action", "questionId", "text"]}},
            "notes": {"type": "array", "items": _STR}},
            "required": ["key", "action", "interviewId", "title", "publish", "changes", "questions", "notes"]}},
        "counts": _COUNTS,
        "writes": {"type": "integer"},
        "applied": {"type": ["object", "null"], "description": "null on a dry run", "properties": {
            name: {"type": "integer"} for name in ("created", "updated", "unchanged", "skipped", "failed", "deleted")}},
        "failures": {"type": "array", "items": _STR},
    },
    "required": ["dryRun", "interviews", "counts", "writes", "applied", "failures"],
}  # fmt: skip


def _value(value: Any) -> Any:
    """A changed value as the result carries it: as is, or cut (as a string) when it is long."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return value if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _changes(changes: list[Change], *, created: bool) -> list[dict[str, Any]]:
    return [{"field": c.field, "from": None if created else _value(c.old), "to": _value(c.new)} for c in changes]


def projection(
    plan: Plan,
    *,
    dry_run: bool,
    summary: ApplySummary | None = None,
    failures: list[str] | None = None,
    state: State | None = None,
) -> dict[str, Any]:
    """The structured result of one call: the plan, and what was applied (None on a dry run).
    After an apply, `state` gives the ids of what it created."""
    interviews = []
    for ip in plan.interviews:
        action = ip.action if ip.action != "=" or not ip.publish else "~"
        entry = state.interviews.get(ip.key, {}) if state is not None else {}
        made = entry["questions"] if isinstance(entry.get("questions"), dict) else {}
        interviews.append({
            "key": ip.key, "action": ACTIONS[action], "interviewId": ip.id or _text(entry.get("id")),
            "title": str(ip.title), "publish": ip.publish, "changes": _changes(ip.changes, created=ip.action == "+"),
            "questions": [
                {"key": q.key, "action": ACTIONS[q.action], "questionId": q.id or _text(made.get(q.key or "")), "text": q.text,
                 "changes": _changes(q.changes, created=q.action == "+")}
                for q in ip.questions
            ],
            "notes": list(ip.notes),
        })  # fmt: skip
    counts = plan.counts()
    return {
        "dryRun": dry_run,
        "interviews": interviews,
        "counts": {ACTIONS[mark]: n for mark, n in counts.items()},
        "writes": plan.writes,
        "applied": None if summary is None else {
            "created": summary.created, "updated": summary.updated, "unchanged": summary.unchanged,
            "skipped": summary.skipped, "failed": summary.failed, "deleted": summary.deleted,
        },
        "failures": list(failures or []),
    }  # fmt: skip


_MARK = {name: mark for mark, name in ACTIONS.items()}


def _change_text(change: dict[str, Any], created: bool) -> str:
    to = field(json.dumps(change["to"], ensure_ascii=False, default=str), 80)
    if created:
        return f"{change['field']} {to}"
    return f"{change['field']}: {field(json.dumps(change['from'], ensure_ascii=False, default=str), 60)} → {to}"


def spec_markdown(result: dict[str, Any]) -> str:
    """The plan as `+ ~ - =` lines per interview and question, then the counts and what to do next."""
    lines = ["# Interview spec: " + ("plan (dry run: nothing was changed)" if result["dryRun"] else "applied"), ""]
    for iv in result["interviews"]:
        created = iv["action"] == "create"
        ident = f" {code(iv['interviewId'])}" if iv["interviewId"] else ""
        lines.append(f"{_MARK[iv['action']]} interview **{field(iv['key'], 64)}**{ident} \"{field(iv['title'], 120)}\"")
        if iv["changes"]:
            shown = iv["changes"] if not created else [c for c in iv["changes"] if c["field"] != "title"]
            if shown:
                lines.append("    " + "; ".join(_change_text(c, created) for c in shown))
        for q in iv["questions"]:
            qid = f" {code(q['questionId'])}" if q["questionId"] else ""
            name = field(q["key"], 64) if q["key"] else "(not in the spec)"
            line = f"    {_MARK[q['action']]} question {name}{qid} \"{field(q['text'], 80)}\""
            if q["action"] == "update":
                line += ": " + "; ".join(_change_text(c, False) for c in q["changes"])
            lines.append(line)
        if iv["publish"]:
            lines.append("    ~ publish (opens the public link)")
        lines += [f"    ! {field(note, 300)}" for note in iv["notes"]]
    n = result["counts"]
    lines += ["", f"Plan: {n['create']} to create, {n['update']} to update, {n['delete']} to delete, "
              f"{n['unchanged']} unchanged; {plural(result['writes'], 'write request')}."]  # fmt: skip
    applied = result["applied"]
    if applied is not None:
        lines.append("Applied: " + ", ".join(f"{k} {v}" for k, v in applied.items()) + ".")
        lines += [f"- failed: {field(f, 400)}" for f in result["failures"]]
    elif result["writes"]:
        lines.append("Next: call apply_interview_spec again with the same spec and dryRun: false to apply it.")
    else:
        lines.append("Aural already matches the spec: nothing to apply.")
    return cut("\n".join(lines), TEXT_LIMIT, "The structured result holds the whole plan.")
