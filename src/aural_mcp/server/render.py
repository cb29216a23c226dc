"""Agent-facing text: compact markdown for tool results, and the session transcript.

Each tool result gets a title, the key facts in bold, the ids an agent needs for the next call,
URLs, and one line saying what to do next. Lists are one line per item with the next cursor.
Nothing here is larger than `TEXT_LIMIT` characters (about 7,500 tokens); longer content is cut
with a note saying how to get the rest.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

TEXT_LIMIT = 30_000  # characters of markdown per tool result
STRUCTURED_LIMIT = 50_000  # characters of JSON for structuredContent; both together stay under ~20k tokens
RESOURCE_LIMIT = 80_000  # characters of a resource read (a transcript of a very long session)


def cut(text: str, limit: int, how_to_get_rest: str) -> str:
    """Cut `text` at a line boundary below `limit`, ending with a note on how to read the rest."""
    if len(text) <= limit:
        return text
    head = text[: limit - 300]
    if "\n" in head:
        head = head[: head.rfind("\n")]
    return f"{head}\n\n… cut here ({len(text) - len(head):,} more characters). {how_to_get_rest}"


def _s(value: Any) -> str:
    return "" if value is None else str(value)


def _date(ts: Any) -> str:
    """'2026-03-16T10:20:30.123456+00:00' -> '2026-03-16 10:20'."""
    text = _s(ts)
    return text[:16].replace("T", " ") if len(text) >= 16 else text


def _time(ts: Any) -> str:
    text = _s(ts)
    return text[11:19] if len(text) >= 19 else text


def _one_line(text: Any, limit: int = 160) -> str:
    flat = " ".join(_s(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _duration(seconds: Any) -> str:
    if not isinstance(seconds, int | float):
        return "—"
    m, s = divmod(int(seconds), 60)
    return f"{m} min {s:02d} s" if m else f"{s} s"


def _channels(iv: dict[str, Any]) -> str:
    names = [
        n
        for n, key in (("chat", "chatEnabled"), ("voice", "voiceEnabled"), ("video", "videoEnabled"))
        if iv.get(key)
    ]
    return ", ".join(names) or "none"


def _who(session: dict[str, Any]) -> str:
    name = session.get("participantName") or "Anonymous candidate"
    email = session.get("participantEmail")
    return f"{name} <{email}>" if email else name


def _sentiment(value: Any) -> str:
    if isinstance(value, dict):
        return _s(value.get("overall")) or "—"
    return _s(value) or "—"


# ---------------------------------------------------------------- interviews


def _interview_status(iv: dict[str, Any]) -> str:
    if iv.get("isActive") is False:
        return "archived"
    if iv.get("requireInvite"):
        return "invite-only (not published)"
    return "published"


def interview_markdown(iv: dict[str, Any], *, heading: str = "#") -> str:
    lines = [f"{heading} {iv.get('title') or '(untitled)'}", ""]
    lines.append(f"- **id**: `{iv.get('id')}`")
    lines.append(f"- **status**: {_interview_status(iv)}; slug `{iv.get('publicSlug') or '—'}`")
    lines.append(
        f"- **interviewer**: {iv.get('aiName') or 'Aural'}, tone {iv.get('aiTone') or '—'}, "
        f"follow-ups {iv.get('followUpDepth') or '—'}, language {iv.get('language') or '—'}"
    )
    limit = iv.get("timeLimitMinutes")
    lines.append(f"- **channels**: {_channels(iv)}; time limit {f'{limit} min' if limit else 'none'}")
    count = iv.get("_count") or {}
    if "sessions" in count:
        lines.append(f"- **sessions**: {count['sessions']}")
    if iv.get("objective"):
        lines.append(f"- **objective**: {_one_line(iv['objective'], 400)}")
    if iv.get("description"):
        lines.append(f"- **description**: {_one_line(iv['description'], 400)}")
    for c in iv.get("assessmentCriteria") or []:
        if isinstance(c, dict):
            lines.append(f"- **criterion** {c.get('name')}: {_one_line(c.get('description'), 200)}")
    questions = iv.get("questions")
    if isinstance(questions, list):
        lines += ["", f"{heading}# Questions ({len(questions)})"]
        lines += [question_line(q) for q in questions] or ["(none yet: add_questions)"]
    return "\n".join(lines)


def question_line(q: dict[str, Any]) -> str:
    flags = []
    if q.get("isRequired") is False:
        flags.append("optional")
    if q.get("options"):
        flags.append("options: " + " / ".join(_s(o) for o in q["options"]))
    if q.get("timeLimitSeconds"):
        flags.append(f"{q['timeLimitSeconds']} s")
    extra = f" ({'; '.join(flags)})" if flags else ""
    return f"{q.get('order')}. [{q.get('type')}] {_one_line(q.get('text'), 200)}{extra} — `{q.get('id')}`"


def _list_interviews(args: dict[str, Any], data: Any, cursor: Any) -> str:
    lines = [f"# Interviews ({len(data)} on this page)"]
    for iv in data:
        count = iv.get("_count") or {}
        lines.append(
            f"- **{_one_line(iv.get('title'), 80)}** — `{iv.get('id')}` · {_interview_status(iv)} · "
            f"{count.get('questions', '?')} questions · {count.get('sessions', '?')} sessions · "
            f"updated {_date(iv.get('updatedAt'))}"
        )
    if not data:
        lines.append("No interviews yet. Next: create_interview.")
    if cursor:
        lines.append(f"\nMore: call list_interviews with cursor `{cursor}` for the next page.")
    else:
        lines.append("\nNext: get_interview with an interviewId.")
    return "\n".join(lines)


def _get_interview(args: dict[str, Any], data: Any, cursor: Any) -> str:
    nxt = (
        "add_questions"
        if not data.get("questions")
        else ("publish_interview" if _interview_status(data).startswith("invite") else "list_sessions")
    )
    return f"{interview_markdown(data)}\n\nNext: {nxt} with interviewId `{data.get('id')}`."


def _create_interview(args: dict[str, Any], data: Any, cursor: Any) -> str:
    return (
        f"Created interview **{data.get('title')}** — id `{data.get('id')}`, invite-only, slug "
        f"`{data.get('publicSlug')}`; channels {_channels(data)}.\n"
        f"Next: add_questions with interviewId `{data.get('id')}`, then publish_interview."
    )


def _update_interview(args: dict[str, Any], data: Any, cursor: Any) -> str:
    changed = [k for k in args if k != "interviewId"]
    return (
        f"Updated interview **{data.get('title')}** `{data.get('id')}`: {', '.join(changed) or 'nothing'}.\n"
        f"Status: {_interview_status(data)}. Next: get_interview to review it."
    )


def _archive_interview(args: dict[str, Any], data: Any, cursor: Any) -> str:
    return (
        f"Archived interview `{data.get('id')}`: the public link no longer admits candidates. Sessions, questions "
        "and candidates stay readable. publish_interview un-archives it."
    )


def _publish_interview(args: dict[str, Any], data: Any, cursor: Any) -> str:
    return (
        f"Published interview `{data.get('id')}`: anyone with the link can start it.\n"
        f"- **url**: {data.get('url')}\n- **slug**: `{data.get('publicSlug')}`\n"
        f"Next: add_candidates with interviewId `{data.get('id')}` for personal invite links, or share the url."
    )


# ---------------------------------------------------------------- questions


def _list_questions(args: dict[str, Any], data: Any, cursor: Any) -> str:
    lines = [f"# Questions of interview `{args.get('interviewId')}` ({len(data)})"]
    lines += [question_line(q) for q in data] or ["No questions yet. Next: add_questions."]
    return "\n".join(lines)


def _add_questions(args: dict[str, Any], data: Any, cursor: Any) -> str:
    lines = [f"Added {len(data)} question(s) to interview `{args.get('interviewId')}`:"]
    lines += [question_line(q) for q in data]
    lines.append(
        f"\nNext: publish_interview with interviewId `{args.get('interviewId')}` when the set is complete."
    )
    return "\n".join(lines)


def _update_question(args: dict[str, Any], data: Any, cursor: Any) -> str:
    changed = [k for k in args if k != "questionId"]
    return f"Updated question ({', '.join(changed) or 'nothing'}):\n{question_line(data)}\nOther questions keep their order."


def _delete_question(args: dict[str, Any], data: Any, cursor: Any) -> str:
    return (
        f"Deleted question `{data.get('id')}` permanently. Other questions keep their order (a gap remains)."
    )


# ---------------------------------------------------------------- candidates


def _candidate_line(c: dict[str, Any]) -> str:
    name = c.get("name") or "(no name)"
    email = f" <{c['email']}>" if c.get("email") else ""
    link = c.get("inviteUrl") or f"token `{c.get('inviteToken')}`"
    started = f"session `{c['sessionId']}`" if c.get("sessionId") else "not started"
    return f"- **{_one_line(name, 60)}**{email} — `{c.get('id')}` · {link} · {started}"


def _list_candidates(args: dict[str, Any], data: Any, cursor: Any) -> str:
    lines = [f"# Candidates of interview `{args.get('interviewId')}` ({len(data)})"]
    lines += [_candidate_line(c) for c in data] or ["No candidates yet. Next: add_candidates."]
    if data:
        lines.append("\nInvite links: <app>/i/invite/<token> (add_candidates returns the full inviteUrl).")
    return "\n".join(lines)


def _add_candidates(args: dict[str, Any], data: Any, cursor: Any) -> str:
    lines = [
        f"Added {len(data)} candidate(s) to interview `{args.get('interviewId')}`; send each their inviteUrl:"
    ]
    lines += [_candidate_line(c) for c in data]
    lines.append("\nNext: list_sessions later to follow who has taken it.")
    return "\n".join(lines)


def _update_candidate(args: dict[str, Any], data: Any, cursor: Any) -> str:
    changed = [k for k in args if k not in ("interviewId", "candidateId")]
    return f"Updated candidate ({', '.join(changed) or 'nothing'}):\n{_candidate_line(data)}"


# ---------------------------------------------------------------- sessions


def _session_line(s: dict[str, Any]) -> str:
    count = (s.get("_count") or {}).get("messages")
    msgs = f" · {count} messages" if count is not None else ""
    summary = f" — {_one_line(s['summary'], 120)}" if s.get("summary") else ""
    return (
        f"- **{_one_line(_who(s), 80)}** — `{s.get('id')}` · {s.get('status')} · {_date(s.get('createdAt'))} · "
        f"{_duration(s.get('totalDurationSeconds'))} · sentiment {_sentiment(s.get('sentiment'))}{msgs}{summary}"
    )


def _list_sessions(args: dict[str, Any], data: Any, cursor: Any) -> str:
    lines = [f"# Sessions of interview `{args.get('interviewId')}` ({len(data)} on this page)"]
    lines += [_session_line(s) for s in data] or [
        "No sessions yet: candidates create them by opening their links."
    ]
    if cursor:
        lines.append(f"\nMore: call list_sessions with the same interviewId and cursor `{cursor}`.")
    if data:
        lines.append("Next: get_session, or read aural://sessions/{sessionId}/transcript.")
    return "\n".join(lines)


def scores_markdown(insights: Any) -> list[str]:
    """Key insights and per-criterion/per-question evaluations, whatever shape they come in."""
    if not isinstance(insights, dict):
        return []
    lines: list[str] = []
    for item in insights.get("keyInsights") or []:
        lines.append(f"- {_one_line(item, 300)}")
    for key, label in (("criteriaEvaluations", "criterion"), ("questionEvaluations", "question")):
        for ev in insights.get(key) or []:
            if not isinstance(ev, dict):
                continue
            name = (
                ev.get("name") or ev.get("criterion") or ev.get("question") or ev.get("questionText") or label
            )
            score = ev.get("score")
            score_text = f"**{score}**" if score is not None else "—"
            note = ev.get("evidence") or ev.get("feedback") or ev.get("comment") or ev.get("summary")
            lines.append(
                f"- {label} {_one_line(name, 100)}: {score_text}"
                + (f" — {_one_line(note, 200)}" if note else "")
            )
    return lines


def session_markdown(s: dict[str, Any], *, transcript_limit: int | None = None) -> str:
    """A session's facts, analysis and (optionally) the first messages of its transcript."""
    iv = s.get("interview") or {}
    lines = [f"# Session of {_who(s)}", ""]
    lines.append(f"- **id**: `{s.get('id')}`")
    if iv:
        lines.append(f"- **interview**: {iv.get('title')} `{iv.get('id')}`")
    lines.append(
        f"- **status**: {s.get('status')}; started {_date(s.get('createdAt'))}; {_duration(s.get('totalDurationSeconds'))}"
    )
    lines.append(f"- **sentiment**: {_sentiment(s.get('sentiment'))}")
    if isinstance(s.get("sentiment"), dict) and s["sentiment"].get("details"):
        lines.append(f"  {_one_line(s['sentiment']['details'], 300)}")
    if s.get("themes"):
        lines.append(f"- **themes**: {', '.join(_s(t) for t in s['themes'])}")
    if s.get("summary"):
        lines += ["", "## Summary", _s(s["summary"]).strip()]
    scores = scores_markdown(s.get("insights"))
    if scores:
        lines += ["", "## Insights and scores", *scores]
    messages = s.get("messages")
    if isinstance(messages, list):
        spoken = [m for m in messages if m.get("role") != "SYSTEM"]
        lines += ["", f"## Transcript ({len(spoken)} messages)"]
        shown = spoken if transcript_limit is None else spoken[:transcript_limit]
        interviewer = _s(iv.get("aiName")) or "Interviewer"
        candidate = s.get("participantName") or "Candidate"
        for m in shown:
            who = interviewer if m.get("role") == "ASSISTANT" else candidate
            lines.append(f"- **{who}**: {_one_line(m.get('content'), 300)}")
        if len(shown) < len(spoken):
            lines.append(
                f"- … {len(spoken) - len(shown)} more: read aural://sessions/{s.get('id')}/transcript"
            )
    return "\n".join(lines)


def _get_session(args: dict[str, Any], data: Any, cursor: Any) -> str:
    text = session_markdown(data, transcript_limit=12)
    return f"{text}\n\nNext: the full transcript is the resource aural://sessions/{data.get('id')}/transcript; media in get_session_report."


def _get_session_report(args: dict[str, Any], data: Any, cursor: Any) -> str:
    sid = args.get("sessionId")
    lines = [f"# Report: {data.get('interviewTitle')} — {_who(data)}", ""]
    lines.append(
        f"- **session**: `{sid}`; status {data.get('status')}; {_duration(data.get('totalDurationSeconds'))}"
    )
    lines.append(
        f"- **sentiment**: {_sentiment(data.get('sentiment'))}; themes: {', '.join(_s(t) for t in data.get('themes') or []) or '—'}"
    )
    if data.get("summary"):
        lines += ["", "## Summary", _s(data["summary"]).strip()]
    scores = scores_markdown(data.get("insights"))
    if scores:
        lines += ["", "## Insights and scores", *scores]
    recs = data.get("audioRecordings") or []
    shots = data.get("screenshots") or []
    log = data.get("antiCheatingLog") or []
    lines += ["", "## Media (signed URLs expire after 24 hours; keep the sessionId, not the URLs)"]
    if data.get("audioRecordingUrl"):
        lines.append(f"- audio: {data['audioRecordingUrl']}")
    lines.append(
        f"- {len(recs)} audio segment(s), {len(shots)} screenshot(s), {len(data.get('messages') or [])} messages"
    )
    if log:
        kinds: dict[str, int] = {}
        for e in log:
            if isinstance(e, dict):
                kinds[_s(e.get("type"))] = kinds.get(_s(e.get("type")), 0) + 1
        lines.append("- anti-cheating log: " + ", ".join(f"{k} ×{v}" for k, v in sorted(kinds.items())))
    else:
        lines.append("- anti-cheating log: empty")
    lines.append(f"\nNext: aural://sessions/{sid}/transcript for the conversation.")
    return "\n".join(lines)


def _end_sessions(args: dict[str, Any], data: Any, cursor: Any) -> str:
    dry = data.get("dryRun")
    results = data.get("results") or []
    counts: dict[str, int] = {}
    for r in results:
        counts[_s(r.get("status"))] = counts.get(_s(r.get("status")), 0) + 1
    head = "Dry run (nothing changed)" if dry else "Ended sessions"
    lines = [f"{head}: " + (", ".join(f"{v} {k}" for k, v in counts.items()) or "no results")]
    for r in results:
        reason = f" — {r['reason']}" if r.get("reason") else ""
        lines.append(f"- `{r.get('id')}`: {r.get('status')}{reason}")
    if dry and counts.get("eligible"):
        lines.append("\nNext: call end_sessions again with the same ids and dryRun false to end them.")
    if not dry and counts.get("skipped"):
        lines.append(
            "\nSkipped sessions were not in progress: already ended (perhaps by an earlier attempt of this "
            "call), abandoned, or not in this interview. get_session shows each one's status."
        )
    return "\n".join(lines)


# ---------------------------------------------------------------- practices and usage


def _list_practices(args: dict[str, Any], data: Any, cursor: Any) -> str:
    lines = [f"# Your practice runs of interview `{args.get('interviewId')}` ({len(data)})"]
    for p in data:
        lines.append(
            f"- `{p.get('id')}` · {p.get('status')} · {_date(p.get('createdAt'))} · {p.get('attemptCount', '?')} attempts · "
            f"average {p.get('averageScore', '—')} · best {p.get('bestScore', '—')}"
        )
    if not data:
        lines.append(
            "No practice runs (practices are the key owner's own rehearsals, not candidate sessions)."
        )
    else:
        lines.append("\nNext: get_practice with a practiceId.")
    return "\n".join(lines)


def _get_practice(args: dict[str, Any], data: Any, cursor: Any) -> str:
    session = data.get("session") or {}
    iv = data.get("interview") or {}
    questions = {q.get("id"): q for q in data.get("questions") or [] if isinstance(q, dict)}
    lines = [f"# Practice `{args.get('practiceId')}` of {iv.get('title') or 'an interview'}", ""]
    lines.append(f"- **status**: {session.get('status', '—')}; {len(data.get('attempts') or [])} attempts")
    for a in data.get("attempts") or []:
        q = questions.get(a.get("questionId")) or {}
        lines.append(
            f"- {_one_line(q.get('text') or a.get('questionId'), 100)}: score **{a.get('score', '—')}** — "
            f"{_one_line(a.get('feedback') or a.get('answerText'), 200)}"
        )
    return "\n".join(lines)


def _get_usage(args: dict[str, Any], data: Any, cursor: Any) -> str:
    lines = [f"# Usage — plan {data.get('plan')}"]
    for key in ("templates", "session_hours", "ai_tokens", "seats"):
        q = data.get(key)
        if isinstance(q, dict):
            limit = q.get("limit")
            lines.append(f"- **{key}**: {q.get('used')} used of {'unlimited' if limit is None else limit}")
    return "\n".join(lines)


_RENDERERS: dict[str, Callable[[dict[str, Any], Any, Any], str]] = {
    "list_interviews": _list_interviews,
    "get_interview": _get_interview,
    "create_interview": _create_interview,
    "update_interview": _update_interview,
    "archive_interview": _archive_interview,
    "publish_interview": _publish_interview,
    "list_questions": _list_questions,
    "add_questions": _add_questions,
    "update_question": _update_question,
    "delete_question": _delete_question,
    "list_candidates": _list_candidates,
    "add_candidates": _add_candidates,
    "update_candidate": _update_candidate,
    "list_sessions": _list_sessions,
    "get_session": _get_session,
    "get_session_report": _get_session_report,
    "end_sessions": _end_sessions,
    "list_practices": _list_practices,
    "get_practice": _get_practice,
    "get_usage": _get_usage,
}

_REST_HINTS = {
    "list_interviews": "Use a smaller limit and the cursor for the next page.",
    "list_sessions": "Use a smaller limit and the cursor for the next page.",
    "list_practices": "Use a smaller limit.",
    "get_session": "Read aural://sessions/{sessionId}/transcript for the whole transcript.",
    "get_session_report": "Read aural://sessions/{sessionId}/transcript for the whole transcript.",
}


def render_result(op_name: str, args: dict[str, Any], envelope: dict[str, Any]) -> str:
    data = envelope.get("data")
    cursor = envelope.get("cursor")
    renderer = _RENDERERS.get(op_name)
    expected_list = op_name.startswith("list_") or op_name in ("add_questions", "add_candidates")
    if (
        renderer is None
        or (expected_list != isinstance(data, list))
        or (not expected_list and not isinstance(data, dict))
    ):
        text = f"```json\n{json.dumps(data, indent=1, ensure_ascii=False, default=str)}\n```"
    else:
        text = renderer(args, data, cursor)
    hint = _REST_HINTS.get(op_name, "Narrow the request.").replace("{sessionId}", _s(args.get("sessionId")))
    return cut(text, TEXT_LIMIT, hint)


def fit_structured(op_name: str, args: dict[str, Any], envelope: dict[str, Any]) -> dict[str, Any]:
    """The envelope as structuredContent, with its longest list cut if the JSON is too large."""
    out: dict[str, Any] = {"data": envelope.get("data")}
    if "cursor" in envelope:
        out["cursor"] = envelope["cursor"]
    size = len(json.dumps(out, default=str))
    if size <= STRUCTURED_LIMIT:
        return out
    data = out["data"]
    if isinstance(data, list):
        keep = max(1, int(len(data) * STRUCTURED_LIMIT / size))
        out["data"] = data[:keep]
        out["truncated"] = f"{keep} of {len(data)} items; {_REST_HINTS.get(op_name, 'use a smaller limit')}"
        return out
    if isinstance(data, dict):
        lists = [(k, v) for k, v in data.items() if isinstance(v, list) and v]
        if lists:
            key, items = max(lists, key=lambda kv: len(json.dumps(kv[1], default=str)))
            other = size - len(json.dumps(items, default=str))
            room = max(0, STRUCTURED_LIMIT - other)
            keep = max(0, int(len(items) * room / max(1, size - other)))
            out["data"] = {**data, key: items[:keep]}
            hint = _REST_HINTS.get(op_name, "").replace("{sessionId}", _s(args.get("sessionId")))
            out["truncated"] = f"data.{key}: {keep} of {len(items)} items. {hint}".strip()
            return out
    return {"truncated": f"the result ({size:,} characters) is too large to return. Narrow the request."}


# ---------------------------------------------------------------- transcript


def transcript_markdown(
    s: dict[str, Any], *, interviewer: str | None = None, questions: list[dict[str, Any]] | None = None
) -> str:
    """A session transcript a person can read: speakers named, question by question, timestamps.

    SYSTEM messages (navigation) are shown discreetly in italics; scores follow at the end.
    """
    iv = s.get("interview") or {}
    ai = interviewer or _s(iv.get("aiName")) or "Interviewer"
    candidate = s.get("participantName") or "Candidate"
    lines = [f"# Transcript — {iv.get('title') or 'interview'}", ""]
    lines.append(f"**Candidate:** {_who(s)}  ")
    lines.append(f"**Interviewer:** {ai}  ")
    lines.append(
        f"**Session:** `{s.get('id')}` · {s.get('status')} · started {_date(s.get('createdAt'))} · "
        f"{_duration(s.get('totalDurationSeconds'))}"
    )
    question = 0
    questions_by_text = {
        _norm(q.get("text")): q.get("text") for q in questions or [] if isinstance(q, dict) and q.get("text")
    }
    texts = list(questions_by_text)
    last_day = _s(s.get("createdAt"))[:10]
    for m in s.get("messages") or []:
        role = m.get("role")
        content = _s(m.get("content")).strip()
        ts = _s(m.get("timestamp"))
        day = ts[:10]
        stamp = _time(ts) if day == last_day or not day else f"{day} {_time(ts)}"
        last_day = day or last_day
        if role == "SYSTEM":
            lines.append(f"\n<sub>[{stamp}] _{_one_line(content, 200)}_</sub>")
            continue
        asked = _asked(m, content, texts) if role == "ASSISTANT" else None
        if asked is not None:
            question += 1
            title = f" — {_one_line(questions_by_text.get(asked), 100)}" if asked else ""
            lines += ["", f"## Question {question}{title}"]
        speaker = ai if role == "ASSISTANT" else candidate
        lines.append(f"\n**{speaker}** <sub>{stamp}</sub>  \n{content}")
    if not s.get("messages"):
        lines += ["", "_No messages yet._"]
    tail = []
    if s.get("summary"):
        tail += ["## Summary", _s(s["summary"]).strip(), ""]
    scores = scores_markdown(s.get("insights"))
    if scores:
        tail += ["## Scores and insights", *scores, ""]
    if s.get("themes"):
        tail += [f"**Themes:** {', '.join(_s(t) for t in s['themes'])}  "]
    if s.get("sentiment"):
        tail += [f"**Sentiment:** {_sentiment(s['sentiment'])}"]
    if tail:
        lines += ["", "---", "", *tail]
    text = "\n".join(lines).rstrip() + "\n"
    return cut(
        text,
        RESOURCE_LIMIT,
        f"The rest is in get_session with sessionId {s.get('id')} (structured messages).",
    )


def _norm(text: Any) -> str:
    return " ".join(_s(text).lower().split())


def _asked(m: dict[str, Any], content: str, texts: list[str]) -> str | None:
    """The (normalised) question this interviewer message asks: "" if unknown, None if not a new question."""
    if m.get("isFollowUp"):
        return None
    if texts:
        said = _norm(content)
        return next((t for t in texts if t and t in said), None)
    return "" if content.rstrip().endswith("?") else None
