"""The plan and its usage."""

from __future__ import annotations

from typing import Any

from aural_mcp.server.render.context import Call
from aural_mcp.server.render.practices import score
from aural_mcp.server.render.renderers import renders
from aural_mcp.server.render.safe import field


@renders("get_usage")
def get_usage(call: Call, data: dict[str, Any]) -> str:
    lines = [f"# Usage — plan {field(data.get('plan'), 40) or '—'}"]
    for key in ("templates", "session_hours", "ai_tokens", "seats"):
        q = data.get(key)
        if isinstance(q, dict):
            limit = q.get("limit")
            lines.append(
                f"- **{key}**: {score(q.get('used'))} used of {'unlimited' if limit is None else score(limit)}"
            )
    return "\n".join(lines)
