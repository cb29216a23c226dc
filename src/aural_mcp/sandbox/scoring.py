"""Scoring and analysis of simulated answers: per-answer scores, summary, themes, sentiment, insights.

A deterministic heuristic that labels itself as sandbox scoring: it is NOT Aural's model and its
numbers mean nothing about a real candidate.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from aural_mcp.sandbox.answers import TEMPLATE_WORDS
from aural_mcp.sandbox.words import keywords, question_text, split_words, topic_words

SCORING_LABEL = "sandbox heuristic — not Aural's model"
_POSITIVE = {"good", "great", "enjoyed", "learned", "improved", "success", "happy", "love", "cut", "reuse"}
_NEGATIVE = {"not", "bad", "failed", "problem", "hard", "difficult", "never", "unfortunately", "hate"}


def score_answer(question: str, answer: str) -> tuple[int, str]:
    """1-10: length, overlap with the question's keywords, and concrete detail."""
    words = split_words(answer)
    q_keys = set(keywords(question))
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
    answer_words = set(split_words(all_answers))
    criteria = []
    for c in interview.get("assessmentCriteria") or []:
        terms = set(keywords(f"{c.get('name', '')} {c.get('description', '')}"))
        hits = len(terms & answer_words)
        score = max(1, min(10, round(avg) + min(2, hits) - (1 if terms and not hits else 0)))
        criteria.append(
            {
                "name": c.get("name"),
                "score": score,
                "rationale": f"Sandbox heuristic: average answer score {avg}, {hits} criterion terms mentioned.",
            }
        )
    counts = Counter(w for w in topic_words(all_answers) if w not in TEMPLATE_WORDS)
    themes = [w for w, _ in counts.most_common(4)]
    pos = sum(1 for w in split_words(all_answers) if w in _POSITIVE)
    neg = sum(1 for w in split_words(all_answers) if w in _NEGATIVE)
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
