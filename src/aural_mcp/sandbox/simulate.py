"""Simulated candidate sessions and practice runs: the sandbox's stand-in for real interviews.

A scripted interviewer (ASSISTANT) asks every question in order, with SYSTEM navigation
messages as the real transcripts have; the candidate (USER) answers with the caller's answers or
with deterministic answers generated from a seed (`answers`). Completed sessions get a summary,
themes, sentiment and insights from the sandbox's heuristic scoring (`scoring`), which is NOT
Aural's model. Here the sessions, their messages and practice runs are written to the store.

A session can also happen over time (`completeAfterSeconds`, `abandonAfterSeconds`): it starts
IN_PROGRESS now, and the rest of its script is stored as a plan (`session_plans`: each message
with the time it arrives, and what the session is when it ends). No thread or timer runs it:
`apply_due_plans`, run first by every keyed request, writes what has come due.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from aural_mcp.sandbox import coerce as js
from aural_mcp.sandbox.answers import (
    ANSWERING_PROFILES,
    PROFILES,
    answers_for,
    generated_answer,
    profile_for_seed,
)
from aural_mcp.sandbox.errors import bad_request
from aural_mcp.sandbox.scoring import SCORING_LABEL, analyse, score_answer
from aural_mcp.sandbox.store import Store, dumps, iso, new_id, parse_iso
from aural_mcp.sandbox.words import question_text
from aural_mcp.shapes import option_labels

STATUSES = ("COMPLETED", "IN_PROGRESS", "ABANDONED")
# A session that happens over time: the option that times it, and the status it ends in.
TIMED_ENDINGS = {"completeAfterSeconds": "COMPLETED", "abandonAfterSeconds": "ABANDONED"}
ENDS_AT_FIELDS = {"COMPLETED": "completesAt", "ABANDONED": "abandonsAt"}  # in the simulate answer
MAX_TIMED_SECONDS = 86_400


# The scripted interviewer's lines, shared with the candidate pages' sessions (sandbox.interviewing),
# so both kinds of session read the same to every reader of a transcript.
SESSION_STARTED = "Session started: chat interview, candidate joined."
FAREWELL = "Thank you, that was the last question. We'll be in touch soon."
SESSION_COMPLETED = "Session completed."


def greeting(interview: dict[str, Any], name: str) -> str:
    ai = interview.get("aiName") or "Aural"
    return f"Hi {name}, I'm {ai}. Thanks for joining \"{interview.get('title')}\". Let's begin."


def moving_to(index: int, total: int) -> str:
    """The SYSTEM line before question `index` (0-based) of `total`."""
    return f"Moving to question {index + 1} of {total}."


def question_prompt(question: dict[str, Any]) -> str:
    """The interviewer's turn that asks `question`: its text, and its options for a choice question."""
    prompt = question_text(question)
    if labels := option_labels(question.get("options")):
        prompt += " Options: " + ", ".join(labels) + "."
    return prompt


def message_row(
    session_id: str, role: str, content: str, at: Any, question_id: str | None = None
) -> dict[str, Any]:
    """A message row with the database's defaults."""
    words = len(content.split())
    return {
        "id": new_id(),
        "sessionId": session_id,
        "role": role,
        "content": content,
        "contentType": "TEXT",
        "audioUrl": None,
        "audioDurationSeconds": None,
        "transcription": None,
        "whiteboardData": None,
        "whiteboardImageUrl": None,
        "whiteboardPages": 1,
        "questionId": question_id,
        "isFollowUp": False,
        "parentMessageId": None,
        "sentiment": None,
        "wordCount": words,
        "readingTimeSeconds": max(1, round(words / 4)),
        "timestamp": iso(at),
    }


def new_session_row(
    sid: str, interview: dict[str, Any], candidate: dict[str, Any] | None, name: Any, email: Any, at: str
) -> dict[str, Any]:
    """A session just started at `at`: IN_PROGRESS, nothing analysed yet (simulated and browser-taken alike)."""
    return {
        "id": sid,
        "interviewId": interview["id"],
        "candidateId": candidate["id"] if candidate else None,
        "status": "IN_PROGRESS",
        "participantName": name,
        "participantEmail": email,
        "summary": None,
        "insights": None,
        "themes": [],
        "sentiment": None,
        "totalDurationSeconds": None,
        "startedAt": at,
        "completedAt": None,
        "antiCheatingLog": [],
        "createdAt": at,
        "updatedAt": at,
    }


def validate_options(body: Any) -> dict[str, Any]:
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise bad_request("Expected a JSON object.")
    for name in ("participantName", "participantEmail", "candidateId"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise bad_request(f"{name} must be a string.")
    _answers_and_seed(body)
    profile = body.get("profile")
    if profile is not None and profile not in PROFILES:
        raise bad_request(f"profile must be one of {', '.join(PROFILES)}.")
    status = body.get("status")
    if status is not None and status not in STATUSES:
        raise bad_request(f"status must be one of {', '.join(STATUSES)}.")
    timed = [name for name in TIMED_ENDINGS if body.get(name) is not None]
    for name in timed:
        value = body[name]
        if not (js.is_number(value) and 0 < value <= MAX_TIMED_SECONDS):  # NaN and Infinity fail too
            got = "" if js.is_number(value) else f" (got {js.js_type(value)})"
            raise bad_request(
                f"{name} must be a number of seconds greater than 0 and at most {MAX_TIMED_SECONDS}{got}."
            )
    if len(timed) > 1:
        raise bad_request(
            "Send completeAfterSeconds or abandonAfterSeconds, not both: a session ends only one way."
        )
    if timed and status is not None:
        raise bad_request(
            f"status describes a session that has already happened: leave it out with {timed[0]}, "
            f"which starts the session IN_PROGRESS and makes it {TIMED_ENDINGS[timed[0]]} after that many seconds."
        )
    return body


def simulate_session(
    store: Store, interview: dict[str, Any], opts: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Create a session for `interview` (already access-checked).

    Returns the stored session row and, for a session that happens over time
    (`completeAfterSeconds`/`abandonAfterSeconds`), when it ends: `{"completesAt": …}` or
    `{"abandonsAt": …}` (empty for an instant session).
    """
    if not interview.get("isActive"):
        raise bad_request("This interview is archived: publish it again before simulating a session.")
    candidate = None
    if opts.get("candidateId"):
        candidate = store.get("candidates", str(opts["candidateId"]).lower())
        if candidate is None or candidate["interviewId"] != interview["id"]:
            raise bad_request("candidateId is not a candidate of this interview.")
        if candidate.get("sessionId"):
            raise bad_request("This candidate already has a session (candidate.sessionId is set).")
    email = opts.get("participantEmail")
    if candidate is None and interview.get("requireInvite"):
        listed = email and store.one(
            "SELECT id FROM candidates WHERE interview_id=? AND json_extract(data, '$.email')=?",
            interview["id"],
            email.strip().lower(),
        )
        if not listed:
            raise bad_request(
                "This interview is invite-only: publish it first, or pass a candidateId (or the "
                "participantEmail of a listed candidate)."
            )
        candidate = store.get("candidates", listed["id"])
        if candidate and candidate.get("sessionId"):
            candidate = None  # the email may start again through the slug; no link to update
    timed = next((name for name in TIMED_ENDINGS if opts.get(name) is not None), None)
    seed = opts.get("seed")
    rng = random.Random(seed if seed is not None else new_id())
    name = (
        opts.get("participantName")
        or (candidate or {}).get("name")
        or f"Sandbox Candidate {rng.randint(100, 999)}"
    )
    email = email or (candidate or {}).get("email")
    profile = opts.get("profile") or (
        profile_for_seed(seed) if seed is not None else rng.choice(ANSWERING_PROFILES)
    )
    # A timed session ends as its option says; an incomplete candidate has not finished unless the
    # caller says how the session ended.
    status = (
        TIMED_ENDINGS[timed]
        if timed
        else opts.get("status")
        or (rng.choice(("IN_PROGRESS", "ABANDONED")) if profile == "incomplete" else "COMPLETED")
    )
    questions = store.questions_of(interview["id"])
    given = opts.get("answers") or []
    answers = answers_for(
        questions, profile, lambda i: random.Random(f"{seed}:{i}") if seed is not None else rng, given
    )
    asked = len(questions)
    if status == "IN_PROGRESS":
        asked = (len(questions) + 1) // 2
    elif status == "ABANDONED":
        asked = min(1, len(questions))

    sid = new_id()
    # The script: (role, content, question id, seconds since the previous step).
    steps: list[tuple[str, str, str | None, float]] = []
    steps.append(("SYSTEM", SESSION_STARTED, None, 0))
    steps.append(("ASSISTANT", greeting(interview, name), None, 5))
    for i, q in enumerate(questions[:asked]):
        if i > 0:
            steps.append(("SYSTEM", moving_to(i, len(questions)), q["id"], 1))
        steps.append(("ASSISTANT", question_prompt(q), q["id"], 4))
        steps.append(("USER", answers[i], q["id"], 10 + len(answers[i].split()) * 0.5))
    if status == "COMPLETED":
        steps.append(("ASSISTANT", FAREWELL, None, 4))
        steps.append(("SYSTEM", SESSION_COMPLETED, None, 1))
    elif status == "ABANDONED":
        steps.append(("SYSTEM", "Candidate left the session.", None, 30))
    total = sum(s[3] for s in steps)
    # Like a real session, the row is created when the candidate starts (createdAt = startedAt =
    # the first message) and completedAt is the last message. An instant session ends now; a
    # timed one starts now and its steps are stretched (or squeezed) to last the time asked.
    if timed:
        duration = float(opts[timed])
        start = parse_iso(store.now())
        end = start + timedelta(seconds=duration)
    else:
        duration = total
        end = parse_iso(store.now())
        start = end - timedelta(seconds=total)
    scale = duration / total
    created, ended = iso(start), iso(end)
    messages = []
    elapsed = 0.0
    for role, content, qid, secs in steps:
        elapsed += secs
        messages.append(message_row(sid, role, content, start + timedelta(seconds=elapsed * scale), qid))
    messages[-1]["timestamp"] = ended  # exact: the last step ends the session
    row = new_session_row(sid, interview, candidate, name, email, created)
    # What the session is once its last message is in (a timed session: at `end`).
    finished: dict[str, Any] = {"status": status, "updatedAt": ended}
    if status != "IN_PROGRESS":
        finished["totalDurationSeconds"] = round(duration)
    if status == "COMPLETED":
        finished["completedAt"] = ended
        finished.update(
            analyse(interview, list(zip(questions, answers[: len(questions)], strict=False)), name)
        )
        if len(given) < len(questions):  # some answers were generated: say whose
            finished["insights"]["profile"] = profile
    if interview.get("antiCheatingEnabled"):  # a tab switch 42 s into the script, scaled as its steps
        ms = int(start.timestamp() * 1000) + round(42_000 * scale)
        finished["antiCheatingLog"] = [
            {"type": "tab_switch", "timestamp": ms, "detail": "sandbox: one tab switch"}
        ]
    arrived = [m for m in messages if m["timestamp"] <= created] if timed else messages
    if not timed:
        row.update(finished)
    with store.tx():
        store.save_session(row, insert=True)
        store.insert_messages(sid, arrived)
        if timed:
            pending = messages[len(arrived) :]
            plan = {"messages": pending, "endsAt": ended, "finished": finished}
            store.save_plan(sid, pending[0]["timestamp"], plan)
        if candidate is not None:
            candidate["sessionId"] = sid
            store.save_candidate(candidate)
    return row, ({ENDS_AT_FIELDS[status]: ended} if timed else {})


def apply_due_plans(store: Store) -> None:
    """Apply what the plans of timed sessions have due by now, in one transaction: the messages
    that have arrived, and the end of each session whose time has come. Every keyed request runs
    it first, so every reader (in any thread or process sharing the database) sees the same
    session at the same moment. With nothing due it is one indexed lookup."""
    with store.tx():
        now = store.now()
        for row, plan in store.due_plans(now):
            sid = row["id"]
            arrived = [m for m in plan["messages"] if m["timestamp"] <= now]
            pending = plan["messages"][len(arrived) :]
            store.insert_messages(sid, arrived)
            if plan["endsAt"] <= now:
                row.update(plan["finished"])
                store.drop_plan(sid)
            else:
                row["updatedAt"] = arrived[-1]["timestamp"]
                store.save_plan(sid, pending[0]["timestamp"], {**plan, "messages": pending})
            store.save_session(row)


def seed_sessions(store: Store, interview_id: str, n: int, status: str = "COMPLETED") -> list[str]:
    """Insert `n` small sessions quickly (one transaction) for scale tests. Returns their ids."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}")
    rows = []
    msgs = []
    for i in range(n):
        sid = new_id()
        ended = parse_iso(store.now())
        started = ended - timedelta(seconds=60)  # every seeded session lasts a minute
        created = iso(started)
        row: dict[str, Any] = {
            "id": sid,
            "interviewId": interview_id,
            "candidateId": None,
            "status": status,
            "participantName": f"Seeded Candidate {i + 1}",
            "participantEmail": f"seeded{i + 1}@example.com",
            "summary": "Seeded session (sandbox)." if status == "COMPLETED" else None,
            "insights": {"keyInsights": [], "scoring": SCORING_LABEL} if status == "COMPLETED" else None,
            "themes": [],
            "sentiment": {"overall": "neutral", "details": "seeded"} if status == "COMPLETED" else None,
            "totalDurationSeconds": 60 if status != "IN_PROGRESS" else None,
            "startedAt": created,
            "completedAt": iso(ended) if status == "COMPLETED" else None,
            "antiCheatingLog": [],
            "createdAt": created,
            "updatedAt": iso(ended),
        }
        rows.append((interview_id, created, status, 2, 60 if status != "IN_PROGRESS" else 0, dumps(row), sid))
        for j, (role, content, at) in enumerate(
            (("ASSISTANT", "Tell me about yourself.", started), ("USER", "Seeded answer.", ended))
        ):
            m = message_row(sid, role, content, at, None)
            msgs.append((m["id"], sid, m["timestamp"], j, dumps(m)))
    with store.tx() as c:
        c.executemany(
            "INSERT INTO sessions (interview_id, created_at, status, msg_count, duration, data, id)"
            " VALUES (?,?,?,?,?,?,?)",
            rows,
        )
        c.executemany("INSERT INTO messages (id, session_id, ts, seq, data) VALUES (?,?,?,?,?)", msgs)
    return [r[-1] for r in rows]


def simulate_practice(store: Store, interview: dict[str, Any], user_id: str, body: Any) -> dict[str, Any]:
    """A practice run by the key's user: one scored attempt per question."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise bad_request("Expected a JSON object.")
    answers, seed = _answers_and_seed(body)
    status = body.get("status", "COMPLETED")
    if status not in ("COMPLETED", "IN_PROGRESS"):
        raise bad_request("status must be COMPLETED or IN_PROGRESS.")
    rng = random.Random(seed if seed is not None else new_id())
    questions = store.questions_of(interview["id"])
    answers = list(answers or [])
    for i in range(len(answers), len(questions)):
        answers.append(generated_answer(questions[i], rng))  # a practice run is the user's own: solid
    pid = new_id()
    created = store.now()
    duration = 0
    attempts = []
    for q, a in zip(questions, answers, strict=False):
        score, why = score_answer(q, a)
        duration += 20 + len(a.split())
        attempts.append(
            {
                "id": new_id(),
                "practiceSessionId": pid,
                "questionId": q["id"],
                "answerText": a,
                "score": score,
                "feedback": why,
                "followUp": None,
                "audioUrl": None,
                "audioDurationSeconds": None,
                "createdAt": created,
            }
        )
    row = {
        "id": pid,
        "interviewId": interview["id"],
        "userId": user_id,
        "mode": "CHAT",
        "status": status,
        "timed": False,
        "durationLimitMinutes": None,
        "startedAt": created,
        "lastActivityAt": created,
        "completedAt": created if status == "COMPLETED" else None,
        "totalDurationSeconds": duration if status == "COMPLETED" else None,
        "createdAt": created,
    }
    with store.tx() as c:
        c.execute(
            "INSERT INTO practices (id, interview_id, user_id, created_at, data) VALUES (?,?,?,?,?)",
            (pid, interview["id"], user_id, created, dumps(row)),
        )
        c.executemany(
            "INSERT INTO practice_attempts (id, practice_id, question_id, data) VALUES (?,?,?,?)",
            [(a["id"], pid, a["questionId"], dumps(a)) for a in attempts],
        )
    return row


def _answers_and_seed(body: dict[str, Any]) -> tuple[list[str] | None, int | None]:
    """The optional `answers` (strings) and `seed` (integer) of a simulate or practice body."""
    answers = body.get("answers")
    if answers is not None and not (isinstance(answers, list) and all(isinstance(a, str) for a in answers)):
        raise bad_request("answers must be an array of strings.")
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise bad_request("seed must be an integer.")
    return answers, seed
