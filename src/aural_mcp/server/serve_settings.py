"""`aural-mcp serve`'s settings: from flags and the environment, and the start-up checks.

Flags win over the environment (AURAL_*), which wins over defaults. `check_settings` refuses, as
a `ConfigError`, every configuration that cannot work or is unsafe, before anything starts.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from aural_mcp.server.console import ConfigError
from aural_mcp.settings import (
    LOG_LEVELS,
    MIN_BODY_BYTES,
    Settings,
    is_loopback,
    parse_rate_limit,
    parse_share,
    sandbox_db_problem,
)

MIN_REMOTE_TOKEN = 32  # characters of bearer token required to listen beyond loopback
SANDBOX_ONLY_FLAGS = ("sandbox_db", "sandbox_port", "sandbox_seed")


def sandbox_only_flags_problem(args: argparse.Namespace) -> str | None:
    """Sandbox flags given without `--sandbox` (serve would ignore them), or None."""
    if getattr(args, "sandbox", False):
        return None
    given = [f"--{n.replace('_', '-')}" for n in SANDBOX_ONLY_FLAGS if getattr(args, n, None) is not None]
    return f"{', '.join(given)} only applies to the sandbox: add --sandbox, or drop it" if given else None


def settings_from_args(args: argparse.Namespace, env: dict[str, str] | None = None) -> Settings:
    """Flags win over the environment (AURAL_*), which wins over defaults."""
    problem = sandbox_only_flags_problem(args)
    if problem:
        raise ConfigError(problem)
    overrides: dict[str, Any] = {}
    for name in (
        "transport",
        "host",
        "port",
        "auth_token",
        "auth_mode",
        "public_url",
        "team_db",
        "redis_url",
        "allowed_hosts",
        "allowed_origins",
        "toolsets",
        "sandbox_db",
        "sandbox_port",
        "sandbox_seed",
    ):
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = value
    for flag in ("stateless", "json_response", "read_only", "sandbox"):
        if getattr(args, flag, False):
            overrides[flag] = True
    if getattr(args, "base_url", None):
        overrides["base_url"] = args.base_url
    if getattr(args, "log_level", None):
        overrides["log_level"] = args.log_level.upper()
    try:
        settings = Settings.from_env(env, **overrides)
        if getattr(args, "rate_limit", None):
            settings.rate_limit, settings.rate_window = parse_rate_limit(args.rate_limit)
        if getattr(args, "watch_share", None):
            settings.watch_share = parse_share("--watch-share", args.watch_share)
        if getattr(args, "state", None):
            settings.watch_state = args.state
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if settings.sandbox and settings.sandbox_port is None:
        settings.sandbox_port = 0  # `serve --sandbox` always serves the pages its links point to
    return settings


def check_settings(settings: Settings) -> None:
    """Refuse configurations that cannot work or are unsafe, before anything starts.

    A missing or malformed API key is not refused: the server starts, so the client can list its
    tools, and every call answers with how to set the key (see `Runtime.acquire`); `main` says it
    once on stderr. A client shows a server that exits at start only as "Connection closed".
    """
    if settings.log_level not in LOG_LEVELS:
        raise ConfigError(f"log level {settings.log_level!r} must be one of {', '.join(LOG_LEVELS)}")
    if settings.sandbox and settings.sandbox_db and settings.sandbox_db != ":memory:":
        problem = sandbox_db_problem(settings.sandbox_db)
        if problem:
            raise ConfigError(problem)
    problem = watch_state_problem(settings)
    if problem:
        raise ConfigError(problem)
    if settings.sandbox_port is not None and not 0 <= settings.sandbox_port <= 65535:
        raise ConfigError(f"--sandbox-port {settings.sandbox_port} must be between 0 and 65535")
    if settings.sandbox and settings.sandbox_seed and not os.path.isfile(settings.sandbox_seed):
        raise ConfigError(
            f"--sandbox-seed / AURAL_SANDBOX_SEED {settings.sandbox_seed!r}: no such file; "
            "give the path of a seed JSON file"
        )
    if not settings.sandbox and not settings.base_url.startswith(("http://", "https://")):
        raise ConfigError(
            f"the base URL must start with http:// or https://, for example https://aural-ai.com/api/v1 "
            f"(got {settings.base_url!r} from --base-url or AURAL_BASE_URL)"
        )
    if settings.max_body_bytes < MIN_BODY_BYTES:  # the stdio line limit as well as the HTTP body limit
        raise ConfigError(f"AURAL_MCP_MAX_BODY_BYTES must be at least {MIN_BODY_BYTES}")
    problem = team_problem(settings)
    if problem:
        raise ConfigError(problem)
    if settings.json_response and settings.transport != "http":
        raise ConfigError("--json-response is for Streamable HTTP: add --transport http, or drop it")
    if settings.transport == "stdio":
        return
    if not 0 <= settings.port <= 65535:
        raise ConfigError(f"--port {settings.port} must be between 0 and 65535")
    token = settings.auth_token
    if token is not None and (not token.strip() or any(c.isspace() for c in token)):
        raise ConfigError(
            "the bearer token (--auth-token / AURAL_MCP_TOKEN) must be non-empty and without spaces"
        )
    if token is not None and not (token.isascii() and token.isprintable()):
        raise ConfigError(
            "the bearer token (--auth-token / AURAL_MCP_TOKEN) must be ASCII letters, digits and punctuation: "
            "HTTP headers carry ASCII, so a token with other characters could never match"
        )
    if token is not None and not is_loopback(settings.host) and len(token) < MIN_REMOTE_TOKEN:
        raise ConfigError(
            f"the bearer token (--auth-token / AURAL_MCP_TOKEN) must be at least {MIN_REMOTE_TOKEN} characters "
            f"to listen on {settings.host}, which other machines can reach; "
            '`python -c "import secrets; print(secrets.token_urlsafe(32))"` makes one'
        )
    if not is_loopback(settings.host) and not token and settings.auth_mode != "oauth":
        raise ConfigError(
            f"refusing to listen on {settings.host}, which other machines can reach, without a bearer token. "
            "Set AURAL_MCP_TOKEN (or --auth-token) to a long random secret, e.g. "
            '`export AURAL_MCP_TOKEN="$(python -c "import secrets; print(secrets.token_urlsafe(32))")"`, '
            "or bind 127.0.0.1."
        )


def team_problem(settings: Settings) -> str | None:
    """Why `--auth oauth` cannot start as configured, or None (also for `--auth token`)."""
    if settings.auth_mode not in ("token", "oauth"):
        return f"--auth / AURAL_MCP_AUTH {settings.auth_mode!r} must be token or oauth"
    if settings.redis_url and settings.auth_mode != "oauth":
        return "--redis / AURAL_MCP_REDIS_URL is the team server's shared store: add --auth oauth, or drop it"
    if settings.auth_mode != "oauth":
        return None
    if settings.transport != "http":
        return "--auth oauth needs --transport http (Streamable HTTP): OAuth is for remote clients"
    if settings.auth_token:
        return "--auth oauth replaces the shared bearer token: unset AURAL_MCP_TOKEN / --auth-token"
    if settings.sandbox:
        return "--auth oauth serves users' own keys: point --base-url at an Aural API (a sandbox server too), not --sandbox"
    url = settings.public_url or ""
    if not url:
        return "--auth oauth needs --public-url (or AURAL_MCP_PUBLIC_URL): the https URL clients reach this server at"
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    local = parts.hostname is not None and is_loopback(parts.hostname)
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        return f"--public-url {url[:80]!r} must be an https:// URL (http:// only for 127.0.0.1, localhost or [::1])"
    if parts.query or parts.fragment or not parts.hostname or parts.path not in ("", "/"):
        # Clients look for the OAuth metadata at the origin's /.well-known/, where a path prefix cannot reach it.
        return f"--public-url {url[:80]!r} must be an origin such as https://mcp.example.com, without path, query or fragment"
    from aural_mcp.team.secrets import SecretBox, SecretKeyError

    try:
        SecretBox.from_text(settings.secret_key)
    except SecretKeyError as exc:
        return str(exc)
    if settings.redis_url:
        from aural_mcp.team.redis_store import RedisStore

        try:
            RedisStore(settings.redis_url)  # the URL's form only: nothing is sent until the first request
        except ValueError as exc:
            return str(exc)
    return None


def watch_state_problem(settings: Settings) -> str | None:
    """Why the session watcher could not keep its state at `--state` / AURAL_WATCH_STATE, or None.

    The state is opened only when something waits or subscribes, so this looks without creating
    anything: an existing file must be a writable SQLite file (of this schema, if it has one), a
    new one needs a writable folder (or the nearest existing parent of the folders to create).
    The default file, in the user's data folder, is checked when it is opened.
    """
    path = settings.watch_state
    if not path or path == ":memory:":
        return None
    where = f"the watch state {path!r} (--state / AURAL_WATCH_STATE)"
    if os.path.isdir(path):
        return f"{where} is a folder; give a file path in it, e.g. {os.path.join(path, 'watch.sqlite3')!r}"
    if os.path.exists(path):
        import sqlite3

        try:
            conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=1)
            try:
                conn.execute("PRAGMA schema_version")  # "file is not a database" for any other file
                tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
                if "meta" in tables:
                    row = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
                    from aural_mcp.watch.state import SCHEMA_VERSION

                    if row is not None and row[0] != SCHEMA_VERSION:
                        return f"{where} has schema {row[0]}, this aural-mcp reads {SCHEMA_VERSION}: point it at a new file"
                conn.execute("BEGIN IMMEDIATE")  # takes the write lock: fails where the file cannot be written
                conn.rollback()
            finally:
                conn.close()
        except sqlite3.Error as exc:
            return f"{where} cannot be used as the watcher's SQLite file ({exc}); choose another path"
        return None
    parent = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent) or not os.access(parent, os.W_OK | os.X_OK):
        return f"{where}: cannot create it, {parent!r} is not a folder this user can write; choose another path"
    return None
