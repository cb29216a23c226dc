"""What `aural-mcp serve` tells the user on stderr: one-line messages and the configuration error.

A problem the user can fix before anything starts is a `ConfigError`: the serve command prints
it as one `aural-mcp: ...` line and exits with `EXIT_CONFIG`.
"""

from __future__ import annotations

import sys

EXIT_CONFIG = 2  # bad configuration: nothing was started
KEY_HELP = (
    "Set AURAL_API_KEY=dlv_… (a key from the Aural dashboard, Settings → API Keys), "
    "or try `aural-mcp serve --sandbox` to run against a local sandbox with no account."
)


class ConfigError(Exception):
    """A configuration problem the user can fix; reported as one line on stderr, exit 2."""


def say(text: str) -> None:
    print(f"aural-mcp: {text}", file=sys.stderr, flush=True)
