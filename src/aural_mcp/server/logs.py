"""Logging set-up for `aural-mcp serve`: everything to stderr, with the configured secrets masked."""

from __future__ import annotations

import logging
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
