"""Showing a job's progress on stderr: without a TTY, one line per update.

(The progress part adds the bar for a TTY here, from a well-kept library imported only by the
pipeline commands.)
"""

from __future__ import annotations

import sys
from typing import TextIO

from aural_mcp.pipelines.progress import Progress, ProgressUpdate


def stderr_progress(stream: TextIO | None = None) -> Progress:
    """A callback that prints one line per update: `invite: 500/1170 candidates (chunk 1 of 3 sent)`."""
    out = stream or sys.stderr

    def show(update: ProgressUpdate) -> None:
        total = f"/{update.total}" if update.total is not None else ""
        note = f" ({update.message})" if update.message else ""
        print(f"{update.stage}: {update.done}{total} {update.unit}{note}", file=out, flush=True)

    return show
