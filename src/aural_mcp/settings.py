"""One Settings object built from command-line flags and the environment.

Flags win over environment variables, which win over defaults. Secrets (the API key, the
bearer token) are kept out of repr() so they cannot leak through logs or tracebacks.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import Any

DEFAULT_BASE_URL = "https://aural-ai.com/api/v1"


def parse_rate_limit(text: str) -> tuple[int, float]:
    """'60/60' -> (60 requests, 60.0 seconds). A bare number means per 60 seconds."""
    raw = text.strip()
    count, _, window = raw.partition("/")
    try:
        n = int(count)
        seconds = float(window) if window else 60.0
    except ValueError:
        raise ValueError(f"rate limit {text!r} must look like N/SECONDS, for example 60/60") from None
    if n < 1 or seconds <= 0:
        raise ValueError(f"rate limit {text!r} needs N >= 1 and SECONDS > 0, for example 60/60")
    return n, seconds


@dataclass
class Settings:
    api_key: str | None = field(default=None, repr=False)
    base_url: str = DEFAULT_BASE_URL
    rate_limit: int = 60  # requests per window, for client-side pacing
    rate_window: float = 60.0
    timeout: float = 30.0
    # MCP server
    transport: str = "stdio"  # stdio | sse | http
    host: str = "127.0.0.1"
    port: int = 8765
    stateless: bool = False
    auth_token: str | None = field(default=None, repr=False)
    allowed_hosts: list[str] = field(default_factory=list)
    allowed_origins: list[str] = field(default_factory=list)
    toolsets: list[str] | None = None  # None = all
    read_only: bool = False
    sandbox: bool = False  # serve against an in-process sandbox
    log_level: str = "WARNING"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        env = dict(os.environ if env is None else env)
        s = cls()
        s.api_key = env.get("AURAL_API_KEY") or None
        s.base_url = env.get("AURAL_BASE_URL") or DEFAULT_BASE_URL
        if env.get("AURAL_RATE_LIMIT"):
            s.rate_limit, s.rate_window = parse_rate_limit(env["AURAL_RATE_LIMIT"])
        if env.get("AURAL_TIMEOUT"):
            s.timeout = float(env["AURAL_TIMEOUT"])
        s.auth_token = env.get("AURAL_MCP_TOKEN") or None
        if env.get("AURAL_MCP_ALLOWED_HOSTS"):
            s.allowed_hosts = [h.strip() for h in env["AURAL_MCP_ALLOWED_HOSTS"].split(",") if h.strip()]
        if env.get("AURAL_MCP_ALLOWED_ORIGINS"):
            s.allowed_origins = [o.strip() for o in env["AURAL_MCP_ALLOWED_ORIGINS"].split(",") if o.strip()]
        if env.get("AURAL_MCP_LOG_LEVEL"):
            s.log_level = env["AURAL_MCP_LOG_LEVEL"].upper()
        names = {f.name for f in fields(cls)}
        for key, value in overrides.items():
            if key not in names:
                raise TypeError(f"unknown setting {key!r}")
            if value is not None:
                setattr(s, key, value)
        return s
