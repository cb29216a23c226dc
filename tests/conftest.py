"""Settings for the whole suite: the anyio backend, hypothesis and the user's data folder kept out of
the repository and the home folder, a guard that fails the run when a test leaves a new file in the
repository tree, and the background soak.

A test marked `soak` reads the result of a long scenario (`tests/watch/budget_soak.py`, three
minutes of real time) through the `budget_soak_result` fixture. The scenario starts as a
subprocess as soon as such a test is collected, and the test runs last, so the wait overlaps the
rest of the suite instead of adding to it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
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


SOAK_TIMEOUT = 300.0  # the scenario's three minutes, its set-up, and a loaded machine
_soak: dict[str, object] = {}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    soaks = [item for item in items if item.get_closest_marker("soak")]
    if not soaks:
        return
    items[:] = [item for item in items if item not in soaks] + soaks
    folder = tempfile.mkdtemp(prefix="aural-soak-")
    out, log = os.path.join(folder, "result.json"), open(os.path.join(folder, "log.txt"), "wb")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "tests.watch.budget_soak", out], cwd=REPO, stdout=log, stderr=log)
    _soak.update(proc=proc, out=out, log=log, folder=folder)


def pytest_sessionfinish(session: pytest.Session) -> None:
    proc = _soak.get("proc")
    if isinstance(proc, subprocess.Popen):
        from tests.support.processes import stop_process

        stop_process(proc)  # ours, by its PID; already ended when the soak test ran
        _soak["log"].close()  # type: ignore[attr-defined]
        shutil.rmtree(str(_soak["folder"]), ignore_errors=True)


@pytest.fixture
def budget_soak_result() -> str:
    """The soak scenario's JSON result, once it has finished (it started at collection)."""
    proc = _soak.get("proc")
    assert isinstance(proc, subprocess.Popen), "the soak scenario starts only when a soak test is collected"
    try:
        code = proc.wait(timeout=SOAK_TIMEOUT)
    except subprocess.TimeoutExpired:
        code = None
    log_path = os.path.join(str(_soak["folder"]), "log.txt")
    with open(log_path, encoding="utf-8", errors="replace") as f:
        log = f.read()[-4000:]
    assert code == 0, f"the soak scenario did not finish cleanly (exit {code}):\n{log}"
    with open(str(_soak["out"]), encoding="utf-8") as f:
        return f.read()


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
    """One headless system Chromium (a Playwright `Browser`) per module: tests/support/browser.py.

    Per module, not per session: while Playwright's sync API runs, its event loop counts as running
    in the main thread, and every anyio test after it would fail with "Cannot run the event loop
    while another loop is running"; stopping Playwright at the module's end releases it."""
    from tests.support.browser import chromium

    with chromium() as launched:
        yield launched


@pytest.fixture
def anyio_backend():
    return "asyncio"
