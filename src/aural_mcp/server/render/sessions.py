"""Sessions, reports, bulk ends and the transcript.

Message counts mean the same everywhere: every message of the session, the interviewer's
navigation notes (role SYSTEM) included, as the API's `_count.messages` counts them. A session's
`createdAt` is when it started.
"""

from __future__ import annotations

from typing import Any

from aural_mcp.server.render.context import Call
from aural_mcp.server.render.fit import RESOURCE_LIMIT, TEXT_LIMIT, fit_lines, rest_hint
from aural_mcp.server.render.practices import score
from aural_mcp.server.render.renderers import renders
from aural_mcp.server.render.safe import (
    Marker,
    as_dict,
    as_list,
    clock,
    code,
    date,
    dicts,
    duration,
    field,
    flat,
    number,
    plural,
    raw,
)

SUMMARY_LIMIT = 4_000  # characters of a summary in a tool result or resource
SCORE_LINES = 60  # insight and evaluation lines shown
MESSAGE_LIMIT = 20_000  # characters of one message in the transcript
GET_SESSION_MESSAGE_CHARS = 300  # characters of each message get_session shows


def who(session: dict[str, Any]) -> str:
    name = field(session.get("participantName"), 80) or "Anonymous candidate"
    email = session.get("participantEmail")
    return f"{name} {code(email, 120)}" if email else name


def candidate_label(session: dict[str, Any], interviewer: str) -> str:
    """The candidate's speaker label: their name, marked when it could pass for the interviewer's."""
    name = field(session.get("participantName"), 60) or "Candidate"
    taken = {interviewer.casefold(), "interviewer", "aural", "system"}
    return f"{name} (candidate)" if name.casefold() in taken else name


def sentiment(value: Any) -> str:
    if isinstance(value, dict):
        return field(value.get("overall"), 40) or "—"
    return field(value, 40) or "—"


def themes(value: Any) -> str:
    items = [field(t, 60) for t in as_list(value)[:20] if t is not None]
    more = len(as_list(value)) - 20
    return ", ".join(items) + (f", … {more} more" if more > 0 else "") if items else "—"


# The keys a score's reason comes under: the API writes `rationale`; dashboard rows and older
# analyses use the others.
REASON_KEYS = ("rationale", "evidence", "feedback", "comment", "summary")


def reason_of(evaluation: dict[str, Any]) -> Any:
    """The reason given for one criterion or question score, whatever its key is called."""
    return next((evaluation[k] for k in REASON_KEYS if evaluation.get(k)), None)


def criterion_scores(insights: Any) -> list[tuple[str, float | None, Any]]:
    """(name, score, reason) of each criterion evaluation in a session's insights."""
    return [
        (raw(ev.get("name") or ev.get("criterion")) or "criterion", number(ev.get("score")), reason_of(ev))
        for ev in dicts(as_dict(insights).get("criteriaEvaluations"))
    ]


def overall_score(insights: Any) -> float | None:
    """The session's overall score: the analysis's own `overallScore` if it has one, else the mean of
    its criterion scores, else the mean of its question scores (0-10, one decimal)."""
    given = number(as_dict(insights).get("overallScore"))
    if given is not None:
        return round(given, 1)
    for key in ("criteriaEvaluations", "questionEvaluations"):
        scores = [n for ev in dicts(as_dict(insights).get(key)) if (n := number(ev.get("score"))) is not None]
        if scores:
            return round(sum(scores) / len(scores), 1)
    return None


def message_count(s: dict[str, Any]) -> int | None:
    """Every message, navigation notes included: the list's length, else the API's `_count`."""
    if isinstance(s.get("messages"), list):
        return len(s["messages"])
    n = number(as_dict(s.get("_count")).get("messages"))
    return int(n) if n is not None else None


def _messages_fact(s: dict[str, Any]) -> str:
    total = message_count(s)
    if total is None:
        return "messages unknown"
    notes = sum(1 for m in dicts(s.get("messages")) if m.get("role") == "SYSTEM")
    return plural(total, "message") + (f" (incl. {plural(notes, 'navigation note')})" if notes else "")


# ---------------------------------------------------------------- lists


def _scores_fact(s: dict[str, Any]) -> str:
    overall = overall_score(s.get("insights"))
    if overall is None:
        return ""
    criteria = ", ".join(
        f"{field(name, 40)} {score(value)}" for name, value, _ in criterion_scores(s.get("insights")) if value is not None
    )
    return f" · score **{score(overall)}**" + (f" ({criteria})" if criteria else "")


def session_line(s: dict[str, Any]) -> str:
    summary = f" — {field(s['summary'], 120)}" if s.get("summary") else ""
    return (
        f"- **{who(s)}** — {code(s.get('id'))} · {field(s.get('status'), 40) or '—'}{_scores_fact(s)} · started "
        f"{date(s.get('createdAt'))} · {duration(s.get('totalDurationSeconds'))} · sentiment "
        f"{sentiment(s.get('sentiment'))} · {_messages_fact(s)}{summary}"
    )


@renders("list_sessions")
def list_sessions(call: Call, data: list[Any]) -> str:
    rows = dicts(data)
    iid = code(call.arg("interviewId"))
    head = [f"# Sessions of interview {iid} ({len(rows)} on this page)"]
    items = [session_line(s) for s in rows] or [
        "No sessions yet: candidates create them by opening their links."
    ]
    tail = []
    if call.cursor:
        tail.append(f"\nMore: call list_sessions with the same interviewId and cursor {code(call.cursor)}.")
    if rows:
        tail.append("Next: compare_sessions to rank them; get_session or get_transcript for one.")

    def left_out(shown: int) -> str:
        last = raw(rows[shown - 1].get("id")) if shown else None
        return f"… {plural(len(rows) - shown, 'more session')} on this page not shown: {rest_hint(call.op, call.args, last)}."

    # A page cut short continues from its last shown item, not from the API's cursor.
    return "\n".join(fit_lines(head, items, tail, left_out, TEXT_LIMIT, tail_when_cut=False))


# ---------------------------------------------------------------- one session


def scores_markdown(insights: Any) -> list[str]:
    """Key insights and per-criterion/per-question evaluations, whatever shape they come in."""
    if not isinstance(insights, dict):
        return []
    lines = [f"- {field(item, 300)}" for item in as_list(insights.get("keyInsights"))]
    for key, label in (("criteriaEvaluations", "criterion"), ("questionEvaluations", "question")):
        for ev in dicts(insights.get(key)):
            name = (
                ev.get("name") or ev.get("criterion") or ev.get("question") or ev.get("questionText") or label
            )
            value = ev.get("score")
            score_text = f"**{score(value)}**" if value is not None else "—"
            note = reason_of(ev)
            lines.append(
                f"- {label} {field(name, 100)}: {score_text}" + (f" — {field(note, 200)}" if note else "")
            )
    if len(lines) > SCORE_LINES:
        return [
            *lines[:SCORE_LINES],
            f"- … {plural(len(lines) - SCORE_LINES, 'more insight line')} not shown",
        ]
    return lines


def _summary(value: Any, marker: Marker) -> list[str]:
    return ["## Summary", marker.block(value, SUMMARY_LIMIT)] if value else []


def session_markdown(
    s: dict[str, Any], *, transcript_limit: int | None = None, marker: Marker | None = None
) -> str:
    """A session's facts, analysis and (optionally) the first messages of its transcript."""
    marker = marker or Marker()
    iv = as_dict(s.get("interview"))
    lines = [f"# Session of {who(s)}", "", marker.note(), ""]
    lines.append(f"- **id**: {code(s.get('id'))}")
    if iv:
        lines.append(f"- **interview**: {field(iv.get('title'), 200)} {code(iv.get('id'))}")
    lines.append(
        f"- **status**: {field(s.get('status'), 40) or '—'}; started {date(s.get('createdAt'))}; "
        f"{duration(s.get('totalDurationSeconds'))}; {_messages_fact(s)}"
    )
    lines.append(f"- **sentiment**: {sentiment(s.get('sentiment'))}")
    details = as_dict(s.get("sentiment")).get("details")
    if details:
        lines.append(f"  {field(details, 300)}")
    if s.get("themes"):
        lines.append(f"- **themes**: {themes(s['themes'])}")
    if s.get("summary"):
        lines += ["", *_summary(s["summary"], marker)]
    scores = scores_markdown(s.get("insights"))
    if scores:
        lines += ["", "## Insights and scores", *scores]
    messages = s.get("messages")
    if isinstance(messages, list) and transcript_limit != 0:
        spoken = [m for m in dicts(messages) if m.get("role") != "SYSTEM"]
        shown = spoken if transcript_limit is None else spoken[:transcript_limit]
        label = f"first {len(shown)} of {len(spoken)}" if len(shown) < len(spoken) else str(len(spoken))
        lines += ["", f"## Transcript ({label} spoken messages)"]
        interviewer = field(iv.get("aiName"), 60) or "Interviewer"
        candidate = candidate_label(s, interviewer)
        shortened = 0
        for m in shown:
            speaker = interviewer if m.get("role") == "ASSISTANT" else candidate
            shortened += len(flat(m.get("content"), MESSAGE_LIMIT)) > GET_SESSION_MESSAGE_CHARS
            lines.append(f"- **{speaker}**: {marker.inline(m.get('content'), GET_SESSION_MESSAGE_CHARS)}")
        cuts = []
        if len(shown) < len(spoken):
            cuts.append(f"{plural(len(spoken) - len(shown), 'more spoken message')} not shown")
        if shortened:
            cuts.append(f"{plural(shortened, 'message')} shortened to {GET_SESSION_MESSAGE_CHARS} characters")
        if cuts:
            lines.append(
                f"- … {'; '.join(cuts)}: get_transcript with sessionId {code(s.get('id'))} returns the whole "
                f"transcript (also aural://sessions/{flat(s.get('id'), 80)}/transcript)"
            )
    return "\n".join(lines)


@renders("get_session")
def get_session(call: Call, data: dict[str, Any]) -> str:
    text = session_markdown(data, transcript_limit=12, marker=call.marker)
    sid = flat(data.get("id"), 80)
    return (
        f"{text}\n\nNext: get_transcript with sessionId `{sid}` for the whole conversation (or the resource "
        f"aural://sessions/{sid}/transcript); compare_sessions to rank candidates; media in get_session_report."
    )


@renders("get_session_report")
def get_session_report(call: Call, data: dict[str, Any]) -> str:
    sid = call.arg("sessionId")
    marker = call.marker
    lines = [f"# Report: {field(data.get('interviewTitle'), 200) or 'interview'} — {who(data)}", ""]
    lines += [marker.note(), ""]
    lines.append(
        f"- **session**: {code(sid)}; status {field(data.get('status'), 40) or '—'}; started "
        f"{date(data.get('createdAt'))}; {duration(data.get('totalDurationSeconds'))}"
    )
    lines.append(f"- **sentiment**: {sentiment(data.get('sentiment'))}; themes: {themes(data.get('themes'))}")
    if data.get("summary"):
        lines += ["", *_summary(data["summary"], marker)]
    scores = scores_markdown(data.get("insights"))
    if scores:
        lines += ["", "## Insights and scores", *scores]
    recordings = as_list(data.get("audioRecordings"))
    shots = as_list(data.get("screenshots"))
    log = dicts(data.get("antiCheatingLog"))
    lines += ["", "## Media (signed URLs expire after 24 hours; keep the sessionId, not the URLs)"]
    if data.get("audioRecordingUrl"):
        lines.append(f"- audio: {code(data['audioRecordingUrl'], 2_000)}")
    lines.append(
        f"- {plural(len(recordings), 'audio segment')}, {plural(len(shots), 'screenshot')}, "
        f"{plural(len(as_list(data.get('messages'))), 'message')}"
    )
    if log:
        kinds: dict[str, int] = {}
        for event in log:
            kind = field(event.get("type"), 40) or "?"
            kinds[kind] = kinds.get(kind, 0) + 1
        lines.append("- anti-cheating log: " + ", ".join(f"{k} ×{v}" for k, v in sorted(kinds.items())))
    else:
        lines.append("- anti-cheating log: empty")
    lines.append(f"\nNext: aural://sessions/{flat(sid, 80)}/transcript for the conversation.")
    return "\n".join(lines)


@renders("end_sessions")
def end_sessions(call: Call, data: dict[str, Any]) -> str:
    dry = data.get("dryRun") is True
    results = dicts(data.get("results"))
    counts: dict[str, int] = {}
    for r in results:
        status = field(r.get("status"), 40) or "?"
        counts[status] = counts.get(status, 0) + 1
    head = "Dry run (nothing changed)" if dry else "Ended sessions"
    lines = [f"{head}: " + (", ".join(f"{v} {k}" for k, v in counts.items()) or "no results")]
    for r in results:
        reason = f" — {field(r['reason'], 200)}" if r.get("reason") else ""
        lines.append(f"- {code(r.get('id'))}: {field(r.get('status'), 40) or '?'}{reason}")
    if dry and counts.get("eligible"):
        lines.append("\nNext: call end_sessions again with the same ids and dryRun false to end them.")
    if not dry and counts.get("skipped"):
        lines.append(
            "\nSkipped sessions were not in progress: already ended (perhaps by an earlier attempt of this "
            "call), abandoned, or not in this interview. get_session shows each one's status."
        )
    return "\n".join(lines)


# ---------------------------------------------------------------- transcript


def transcript_markdown(
    s: dict[str, Any],
    *,
    interviewer: str | None = None,
    questions: list[dict[str, Any]] | None = None,
    marker: Marker | None = None,
    limit: int = RESOURCE_LIMIT,
    rest: str | None = None,
) -> str:
    """A session transcript a person can read: speakers named, question by question, timestamps.

    `limit` bounds the text; `rest` says where the messages a cut leaves out are (default: get_session).

    SYSTEM messages (navigation) are shown discreetly in italics; scores follow at the end.
    Every message is inside the untrusted-data tags.
    """
    marker = marker or Marker()
    s = as_dict(s)
    iv = as_dict(s.get("interview"))
    ai = field(interviewer, 60) or field(iv.get("aiName"), 60) or "Interviewer"
    candidate = candidate_label(s, ai)
    lines = [f"# Transcript — {field(iv.get('title'), 200) or 'interview'}", ""]
    lines.append(f"**Candidate:** {who(s)}  ")
    lines.append(f"**Interviewer:** {ai}  ")
    lines.append(
        f"**Session:** {code(s.get('id'))} · {field(s.get('status'), 40) or '—'} · started "
        f"{date(s.get('createdAt'))} · {duration(s.get('totalDurationSeconds'))} · {_messages_fact(s)}"
    )
    lines += ["", marker.note()]
    question = 0
    questions_by_text = {_norm(q.get("text")): q.get("text") for q in dicts(questions) if q.get("text")}
    texts = list(questions_by_text)
    last_day = raw(s.get("createdAt"))[:10]
    messages = dicts(s.get("messages"))
    items: list[str] = []  # one item per message, so a cut never splits a message's tags
    for m in messages:
        role = m.get("role")
        ts = raw(m.get("timestamp"))
        day = ts[:10]
        stamp = clock(ts) if day == last_day or not day else f"{field(day, 10)} {clock(ts)}"
        last_day = day or last_day
        if role == "SYSTEM":
            items.append(f"\n<sub>[{stamp}] _{field(m.get('content'), 200)}_</sub>")
            continue
        content = raw(m.get("content"))
        asked = _asked(m, content, texts) if role == "ASSISTANT" else None
        heading = ""
        if asked is not None:
            question += 1
            title = f" — {field(questions_by_text.get(asked), 100)}" if asked else ""
            heading = f"\n## Question {question}{title}\n"
        speaker = ai if role == "ASSISTANT" else candidate
        items.append(f"{heading}\n**{speaker}** <sub>{stamp}</sub>\n{marker.block(content, MESSAGE_LIMIT)}")
    if not messages:
        items.append("\n_No messages yet._")
    tail = []
    if s.get("summary"):
        tail += [*_summary(s["summary"], marker), ""]
    scores = scores_markdown(s.get("insights"))
    if scores:
        tail += ["## Scores and insights", *scores, ""]
    if s.get("themes"):
        tail += [f"**Themes:** {themes(s['themes'])}  "]
    if s.get("sentiment"):
        tail += [f"**Sentiment:** {sentiment(s['sentiment'])}"]
    if tail:
        tail = ["", "---", "", *tail]
    sid = flat(s.get("id"), 80)

    def left_out(shown: int) -> str:
        where = rest or f"get_session with sessionId {sid} (structured messages)"
        return f"… cut here: {plural(len(items) - shown, 'more message')} not shown. The rest is in {where}."

    return "\n".join(fit_lines(lines, items, tail, left_out, limit)).rstrip() + "\n"


def _norm(text: Any) -> str:
    return " ".join(raw(text).lower().split())


def _asked(m: dict[str, Any], content: str, texts: list[str]) -> str | None:
    """The (normalised) question this interviewer message asks: "" if unknown, None if not a new question."""
    if m.get("isFollowUp"):
        return None
    if texts:
        said = _norm(content)
        return next((t for t in texts if t and t in said), None)
    return "" if content.rstrip().endswith("?") else None
