"""`aural-mcp serve`: read and check the settings, set up logging, run the chosen transport.

The transports live in `server.stdio` (the default and the hot path, which imports nothing that
only HTTP needs) and `server.http` (SSE and Streamable HTTP behind one ASGI guard); each is
imported only when chosen.
"""

from __future__ import annotations

import argparse

from aural_mcp.server.console import EXIT_CONFIG, KEY_HELP, ConfigError, say
from aural_mcp.server.logs import configure_logging
from aural_mcp.server.serve_settings import check_settings, settings_from_args
from aural_mcp.settings import key_problem


def main(args: argparse.Namespace) -> int:
    try:
        settings = settings_from_args(args)
        check_settings(settings)
    except ConfigError as exc:
        say(str(exc))
        return EXIT_CONFIG
    configure_logging(settings)
    # the team server (--auth oauth) has no key of its own: each user's comes with their grant
    problem = None if settings.sandbox or settings.auth_mode == "oauth" else key_problem(settings.api_key)
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
