"""Showing a job's progress on stderr: a bar on a TTY, one line per update otherwise.

The bar (tqdm, imported only when a bar is shown, so `serve` never loads it) shows done/total,
the rate and the time left. The time left is the larger of two estimates: the observed rate's,
and the floor the key's pacing sets. A job whose first chunk went out at once would otherwise
promise a finish the rate limit cannot allow: with 60 requests per 60 s, 120 more requests take
at least two minutes however fast the first ones were.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from aural_mcp.pipelines.progress import Progress, ProgressUpdate

if TYPE_CHECKING:
    from aural_mcp.api.pacing import Pacer


def pacing_floor(remaining: int, *, requests_per_unit: float, limit: int, window: float) -> float:
    """The fewest seconds `remaining` units can take at `limit` requests per `window` seconds."""
    return max(0, remaining) * requests_per_unit * window / limit


def seconds_left(
    done: int,
    total: int | None,
    elapsed: float,
    *,
    pacer: Pacer | None = None,
    requests_per_unit: float | None = None,
) -> float | None:
    """The time left: max(the observed rate's estimate, the pacing floor); None while unknown.

    Without a total nothing is known. Before the first unit is done there is no observed rate,
    so only the pacing floor (when given) is known."""
    if total is None:
        return None
    remaining = max(0, total - done)
    if remaining == 0:
        return 0.0
    estimates: list[float] = []
    if done > 0 and elapsed > 0:
        estimates.append(elapsed / done * remaining)
    if pacer is not None and requests_per_unit is not None:
        estimates.append(
            pacing_floor(
                remaining, requests_per_unit=requests_per_unit, limit=pacer.limit, window=pacer.window
            )
        )
    return max(estimates) if estimates else None


def format_seconds(seconds: float | None) -> str:
    """`?`, `45s`, `2m05s`, `1h02m`."""
    if seconds is None or not math.isfinite(seconds):
        return "?"
    whole = math.ceil(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def stderr_progress(
    stream: TextIO | None = None,
    *,
    pacer: Pacer | None = None,
    requests_per_unit: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Progress:
    """A callback showing each update on `stream` (stderr): a bar when it is a TTY, else a line
    like `invite: 500/1170 candidates (chunk 1 of 3 sent)`.

    `pacer` (a client's `AuralClient.pacer`) and `requests_per_unit` (how many requests one unit
    costs, e.g. 1/500 for candidates sent 500 per request) let the bar's time left respect the
    key's rate limit."""
    out = stream or sys.stderr
    if _is_tty(out):
        return _bar_progress(out, pacer=pacer, requests_per_unit=requests_per_unit, clock=clock)

    def show(update: ProgressUpdate) -> None:
        total = f"/{update.total}" if update.total is not None else ""
        note = f" ({update.message})" if update.message else ""
        print(f"{update.stage}: {update.done}{total} {update.unit}{note}", file=out, flush=True)

    return show


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


BAR_FORMAT = "{desc}: {n_fmt}/{total_fmt} {unit} |{bar}| {rate_fmt}{postfix}"
COUNTER_FORMAT = "{desc}: {n_fmt} {unit} {rate_fmt}{postfix}"  # while the total is unknown


def _bar_progress(
    out: TextIO, *, pacer: Pacer | None, requests_per_unit: float | None, clock: Callable[[], float]
) -> Progress:
    from tqdm import tqdm  # type: ignore[import-untyped]  # only the pipeline commands show bars

    bar: Any = None
    stage = ""
    started = 0.0

    def show(update: ProgressUpdate) -> None:
        nonlocal bar, stage, started
        if bar is None or update.stage != stage or (update.total is not None and bar.total != update.total):
            if bar is not None:
                bar.close()
            stage, started = update.stage, clock()
            bar = tqdm(
                total=update.total,
                desc=update.stage,
                unit=update.unit,
                file=out,
                bar_format=BAR_FORMAT if update.total is not None else COUNTER_FORMAT,
                dynamic_ncols=True,
                leave=True,
            )
        left = seconds_left(
            update.done, update.total, clock() - started, pacer=pacer, requests_per_unit=requests_per_unit
        )
        notes = [] if update.total is None else [f"{format_seconds(left)} left"]
        if update.message:
            notes.append(update.message)
        bar.set_postfix_str("; ".join(notes), refresh=False)
        bar.update(update.done - bar.n)
        bar.refresh()  # units come a chunk at a time: show every one, not tqdm's sample of them
        if update.total is not None and update.done >= update.total:
            bar.close()
            bar = None

    return show
