"""Settings for the whole suite: the anyio backend, hypothesis and the user's data folder kept out of
the repository and the home folder, and a guard that fails the run when a test leaves a new file in
the repository tree."""

from __future__ import annotations

import os
import shutil
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


@pytest.fixture(scope="session", autouse=True)
def repository_tree_is_left_as_it_was() -> Iterator[None]:
    """Tests write into tmp_path, never into the repository: fail the run if one left a file."""
    before = files_under(REPO)
    yield
    left = sorted(files_under(REPO) - before)
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":  # asked for: tests/server/test_surface.py
        left = [path for path in left if not path.startswith("tests/server/snapshots/")]
    assert not left, f"the tests left new files in the repository tree (write them under tmp_path): {left}"


@pytest.fixture
def anyio_backend():
    return "asyncio"
