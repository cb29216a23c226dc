"""The text of an MCP tool result, as a client reads it."""

from __future__ import annotations

from typing import Any


def text_of(result: Any) -> str:
    """The text blocks of a tool result (`CallToolResult`), joined by newlines."""
    return "\n".join(getattr(block, "text", "") or "" for block in result.content)
