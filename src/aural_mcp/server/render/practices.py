"""The key owner's practice runs, and how scores are shown."""

from __future__ import annotations

from typing import Any

from aural_mcp.server.render.context import Call
from aural_mcp.server.render.fit import TEXT_LIMIT, fit_lines, not_shown
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


@renders("list_practices")
def list_practices(call: Call, data: list[Any]) -> str:
    rows = dicts(data)
    head = [f"# Your practice runs of interview {code(call.arg('interviewId'))} ({len(rows)})"]
    items = [
        f"- {code(p.get('id'))} · {field(p.get('status'), 40) or '—'} · started "
        f"{date(p.get('startedAt') or p.get('createdAt'))} · {plural_or_unknown(p.get('attemptCount'), 'attempt')} · "
        f"average {score(p.get('averageScore'))} · best {score(p.get('bestScore'))}"
        for p in rows
    ]
    if not rows:
        return "\n".join(
            [
                *head,
                "No practice runs (practices are the key owner's own rehearsals, not candidate sessions).",
            ]
        )

    left_out = not_shown(len(rows), "older run", call.op, call.args)
    return "\n".join(
        fit_lines(head, items, ["\nNext: get_practice with a practiceId."], left_out, TEXT_LIMIT)
    )


def score(value: Any) -> str:
    n = number(value)
    if n is None:
        return field(value, 20) or "—"
    return f"{n:g}" if abs(n) < 1e15 else "—"


@renders("get_practice")
def get_practice(call: Call, data: dict[str, Any]) -> str:
    session = as_dict(data.get("session"))
    iv = as_dict(data.get("interview"))
    questions = {raw(q.get("id")): q for q in dicts(data.get("questions"))}
    attempts = dicts(data.get("attempts"))
    marker = call.marker
    head = [
        f"# Practice {code(call.arg('practiceId'))} of {field(iv.get('title'), 200) or 'an interview'}",
        "",
    ]
    head.append(
        f"- **status**: {field(session.get('status'), 40) or '—'}; {plural(len(attempts), 'attempt')}"
    )
    items = []
    for a in attempts:
        q = questions.get(raw(a.get("questionId"))) or {}
        answer = a.get("answerText")
        items.append(
            f"- {field(q.get('text') or a.get('questionId'), 100)}: score **{score(a.get('score'))}** — "
            f"{field(a.get('feedback'), 200) or 'no feedback'}"
            + (f"; answer {marker.inline(answer, 300)}" if answer else "")
        )
    if any(a.get("answerText") for a in attempts):
        head.append(f"- {marker.note()}")

    def left_out(shown: int) -> str:
        return f"… {plural(len(attempts) - shown, 'more attempt')} not shown."

    return "\n".join(fit_lines(head, items, [], left_out, TEXT_LIMIT))
