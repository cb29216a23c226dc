"""What a long job tells its caller as it goes, and what it says at the end.

A job calls its `Progress` callback after each unit of work (a chunk sent, a page read, an
interview applied) with a `ProgressUpdate`; the CLI shows it as a bar or a line (`display.py`),
the MCP server as progress notifications, and SDK users however they like. The callback must not
raise; a job never depends on what it does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class ProgressUpdate:
    """`done` of `total` units (`total` None while unknown) of one stage of a job."""

    stage: str  # what is being done, e.g. "invite", "apply", "export"
    done: int
    total: int | None
    unit: str  # what is counted: "candidates", "sessions", "changes"
    message: str = ""  # one short line on the last step, e.g. "chunk 2 of 3 sent"


Progress = Callable[[ProgressUpdate], None]


def no_progress(update: ProgressUpdate) -> None:
    """The callback of a caller that does not want progress."""


@dataclass
class Summary:
    """The counts every job ends with."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0

    def line(self) -> str:
        """`created 3, updated 1, unchanged 12, skipped 0, failed 0`."""
        return ", ".join(f"{f.name} {getattr(self, f.name)}" for f in fields(self))

    def add(self, other: Summary) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
