"""Usage: the plan, and what the caller's projects and organization use of it."""

from __future__ import annotations

from typing import Any

from aural_mcp.sandbox.auth import Ctx
from aural_mcp.sandbox.handlers.base import Req
from aural_mcp.sandbox.handlers.plans import PLANS, PlanLimits, plain_number
from aural_mcp.sandbox.store import Store


class Usage:
    def __init__(self, store: Store, limits: PlanLimits) -> None:
        self.store = store
        self.limits = limits

    def get_usage(self, ctx: Ctx, req: Req) -> Any:
        plan = self.limits.plan
        limits = PLANS[plan] if plan else dict.fromkeys(("templates", "session_hours", "ai_tokens", "seats"))
        return {
            "data": {
                "plan": plan or "self-hosted",
                "templates": {"used": self.limits.templates_used(ctx), "limit": limits["templates"]},
                "session_hours": {
                    "used": plain_number(self.limits.session_hours_used(ctx)) if plan else 0,
                    "limit": limits["session_hours"],
                },
                "ai_tokens": {"used": 0, "limit": limits["ai_tokens"]},
                "seats": {"used": self.store.seat_count(ctx.org_id), "limit": limits["seats"]},
            }
        }
