"""The words of questions and answers, as the sandbox's answer generator and scoring see them."""

from __future__ import annotations

import re
from typing import Any

from aural_mcp.sandbox.coerce import js_string

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


def split_words(text: str) -> list[str]:
    return re.findall(r"[a-zA-Z][a-zA-Z'\-]+", text.lower())


def keywords(text: str) -> list[str]:
    return [w for w in split_words(text) if w not in _STOP and len(w) > 2]


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


def topic_words(text: str) -> list[str]:
    return [w for w in keywords(text) if w not in _PROMPT_WORDS]


def question_text(question: dict[str, Any]) -> str:
    """The question as text, whatever its row holds (seeded rows may hold anything)."""
    text = question.get("text")
    return "" if text is None else js_string(text)
