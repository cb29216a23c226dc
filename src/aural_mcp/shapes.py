"""Readers for row fields whose stored shape varies with what wrote the row.

Shared by the SDK, the renderer and the sandbox; it imports nothing heavy, so importing it costs
nothing on the server's start-up path.
"""

from __future__ import annotations

from typing import Any


def option_labels(options: Any) -> list[str]:
    """The choices of a question, whatever shape its `options` column holds.

    The API writes a string list; rows made in Aural's dashboard or AI generator hold
    `{"options": [...], "allowMultiple": bool}`, template rows `[{"label", "value"}]`. Anything
    else (null, a scalar, odd items) yields what can be read from it and never raises.
    """
    if isinstance(options, dict):
        options = options.get("options")
    if not isinstance(options, list):
        return []
    labels: list[str] = []
    for item in options:
        if isinstance(item, dict):
            item = item.get("label", item.get("value"))
        if item is None or isinstance(item, dict | list):
            continue
        labels.append(str(item))
    return labels
