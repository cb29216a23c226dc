"""Plan limits: what each plan allows, what the caller's projects use, and the 403 past a limit.

Without a plan (the default) the sandbox is self-hosted: nothing is limited.
"""

from __future__ import annotations

import math

from aural_mcp.sandbox.auth import Ctx
from aural_mcp.sandbox.errors import ApiError
from aural_mcp.sandbox.store import Store

PLANS: dict[str, dict[str, float | None]] = {
    "free": {"templates": 3, "session_hours": 1, "ai_tokens": 100_000, "seats": 1},
    "starter": {"templates": 20, "session_hours": 10, "ai_tokens": 1_000_000, "seats": 3},
    "pro": {"templates": 100, "session_hours": 100, "ai_tokens": 10_000_000, "seats": 10},
    "unlimited": {"templates": None, "session_hours": None, "ai_tokens": None, "seats": None},
}
UPGRADE_URL = "https://aural-ai.com/pricing"


class PlanLimits:
    def __init__(self, store: Store, plan: str | None = None) -> None:
        if plan is not None and plan not in PLANS:
            raise ValueError(f"unknown plan {plan!r}; choose one of {', '.join(PLANS)}")
        self.store = store
        self.plan = plan

    def templates_used(self, ctx: Ctx) -> int:
        if not ctx.projects:
            return 0
        marks = ",".join("?" * len(ctx.projects))
        return int(
            self.store.scalar(f"SELECT COUNT(*) FROM interviews WHERE project_id IN ({marks})", *ctx.projects)
        )

    def session_hours_used(self, ctx: Ctx) -> float:
        if not ctx.projects:
            return 0
        marks = ",".join("?" * len(ctx.projects))
        seconds = self.store.scalar(
            f"SELECT COALESCE(SUM(s.duration), 0) FROM sessions s JOIN interviews i ON i.id = s.interview_id"
            f" WHERE i.project_id IN ({marks})",
            *ctx.projects,
        )
        return round(int(seconds) / 3600, 2)

    def check(self, ctx: Ctx, limit: str) -> None:
        """403 PLAN_LIMIT_EXCEEDED when the caller is at `limit` (templates or session_hours)."""
        if self.plan is None:
            return
        maximum = PLANS[self.plan][limit]
        if maximum is None:
            return
        current = self.templates_used(ctx) if limit == "templates" else self.session_hours_used(ctx)
        if current >= maximum:
            what = "interview templates" if limit == "templates" else "session hours this month"
            raise ApiError(
                403,
                "PLAN_LIMIT_EXCEEDED",
                f"Your {self.plan} plan allows {plain_number(maximum)} {what}. Upgrade your plan to continue.",
                limit=limit,
                current=plain_number(current),
                max=plain_number(maximum),
                upgrade_url=UPGRADE_URL,
            )


def plain_number(value: float | int | None) -> float | int | None:
    """A whole float as an int, as JSON.stringify writes it (1.0 -> 1)."""
    if isinstance(value, float) and value.is_integer() and math.isfinite(value):
        return int(value)
    return value
