"""`aural-mcp serve`: settings from flags and environment, start-up checks, logging, dispatch.

The transports themselves live in `server.stdio` (the default and the hot path, which imports
nothing that only HTTP needs) and `server.http` (SSE and Streamable HTTP behind one ASGI guard);
each is imported only when chosen.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import TYPE_CHECKING, Any

from aural_mcp.settings import (
    MIN_BODY_BYTES,
    Settings,
    is_loopback,
    key_problem,
    parse_rate_limit,
    sandbox_db_problem,
)

if TYPE_CHECKING:  # pragma: no cover
    from mcp.server.mcpserver import MCPServer

log = logging.getLogger("aural_mcp.transports")

EXIT_CONFIG = 2  # bad configuration: nothing was started
EXIT_RUNTIME = 1  # started, then failed
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
MIN_REMOTE_TOKEN = 32  # characters of bearer token required to listen beyond loopback
KEY_HELP = (
    "Set AURAL_API_KEY=dlv_… (a key from the Aural dashboard, Settings → API Keys), "
    "or try `aural-mcp serve --sandbox` to run against a local sandbox with no account."
)


class ConfigError(Exception):
    """A configuration problem the user can fix; reported as one line on stderr, exit 2."""


# ---------------------------------------------------------------- settings from flags

SANDBOX_ONLY_FLAGS = ("sandbox_db", "sandbox_port", "sandbox_seed")


def settings_from_args(args: argparse.Namespace, env: dict[str, str] | None = None) -> Settings:
    """Flags win over the environment (AURAL_*), which wins over defaults."""
    if not getattr(args, "sandbox", False):
        given = [f"--{n.replace('_', '-')}" for n in SANDBOX_ONLY_FLAGS if getattr(args, n, None) is not None]
        if given:
            raise ConfigError(f"{', '.join(given)} only applies to the sandbox: add --sandbox, or drop it")
    overrides: dict[str, Any] = {}
    for name in (
        "transport",
        "host",
        "port",
        "auth_token",
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
    for flag in ("stateless", "read_only", "sandbox"):
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
    if settings.log_level not in LEVELS:
        raise ConfigError(f"log level {settings.log_level!r} must be one of {', '.join(LEVELS)}")
    if settings.sandbox and settings.sandbox_db and settings.sandbox_db != ":memory:":
        problem = sandbox_db_problem(settings.sandbox_db)
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
    if not is_loopback(settings.host) and not token:
        raise ConfigError(
            f"refusing to listen on {settings.host}, which other machines can reach, without a bearer token. "
            "Set AURAL_MCP_TOKEN (or --auth-token) to a long random secret, e.g. "
            '`export AURAL_MCP_TOKEN="$(python -c "import secrets; print(secrets.token_urlsafe(32))")"`, '
            "or bind 127.0.0.1."
        )


# ---------------------------------------------------------------- logging


class _RedactingFormatter(logging.Formatter):
    """Replaces the configured secrets with a mask in every formatted log line (defence in depth)."""

    def __init__(self, fmt: str, secrets: list[str]) -> None:
        super().__init__(fmt)
        self._secrets = [s for s in secrets if s and len(s) >= 4]

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return text


def configure_logging(settings: Settings) -> None:
    """Everything goes to stderr: in stdio mode stdout belongs to the protocol."""
    handler = logging.StreamHandler(sys.stderr)
    secrets = [s for s in (settings.api_key, settings.auth_token) if s]
    handler.setFormatter(_RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets))
    handler.setLevel(settings.log_level)  # stays put when a client asks for more of our loggers
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)


def say(text: str) -> None:
    print(f"aural-mcp: {text}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- entry point


def main(args: argparse.Namespace) -> int:
    try:
        settings = settings_from_args(args)
        check_settings(settings)
    except ConfigError as exc:
        say(str(exc))
        return EXIT_CONFIG
    configure_logging(settings)
    problem = None if settings.sandbox else key_problem(settings.api_key)
    if problem:
        say(f"{problem}. {KEY_HELP} Serving anyway: every tool call answers with how to set the key.")
    try:
        if settings.transport == "stdio":
            from aural_mcp.server.stdio import run_stdio

            return run_stdio(settings)
        from aural_mcp.server.http import run_http

        return run_http(settings)
    except ConfigError as exc:
        say(str(exc))
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 0


def build_for_serve(settings: Settings) -> MCPServer:
    from aural_mcp.api.errors import ConfigurationError
    from aural_mcp.server.app import build_server

    try:
        server = build_server(settings)
        if settings.sandbox:  # at start, so a bad port or seed file is one line and the pages' URL is printed
            runtime = server.runtime  # type: ignore[attr-defined]
            runtime.open_sandbox()
            if runtime.pages is not None:
                say(
                    f"sandbox candidate pages at {runtime.pages.url}/i/... "
                    "(the public and invite links from publish_interview and add_candidates open there)"
                )
        return server
    except ConfigurationError as exc:
        raise ConfigError(f"{exc.message}. {KEY_HELP}") from None
    except ValueError as exc:  # a setting build_server rejects, e.g. an unknown --toolsets name
        raise ConfigError(str(exc)) from None
