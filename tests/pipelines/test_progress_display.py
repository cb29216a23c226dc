"""The stderr progress display: its time-left arithmetic, and what the real `stderr_progress`
shows on a pseudo-terminal (a bar) and on a pipe (a line per update), in a child process."""

from __future__ import annotations

import io
import os
import pty
import struct
import subprocess
import sys
import termios
import textwrap
from fcntl import ioctl

import pytest

from aural_mcp.api.pacing import Pacer
from aural_mcp.pipelines.display import format_seconds, pacing_floor, seconds_left, stderr_progress
from aural_mcp.pipelines.progress import ProgressUpdate


def test_the_pacing_floor_is_the_remaining_requests_at_the_keys_sustained_rate():
    # 120 requests at 60 per 60 s: two minutes.
    assert pacing_floor(120, requests_per_unit=1, limit=60, window=60.0) == 120.0
    # 1,000 candidates sent 500 per request: 2 requests, at 2 per 3 s.
    assert pacing_floor(1000, requests_per_unit=1 / 500, limit=2, window=3.0) == pytest.approx(3.0)
    assert pacing_floor(-5, requests_per_unit=1, limit=60, window=60.0) == 0.0


def test_time_left_is_the_larger_of_the_observed_rate_and_the_pacing_floor():
    pacer = Pacer(60, 60.0)
    # 10 done in 1 s: the observed rate says 9 s for 90 more, but 90 requests need 90 s at 60/60.
    assert seconds_left(10, 100, 1.0, pacer=pacer, requests_per_unit=1) == pytest.approx(90.0)
    # 10 done in 100 s: the observed rate (900 s) is slower than the floor, so it wins.
    assert seconds_left(10, 100, 100.0, pacer=pacer, requests_per_unit=1) == pytest.approx(900.0)
    # Without a pacer, only the observed rate.
    assert seconds_left(10, 100, 1.0) == pytest.approx(9.0)
    # Nothing done yet: only the floor is known, or nothing.
    assert seconds_left(0, 100, 0.0, pacer=pacer, requests_per_unit=1) == pytest.approx(100.0)
    assert seconds_left(0, 100, 5.0) is None
    # No total: unknown; all done: nothing left.
    assert seconds_left(10, None, 1.0, pacer=pacer, requests_per_unit=1) is None
    assert seconds_left(100, 100, 1.0, pacer=pacer, requests_per_unit=1) == 0.0


def test_seconds_are_shown_short():
    assert [format_seconds(s) for s in (None, float("inf"), 0.2, 45, 125, 3720)] == [
        "?",
        "?",
        "1s",
        "45s",
        "2m05s",
        "1h02m",
    ]


def test_without_a_tty_it_prints_one_line_per_update():
    out = io.StringIO()
    show = stderr_progress(out, pacer=Pacer(60, 60.0), requests_per_unit=1 / 500)
    show(ProgressUpdate("invite", 500, 1170, "candidates", "chunk 1 of 3 sent"))
    show(ProgressUpdate("export", 3, None, "sessions"))
    assert out.getvalue().splitlines() == [
        "invite: 500/1170 candidates (chunk 1 of 3 sent)",
        "export: 3 sessions",
    ]


CHILD = textwrap.dedent(
    """
    from aural_mcp.api.pacing import Pacer
    from aural_mcp.pipelines.display import stderr_progress
    from aural_mcp.pipelines.progress import ProgressUpdate

    show = stderr_progress(pacer=Pacer(2, 3.0), requests_per_unit=1)
    for done in range(0, 5):
        show(ProgressUpdate("invite", done, 4, "chunks", f"chunk {done} of 4 sent"))
    """
)


def _run_child(stderr_is_tty: bool) -> str:
    env = {**os.environ, "COLUMNS": "100"}
    if not stderr_is_tty:
        done = subprocess.run(
            [sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return done.stderr
    master, slave = pty.openpty()
    ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # 24 rows, 100 columns
    try:
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD], stderr=slave, stdout=subprocess.DEVNULL, env=env
        )
        os.close(slave)
        chunks: list[bytes] = []
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        assert child.wait(timeout=60) == 0
    finally:
        os.close(master)
    return b"".join(chunks).decode()


def test_on_a_tty_it_draws_a_bar_with_done_total_rate_and_time_left_under_pacing():
    shown = _run_child(stderr_is_tty=True)
    assert "\r" in shown  # a bar redrawn in place, not lines
    assert "invite: 2/4 chunks |" in shown and "chunks/s" in shown
    # 2 chunks left, one request each, at 2 requests per 3 s: at least 3 s, however fast the child runs.
    assert "3s left; chunk 2 of 4 sent" in shown
    assert "invite: 4/4 chunks |" in shown and "0s left; chunk 4 of 4 sent" in shown


def test_on_a_pipe_the_same_job_prints_lines():
    shown = _run_child(stderr_is_tty=False)
    assert "\r" not in shown and "|" not in shown
    assert shown.splitlines() == [f"invite: {done}/4 chunks (chunk {done} of 4 sent)" for done in range(5)]
