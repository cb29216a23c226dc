"""The renderer of each registry operation, registered by the domain module that writes it.

A domain module (interviews, candidates, sessions, practices, usage) marks each renderer with
`@renders("operation_name")`; `RENDERERS` is what the registrations add up to. A registry
operation without one is a bug that tests/server/test_render_fuzz.py reports, never a JSON dump.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from aural_mcp import operations
from aural_mcp.server.render.context import Call


@dataclass(frozen=True)
class Renderer:
    """How one operation's answer is shown: its markdown, and optionally its structuredContent.

    `text` takes the call and the answer's `data`: a list of rows when the registry says the
    operation answers with many (`op.response.many`), else one object. `structured`, when set,
    turns that `data` into what structuredContent carries instead of the data as it came.
    """

    text: Callable[[Call, Any], str]
    structured: Callable[[Any, str | None], Any] | None = None


RENDERERS: dict[str, Renderer] = {}

TextRenderer = TypeVar("TextRenderer", bound=Callable[..., str])


def renders(
    op_name: str, *, structured: Callable[[Any, str | None], Any] | None = None
) -> Callable[[TextRenderer], TextRenderer]:
    """Register the decorated function as the text renderer of registry operation `op_name`."""
    operations.get(op_name)  # a renderer for an operation the registry does not have is a typo

    def register(text: TextRenderer) -> TextRenderer:
        if op_name in RENDERERS:
            raise ValueError(f"{op_name} has two renderers")
        RENDERERS[op_name] = Renderer(text, structured)
        return text

    return register
