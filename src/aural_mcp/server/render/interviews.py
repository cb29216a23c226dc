"""Interviews and their questions."""

from __future__ import annotations

from typing import Any

from aural_mcp.server.render.context import Call
from aural_mcp.server.render.fit import TEXT_LIMIT, fit_lines, not_shown, rest_hint
from aural_mcp.server.render.renderers import renders
from aural_mcp.server.render.safe import (
    as_dict,
    code,
    date,
    dicts,
    field,
    number,
    plural,
    plural_or_unknown,
    raw,
)
from aural_mcp.shapes import option_labels


def channels(iv: dict[str, Any]) -> str:
    names = [
        n
        for n, key in (("chat", "chatEnabled"), ("voice", "voiceEnabled"), ("video", "videoEnabled"))
        if iv.get(key) is True
    ]
    return ", ".join(names) or "none"


def interview_status(iv: dict[str, Any]) -> str:
    if iv.get("isActive") is False:
        return "archived"
    if iv.get("requireInvite"):
        return "invite-only (not published)"
    return "published"


def count(value: Any) -> str:
    """A count from the API, or '?' when the row has none."""
    n = number(value)
    return f"{int(n):,}" if n is not None else "?"


def interview_markdown(iv: dict[str, Any], *, heading: str = "#", limit: int = TEXT_LIMIT) -> str:
    iid = raw(iv.get("id"))
    lines = [f"{heading} {field(iv.get('title'), 200) or '(untitled)'}", ""]
    lines.append(f"- **id**: {code(iv.get('id'))}")
    lines.append(f"- **status**: {interview_status(iv)}; slug {code(iv.get('publicSlug') or '—')}")
    lines.append(
        f"- **interviewer**: {field(iv.get('aiName'), 60) or 'Aural'}, tone {field(iv.get('aiTone'), 40) or '—'}, "
        f"follow-ups {field(iv.get('followUpDepth'), 40) or '—'}, language {field(iv.get('language'), 20) or '—'}"
    )
    minutes = number(iv.get("timeLimitMinutes"))
    time_limit = f"{int(minutes)} min" if minutes else "none"
    lines.append(f"- **channels**: {channels(iv)}; time limit {time_limit}")
    sessions = as_dict(iv.get("_count")).get("sessions")
    if sessions is not None:
        lines.append(f"- **sessions**: {count(sessions)}")
    for key in ("objective", "description"):
        if iv.get(key):
            lines.append(f"- **{key}**: {field(iv[key], 400)}")
    for c in dicts(iv.get("assessmentCriteria")):
        lines.append(f"- **criterion** {field(c.get('name'), 80)}: {field(c.get('description'), 200)}")
    questions = iv.get("questions")
    if not isinstance(questions, list):
        return "\n".join(lines)
    head = [*lines, "", f"{heading}# Questions ({len(questions)})"]
    items = [question_line(q) for q in questions] or ["(none yet: add_questions)"]

    left_out = not_shown(len(questions), "more question", "get_interview", {"interviewId": iid})
    return "\n".join(fit_lines(head, items, [], left_out, limit))


def question_line(q: Any) -> str:
    if not isinstance(q, dict):
        return f"- (a question row that is not an object: {field(q, 80) or 'null'})"
    flags = []
    if q.get("isRequired") is False:
        flags.append("optional")
    labels = option_labels(q.get("options"))
    if labels:
        shown = " / ".join(field(label, 60) for label in labels[:12])
        flags.append("options: " + shown + (f" / … {len(labels) - 12} more" if len(labels) > 12 else ""))
    if isinstance(q.get("options"), dict) and q["options"].get("allowMultiple") is True:
        flags.append("several allowed")
    languages = starter_languages(q.get("starterCode"))
    if languages:
        flags.append("starter code: " + ", ".join(field(lang, 30) for lang in languages[:6]))
    seconds = number(q.get("timeLimitSeconds"))
    if seconds:
        flags.append(f"{int(seconds)} s")
    extra = f" ({'; '.join(flags)})" if flags else ""
    order = number(q.get("order"))
    position = f"{int(order)}." if order is not None else "-"
    kind = field(q.get("type"), 40) or "?"
    return f"{position} [{kind}] {field(q.get('text'), 200)}{extra} — {code(q.get('id'))}"


def starter_languages(starter: Any) -> list[str]:
    """The languages of a question's starter code: `{language, code}` (app) or language -> code (API)."""
    if not isinstance(starter, dict):
        return []
    if "code" in starter or "language" in starter:
        return [raw(starter.get("language")) or "code"]
    return [raw(k) for k in starter]


@renders("list_interviews")
def list_interviews(call: Call, data: list[Any]) -> str:
    rows = dicts(data)
    head = [f"# Interviews ({len(rows)} on this page)"]
    items = []
    for iv in rows:
        counts = as_dict(iv.get("_count"))
        items.append(
            f"- **{field(iv.get('title'), 80)}** — {code(iv.get('id'))} · {interview_status(iv)} · "
            f"{plural_or_unknown(counts.get('questions'), 'question')} · "
            f"{plural_or_unknown(counts.get('sessions'), 'session')} · updated {date(iv.get('updatedAt'))}"
        )
    if not rows:
        items.append("No interviews yet. Next: create_interview.")
    if call.cursor:  # the tool layer drops the repeated boundary item, so pages do not overlap
        tail = [f"\nMore: call list_interviews with cursor {code(call.cursor)} for the next page."]
    else:
        tail = ["\nNext: get_interview with an interviewId."]

    def left_out(shown: int) -> str:
        last = raw(rows[shown - 1].get("id")) if shown else None
        return f"… {plural(len(rows) - shown, 'more interview')} on this page not shown: {rest_hint(call.op, call.args, last)}."

    # A page cut short continues from its last shown item, not from the API's cursor.
    return "\n".join(fit_lines(head, items, tail, left_out, TEXT_LIMIT, tail_when_cut=False))


@renders("get_interview")
def get_interview(call: Call, data: dict[str, Any]) -> str:
    if not data.get("questions"):
        nxt = "add_questions"
    elif interview_status(data).startswith("invite"):
        nxt = "publish_interview"
    else:
        nxt = "list_sessions"
    return f"{interview_markdown(data)}\n\nNext: {nxt} with interviewId {code(data.get('id'))}."


@renders("create_interview")
def create_interview(call: Call, data: dict[str, Any]) -> str:
    iid = code(data.get("id"))
    return (
        f"Created interview **{field(data.get('title'), 200)}** — id {iid}, invite-only, slug "
        f"{code(data.get('publicSlug'))}; channels {channels(data)}.\n"
        f"Next: add_questions with interviewId {iid}, then publish_interview."
    )


@renders("update_interview")
def update_interview(call: Call, data: dict[str, Any]) -> str:
    changed = [field(k, 40) for k in call.args if k != "interviewId"]
    return (
        f"Updated interview **{field(data.get('title'), 200)}** {code(data.get('id'))}: "
        f"{', '.join(changed) or 'nothing'}.\nStatus: {interview_status(data)}. Next: get_interview to review it."
    )


@renders("archive_interview")
def archive_interview(call: Call, data: dict[str, Any]) -> str:
    return (
        f"Archived interview {code(data.get('id'))}: the public link no longer admits candidates. Sessions, "
        "questions and candidates stay readable. publish_interview un-archives it."
    )


@renders("publish_interview")
def publish_interview(call: Call, data: dict[str, Any]) -> str:
    iid = code(data.get("id"))
    return (
        f"Published interview {iid}: anyone with the link can start it.\n"
        f"- **url**: {field(data.get('url'), 300)}\n- **slug**: {code(data.get('publicSlug'))}\n"
        f"Next: add_candidates with interviewId {iid} for personal invite links, or share the url."
    )


def _question_list(call: Call, head: list[str], data: list[Any], tail: list[str]) -> str:
    items = [question_line(q) for q in data]

    left_out = not_shown(len(data), "more question", call.op, call.args)
    return "\n".join(fit_lines(head, items, tail, left_out, TEXT_LIMIT))


@renders("list_questions")
def list_questions(call: Call, data: list[Any]) -> str:
    head = [f"# Questions of interview {code(call.arg('interviewId'))} ({len(data)})"]
    if not data:
        return "\n".join([*head, "No questions yet. Next: add_questions."])
    return _question_list(call, head, data, [])


@renders("add_questions")
def add_questions(call: Call, data: list[Any]) -> str:
    iid = code(call.arg("interviewId"))
    head = [f"Added {plural(len(data), 'question')} to interview {iid}:"]
    tail = [f"\nNext: publish_interview with interviewId {iid} when the set is complete."]
    return _question_list(call, head, data, tail)


@renders("update_question")
def update_question(call: Call, data: dict[str, Any]) -> str:
    changed = [field(k, 40) for k in call.args if k != "questionId"]
    return (
        f"Updated question ({', '.join(changed) or 'nothing'}):\n{question_line(data)}\n"
        "Other questions keep their order."
    )


@renders("delete_question")
def delete_question(call: Call, data: dict[str, Any]) -> str:
    return f"Deleted question {code(data.get('id'))} permanently. Other questions keep their order (a gap remains)."
