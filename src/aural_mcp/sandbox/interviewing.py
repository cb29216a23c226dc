"""A candidate taking an interview in the browser: the sessions behind the sandbox's candidate pages.

A session starts IN_PROGRESS when the candidate presses Start, and each typed answer is appended
to its transcript at once, with the scripted interviewer's next turn, in the same messages a
simulated session holds (`simulate`'s lines), so every reader of sessions sees it unchanged. The
last answer completes it with the sandbox's scoring (`scoring.analyse`).

The candidate's progress lives here, not in the browser: `candidate_pages` maps an unguessable
page id to its session, the questions as they were when it started, how many are answered and the
page's CSRF token. Every step runs in one transaction, so a form posted twice stores one answer.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from aural_mcp.sandbox import simulate
from aural_mcp.sandbox.scoring import analyse
from aural_mcp.sandbox.store import Store, dumps, loads, new_id, parse_iso


class Refused(Exception):
    """A step the session cannot take (it has ended, or the step is not the next one)."""


@dataclass
class Progress:
    """A candidate page's session as the page shows it."""

    page_id: str
    csrf: str
    session: dict[str, Any]
    interview: dict[str, Any]
    questions: list[dict[str, Any]]
    answered: int

    @property
    def in_progress(self) -> bool:
        return self.session.get("status") == "IN_PROGRESS"

    @property
    def current(self) -> dict[str, Any] | None:
        """The question waiting for an answer (None once all are answered or the session ended)."""
        if not self.in_progress or self.answered >= len(self.questions):
            return None
        return self.questions[self.answered]


def new_token() -> str:
    return secrets.token_urlsafe(24)


def page_of_session(store: Store, session_id: str) -> str | None:
    row = store.one("SELECT id FROM candidate_pages WHERE session_id=?", session_id)
    return str(row["id"]) if row else None


def page_of_start(store: Store, start_key: str) -> str | None:
    row = store.one("SELECT id FROM candidate_pages WHERE start_key=?", start_key)
    return str(row["id"]) if row else None


def start(
    store: Store,
    interview: dict[str, Any],
    *,
    name: str,
    email: str | None,
    candidate: dict[str, Any] | None = None,
    start_key: str | None = None,
) -> str:
    """Start a session (IN_PROGRESS, the greeting and the first question asked) and return its
    page id. The same `start_key` (one per rendered start form) or the same invited candidate
    returns the page already started instead of a second session."""
    with store.tx():
        if start_key and (existing := page_of_start(store, start_key)):
            return existing
        if candidate is not None:
            candidate = store.get("candidates", candidate["id"]) or candidate  # as of this transaction
            if candidate.get("sessionId"):
                existing = page_of_session(store, candidate["sessionId"])
                if existing is None:
                    raise Refused("There is already a session for this invitation.")
                return existing
        questions = store.questions_of(interview["id"])
        sid = new_id()
        opened = store.now()
        row = simulate.new_session_row(sid, interview, candidate, name, email, opened)
        store.save_session(row, insert=True)
        messages = [
            simulate.message_row(sid, "SYSTEM", simulate.SESSION_STARTED, parse_iso(opened)),
            _message(store, sid, "ASSISTANT", simulate.greeting(interview, name)),
        ]
        if questions:
            q = questions[0]
            messages.append(_message(store, sid, "ASSISTANT", simulate.question_prompt(q), q["id"]))
        store.insert_messages(sid, messages)
        row["updatedAt"] = messages[-1]["timestamp"]
        if not questions:  # nothing to ask: the session is over as soon as it starts
            _finish(store, row, interview, [], [])
        store.save_session(row)
        if candidate is not None:
            candidate["sessionId"] = sid
            store.save_candidate(candidate)
        page_id = new_token()
        state = {"csrf": new_token(), "questions": questions, "answers": []}
        store.conn.execute(
            "INSERT INTO candidate_pages (id, session_id, start_key, data) VALUES (?,?,?,?)",
            (page_id, sid, start_key, dumps(state)),
        )
        return page_id


def load(store: Store, page_id: str) -> Progress | None:
    row = store.one("SELECT session_id, data FROM candidate_pages WHERE id=?", page_id)
    if row is None:
        return None
    session = store.get("sessions", row["session_id"])
    if session is None:
        return None
    state = loads(row["data"])
    return Progress(
        page_id=page_id,
        csrf=state["csrf"],
        session=session,
        interview=store.get("interviews", session["interviewId"]) or {},
        questions=state["questions"],
        answered=len(state["answers"]),
    )


def answer(store: Store, page_id: str, step: int, text: str) -> bool:
    """Store `text` as the answer to question `step` (0-based) and ask the next question, or
    complete the session after the last one. Returns False when that step was already answered
    (a form sent twice): nothing is stored again. Raises `Refused` when the session has ended or
    `step` is ahead of the next question."""
    with store.tx():
        row = store.one("SELECT session_id, data FROM candidate_pages WHERE id=?", page_id)
        session = store.get("sessions", row["session_id"]) if row else None
        if row is None or session is None:
            raise Refused("This interview page does not exist.")
        state = loads(row["data"])
        answers: list[str] = state["answers"]
        questions: list[dict[str, Any]] = state["questions"]
        if step < len(answers):
            return False
        if session.get("status") != "IN_PROGRESS":
            raise Refused("This session has ended, so it takes no more answers.")
        if step != len(answers) or step >= len(questions):
            raise Refused("That question is not the one being asked; reload the page.")
        sid = session["id"]
        question = questions[step]
        messages = [_message(store, sid, "USER", text, question["id"])]
        answers.append(text)
        if step + 1 < len(questions):
            following = questions[step + 1]
            messages.append(
                _message(store, sid, "SYSTEM", simulate.moving_to(step + 1, len(questions)), following["id"])
            )
            messages.append(
                _message(store, sid, "ASSISTANT", simulate.question_prompt(following), following["id"])
            )
        store.insert_messages(sid, messages)
        session["updatedAt"] = messages[-1]["timestamp"]
        if len(answers) == len(questions):
            interview = store.get("interviews", session["interviewId"]) or {}
            _finish(store, session, interview, questions, answers)
        store.save_session(session)
        store.conn.execute("UPDATE candidate_pages SET data=? WHERE id=?", (dumps(state), page_id))
        return True


def _message(
    store: Store, sid: str, role: str, content: str, question_id: str | None = None
) -> dict[str, Any]:
    return simulate.message_row(sid, role, content, parse_iso(store.now()), question_id)


def _finish(
    store: Store,
    session: dict[str, Any],
    interview: dict[str, Any],
    questions: list[dict[str, Any]],
    answers: list[str],
) -> None:
    """The farewell, and the session COMPLETED with the sandbox's scoring of the typed answers."""
    sid = session["id"]
    closing = [
        _message(store, sid, "ASSISTANT", simulate.FAREWELL),
        _message(store, sid, "SYSTEM", simulate.SESSION_COMPLETED),
    ]
    store.insert_messages(sid, closing)
    ended = closing[-1]["timestamp"]
    started = parse_iso(session["startedAt"])
    session.update(
        {
            "status": "COMPLETED",
            "completedAt": ended,
            "updatedAt": ended,
            "totalDurationSeconds": max(0, round((parse_iso(ended) - started).total_seconds())),
        }
    )
    session.update(analyse(interview, list(zip(questions, answers, strict=True)), session["participantName"]))
