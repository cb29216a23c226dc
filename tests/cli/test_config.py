"""`aural-mcp config` refuses flags that would configure a server that cannot work, and what it
prints does start: one line on stderr and exit 2 otherwise, through the real command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support.processes import AURAL_MCP

from aural_mcp.cli import main
from aural_mcp.operations import TOOLSETS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("AURAL_"):
            monkeypatch.delenv(name)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--sandbox-db", "x.db"],
            "--sandbox-db only applies to the sandbox: add --sandbox, or drop it",
        ),
        (["--toolsets", "bogus"], "--toolsets: unknown toolset(s) bogus; choose from " + ", ".join(TOOLSETS)),
        (["--sandbox", "--toolsets", "interviews,sesions"], "unknown toolset(s) sesions"),
        (["--toolsets", ","], "--toolsets needs at least one toolset"),
        (["--toolsets", "sandbox"], "--toolsets sandbox lists tools only with --sandbox"),
    ],
)
def test_config_refuses_flags_that_cannot_start_a_working_server(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code = main(["config", "cursor", *argv])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.startswith("aural-mcp config: ") and err.count("\n") == 1, err
    assert message in err


def test_the_allowed_toolsets_are_named_in_full(capsys: pytest.CaptureFixture[str]) -> None:
    main(["config", "claude-desktop", "--toolsets", "bogus"])
    err = capsys.readouterr().err
    for toolset in (*TOOLSETS, "sandbox"):
        assert toolset in err


def test_a_real_config_command_exits_2_with_nothing_on_stdout() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AURAL_")}
    done = subprocess.run(
        [*AURAL_MCP, "config", "vscode", "--toolsets", "bogus"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().startswith("aural-mcp config: --toolsets: unknown toolset(s) bogus")
    assert "Traceback" not in done.stderr


def test_what_config_prints_starts_a_server_with_those_tools(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    import mcpio

    db = tmp_path / "rehearsal.db"
    code = main(["config", "cursor", "--sandbox", "--sandbox-db", str(db), "--toolsets", "sessions,sandbox"])
    assert code == 0
    entry = json.loads(capsys.readouterr().out)["mcpServers"]["aural"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AURAL_", "PYTHON"))}
    with mcpio.StdioPeer([entry["command"], *entry["args"]], env=env) as peer:
        peer.initialize()
        names = {t["name"] for t in peer.list_tools()}
    assert names == {"list_sessions", "get_session", "get_session_report", "end_sessions", "compare_sessions",
                     "get_transcript", "wait_for_sessions", "simulate_session"}  # fmt: skip


def test_sandbox_seed_and_port_are_passed_on_as_given(capsys: pytest.CaptureFixture[str]) -> None:
    seed = ROOT / "examples" / "dashboard-seed.json"
    code = main(["config", "cursor", "--sandbox", "--sandbox-seed", str(seed), "--sandbox-port", "8123"])
    assert code == 0
    args = json.loads(capsys.readouterr().out)["mcpServers"]["aural"]["args"]
    assert args[args.index("--sandbox-seed") + 1] == str(seed.absolute())
    assert args[args.index("--sandbox-port") + 1] == "8123"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--sandbox-port", "8123"], "--sandbox-port only applies to the sandbox"),
        (["--sandbox", "--sandbox-seed", "missing.json"], "--sandbox-seed 'missing.json': no such file"),
    ],
)
def test_config_refuses_sandbox_flags_that_cannot_work(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(["config", "cursor", *argv]) == 2
    out, err = capsys.readouterr()
    assert out == "" and message in err and err.count("\n") == 1, err
