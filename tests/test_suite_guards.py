"""The suite's own guards (tests/conftest.py, tests/support/tree.py): new files in the repository tree are seen, the
caches are not, and hypothesis keeps no example database."""

from __future__ import annotations

from pathlib import Path

from hypothesis import settings
from tests.support.tree import files_under


def test_a_new_file_is_seen_and_the_caches_are_not(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "module.py").write_text("")
    before = files_under(tmp_path)
    for cache in (".venv/bin", "src/__pycache__", ".cache/conformance/node_modules", ".bench-cache/node"):
        (tmp_path / cache).mkdir(parents=True)
        (tmp_path / cache / "made.txt").write_text("")
    assert files_under(tmp_path) == before == {"src/module.py"}
    (tmp_path / "aural-sandbox.db").write_text("")
    (tmp_path / ".cache" / "reliability-results").mkdir()
    (tmp_path / ".cache" / "reliability-results" / "faults.json").write_text("{}")
    assert files_under(tmp_path) - before == {"aural-sandbox.db", ".cache/reliability-results/faults.json"}


def test_hypothesis_keeps_no_example_database() -> None:
    assert settings.default.database is None
