"""Deterministic candidate answers for simulated sessions and practices, generated from a seed.

Each simulated candidate has a profile (`PROFILES`) that shapes every answer the way real
candidates differ: strong answers name the subject with steps, figures and reasons; solid ones
are on topic with less evidence; weak ones are short and vague; off-topic ones talk about
something else; evasive ones deflect; incomplete ones stop answering part-way.
"""

from __future__ import annotations

import random
from typing import Any

from aural_mcp.sandbox.words import question_text, split_words, topic_words
from aural_mcp.shapes import option_labels

PROFILES = ("strong", "solid", "weak", "off-topic", "evasive", "incomplete")
# The profiles of candidates who answer every question: what an unseeded simulation picks from,
# so that a simulation without a seed or a status completes, as it always has.
ANSWERING_PROFILES = PROFILES[:-1]
SKIP_ANSWER = "Sorry, I have to skip this one."


def profile_for_seed(seed: int) -> str:
    """The profile a seed picks: consecutive seeds walk through all of them (seed 1 is strong)."""
    return PROFILES[(seed - 1) % len(PROFILES)]


_OPENERS = ("In my last role I", "At my previous company I", "On a recent project I", "A good example: I")
_STEPS = (
    "measured the baseline of {topic} first",
    "wrote down with the team what {topic} had to achieve",
    "split {topic} into small steps shipped behind a flag",
    "added tests around {topic} before changing it",
    "compared how two other teams ran {topic}",
)
_REASONS = (
    "because without numbers any change is guesswork",
    "because small steps made each failure cheap to undo",
    "because the team had to agree on the trade-offs first",
)
_RESULTS = (
    "We cut the error rate by {pct}% in {weeks} weeks.",
    "Latency dropped from {slow} ms to {fast} ms.",
    "It saved about {hours} hours a week for {people} people.",
)
_VAGUE = (
    "I think I would just try to do {topic} well, maybe look at some stuff first.",
    "Probably I would work on {topic} and see what happens, it depends on things.",
    "I guess {topic} is something I kind of did before, it went okay.",
)
_ELSEWHERE = (
    "my weekend hiking trips in the mountains",
    "the football match I watched last night",
    "a podcast about ancient history I enjoy",
    "how I organise my bookshelf by colour",
    "the sourdough bread I bake on Sundays",
)
_EXTRAS = {
    "weak": (
        "It took maybe {n} weeks.",
        "I did it because that is usually how it goes.",
        "I would ask someone too.",
    ),
    "off-topic": (
        "Last month I walked {n} km.",
        "It relaxes me, because I get away from screens.",
        "My friends agree.",
    ),
    "evasive": (
        "We had maybe {n} of those.",
        "Every case is different, so I keep an open mind.",
        "Next question?",
    ),
}
_DEFLECTIONS = (
    "That's a great question. It really depends on the situation, and every team handles {topic} "
    "differently. I'd rather not go into specifics here; let's just say it worked out.",
    "Hard to say in general. It really depends on the context of {topic}, and I'd prefer to move on "
    "to the next question.",
)
# The generated answers' own filler: never a theme of what the candidate talked about.
TEMPLATE_WORDS = set(
    split_words(
        " ".join(
            (
                *_OPENERS,
                *_STEPS,
                *_REASONS,
                *_RESULTS,
                *_VAGUE,
                *_DEFLECTIONS,
                SKIP_ANSWER,
                "because then also",
            )
        )
    )
)


def _figures(rng: random.Random) -> dict[str, int]:
    slow = rng.randint(4, 12) * 100
    return {
        "pct": rng.randint(15, 60),
        "weeks": rng.randint(2, 8),
        "slow": slow,
        "fast": slow // rng.randint(3, 6),
        "hours": rng.randint(3, 20),
        "people": rng.randint(4, 30),
    }


def _open_answer(profile: str, topic: str, rng: random.Random) -> str:
    if profile in ("strong", "solid"):
        steps = rng.sample(_STEPS, k=rng.randint(2, 3) if profile == "strong" else rng.randint(1, 2))
        reasons = rng.sample(_REASONS, k=len(steps) if profile == "strong" else 1)
        parts = [f"{rng.choice(_OPENERS)} {steps[0].format(topic=topic)}, {reasons[0]}."]
        for step, reason in zip(steps[1:], [*reasons[1:], "", ""], strict=False):
            parts.append(f"Then I {step.format(topic=topic)}" + (f", {reason}." if reason else "."))
        results = rng.sample(_RESULTS, k=rng.randint(1, 2) if profile == "strong" else rng.randint(0, 1))
        figures = _figures(rng)
        parts += [r.format(**figures) for r in results]
        return " ".join(parts)
    if profile == "weak":
        answer = rng.choice(_VAGUE).format(topic=topic)
    elif profile == "off-topic":
        subject = rng.choice(_ELSEWHERE)
        answer = f"Honestly, what comes to mind is {subject}. I could talk about {subject} for hours."
    else:  # evasive
        answer = rng.choice(_DEFLECTIONS).format(topic=topic)
    # Weaker candidates differ too: each adds some of the few specifics they have.
    extras = [e.format(n=rng.randint(2, 9)) for e in _EXTRAS[profile] if rng.random() < 0.5]
    return " ".join((answer, *extras))


def _choice_answer(profile: str, options: list[str], multiple: bool, topic: str, rng: random.Random) -> str:
    picks = rng.sample(options, k=rng.randint(1, min(2, len(options)))) if multiple else [rng.choice(options)]
    picked = " and ".join(picks)
    if profile in ("strong", "solid"):
        return f"{picked}, {rng.choice(_REASONS)} on {topic}."
    if profile == "off-topic":
        return f"{picked}. Anyway, what I really enjoy is {rng.choice(_ELSEWHERE)}."
    if profile == "evasive":
        return f"{picked}, I suppose, but it really depends on the situation."
    return f"{picked}, I guess."  # weak


_CODE = {
    "strong": (
        "def solve(items):\n"
        "    # a set drops duplicates in O(n); sorting is O(n log n), because the output must be ordered\n"
        "    return sorted(set(items))\n\n"
        "assert solve([3, 1, 3]) == [1, 3]",
        "def solve(items):\n    # O(n log n), because sorting dominates the O(n) set\n    return sorted(set(items))",
    ),
    "solid": (
        "def solve(items):\n    # O(n log n): dedupe, then sort\n    return sorted(set(items))",
        "def solve(items):\n    return sorted(set(items))",
    ),
    "weak": (
        "def solve(items):\n    return items",
        "def solve(items):\n    return list(items)  # maybe sort it later",
    ),
    "off-topic": (
        "print('hello')  # honestly I mostly write scripts for my weekend hiking trips",
        "print('I would rather talk about the football match I watched last night')",
    ),
    "evasive": (
        "# It really depends on the situation; I'd rather not write code here.",
        "# Hard to say without more context.",
    ),
}


def generated_answer(question: dict[str, Any], rng: random.Random, profile: str = "solid") -> str:
    """The answer a candidate of `profile` gives to `question` (incomplete: see `answers_for`)."""
    if profile == "incomplete":
        profile = "solid"
    # Weak answers name less of the subject; the others name its first three words.
    words = topic_words(question_text(question))[: rng.randint(1, 3) if profile == "weak" else 3]
    topic = "the " + " ".join(words) if words else "the problem"
    options = option_labels(question.get("options"))
    qtype = question.get("type")
    if qtype in ("SINGLE_CHOICE", "MULTIPLE_CHOICE") and options:
        return _choice_answer(profile, options, qtype == "MULTIPLE_CHOICE", topic, rng)
    if qtype == "CODING":
        return rng.choice(_CODE[profile])
    return _open_answer(profile, topic, rng)


def answers_for(
    questions: list[dict[str, Any]], profile: str, rng_of: Any, given: list[str] | None = None
) -> list[str]:
    """One answer per question: the `given` ones first, then generated ones for the rest.

    `rng_of(i)` is the random source of question i. An incomplete candidate answers the first
    half (solidly) and skips the rest."""
    answers = list(given or [])
    answered = (len(questions) + 1) // 2
    for i in range(len(answers), len(questions)):
        if profile == "incomplete" and i >= answered:
            answers.append(SKIP_ANSWER)
        else:
            answers.append(generated_answer(questions[i], rng_of(i), profile))
    return answers
