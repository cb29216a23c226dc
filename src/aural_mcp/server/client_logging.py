"""`logging/setLevel` per client: what each connection receives as `notifications/message`.

A client that sets a level receives our own log records (the `aural_mcp` loggers) at or above
that level, and only those emitted while the server was handling that client's requests: never
another client's calls, never start-up or other process-wide lines. Until it sets a level a
connection receives none. On 2026-07-28 connections, where `logging/setLevel` no longer exists,
the level a request opts in to in its `_meta` plays the same part. Messages are redacted like the
stderr log (the API key, bearer tokens). The stderr log stays at `--log-level` whatever clients
ask for: the stderr handler filters by its own level.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import re
import warnings
import weakref
from dataclasses import dataclass, field
from typing import Any

from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from aural_mcp.server.sdk_private import connection_of

ROOT_LOGGER = "aural_mcp"

# MCP log levels (RFC 5424 names) <-> Python logging levels.
LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "notice": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
    "alert": logging.CRITICAL,
    "emergency": logging.CRITICAL,
}
_NAMES = ((logging.CRITICAL, "critical"), (logging.ERROR, "error"), (logging.WARNING, "warning"), (logging.INFO, "info"))
_SECRET_PATTERNS = re.compile(r"dlv_[A-Za-z0-9_\-]+|(?i:bearer)\s+[^\s\"']+")


def mcp_level(levelno: int) -> str:
    for floor, name in _NAMES:
        if levelno >= floor:
            return name
    return "debug"


def redact(text: str, secrets: set[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "[redacted]")
    return _SECRET_PATTERNS.sub("[redacted]", text)


@dataclass
class _Request:
    """The request being handled in this context: whose it is, and the log sends it started."""

    context: Any
    connection: Any
    loop: asyncio.AbstractEventLoop
    levelno: int | None  # the lowest level this client receives for this request; None: nothing
    sends: list[asyncio.Future[Any]] = field(default_factory=list)


_current: contextvars.ContextVar[_Request | None] = contextvars.ContextVar("aural_mcp_request", default=None)
_levels: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
_secrets: set[str] = set()


def set_client_level(context: Any, level: str) -> None:
    """`logging/setLevel` from the client behind `context`: only its own notifications change."""
    levelno = LEVELS.get(str(level).lower(), logging.WARNING)
    _levels[connection_of(context.session)] = levelno
    _let_through(levelno)


def _let_through(levelno: int) -> None:
    # Records at that level must be created at all; each handler still filters what it gets.
    ours = logging.getLogger(ROOT_LOGGER)
    if ours.getEffectiveLevel() > levelno:
        ours.setLevel(levelno)


def _level_for(context: Any, connection: Any) -> int | None:
    levelno = _levels.get(connection)
    if levelno is not None:
        return levelno
    if context.protocol_version not in MODERN_PROTOCOL_VERSIONS:  # a 2025 client that set no level
        return None
    from mcp.server.connection import allowed_log_levels

    allowed = allowed_log_levels(context.protocol_version, context.meta)  # this request's opt-in
    levelno = min((LEVELS[name] for name in allowed), default=None)
    if levelno is not None:
        _let_through(levelno)
    return levelno


class _ClientHandler(logging.Handler):
    """Sends each `aural_mcp` record to the client whose request is being handled, if it asked."""

    def emit(self, record: logging.LogRecord) -> None:
        request = _current.get()
        if request is None or request.levelno is None or record.levelno < request.levelno:
            return
        try:
            text = redact(record.getMessage(), _secrets)
        except Exception:  # a record that cannot be formatted is not worth failing a call for
            return
        session, request_id = request.context.session, request.context.request_id

        def send() -> None:
            from mcp.shared.exceptions import MCPDeprecationWarning

            with warnings.catch_warnings():  # the SDK marks the 2025 logging capability as legacy
                warnings.simplefilter("ignore", MCPDeprecationWarning)
                sending = session.send_log_message(
                    level=mcp_level(record.levelno), data=text, logger=record.name, related_request_id=request_id
                )
            request.sends.append(asyncio.ensure_future(sending, loop=request.loop))

        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is request.loop:
            send()
        else:  # a worker thread of this request
            request.loop.call_soon_threadsafe(send)


class ClientLogMiddleware:
    """Marks each request's context so `_ClientHandler` knows whose log records it sees."""

    async def __call__(self, ctx: Any, call_next: Any) -> Any:
        connection = connection_of(ctx.session)
        request = _Request(ctx, connection, asyncio.get_running_loop(), _level_for(ctx, connection))
        token = _current.set(request)
        try:
            return await call_next(ctx)
        finally:
            _current.reset(token)
            if request.sends:  # deliver before the answer, so a client sees them with its request
                await asyncio.gather(*request.sends, return_exceptions=True)


_handler = _ClientHandler()


def install(server: Any, secrets: list[str | None]) -> None:
    """Serve per-client log notifications for `server`; `secrets` never appear in them."""
    _secrets.update(s for s in secrets if s and len(s) >= 4)
    ours = logging.getLogger(ROOT_LOGGER)
    if _handler not in ours.handlers:
        ours.addHandler(_handler)
    server.middleware.append(ClientLogMiddleware())
