"""Starting `aural-mcp` (or any command) as a subprocess, and stopping it by its own PID."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

_BIN = Path(sys.executable).parent
# The `aural-mcp` command of the environment running the tests, as the start of an argv.
AURAL_MCP: list[str] = (
    [str(_BIN / "aural-mcp")] if (_BIN / "aural-mcp").exists() else [sys.executable, "-m", "aural_mcp.cli"]
)


def env_without_aural(**extra: str) -> dict[str, str]:
    """This process's environment without any AURAL_* variable (a developer's key must not leak
    into a test's server), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AURAL_")}
    env.update(extra)
    return env


def stop_process(proc: subprocess.Popen[Any], *, group: bool = False, grace: float = 5.0) -> None:
    """Stop our own child by its PID: SIGTERM, wait up to `grace` s, then SIGKILL. With `group`,
    signal its whole process group (a child started with `start_new_session=True` leads one), so
    what it started goes too."""
    if proc.poll() is not None:
        return

    def send(sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if group:
                os.killpg(proc.pid, sig)
            else:
                proc.send_signal(sig)

    send(signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        send(signal.SIGKILL)
        proc.wait(timeout=grace)


@contextlib.contextmanager
def started(argv: list[str], *, group: bool = False, **popen: Any) -> Iterator[subprocess.Popen[Any]]:
    """`subprocess.Popen(argv, **popen)`, always stopped with `stop_process` when the block ends.
    With `group`, the child leads a new session and its whole group is stopped."""
    proc = subprocess.Popen(argv, start_new_session=group, **popen)
    try:
        yield proc
    finally:
        stop_process(proc, group=group)


def wait_for_output(
    read: Callable[[], str], pattern: re.Pattern[str], *, proc: subprocess.Popen[Any], timeout: float = 30.0
) -> re.Match[str]:
    """Poll `read()` (a process's output so far, e.g. its stderr file) until `pattern` matches.
    Fails when `proc` exits first or `timeout` passes, quoting the output."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = pattern.search(read())
        if found:
            return found
        if proc.poll() is not None:
            raise RuntimeError(f"the process exited with {proc.returncode}: {read()}")
        time.sleep(0.05)
    raise TimeoutError(f"no {pattern.pattern!r} in the output within {timeout} s: {read()}")
