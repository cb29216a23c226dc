"""Settings for the whole suite: the anyio backend, hypothesis and the user's data folder kept out of
the repository and the home folder, a guard that fails the run when a test leaves a new file in the
repository tree, and the background soak.

A test marked `soak` reads the result of a long scenario (`tests/watch/budget_soak.py`, three
minutes of real time) through the `budget_soak_result` fixture. The scenario starts as a
subprocess as soon as such a test is collected, and the test runs last, so the wait overlaps the
rest of the suite instead of adding to it. The suite runs on pytest-xdist workers (`-n` in
pyproject.toml): they share one scenario, started by the first worker that collects a soak test."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from tests.support.tree import files_under

REPO = Path(__file__).resolve().parent.parent

# No example database: a failing example is printed with its reproduction, and nothing is kept
# between runs (the default database is a `.hypothesis` folder in the working directory).
settings.register_profile("aural", database=None)
settings.load_profile("aural")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "soak: reads a long background scenario's result; runs last")
    # Hypothesis also caches data (its unicode tables) in `.hypothesis` under the working
    # directory; send it to a directory of this run instead.
    if "HYPOTHESIS_STORAGE_DIRECTORY" not in os.environ:
        home = tempfile.mkdtemp(prefix="aural-hypothesis-")
        os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = home
        config.add_cleanup(lambda: shutil.rmtree(home, ignore_errors=True))
    # The session watcher's default state file is in the user's data folder: the servers the
    # tests start (in process and as subprocesses, which inherit this) keep it in one of this run.
    data = tempfile.mkdtemp(prefix="aural-data-")
    os.environ["XDG_DATA_HOME"] = data
    config.add_cleanup(lambda: shutil.rmtree(data, ignore_errors=True))
    # The xdist controller (`-n`): its workers share one soak scenario, in a folder it removes at the end.
    if config.pluginmanager.hasplugin("dsession") and SOAK_FOLDER_ENV not in os.environ:
        folder = tempfile.mkdtemp(prefix="aural-soak-")
        os.environ[SOAK_FOLDER_ENV] = folder  # the workers start after this and inherit it
        config.add_cleanup(lambda: _soak_cleanup(folder))


SOAK_TIMEOUT = 300.0  # the scenario's three minutes, its set-up, and a loaded machine
SOAK_FOLDER_ENV = "AURAL_TEST_SOAK_FOLDER"  # set by the xdist controller: one scenario for all its workers
_soak: dict[str, object] = {}


def _soak_cleanup(folder: str) -> None:
    """Stop the scenario started in `folder` (by the PID it recorded, its own process group) and remove it."""
    with contextlib.suppress(OSError, ValueError):
        os.killpg(int(Path(folder, "pid").read_text()), signal.SIGTERM)
    shutil.rmtree(folder, ignore_errors=True)


def _start_soak(config: pytest.Config) -> None:
    """Start the scenario once per run: the first process to claim its folder starts it, in its own
    process group; its exit code lands in `result.json.rc`. Under xdist the controller made the folder
    (pytest_configure) and removes it at the end; otherwise this process does (pytest_sessionfinish)."""
    shared = os.environ.get(SOAK_FOLDER_ENV)
    folder = shared or tempfile.mkdtemp(prefix="aural-soak-")
    _soak.update(folder=folder, owned=not shared)
    try:
        os.close(os.open(os.path.join(folder, "claim"), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return  # another worker of this run started it
    out = os.path.join(folder, "result.json")
    script = '"$0" -m tests.watch.budget_soak "$1"; echo $? > "$1.rc.part" && mv "$1.rc.part" "$1.rc"'
    with open(os.path.join(folder, "log.txt"), "wb") as log:
        proc = subprocess.Popen(
            ["sh", "-c", script, sys.executable, out], cwd=REPO, stdout=log, stderr=log, start_new_session=True
        )
    Path(folder, "pid").write_text(str(proc.pid))
    _soak["proc"] = proc  # reaped by whoever stops it; kept so it is not collected while running


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    soaks = [item for item in items if item.get_closest_marker("soak")]
    if not soaks:
        return
    items[:] = [item for item in items if item not in soaks] + soaks
    _start_soak(config)


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _soak.get("owned"):
        _soak_cleanup(str(_soak["folder"]))
    proc = _soak.get("proc")
    if isinstance(proc, subprocess.Popen):
        proc.poll()  # reap it if it has ended


@pytest.fixture
def budget_soak_result() -> str:
    """The soak scenario's JSON result, once it has finished (it started at collection)."""
    assert "folder" in _soak, "the soak scenario starts only when a soak test is collected"
    folder = str(_soak["folder"])
    rc_path = Path(folder, "result.json.rc")
    deadline = time.monotonic() + SOAK_TIMEOUT
    while not rc_path.exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    code = rc_path.read_text().strip() if rc_path.exists() else None
    with open(os.path.join(folder, "log.txt"), encoding="utf-8", errors="replace") as f:
        log = f.read()[-4000:]
    assert code == "0", f"the soak scenario did not finish cleanly (exit {code}):\n{log}"
    return Path(folder, "result.json").read_text(encoding="utf-8")


@pytest.fixture(scope="session", autouse=True)
def repository_tree_is_left_as_it_was() -> Iterator[None]:
    """Tests write into tmp_path, never into the repository: fail the run if one left a file."""
    before = files_under(REPO)
    yield
    left = sorted(files_under(REPO) - before)
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":  # asked for: tests/server/test_surface.py
        left = [path for path in left if not path.startswith("tests/server/snapshots/")]
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":  # asked for: the browser tests' pictures for docs/
        left = [path for path in left if not path.startswith("docs/screenshots/")]
    assert not left, f"the tests left new files in the repository tree (write them under tmp_path): {left}"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """A headless system Chromium (a Playwright `Browser`) per module: tests/support/browser.py.

    Not per session: while Playwright's sync API is started, its event loop counts as running in
    the main thread, so every anyio test after it would fail ("Cannot run the event loop while
    another loop is running"). Stopping it at the module's end clears that; keep a module's
    browser tests sync and apart from its async ones."""
    from tests.support.browser import chromium

    with chromium() as launched:
        yield launched


@pytest.fixture
def anyio_backend():
    return "asyncio"
