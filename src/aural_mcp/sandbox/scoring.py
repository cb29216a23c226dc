"""Scoring and analysis of simulated answers: per-answer scores, summary, themes, sentiment, insights.

A deterministic heuristic that labels itself as sandbox scoring: it is NOT Aural's model and its
numbers mean nothing about a real candidate. It reads what each answer says (the subject's words,
figures, reasons, hedges, deflections, picked options, code) and every score comes with a one-line
rationale that cites the answer, so a ranking of simulated candidates follows what they said.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aural_mcp.sandbox.answers import SKIP_ANSWER, TEMPLATE_WORDS
from aural_mcp.sandbox.words import keywords, question_text, split_words, topic_words
from aural_mcp.shapes import option_labels

SCORING_LABEL = "sandbox heuristic — not Aural's model"
PREFIX = "Sandbox heuristic: "
# The criteria scored when the interview has no assessment criteria of its own.
DEFAULT_CRITERIA = (
    {"name": "Relevance", "description": "answers what was asked"},
    {"name": "Evidence", "description": "backs answers with figures, reasons and results"},
    {"name": "Clarity", "description": "direct and ordered, without hedging or deflecting"},
)
_POSITIVE = {"good", "great", "enjoyed", "learned", "improved", "success", "happy", "love", "cut", "saved"}
_NEGATIVE = {
    "not",
    "bad",
    "failed",
    "problem",
    "hard",
    "difficult",
    "never",
    "unfortunately",
    "hate",
    "sorry",
}
_HEDGES = ("maybe", "stuff", "things", "i guess", "kind of", "probably", "i think", "i suppose")
_DEFLECTIONS = (
    "it really depends",
    "i'd rather not",
    "i'd prefer to move on",
    "hard to say",
    "great question",
)
_SKIPS = (SKIP_ANSWER.lower(), "skip this", "no answer", "pass")
_FIGURE = re.compile(r"\b\d+(?:\.\d+)?(?:\s?(?:%|ms|hours?|weeks?|days?|people|x)\b|%)?")
_REASON = re.compile(r"\b(?:because|so that|which meant)\b[^.;\n]*", re.IGNORECASE)
_CODE = re.compile(r"^\s*(?:def |class |function |return |const |let |for |if |import )|=>|\breturn\b", re.M)


def _quote(text: str, limit: int = 60) -> str:
    """A short quote of `text`: one line, double quotes made single, cut on a word."""
    flat = " ".join(text.replace('"', "'").split()).rstrip(".")
    if len(flat) <= limit:
        return flat
    return flat[:limit].rsplit(" ", 1)[0] + "…"


def _sentence_with(text: str, needle: str) -> str:
    for sentence in re.split(r"(?<=[.!?])\s+|\n", text):
        if needle.lower() in sentence.lower():
            return sentence
    return text


@dataclass
class Reading:
    """What one answer says, as the heuristic sees it."""

    kind: str  # open, choice or coding
    text: str
    words: list[str]
    topic: list[str]
    named: list[str]
    figures: list[str]
    reasons: list[str]
    hedges: list[str]
    deflection: str | None
    skipped: bool
    picks: list[str] = field(default_factory=list)
    code: bool = False
    complexity: str | None = None
    tested: bool = False

    @property
    def on_topic(self) -> bool:
        if self.kind == "choice":
            return bool(self.picks) and not self.drifts
        if self.kind == "coding":
            return self.code
        return bool(self.named) or not self.topic

    @property
    def drifts(self) -> bool:
        """Talks about something else: no word of the subject, and more than a few words."""
        rest = len(self.words) - sum(len(split_words(p)) for p in self.picks)
        return bool(self.topic) and not self.named and rest > 6

    @property
    def coverage(self) -> float:
        return len(self.named) / min(3, len(self.topic)) if self.topic else 1.0


def read_answer(question: dict[str, Any], answer: str) -> Reading:
    text = question_text(question)
    lower = answer.lower()
    words = split_words(answer)
    topic = list(dict.fromkeys(topic_words(text)))
    said = set(words)
    options = option_labels(question.get("options"))
    qtype = question.get("type")
    kind = (
        "choice"
        if qtype in ("SINGLE_CHOICE", "MULTIPLE_CHOICE") and options
        else "coding"
        if qtype == "CODING"
        else "open"
    )
    complexity = re.search(r"O\([^)]{1,12}\)", answer)
    return Reading(
        kind=kind,
        text=answer,
        words=words,
        topic=topic,
        named=[w for w in topic if w in said][:3],
        figures=[f.strip() for f in _FIGURE.findall(answer)],
        reasons=[r.strip() for r in _REASON.findall(answer)],
        hedges=[h for h in _HEDGES if re.search(rf"\b{re.escape(h)}\b", lower)],
        deflection=next((d for d in _DEFLECTIONS if d in lower), None),
        skipped=not words or any(lower.strip().startswith(s) for s in _SKIPS),
        picks=[o for o in options if o and o.lower() in lower] if kind == "choice" else [],
        code=kind == "coding" and bool(_CODE.search(answer)),
        complexity=complexity.group(0) if complexity else None,
        tested="assert" in lower or "test(" in lower,
    )


def _clamp(score: float) -> int:
    return max(1, min(10, round(score)))


def question_score(r: Reading) -> int:
    """1-10 for one answer: on the question, with evidence, without hedging or deflecting."""
    if r.skipped:
        return 1
    penalty = 2 * min(1, len(r.hedges)) + 3 * bool(r.deflection)
    if r.kind == "choice":
        return _clamp(2 + 3 * bool(r.picks) + 3 * bool(r.reasons) + bool(r.named) - penalty - 2 * r.drifts)
    if r.kind == "coding":
        return _clamp(1 + 4 * r.code + 2 * bool(r.complexity) + 2 * r.tested + bool(r.reasons) - penalty)
    score = (
        1
        + 3 * r.coverage
        + min(2, len(r.words) // 30)
        + min(2, (len(r.figures) + 1) // 2)
        + min(2, len(r.reasons))
    )
    score -= penalty
    return _clamp(min(score, 3) if r.drifts else score)


def question_rationale(r: Reading) -> str:
    """One line citing what the answer said or missed."""
    if r.skipped:
        return PREFIX + f'no answer ("{_quote(r.text)}").'
    if r.deflection:
        return (
            PREFIX
            + f'deflects ("{_quote(_sentence_with(r.text, r.deflection))}") and names no step, figure or result.'
        )
    if r.drifts:
        return (
            PREFIX
            + f'off the question: talks about "{_quote(r.text)}" and never mentions {", ".join(r.topic[:3])}.'
        )
    parts = []
    if r.kind == "choice":
        parts.append(
            "picks " + " and ".join(f'"{_quote(p, 40)}"' for p in r.picks)
            if r.picks
            else "picks none of the options"
        )
    elif r.kind == "coding":
        first = next((line for line in r.text.splitlines() if line.strip()), "")
        parts.append(
            f'writes code ("{_quote(first, 40)}")' if r.code else f'gives no code ("{_quote(r.text)}")'
        )
        parts.append(f"states the complexity {r.complexity}" if r.complexity else "no complexity stated")
        parts.append("adds a test" if r.tested else "no test")
    elif r.named:
        parts.append("names " + ", ".join(r.named))
    if r.kind == "open":
        parts.append(f"gives figures ({', '.join(r.figures[:3])})" if r.figures else "no figures")
    parts.append(f'explains why ("{_quote(r.reasons[0], 50)}")' if r.reasons else "no reason given")
    if r.hedges:
        parts.append("hedges (" + ", ".join(f'"{h}"' for h in r.hedges[:2]) + ")")
    return PREFIX + "; ".join(parts) + "."


def score_answer(question: dict[str, Any], answer: str) -> tuple[int, str]:
    """The 1-10 score of one answer and its one-line rationale."""
    r = read_answer(question, answer)
    return question_score(r), question_rationale(r)


# -- criteria -------------------------------------------------------------------------------


def _relevance(r: Reading) -> int:
    if r.skipped:
        return 1
    on = r.on_topic and not r.drifts
    return _clamp(
        1
        + 5 * on * r.coverage
        + 2 * (on and len(r.words) >= 12)
        + 2 * (on and bool(r.reasons))
        - 3 * bool(r.deflection)
    )


def _evidence(r: Reading) -> int:
    if r.skipped:
        return 1
    detail = min(2, len(r.words) // 25) if r.kind == "open" else 2 * r.tested + bool(r.complexity)
    return _clamp(1 + min(3, len(r.figures)) + 2 * min(2, len(r.reasons)) + detail)


def _clarity(r: Reading) -> int:
    if r.skipped:
        return 1
    ordered = "then i " in r.text.lower() or r.tested or r.kind == "choice" and bool(r.reasons)
    score = 5 + 2 * ordered + 2 * (len(r.words) >= 20 or r.kind != "open") + bool(r.figures)
    return _clamp(score - 3 * min(2, len(r.hedges)) - 4 * bool(r.deflection) - 3 * r.drifts)


def _numbered(readings: list[Reading], pick: Any) -> tuple[int, Reading] | None:
    return next(((i + 1, r) for i, r in enumerate(readings) if pick(r)), None)


def _default_rationale(name: str, readings: list[Reading]) -> str:
    if name == "Relevance":
        off = [r for r in readings if not r.skipped and (r.drifts or r.deflection or not r.on_topic)]
        if found := _numbered(readings, lambda r: r in off):
            i, r = found
            return (
                f'{len(off)} of {len(readings)} answers miss the question, e.g. Q{i}: "{_quote(r.text, 50)}".'
            )
        i, r = _numbered(readings, lambda r: not r.skipped) or (1, readings[0])
        said = ", ".join(r.named) or " and ".join(r.picks) or "code"
        return f"answers stay on the questions, e.g. Q{i} names {said}."
    if name == "Evidence":
        if found := _numbered(readings, lambda r: bool(r.figures) and not r.skipped):
            i, r = found
            return f'Q{i} gives figures: "{_quote(_sentence_with(r.text, r.figures[0]), 60)}".'
        if found := _numbered(readings, lambda r: bool(r.reasons)):
            i, r = found
            return f'Q{i} explains why ("{_quote(r.reasons[0], 50)}"), but no answer gives a figure.'
        i, r = _numbered(readings, lambda r: not r.skipped) or (1, readings[0])
        return f'no answer gives a figure or a reason, e.g. Q{i}: "{_quote(r.text, 50)}".'
    unclear = [r for r in readings if not r.skipped and (r.hedges or r.deflection or r.drifts)]
    if found := _numbered(readings, lambda r: r in unclear):
        i, r = found
        cue = r.deflection or (r.hedges[0] if r.hedges else None)
        said = f'"{cue}"' if cue else f'"{_quote(r.text, 40)}" (off the question)'
        return f"{len(unclear)} of {len(readings)} answers hedge, deflect or drift, e.g. Q{i}: {said}."
    if found := _numbered(readings, lambda r: "then i " in r.text.lower()):
        i, r = found
        return f'direct and ordered, e.g. Q{i}: "{_quote(_sentence_with(r.text, "Then I"), 50)}".'
    i, r = _numbered(readings, lambda r: not r.skipped) or (1, readings[0])
    return f'direct but brief, e.g. Q{i}: "{_quote(r.text, 50)}".'


_DEFAULT_SCORERS = {"Relevance": _relevance, "Evidence": _evidence, "Clarity": _clarity}


def _criterion(criterion: dict[str, Any], readings: list[Reading], scores: list[int]) -> dict[str, Any]:
    name = criterion.get("name")
    skipped = sum(r.skipped for r in readings)
    tail = f" {skipped} of {len(readings)} questions skipped." if skipped else ""
    if not readings:
        return {"name": name, "score": 1, "rationale": PREFIX + "no answers to judge."}
    scorer = _DEFAULT_SCORERS.get(str(name)) if criterion in DEFAULT_CRITERIA else None
    if scorer is not None:
        per_question = [scorer(r) for r in readings]
        why = _default_rationale(str(name), readings)
    else:
        terms = [t for t in dict.fromkeys(keywords(f"{name or ''} {criterion.get('description') or ''}"))]
        hit = [any(t in r.words for t in terms) for r in readings]
        per_question = [min(10, s + h) for s, h in zip(scores, hit, strict=True)]
        if found := _numbered(readings, lambda r: any(t in r.words for t in terms)):
            i, r = found
            term = next(t for t in terms if t in r.words)
            why = f'Q{i} speaks to it: "{_quote(_sentence_with(r.text, term), 60)}".'
        else:
            if terms:
                per_question = [max(1, s - 1) for s in per_question]
            why = f"no answer mentions {' or '.join(terms[:3]) or 'it'}."
    score = max(1.0, min(10.0, round(sum(per_question) / len(per_question), 1)))
    return {"name": name, "score": score, "rationale": PREFIX + why + tail}


def analyse(interview: dict[str, Any], qa: list[tuple[dict[str, Any], str]], name: str) -> dict[str, Any]:
    readings = [read_answer(q, a) for q, a in qa]
    evaluations = []
    for (q, _), r in zip(qa, readings, strict=True):
        evaluations.append(
            {
                "questionId": q["id"],
                "question": question_text(q),
                "score": question_score(r),
                "rationale": question_rationale(r),
            }
        )
    scores = [e["score"] for e in evaluations]
    avg = round(sum(scores) / len(scores), 1) if scores else 0.0
    raw_criteria = interview.get("assessmentCriteria")
    own = [c for c in raw_criteria if isinstance(c, dict)] if isinstance(raw_criteria, list) else []
    criteria = [_criterion(c, readings, scores) for c in (own or DEFAULT_CRITERIA)]
    all_answers = " ".join(a for _, a in qa)
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
