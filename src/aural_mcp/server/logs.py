"""Logging set-up for `aural-mcp serve`: everything to stderr, with the configured secrets masked,
and over HTTP the session ids in library log lines shortened."""

from __future__ import annotations

import logging
import re
import sys

from aural_mcp.settings import Settings


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


# Streamable HTTP and SSE session ids are bearer-like: whoever has one can use the session. The SDK
# and the servers under it log them (at INFO, and in every SSE chunk and access line at DEBUG).
_SESSION_ID = re.compile(r"\b([0-9a-f]{8})(?:-?[0-9a-f]{4}){3}-?[0-9a-f]{12}\b", re.IGNORECASE)
_LIBRARY_LOGGERS = ("mcp.", "uvicorn", "sse_starlette", "starlette")


class SessionIdMask(logging.Filter):
    """Shortens anything shaped like a session id to its first 8 hex digits in library log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith(_LIBRARY_LOGGERS):
            try:
                text = record.getMessage()
            except Exception:  # a malformed record is the handler's to report, not ours to raise
                return True
            masked = _SESSION_ID.sub(r"\1…", text)
            if masked != text:
                record.msg, record.args = masked, None
        return True


def mask_session_ids() -> None:
    """Put the mask on every handler of the root logger (where all library records end up)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, SessionIdMask) for f in handler.filters):
            handler.addFilter(SessionIdMask())
