"""Deterministic candidate answers for simulated sessions and practices, generated from a seed."""

from __future__ import annotations

import random
from typing import Any

from aural_mcp.sandbox.words import question_text, split_words, topic_words
from aural_mcp.shapes import option_labels

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
# The generated answers' own filler: never a theme of what the candidate talked about.
_CHOICE_ANSWER = "I choose {picks}, because it fits how I like to work."
_CODING_ANSWER = "def solve(items):\n    # linear scan, O(n)\n    return sorted(set(items))"
TEMPLATE_WORDS = set(split_words(" ".join((*_OPENERS, *_MIDDLES, *_ENDINGS, _CHOICE_ANSWER, _CODING_ANSWER))))


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
    words = topic_words(question_text(question))[:3]
    topic = "the " + " ".join(words) if words else "the problem"
    first, *more = rng.sample(_MIDDLES, k=rng.randint(1, 3))  # distinct steps, never one said twice
    parts = [f"{rng.choice(_OPENERS)} {first.format(topic=topic)}."]
    parts += [f"Then I {middle.format(topic=topic)}." for middle in more]
    parts.append(rng.choice(_ENDINGS).strip())
    return " ".join(p for p in parts if p).strip()
