"""One Settings object built from command-line flags and the environment.

Flags win over environment variables, which win over defaults. Secrets (the API key, the
bearer token) are kept out of repr() so they cannot leak through logs or tracebacks.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from dataclasses import dataclass, field, fields
from typing import Any

DEFAULT_BASE_URL = "https://aural-ai.com/api/v1"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024  # HTTP transports refuse larger request bodies (413)
DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024  # the SDK reads at most this much of an API answer
DEFAULT_SHUTDOWN_GRACE = 10.0
MAX_HTTP_SECONDS = 86_400.0  # the longest header/body/idle timeout accepted
# HTTP limits (environment only), each with the variable that sets it.
HTTP_LIMITS = {
    "header_timeout": "AURAL_MCP_HEADER_TIMEOUT",
    "body_timeout": "AURAL_MCP_BODY_TIMEOUT",
    "max_connections": "AURAL_MCP_MAX_CONNECTIONS",
    "max_sessions": "AURAL_MCP_MAX_SESSIONS",
    "session_idle_timeout": "AURAL_MCP_SESSION_IDLE_TIMEOUT",
}
KEY_PREFIX = "dlv_"
KEY_LENGTH = 36  # dlv_ + 32 characters from [a-z0-9]
_KEY_BODY = re.compile(r"[a-z0-9]{32}")
KEY_SOURCE = (
    "set AURAL_API_KEY=dlv_… in the env of this server's entry in the MCP client's configuration; "
    "keys are made in the Aural dashboard under Settings → API Keys"
)
DEFAULT_WATCH_SHARE = 0.2  # of the rate limit, for the session watcher's polls
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1", "[::1]")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


MAX_RATE_WINDOW = 86_400.0  # a day: longer windows are a typo, not a pacing policy
MAX_TIMEOUT = 3_600.0
MAX_SHUTDOWN_GRACE = 600.0
MIN_BODY_BYTES = 1024


def parse_rate_limit(text: str) -> tuple[int, float]:
    """'60/60' -> (60 requests, 60.0 seconds). A bare number means per 60 seconds."""
    raw = text.strip()
    count, _, window = raw.partition("/")
    try:
        n = int(count)
        seconds = float(window) if window else 60.0
    except ValueError:
        raise ValueError(
            f"rate limit {text!r} (--rate-limit or AURAL_RATE_LIMIT) must look like N/SECONDS, for example 60/60"
        ) from None
    if n < 1 or not (math.isfinite(seconds) and 0 < seconds <= MAX_RATE_WINDOW):
        raise ValueError(
            f"rate limit {text!r} (--rate-limit or AURAL_RATE_LIMIT) needs N >= 1 and "
            f"0 < SECONDS <= {MAX_RATE_WINDOW:g}, for example 60/60"
        )
    return n, seconds


def parse_seconds(name: str, text: str, *, maximum: float, zero_ok: bool = False, example: str = "30") -> float:
    """A finite number of seconds from the environment variable `name`, or a ValueError naming it."""
    lowest = "0" if zero_ok else "above 0"
    rule = f"{name}={text!r} must be a number of seconds, {lowest} and at most {maximum:g}, for example {example}"
    try:
        value = float(text)
    except ValueError:
        raise ValueError(rule) from None
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero_ok) or value > maximum:
        raise ValueError(rule)
    return value


def parse_int(name: str, text: str, *, minimum: int, example: str) -> int:
    rule = f"{name}={text!r} must be a whole number of at least {minimum}, for example {example}"
    try:
        value = int(text)
    except ValueError:
        raise ValueError(rule) from None
    if value < minimum:
        raise ValueError(rule)
    return value


def parse_share(name: str, text: str) -> float:
    """A fraction of the rate limit in (0, 1]: '0.2' or '20%'."""
    raw = text.strip()
    rule = f"{name}={text!r} must be a share of the rate limit above 0 and at most 1, for example 0.2 or 20%"
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise ValueError(rule) from None
    if not (math.isfinite(value) and 0 < value <= 1):
        raise ValueError(rule)
    return value


def account_fingerprint(base_url: str, key: str) -> str:
    """16 hex digits that tell accounts (API base URL and key) apart; the key cannot be recovered from them."""
    import hashlib

    return hashlib.sha256(f"{base_url}\0{key}".encode()).hexdigest()[:16]


@dataclass
class Settings:
    api_key: str | None = field(default=None, repr=False)
    base_url: str = DEFAULT_BASE_URL
    rate_limit: int = 60  # requests per window, for client-side pacing
    rate_window: float = 60.0
    timeout: float = 30.0
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    watch_share: float = DEFAULT_WATCH_SHARE  # the share of the rate limit the session watcher may use
    watch_state: str | None = None  # the watcher's SQLite file; None: this account's file in the data folder
    # MCP server
    transport: str = "stdio"  # stdio | sse | http
    host: str = "127.0.0.1"
    port: int = 8765
    stateless: bool = False
    json_response: bool = False  # Streamable HTTP answers as one JSON body, not an SSE stream
    auth_token: str | None = field(default=None, repr=False)
    allowed_hosts: list[str] = field(default_factory=list)
    allowed_origins: list[str] = field(default_factory=list)
    toolsets: list[str] | None = None  # None = all
    read_only: bool = False
    sandbox: bool = False  # serve against an in-process sandbox
    sandbox_db: str | None = None  # its SQLite file; None keeps it in memory (gone at exit)
    sandbox_port: int | None = None  # its candidate pages' loopback port (0: a free one); None: not served
    sandbox_seed: str | None = None  # a JSON file of dashboard-made rows to load into it
    log_level: str = "WARNING"
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    shutdown_grace: float = DEFAULT_SHUTDOWN_GRACE  # stdio: seconds to finish running calls after stdin closes
    header_timeout: float = 10.0  # seconds from connecting to the end of the request headers
    body_timeout: float = 30.0  # seconds to receive a whole request body
    max_connections: int = 256  # open HTTP connections; idle ones are closed first to make room
    max_sessions: int = 100  # open Streamable HTTP sessions; beyond that, new clients get 503
    session_idle_timeout: float = 600.0  # seconds without a request or open stream before a session ends
    # The team server (`--auth oauth`): every user with their own key, see aural_mcp.team
    auth_mode: str = "token"  # token: AURAL_MCP_TOKEN or none (one key for all); oauth: OAuth 2.1 per user
    public_url: str | None = None  # where clients reach this server (https://mcp.example.com); the OAuth issuer
    secret_key: str | None = field(default=None, repr=False)  # AURAL_MCP_SECRET_KEY: seals users' keys
    redis_url: str | None = field(default=None, repr=False)  # the shared store of many replicas; may hold a password
    team_db: str | None = None  # the embedded store's SQLite file without --redis; None: the data folder's

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        env = dict(os.environ if env is None else env)
        s = cls()
        s.api_key = env.get("AURAL_API_KEY") or None
        s.base_url = env.get("AURAL_BASE_URL") or DEFAULT_BASE_URL
        if env.get("AURAL_RATE_LIMIT"):
            s.rate_limit, s.rate_window = parse_rate_limit(env["AURAL_RATE_LIMIT"])
        if env.get("AURAL_TIMEOUT"):
            s.timeout = parse_seconds("AURAL_TIMEOUT", env["AURAL_TIMEOUT"], maximum=MAX_TIMEOUT)
        if env.get("AURAL_MAX_RESPONSE_BYTES"):
            s.max_response_bytes = parse_int(
                "AURAL_MAX_RESPONSE_BYTES", env["AURAL_MAX_RESPONSE_BYTES"], minimum=1024, example="16777216"
            )
        if env.get("AURAL_WATCH_SHARE"):
            s.watch_share = parse_share("AURAL_WATCH_SHARE", env["AURAL_WATCH_SHARE"])
        s.watch_state = env.get("AURAL_WATCH_STATE") or None
        s.auth_token = env.get("AURAL_MCP_TOKEN") or None
        s.auth_mode = env.get("AURAL_MCP_AUTH") or "token"
        s.public_url = env.get("AURAL_MCP_PUBLIC_URL") or None
        s.secret_key = env.get("AURAL_MCP_SECRET_KEY") or None
        s.redis_url = env.get("AURAL_MCP_REDIS_URL") or None
        s.team_db = env.get("AURAL_MCP_TEAM_DB") or None
        if env.get("AURAL_MCP_ALLOWED_HOSTS"):
            s.allowed_hosts = [h.strip() for h in env["AURAL_MCP_ALLOWED_HOSTS"].split(",") if h.strip()]
        if env.get("AURAL_MCP_ALLOWED_ORIGINS"):
            s.allowed_origins = [o.strip() for o in env["AURAL_MCP_ALLOWED_ORIGINS"].split(",") if o.strip()]
        if env.get("AURAL_MCP_MAX_BODY_BYTES"):
            s.max_body_bytes = parse_int(
                "AURAL_MCP_MAX_BODY_BYTES", env["AURAL_MCP_MAX_BODY_BYTES"], minimum=MIN_BODY_BYTES, example="1048576"
            )
        for name, variable in HTTP_LIMITS.items():
            if env.get(variable):
                text = env[variable]
                value = (
                    parse_int(variable, text, minimum=1, example="100")
                    if name.startswith("max_")
                    else parse_seconds(variable, text, maximum=MAX_HTTP_SECONDS)
                )
                setattr(s, name, value)
        s.sandbox_db = env.get("AURAL_SANDBOX_DB") or None
        s.sandbox_seed = env.get("AURAL_SANDBOX_SEED") or None
        if env.get("AURAL_MCP_SHUTDOWN_GRACE"):
            s.shutdown_grace = parse_seconds(
                "AURAL_MCP_SHUTDOWN_GRACE",
                env["AURAL_MCP_SHUTDOWN_GRACE"],
                maximum=MAX_SHUTDOWN_GRACE,
                zero_ok=True,
                example="10",
            )
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


def sandbox_db_problem(path: str) -> str | None:
    """Why the sandbox cannot keep its data in `path`, or None. Opens the file as SQLite to know."""
    import sqlite3

    where = f"--sandbox-db / AURAL_SANDBOX_DB {path!r}"
    if os.path.isdir(path):
        return f"{where} is a folder; give a file path in it, e.g. {os.path.join(path, 'aural-sandbox.db')!r}"
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        return f"{where}: the folder {folder!r} does not exist; create it or choose another path"
    try:
        conn = sqlite3.connect(path, timeout=1)
        try:
            conn.execute("PRAGMA schema_version")  # "file is not a database" for any other file
            conn.execute("BEGIN IMMEDIATE")  # takes the write lock: fails where the file cannot be written
            conn.rollback()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return f"{where} cannot be used as the sandbox's SQLite file ({exc}); choose another path"
    return None
