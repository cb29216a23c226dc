"""Candidates: one line each with a working invite link, and the invites.csv resource."""

from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import quote

from aural_mcp.server.render.context import Call
from aural_mcp.server.render.fit import TEXT_LIMIT, fit_lines, not_shown, rest_hint
from aural_mcp.server.render.renderers import renders
from aural_mcp.server.render.safe import code, dicts, field, flat, plural, raw


def invite_url(candidate: dict[str, Any], app_url: str | None) -> str | None:
    """The candidate's personal link: as the API returned it, else built from the invite token."""
    given = candidate.get("inviteUrl")
    if isinstance(given, str) and given:
        return given
    token = candidate.get("inviteToken")
    if not app_url or not isinstance(token, str) or not token:
        return None
    return f"{app_url.rstrip('/')}/i/invite/{quote(token, safe='')}"


def candidate_line(c: Any, app_url: str | None) -> str:
    if not isinstance(c, dict):
        return f"- (a candidate row that is not an object: {field(c, 80) or 'null'})"
    name = field(c.get("name"), 60) or "(no name)"
    email = f" {code(c.get('email'), 120)}" if c.get("email") else ""
    url = invite_url(c, app_url)
    link = code(url, 300) if url else f"token {code(c.get('inviteToken'))}"
    started = f"session {code(c.get('sessionId'))}" if c.get("sessionId") else "not started"
    return f"- **{name}**{email} — {code(c.get('id'))} · {link} · {started}"


def _candidate_list(call: Call, head: list[str], data: list[Any], tail: list[str]) -> str:
    items = [candidate_line(c, call.app_url) for c in data]

    left_out = not_shown(len(data), "more candidate", call.op, call.args)
    return "\n".join(fit_lines(head, items, tail, left_out, TEXT_LIMIT))


def with_invite_urls(data: Any, app_url: str | None) -> Any:
    """Listed candidates as structuredContent: each with the `inviteUrl` the create response has."""
    if not isinstance(data, list):
        return data
    out: list[Any] = []
    for c in data:
        url = invite_url(c, app_url) if isinstance(c, dict) else None
        out.append({**c, "inviteUrl": url} if url and isinstance(c, dict) else c)
    return out


@renders("list_candidates", structured=with_invite_urls)
def list_candidates(call: Call, data: list[Any]) -> str:
    head = [f"# Candidates of interview {code(call.arg('interviewId'))} ({len(data)})"]
    if not data:
        return "\n".join([*head, "No candidates yet. Next: add_candidates."])
    return _candidate_list(call, head, data, ["\nSend each candidate their own invite link."])


# More candidates added than this in one call: the result is a summary with the first few, and
# every invite link is in the invites.csv resource (linked from the result), not in the text.
SUMMARY_OVER = 50
FIRST_SHOWN = 5


def invites_uri(interview_id: str) -> str:
    return f"aural://interviews/{interview_id}/invites.csv"


def summarised(op_name: str, envelope: dict[str, Any]) -> bool:
    """Whether the result of this call is a summary that points to invites.csv."""
    data = envelope.get("data")
    return op_name == "add_candidates" and isinstance(data, list) and len(data) > SUMMARY_OVER


@renders("add_candidates")
def add_candidates(call: Call, data: list[Any]) -> str:
    if len(data) > SUMMARY_OVER:
        rows = dicts(data)
        with_email = sum(1 for c in rows if c.get("email"))
        return "\n".join(
            [
                f"Added {plural(len(data), 'candidate')} to interview {code(call.arg('interviewId'))} "
                f"({with_email} with an email, {len(rows) - with_email} with a name only). The first {FIRST_SHOWN}:",
                *(candidate_line(c, call.app_url) for c in data[:FIRST_SHOWN]),
                f"\nEvery invite link: {rest_hint(call.op, call.args)} (linked below). Send each candidate their own.",
                "Next: list_sessions later to follow who has taken it.",
            ]
        )
    head = [
        f"Added {plural(len(data), 'candidate')} to interview {code(call.arg('interviewId'))}; "
        "send each their invite link:"
    ]
    return _candidate_list(call, head, data, ["\nNext: list_sessions later to follow who has taken it."])


@renders("update_candidate")
def update_candidate(call: Call, data: dict[str, Any]) -> str:
    changed = [field(k, 40) for k in call.args if k not in ("interviewId", "candidateId")]
    return f"Updated candidate ({', '.join(changed) or 'nothing'}):\n{candidate_line(data, call.app_url)}"


def _spreadsheet_safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def invites_csv(data: Any, app_url: str | None) -> str:
    """Every candidate of an interview as CSV: name, email, id, invite URL, session id."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", "email", "candidateId", "inviteUrl", "sessionId"])
    for c in dicts(data):
        writer.writerow(
            [
                _spreadsheet_safe(flat(c.get("name"), 200)),
                _spreadsheet_safe(flat(c.get("email"), 200)),
                flat(c.get("id"), 80),
                flat(invite_url(c, app_url) or raw(c.get("inviteToken")), 400),
                flat(c.get("sessionId"), 80),
            ]
        )
    return out.getvalue()
