"""`export`: every session of an interview as one row each, to CSV or JSONL.

A row holds the candidate, status, duration, the overall, criterion and question scores with
their reasons (read by `review.board_row`, the projection `compare_sessions` uses, so the two
never disagree), the summary and the transcript's links. The sessions list is paged to its end.

State: after each export the state file (`<out>.state.json`, beside the output) records every
exported session's `updatedAt` from the sessions list. With `since=True` only sessions that are
new or whose `updatedAt` differs from the recorded one are exported. A session whose read failed
is exported as a row with `error` and not recorded, so the next `--since` export reads it again.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aural_mcp import operations
from aural_mcp.api.errors import AuralError
from aural_mcp.pipelines.progress import Progress, ProgressUpdate, Summary, no_progress
from aural_mcp.server.render import review
from aural_mcp.server.render.safe import as_dict, dicts, raw

if TYPE_CHECKING:
    from aural_mcp.api import AuralClient

FORMATS = ("csv", "jsonl")
LIST_PAGE = 100  # the API's largest sessions page
STATE_VERSION = 1
# A spreadsheet runs a cell that starts with one of these as a formula; candidate text could.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def state_path(out: Path) -> Path:
    """The state file beside the output: `results.csv` → `results.csv.state.json`."""
    return out.with_name(out.name + ".state.json")


def transcripts_dir(out: Path) -> Path:
    """Where CSV `--transcripts` writes one markdown file per session: `results.csv` → `results-transcripts/`."""
    return out.with_name(out.stem + "-transcripts")


def read_state(path: Path, interview_id: str) -> dict[str, str]:
    """The recorded `{sessionId: updatedAt}` of the last export of this interview; {} when none is usable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("interviewId") != interview_id:
        return {}
    sessions = as_dict(data.get("sessions"))
    return {k: v for k, v in sessions.items() if isinstance(k, str) and isinstance(v, str)}


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8", newline="")
    os.replace(tmp, path)


async def _listed_sessions(client: AuralClient, interview_id: str, progress: Progress) -> list[dict[str, Any]]:
    """Every session of the list, paged to the end (each page starts after the last one's cursor)."""
    rows: list[dict[str, Any]] = []
    seen_cursors: set[str] = set()
    cursor: str | None = None
    while True:
        args: dict[str, Any] = {"interviewId": interview_id, "limit": LIST_PAGE}
        if cursor:
            args["cursor"] = cursor
        envelope = await client.call("list_sessions", args)
        rows.extend(dicts(envelope.get("data")))
        progress(ProgressUpdate("export", len(rows), None, "sessions listed"))
        cursor = raw(envelope.get("cursor")) or None
        if cursor is None or cursor in seen_cursors:  # a cursor that repeats would loop forever
            return rows
        seen_cursors.add(cursor)


def _messages(session: dict[str, Any], questions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The compact transcript: spoken messages in order, each with the question it answers."""
    parts, _ = review.transcript_parts(session, questions, None)
    return [
        {"role": raw(m.get("role")) or None, "questionId": raw(q.get("id")) or None if q else None,
         "content": raw(m.get("content"))}
        for q, said in parts for m in said
    ]  # fmt: skip


def _row(board: dict[str, Any], session_id: str, interview_id: str, base_url: str,
         summary: Any, updated_at: str | None) -> dict[str, Any]:  # fmt: skip
    row = {
        "sessionId": session_id,
        "interviewId": interview_id,
        "candidateName": board["candidateName"],
        "candidateEmail": board["candidateEmail"],
        "status": board["status"],
        "durationSeconds": board["durationSeconds"],
        "overallScore": board["overallScore"],
        "criteria": board["criteria"],
        "questions": board["questions"],
        "summary": summary if isinstance(summary, str) else None,
        "updatedAt": updated_at,
        "transcript": {
            "resource": f"aural://sessions/{session_id}/transcript",
            "url": f"{base_url.rstrip('/')}/sessions/{session_id}",
        },
    }
    if board.get("error"):
        row["error"] = board["error"]
    return row


async def export(
    client: AuralClient,
    interview_id: str,
    *,
    fmt: str,
    out: Path,
    transcripts: bool = False,
    since: bool = False,
    progress: Progress = no_progress,
) -> Summary:
    """Write the interview's sessions to `out` (`fmt` csv or jsonl) and record the state beside it.

    Summary: created = sessions exported for the first time, updated = exported again because
    they changed, unchanged = left out by `since`, skipped = list rows without a usable id,
    failed = sessions whose read failed (exported with `error`).
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if not operations.is_uuid(interview_id):
        raise ValueError(f"INTERVIEW_ID must be an interview's UUID, not {operations.show_input(interview_id)}")
    summary = Summary()
    state_file = state_path(out)
    recorded = read_state(state_file, interview_id)
    listed = await _listed_sessions(client, interview_id, progress)
    questions: list[dict[str, Any]] = []
    if transcripts:
        interview = as_dict((await client.call("get_interview", {"interviewId": interview_id})).get("data"))
        questions = review.numbered_questions(interview)
    todo: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in listed:
        sid = raw(item.get("id"))
        if not operations.is_uuid(sid) or sid in seen:
            summary.skipped += 1
            continue
        seen.add(sid)
        if since and sid in recorded and recorded[sid] == (raw(item.get("updatedAt")) or None):
            summary.unchanged += 1
            continue
        todo.append(item)
    rows: list[dict[str, Any]] = []
    sessions: dict[str, dict[str, Any]] = {}
    new_state = dict(recorded)
    for done, item in enumerate(todo, start=1):
        sid = raw(item.get("id"))
        updated_at = raw(item.get("updatedAt")) or None
        try:
            session = as_dict((await client.call("get_session", {"sessionId": sid})).get("data"))
        except AuralError as exc:
            board = review.unread_row(sid, item, f"{exc.code}: {exc.message}")
            rows.append(_row(board, sid, interview_id, client.base_url, item.get("summary"), updated_at))
            summary.failed += 1
        else:
            row = _row(review.board_row(session, interview_id), sid, interview_id, client.base_url,
                       session.get("summary"), updated_at)  # fmt: skip
            if transcripts:
                row["messages"] = _messages(session, questions)
                sessions[sid] = session
            rows.append(row)
            if sid in recorded:
                summary.updated += 1
            else:
                summary.created += 1
            if updated_at is not None:
                new_state[sid] = updated_at
        progress(ProgressUpdate("export", done, len(todo), "sessions", f"{sid} read"))
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "jsonl":
        _write_atomically(out, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    else:
        _write_atomically(out, csv_text(rows))
        if transcripts:
            folder = transcripts_dir(out)
            folder.mkdir(exist_ok=True)
            for r in rows:
                if "messages" in r:
                    _write_atomically(folder / f"{r['sessionId']}.md", transcript_markdown(r, questions))
    state = {"version": STATE_VERSION, "interviewId": interview_id, "sessions": new_state}
    _write_atomically(state_file, json.dumps(state, indent=1, sort_keys=True) + "\n")
    return summary


# ---------------------------------------------------------------- CSV and markdown


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = raw(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_columns(rows: list[dict[str, Any]]) -> list[str]:
    """The fixed columns, then two per criterion and per question, in the order first seen."""
    fixed = ["sessionId", "interviewId", "candidateName", "candidateEmail", "status", "durationSeconds",
             "overallScore", "summary", "updatedAt", "transcriptResource", "transcriptUrl", "error"]  # fmt: skip
    extra: dict[str, None] = {}
    for r in rows:
        for c in r["criteria"]:
            extra.setdefault(f"criterion {c['name']} score")
            extra.setdefault(f"criterion {c['name']} reason")
    for r in rows:
        for q in r["questions"]:
            key = q["questionId"] or q["question"] or "?"
            extra.setdefault(f"question {key} score")
            extra.setdefault(f"question {key} reason")
    return fixed + list(extra)


def csv_record(row: dict[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = {k: row.get(k) for k in (
        "sessionId", "interviewId", "candidateName", "candidateEmail", "status", "durationSeconds",
        "overallScore", "summary", "updatedAt", "error")}  # fmt: skip
    record["transcriptResource"] = row["transcript"]["resource"]
    record["transcriptUrl"] = row["transcript"]["url"]
    for c in row["criteria"]:
        record[f"criterion {c['name']} score"] = c["score"]
        record[f"criterion {c['name']} reason"] = c["reason"]
    for q in row["questions"]:
        key = q["questionId"] or q["question"] or "?"
        record[f"question {key} score"] = q["score"]
        record[f"question {key} reason"] = q["reason"]
    return record


def csv_text(rows: list[dict[str, Any]]) -> str:
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=csv_columns(rows), lineterminator="\r\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: _cell(v) for k, v in csv_record(r).items()})
    return buffer.getvalue()


def transcript_markdown(row: dict[str, Any], questions: list[dict[str, Any]]) -> str:
    """One session's compact transcript as a markdown file: each question once, then who said what."""
    texts = {raw(q.get("id")): (q.get("number"), raw(q.get("text"))) for q in questions}
    name = row["candidateName"] or row["candidateEmail"] or "Anonymous"
    lines = [f"# {name} — {row['sessionId']}", "", f"Status: {row['status'] or '—'}", ""]
    current: str | None = None
    for m in row["messages"]:
        qid = m["questionId"]
        if qid and qid != current:
            current = qid
            number, text = texts.get(qid, ("?", ""))
            lines += ["", f"## Q{number} {' '.join(text.split())}", ""]
            continue  # the interviewer asking it: the heading says it
        speaker = "Interviewer" if m["role"] == "ASSISTANT" else "Candidate"
        lines.append(f"**{speaker}**: {m['content']}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
