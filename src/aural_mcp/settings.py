"""One Settings object built from command-line flags and the environment.

Flags win over environment variables, which win over defaults. Secrets (the API key, the
bearer token) are kept out of repr() so they cannot leak through logs or tracebacks.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field, fields
from typing import Any

DEFAULT_BASE_URL = "https://aural-ai.com/api/v1"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024  # HTTP transports refuse larger request bodies (413)
DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024  # the SDK reads at most this much of an API answer
KEY_PREFIX = "dlv_"
KEY_LENGTH = 36  # dlv_ + 32 characters from [a-z0-9]
_KEY_BODY = re.compile(r"[a-z0-9]{32}")
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1", "[::1]")


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
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
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
    sandbox_db: str | None = None  # its SQLite file; None keeps it in memory (gone at exit)
    log_level: str = "WARNING"
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES

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
        if env.get("AURAL_MAX_RESPONSE_BYTES"):
            s.max_response_bytes = int(env["AURAL_MAX_RESPONSE_BYTES"])
        s.auth_token = env.get("AURAL_MCP_TOKEN") or None
        if env.get("AURAL_MCP_ALLOWED_HOSTS"):
            s.allowed_hosts = [h.strip() for h in env["AURAL_MCP_ALLOWED_HOSTS"].split(",") if h.strip()]
        if env.get("AURAL_MCP_ALLOWED_ORIGINS"):
            s.allowed_origins = [o.strip() for o in env["AURAL_MCP_ALLOWED_ORIGINS"].split(",") if o.strip()]
        if env.get("AURAL_MCP_MAX_BODY_BYTES"):
            s.max_body_bytes = int(env["AURAL_MCP_MAX_BODY_BYTES"])
        s.sandbox_db = env.get("AURAL_SANDBOX_DB") or None
        if env.get("AURAL_MCP_LOG_LEVEL"):
            s.log_level = env["AURAL_MCP_LOG_LEVEL"].upper()
        names = {f.name for f in fields(cls)}
        for key, value in overrides.items():
            if key not in names:
                raise TypeError(f"unknown setting {key!r}")
            if value is not None:
                setattr(s, key, value)
        return s


def key_problem(key: str | None) -> str | None:
    """Why `key` cannot be an Aural API key, or None when it looks usable.

    Only what the API itself would reject (or what is certainly a copy-paste accident) counts:
    the API checks the `dlv_` prefix, so an unusual length is accepted here (see `key_warning`).
    """
    key = (key or "").strip()  # a trailing newline from a file is harmless: the SDK strips it
    if not key:
        return "AURAL_API_KEY is not set"
    if key.lower().startswith("bearer"):
        return "AURAL_API_KEY must be the key alone, without 'Bearer '"
    if key[:1] in "'\"" or key[-1:] in "'\"":
        return "AURAL_API_KEY is wrapped in quotes; remove them"
    if any(c.isspace() or ord(c) < 32 for c in key):
        return "AURAL_API_KEY contains spaces or line breaks; copy the key again"
    if "REPLACE" in key or "<" in key or "your" in key.lower():
        return "AURAL_API_KEY is still the placeholder from `aural-mcp config`; put your real key there"
    if not key.startswith(KEY_PREFIX):
        return f"AURAL_API_KEY does not start with {KEY_PREFIX}"
    if len(key) == len(KEY_PREFIX):
        return f"AURAL_API_KEY is only the {KEY_PREFIX} prefix"
    return None


def key_warning(key: str) -> str | None:
    """A softer note for keys with the right prefix but not the usual dlv_ + 32 [a-z0-9] shape."""
    if len(key) != KEY_LENGTH or not _KEY_BODY.fullmatch(key[len(KEY_PREFIX) :]):
        return f"the key is not the usual {KEY_PREFIX} + 32 lower-case letters and digits; check it was copied whole"
    return None


def mask_secret(secret: str | None) -> str:
    """`dlv_…wxyz`: enough to tell keys apart, never enough to use one."""
    if not secret:
        return "(not set)"
    tail = secret[-4:] if len(secret) >= 16 else ""
    head = KEY_PREFIX if secret.startswith(KEY_PREFIX) else ""
    return f"{head}…{tail}"


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    name = host.strip().lower()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
