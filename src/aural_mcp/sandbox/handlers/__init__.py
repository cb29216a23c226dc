"""The /api/v1 operations, one handler each, named as the operation, split by resource.

`Api` is the one object the app dispatches to: `Api.handler(name)` is the handler of registry
operation `name`, found in the resource parts below. See `base` for what a handler takes and
returns.
"""

from __future__ import annotations

from aural_mcp.sandbox.handlers.base import Handler, Req, Unhandled
from aural_mcp.sandbox.handlers.candidates import Candidates, candidate_row
from aural_mcp.sandbox.handlers.interviews import Interviews, interview_row
from aural_mcp.sandbox.handlers.plans import PlanLimits
from aural_mcp.sandbox.handlers.practices import Practices, practice_report
from aural_mcp.sandbox.handlers.questions import Questions, question_row
from aural_mcp.sandbox.handlers.sessions import Sessions, session_detail
from aural_mcp.sandbox.handlers.usage import Usage
from aural_mcp.sandbox.store import Store

__all__ = [
    "Api",
    "Handler",
    "Req",
    "Unhandled",
    "candidate_row",
    "interview_row",
    "practice_report",
    "question_row",
    "session_detail",
]


class Api:
    def __init__(self, store: Store, plan: str | None = None) -> None:
        self.limits = PlanLimits(store, plan)
        self.parts = (
            Interviews(store, self.limits),
            Questions(store),
            Candidates(store, self.limits),
            Sessions(store),
            Practices(store),
            Usage(store, self.limits),
        )

    def handler(self, name: str) -> Handler | None:
        """The method of a resource part named `name` (an operation name), or None."""
        if name.startswith("_"):
            return None  # the parts' own helpers
        for part in self.parts:
            found = getattr(part, name, None)
            if callable(found):
                handler: Handler = found
                return handler
        return None
