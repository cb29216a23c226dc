"""Simulated candidate sessions and practice runs: the sandbox's stand-in for real interviews.

A scripted interviewer (ASSISTANT) asks every question in order, with SYSTEM navigation
messages as the real transcripts have; the candidate (USER) answers with the caller's answers or
with deterministic answers generated from a seed. Completed sessions get a summary, themes,
sentiment and insights from a deterministic heuristic that labels itself as sandbox scoring:
it is NOT Aural's model and its numbers mean nothing about a real candidate.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import timedelta
from typing import Any

from aural_mcp.sandbox.coerce import js_string
from aural_mcp.sandbox.errors import bad_request
from aural_mcp.sandbox.store import Store, dumps, iso, new_id, parse_iso
from aural_mcp.shapes import option_labels

SCORING_LABEL = "sandbox heuristic — not Aural's model"
STATUSES = ("COMPLETED", "IN_PROGRESS", "ABANDONED")

_STOP = set(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "of",
        "to",
        "in",
        "on",
        "for",
        "with",
        "at",
        "by",
        "from",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "i",
        "me",
        "my",
        "we",
        "our",
        "you",
        "your",
        "he",
        "she",
        "they",
        "them",
        "their",
        "what",
        "which",
        "who",
        "whom",
        "how",
        "why",
        "when",
        "where",
        "do",
        "does",
        "did",
        "done",
        "have",
        "has",
        "had",
        "not",
        "no",
        "yes",
        "so",
        "than",
        "then",
        "too",
        "very",
        "can",
        "could",
        "would",
        "should",
        "will",
        "just",
        "about",
        "into",
        "over",
        "also",
        "there",
        "here",
        "more",
        "most",
        "some",
        "such",
        "only",
        "own",
        "same",
        "other",
        "any",
        "each",
        "all",
        "both",
        "few",
    ]
)
_OPENERS = (
    "In my last role I",
    "When I worked on a similar problem, I",
    "Honestly, I",
    "A good example is when I",
    "My approach is that I",
)
_MIDDLES = (
    "started by clarifying the requirements with the team and writing down what {topic} had to achieve",
    "measured the baseline first, because without numbers any change to {topic} is guesswork",
    "broke {topic} into smaller steps and shipped them one at a time behind a flag",
    "looked at how other teams handled {topic} and adapted the parts that fit our constraints",
    "paired with a colleague on {topic} so that two people understood the trade-offs",
)
_ENDINGS = (
    " For example, we cut the error rate by 40% within two sprints.",
    " The result was good, and we documented it so others could reuse it.",
    " It was not perfect; I would test earlier next time.",
    " I learned a lot from it and I enjoyed the collaboration.",
    "",
)
_POSITIVE = {"good", "great", "enjoyed", "learned", "improved", "success", "happy", "love", "cut", "reuse"}
_NEGATIVE = {"not", "bad", "failed", "problem", "hard", "difficult", "never", "unfortunately", "hate"}


def _words(text: str) -> list[str]:
    return re.findall(r"[a-zA-Z][a-zA-Z'\-]+", text.lower())


def _keywords(text: str) -> list[str]:
    return [w for w in _words(text) if w not in _STOP and len(w) > 2]


# Words that frame a question ("Describe a time you designed…") rather than name its subject.
_PROMPT_WORDS = {
    "describe",
    "explain",
    "tell",
    "talk",
    "walk",
    "give",
    "write",
    "pick",
    "choose",
    "share",
    "recent",
    "time",
    "example",
    "designed",
    "built",
    "used",
    "handled",
    "approach",
    "favourite",
}
# The generated answers' own filler: never a theme of what the candidate talked about.
_CHOICE_ANSWER = "I choose {picks}, because it fits how I like to work."
_CODING_ANSWER = "def solve(items):\n    # linear scan, O(n)\n    return sorted(set(items))"
_TEMPLATE_WORDS = set(_words(" ".join((*_OPENERS, *_MIDDLES, *_ENDINGS, _CHOICE_ANSWER, _CODING_ANSWER))))


def _topic_words(text: str) -> list[str]:
    return [w for w in _keywords(text) if w not in _PROMPT_WORDS]


def question_text(question: dict[str, Any]) -> str:
    """The question as text, whatever its row holds (seeded rows may hold anything)."""
    text = question.get("text")
    return "" if text is None else js_string(text)


def generated_answer(question: dict[str, Any], rng: random.Random) -> str:
    options = option_labels(question.get("options"))
    qtype = question.get("type")
    if qtype in ("SINGLE_CHOICE", "MULTIPLE_CHOICE") and options:
        picks = (
            [rng.choice(options)] if qtype == "SINGLE_CHOICE" else rng.sample(options, k=min(2, len(options)))
        )
        return _CHOICE_ANSWER.format(picks=", ".join(picks))
    if qtype == "CODING":
        return _CODING_ANSWER
    words = _topic_words(question_text(question))[:3]
    topic = "the " + " ".join(words) if words else "the problem"
    first, *more = rng.sample(_MIDDLES, k=rng.randint(1, 3))  # distinct steps, never one said twice
    parts = [f"{rng.choice(_OPENERS)} {first.format(topic=topic)}."]
    parts += [f"Then I {middle.format(topic=topic)}." for middle in more]
    parts.append(rng.choice(_ENDINGS).strip())
    return " ".join(p for p in parts if p).strip()


def score_answer(question: str, answer: str) -> tuple[int, str]:
    """1-10: length, overlap with the question's keywords, and concrete detail."""
    words = _words(answer)
    q_keys = set(_keywords(question))
    overlap = len(q_keys & set(words))
    specifics = len(re.findall(r"\d", answer)) > 0
    examples = any(p in answer.lower() for p in ("for example", "because", "the result", "we measured"))
    score = 1 + min(4, len(words) // 12) + min(2, overlap) + (2 if specifics else 0) + (1 if examples else 0)
    score = max(1, min(10, score))
    reasons = [f"{len(words)} words"]
    reasons.append(f"{overlap} of the question's key terms" if q_keys else "no key terms to match")
    if specifics:
        reasons.append("concrete numbers")
    if examples:
        reasons.append("explains reasoning or gives an example")
    return score, "Sandbox heuristic: " + ", ".join(reasons) + "."


def analyse(interview: dict[str, Any], qa: list[tuple[dict[str, Any], str]], name: str) -> dict[str, Any]:
    evaluations = []
    for q, a in qa:
        score, why = score_answer(question_text(q), a)
        evaluations.append(
            {"questionId": q["id"], "question": question_text(q), "score": score, "rationale": why}
        )
    scores = [e["score"] for e in evaluations]
    avg = round(sum(scores) / len(scores), 1) if scores else 0.0
    all_answers = " ".join(a for _, a in qa)
    answer_words = set(_words(all_answers))
    criteria = []
    for c in interview.get("assessmentCriteria") or []:
        terms = set(_keywords(f"{c.get('name', '')} {c.get('description', '')}"))
        hits = len(terms & answer_words)
        score = max(1, min(10, round(avg) + min(2, hits) - (1 if terms and not hits else 0)))
        criteria.append(
            {
                "name": c.get("name"),
                "score": score,
                "rationale": f"Sandbox heuristic: average answer score {avg}, {hits} criterion terms mentioned.",
            }
        )
    counts = Counter(w for w in _topic_words(all_answers) if w not in _TEMPLATE_WORDS)
    themes = [w for w, _ in counts.most_common(4)]
    pos = sum(1 for w in _words(all_answers) if w in _POSITIVE)
    neg = sum(1 for w in _words(all_answers) if w in _NEGATIVE)
    overall = "positive" if pos > neg and avg >= 5 else "negative" if neg > pos and avg < 5 else "neutral"
    best = max(evaluations, key=lambda e: e["score"], default=None)
    weakest = min(evaluations, key=lambda e: e["score"], default=None)
    questions = f"{len(qa)} question" + ("" if len(qa) == 1 else "s")
    key_insights = [f"Answered {questions}; average sandbox score {avg}/10."]
    if best:
        key_insights.append(f'Strongest answer: "{best["question"][:80]}" ({best["score"]}/10).')
    if weakest and weakest is not best:
        key_insights.append(f'Weakest answer: "{weakest["question"][:80]}" ({weakest["score"]}/10).')
    return {
        "summary": (
            f'{name} answered {questions} of "{interview.get("title")}" with an average sandbox score of '
            f"{avg}/10 (sandbox heuristic scoring, not Aural's model). Recurring themes: "
            f"{', '.join(themes) or 'none'}."
        ),
        "themes": themes,
        "sentiment": {
            "overall": overall,
            "details": f"Sandbox heuristic: {pos} positive and {neg} negative cue words in the answers.",
        },
        "insights": {
            "keyInsights": key_insights,
            "questionEvaluations": evaluations,
            "criteriaEvaluations": criteria,
            "scoring": SCORING_LABEL,
        },
    }


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


def validate_options(body: Any) -> dict[str, Any]:
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise bad_request("Expected a JSON object.")
    for name in ("participantName", "participantEmail", "candidateId"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise bad_request(f"{name} must be a string.")
    answers, seed = _answers_and_seed(body)
    status = body.get("status", "COMPLETED")
    if status not in STATUSES:
        raise bad_request(f"status must be one of {', '.join(STATUSES)}.")
    return {**body, "status": status}


def simulate_session(store: Store, interview: dict[str, Any], opts: dict[str, Any]) -> dict[str, Any]:
    """Create a session for `interview` (already access-checked). Returns the stored session row."""
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
    seed = opts.get("seed")
    rng = random.Random(seed if seed is not None else new_id())
    name = (
        opts.get("participantName")
        or (candidate or {}).get("name")
        or f"Sandbox Candidate {rng.randint(100, 999)}"
    )
    email = email or (candidate or {}).get("email")
    status = opts["status"]
    questions = store.questions_of(interview["id"])
    answers = list(opts.get("answers") or [])
    for i in range(len(answers), len(questions)):
        answers.append(
            generated_answer(questions[i], random.Random(f"{seed}:{i}") if seed is not None else rng)
        )
    asked = len(questions)
    if status == "IN_PROGRESS":
        asked = (len(questions) + 1) // 2
    elif status == "ABANDONED":
        asked = min(1, len(questions))

    sid = new_id()
    # Simulated clock: the conversation ends now. Like a real session, the row is created when the
    # candidate starts (createdAt = startedAt = the first message) and completedAt is the end.
    steps: list[tuple[str, str, str | None, float]] = []
    ai = interview.get("aiName") or "Aural"
    steps.append(("SYSTEM", "Session started: chat interview, candidate joined.", None, 0))
    steps.append(
        (
            "ASSISTANT",
            f"Hi {name}, I'm {ai}. Thanks for joining \"{interview.get('title')}\". Let's begin.",
            None,
            5,
        )
    )
    for i, q in enumerate(questions[:asked]):
        if i > 0:
            steps.append(("SYSTEM", f"Moving to question {i + 1} of {len(questions)}.", q["id"], 1))
        prompt = question_text(q)
        if labels := option_labels(q.get("options")):
            prompt += " Options: " + ", ".join(labels) + "."
        steps.append(("ASSISTANT", prompt, q["id"], 4))
        steps.append(("USER", answers[i], q["id"], 10 + len(answers[i].split()) * 0.5))
    if status == "COMPLETED":
        steps.append(("ASSISTANT", "Thank you, that was the last question. We'll be in touch soon.", None, 4))
        steps.append(("SYSTEM", "Session completed.", None, 1))
    elif status == "ABANDONED":
        steps.append(("SYSTEM", "Candidate left the session.", None, 30))
    total = sum(s[3] for s in steps)
    ended = store.now()
    start = parse_iso(ended) - timedelta(seconds=total)
    created = iso(start)
    at = start
    messages = []
    for role, content, qid, secs in steps:
        at = at + timedelta(seconds=secs)
        messages.append(message_row(sid, role, content, at, qid))
    messages[-1]["timestamp"] = ended  # exact: the last step ends now
    row: dict[str, Any] = {
        "id": sid,
        "interviewId": interview["id"],
        "candidateId": candidate["id"] if candidate else None,
        "status": status,
        "participantName": name,
        "participantEmail": email,
        "summary": None,
        "insights": None,
        "themes": [],
        "sentiment": None,
        "totalDurationSeconds": None,
        "startedAt": created,
        "completedAt": None,
        "antiCheatingLog": [],
        "createdAt": created,
        "updatedAt": ended,
    }
    if status != "IN_PROGRESS":
        row["totalDurationSeconds"] = round(total)
    if status == "COMPLETED":
        row["completedAt"] = ended
        row.update(analyse(interview, list(zip(questions, answers[: len(questions)], strict=False)), name))
    if interview.get("antiCheatingEnabled"):
        ms = int(start.timestamp() * 1000)
        row["antiCheatingLog"] = [
            {"type": "tab_switch", "timestamp": ms + 42_000, "detail": "sandbox: one tab switch"}
        ]
    with store.tx():
        store.save_session(row, insert=True)
        store.insert_messages(sid, messages)
        if candidate is not None:
            candidate["sessionId"] = sid
            store.save_candidate(candidate)
    return row


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
        answers.append(generated_answer(questions[i], rng))
    pid = new_id()
    created = store.now()
    duration = 0
    attempts = []
    for q, a in zip(questions, answers, strict=False):
        score, why = score_answer(question_text(q), a)
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
