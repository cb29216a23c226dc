"""The `aural-mcp` command line: config output, doctor's checks, serve's start-up errors."""

from __future__ import annotations

import json
import os
import shlex
import socket
from pathlib import Path

import pytest
from tests.support.net import free_port

from aural_mcp.cli import main
from aural_mcp.settings import Settings

REAL_LOOKING_KEY = "dlv_" + "k3y" * 10 + "zz"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("AURAL_"):
            monkeypatch.delenv(name)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------- config


@pytest.mark.parametrize("client", ["claude-desktop", "cursor"])
def test_config_json_clients(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, client: str
) -> None:
    monkeypatch.setenv("AURAL_API_KEY", REAL_LOOKING_KEY)
    code, out, err = run(capsys, "config", client)
    assert code == 0
    entry = json.loads(out)["mcpServers"]["aural"]
    assert Path(entry["command"]).is_absolute() and Path(entry["command"]).exists()
    assert entry["args"][-1] == "serve"
    assert entry["env"] == {"AURAL_API_KEY": "dlv_REPLACE_WITH_YOUR_KEY"}
    assert REAL_LOOKING_KEY not in out + err  # never the real key from the environment
    where = "claude_desktop_config.json" if client == "claude-desktop" else ".cursor/mcp.json"
    assert where in err and "Replace" in err


def test_config_sandbox_has_no_key(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "config", "claude-desktop", "--sandbox", "--read-only", "--toolsets", "interviews,sessions"
    )
    entry = json.loads(out)["mcpServers"]["aural"]
    assert entry["args"][-5:] == ["serve", "--sandbox", "--toolsets", "interviews,sessions", "--read-only"]
    assert "env" not in entry


def test_config_sandbox_db_is_made_absolute(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "config", "cursor", "--sandbox", "--sandbox-db", "rehearsal.db")
    args = json.loads(out)["mcpServers"]["aural"]["args"]
    assert code == 0 and args[-3:] == ["--sandbox", "--sandbox-db", str(tmp_path / "rehearsal.db")]


def test_config_claude_code_is_a_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "config", "claude-code")
    words = shlex.split(out)
    assert words[:4] == ["claude", "mcp", "add", "aural"]
    assert "--env" in words and "AURAL_API_KEY=dlv_REPLACE_WITH_YOUR_KEY" in words
    sep = words.index("--")
    assert Path(words[sep + 1]).is_absolute() and words[-1] == "serve"
    assert "claude mcp list" in err


def test_config_vscode_prompts_for_the_key(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AURAL_API_KEY", REAL_LOOKING_KEY)
    code, out, err = run(capsys, "config", "vscode")
    doc = json.loads(out)
    server = doc["servers"]["aural"]
    assert server["type"] == "stdio" and Path(server["command"]).is_absolute()
    assert server["env"]["AURAL_API_KEY"] == "${input:aural-api-key}"
    assert doc["inputs"][0]["password"] is True
    assert ".vscode/mcp.json" in err
    assert REAL_LOOKING_KEY not in out + err


def test_config_falls_back_to_python_dash_m(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from aural_mcp.cli import config

    fake = tmp_path / "python3"
    fake.write_text("")
    monkeypatch.setattr(config.sys, "executable", str(fake))
    assert config.server_command() == (str(fake), ["-m", "aural_mcp.cli"])


# ---------------------------------------------------------------- doctor (offline cases; live ones in tests/e2e)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (None, "AURAL_API_KEY is not set"),
        ("sk_live_123", "does not start with dlv_"),
        ("Bearer dlv_abc", "without 'Bearer '"),
        ("dlv_REPLACE_WITH_YOUR_KEY", "placeholder"),
        ('"dlv_abc"', "quotes"),
    ],
)
def test_doctor_key_problems(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, key: str | None, message: str
) -> None:
    if key:
        monkeypatch.setenv("AURAL_API_KEY", key)
    code, out, _ = run(capsys, "doctor")
    assert code == 1
    assert "[FAIL]" in out and message in out and "fix:" in out


def test_doctor_unreachable(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AURAL_API_KEY", REAL_LOOKING_KEY)
    code, out, _ = run(
        capsys, "doctor", "--base-url", f"http://127.0.0.1:{free_port()}/api/v1", "--timeout", "3"
    )
    assert code == 1
    assert "cannot reach" in out and "AURAL_BASE_URL" in out
    assert REAL_LOOKING_KEY not in out and "k3yk3y" not in out
    assert "dlv_…" + REAL_LOOKING_KEY[-4:] in out  # masked: prefix and last four only


# ---------------------------------------------------------------- serve: start-up errors


@pytest.mark.parametrize(
    ("env", "argv", "message"),
    [
        ({"AURAL_API_KEY": REAL_LOOKING_KEY}, ["--base-url", "ftp://x"], "http:// or https://"),
        ({"AURAL_API_KEY": REAL_LOOKING_KEY}, ["--rate-limit", "fast"], "N/SECONDS"),
        ({"AURAL_RATE_LIMIT": "2/inf"}, ["--sandbox"], "rate limit '2/inf' (--rate-limit or AURAL_RATE_LIMIT)"),
        ({"AURAL_RATE_LIMIT": "2/nan"}, ["--sandbox"], "rate limit '2/nan' (--rate-limit or AURAL_RATE_LIMIT)"),
        ({}, ["--sandbox", "--rate-limit", "2/1e400"], "0 < SECONDS <= 86400"),
        ({"AURAL_RATE_LIMIT": "0/60"}, ["--sandbox"], "needs N >= 1"),
        ({"AURAL_TIMEOUT": "inf"}, ["--sandbox"], "AURAL_TIMEOUT='inf' must be a number of seconds, above 0"),
        ({"AURAL_TIMEOUT": "nan"}, ["--sandbox"], "AURAL_TIMEOUT='nan' must be a number of seconds"),
        ({"AURAL_TIMEOUT": "0"}, ["--sandbox"], "AURAL_TIMEOUT='0' must be a number of seconds"),
        ({"AURAL_TIMEOUT": "-5"}, ["--sandbox"], "AURAL_TIMEOUT='-5' must be a number of seconds"),
        ({"AURAL_TIMEOUT": "soon"}, ["--sandbox"], "AURAL_TIMEOUT='soon' must be a number of seconds"),
        ({"AURAL_MCP_MAX_BODY_BYTES": "-1"}, ["--sandbox"], "AURAL_MCP_MAX_BODY_BYTES='-1' must be a whole number"),
        ({"AURAL_MCP_MAX_BODY_BYTES": "10"}, ["--sandbox"], "of at least 1024"),
        ({"AURAL_MCP_MAX_BODY_BYTES": "1MB"}, ["--sandbox"], "AURAL_MCP_MAX_BODY_BYTES='1MB'"),
        ({"AURAL_MCP_SHUTDOWN_GRACE": "inf"}, ["--sandbox"], "AURAL_MCP_SHUTDOWN_GRACE='inf'"),
        ({"AURAL_MCP_SHUTDOWN_GRACE": "-1"}, ["--sandbox"], "AURAL_MCP_SHUTDOWN_GRACE='-1'"),
        ({}, ["--sandbox", "--sandbox-seed", "/nonexistent/seed.json"], "'/nonexistent/seed.json': no such file"),
        ({"AURAL_SANDBOX_SEED": "/nonexistent/seed.json"}, ["--sandbox"], "AURAL_SANDBOX_SEED"),
        ({}, ["--sandbox", "--sandbox-port", "70000"], "--sandbox-port 70000 must be between 0 and 65535"),
        (
            {"AURAL_MCP_TOKEN": "x"},
            ["--sandbox", "--transport", "http", "--host", "0.0.0.0"],
            "must be at least 32 characters to listen on 0.0.0.0",
        ),
        (
            {"AURAL_MCP_TOKEN": "a" * 31},
            ["--sandbox", "--transport", "sse", "--host", "::"],
            "at least 32 characters",
        ),
        (
            {"AURAL_MCP_TOKEN": "jeton-secret-é" + "x" * 30},
            ["--sandbox", "--transport", "http"],
            "must be ASCII letters, digits and punctuation",
        ),
        ({}, ["--sandbox", "--log-level", "loud"], "log level"),
        ({}, ["--sandbox", "--transport", "http", "--host", "0.0.0.0"], "refusing to listen on 0.0.0.0"),
        ({}, ["--sandbox", "--transport", "sse", "--port", "70000"], "between 0 and 65535"),
        ({}, ["--sandbox", "--toolsets", "interviews,nope"], "unknown toolset(s) nope"),
    ],
)
def test_serve_refuses_bad_configuration(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    argv: list[str],
    message: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code, out, err = run(capsys, "serve", *argv)
    assert code == 2
    assert out == ""
    assert message in err
    assert err.count("\n") == 1 and err.startswith("aural-mcp: ")  # one line, no traceback


def test_serve_refuses_a_sandbox_port_in_use(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out, err = run(capsys, "serve", "--sandbox", "--sandbox-port", str(port))
    assert code == 2 and out == ""
    assert f"--sandbox-port {port}: cannot listen on 127.0.0.1:{port}" in err
    assert err.count("\n") == 1 and err.startswith("aural-mcp: ")


def test_sandbox_flags_map_into_settings(tmp_path: Path) -> None:
    from aural_mcp.cli import build_parser
    from aural_mcp.server.serve_settings import settings_from_args

    seed = str(tmp_path / "seed.json")
    s = settings_from_args(
        build_parser().parse_args(["serve", "--sandbox", "--sandbox-port", "8411", "--sandbox-seed", seed]), env={}
    )
    assert (s.sandbox_port, s.sandbox_seed) == (8411, seed)
    from_env = settings_from_args(build_parser().parse_args(["serve", "--sandbox"]), env={"AURAL_SANDBOX_SEED": seed})
    assert from_env.sandbox_seed == seed
    assert from_env.sandbox_port == 0  # serve --sandbox serves its pages on a free port by default
    assert settings_from_args(build_parser().parse_args(["serve"]), env={}).sandbox_port is None


def test_serve_accepts_valid_limits() -> None:
    from aural_mcp.cli import build_parser
    from aural_mcp.server.serve_settings import check_settings, settings_from_args

    env = {"AURAL_RATE_LIMIT": "2/0.5", "AURAL_TIMEOUT": "2.5", "AURAL_MCP_MAX_BODY_BYTES": "1024"}
    s = settings_from_args(build_parser().parse_args(["serve", "--sandbox"]), env={**env, "AURAL_MCP_SHUTDOWN_GRACE": "0"})
    check_settings(s)
    assert (s.rate_limit, s.rate_window, s.timeout, s.max_body_bytes, s.shutdown_grace) == (2, 0.5, 2.5, 1024, 0.0)
    remote = settings_from_args(
        build_parser().parse_args(["serve", "--sandbox", "--transport", "http", "--host", "0.0.0.0"]),
        env={"AURAL_MCP_TOKEN": "t" * 32},
    )
    check_settings(remote)  # 32 characters is enough


def test_serve_flags_map_into_settings() -> None:
    from aural_mcp.cli import build_parser
    from aural_mcp.server.serve_settings import settings_from_args

    args = build_parser().parse_args(
        [
            "serve", "--transport", "http", "--host", "::1", "--port", "9000", "--stateless", "--auth-token", "t0k",
            "--allowed-hosts", "a.example,b.example", "--allowed-origins", "https://a.example", "--toolsets",
            "interviews,usage", "--read-only", "--sandbox", "--base-url", "http://127.0.0.1:1/api/v1",
            "--rate-limit", "10/1", "--log-level", "info", "--sandbox-db", "/tmp/sb.db",
        ]
    )  # fmt: skip
    s = settings_from_args(
        args, env={"AURAL_MCP_TOKEN": "env-token", "AURAL_BASE_URL": "http://other/api/v1"}
    )
    assert (s.transport, s.host, s.port, s.stateless) == ("http", "::1", 9000, True)
    assert s.auth_token == "t0k"  # the flag wins over the environment
    assert s.allowed_hosts == ["a.example", "b.example"] and s.allowed_origins == ["https://a.example"]
    assert s.toolsets == ["interviews", "usage"] and s.read_only and s.sandbox
    assert s.base_url == "http://127.0.0.1:1/api/v1"
    assert (s.rate_limit, s.rate_window, s.log_level) == (10, 1.0, "INFO")
    assert s.sandbox_db == "/tmp/sb.db"
    from_env = settings_from_args(build_parser().parse_args(["serve"]), env={"AURAL_SANDBOX_DB": "x.db"})
    assert from_env.sandbox_db == "x.db"
    defaults = settings_from_args(build_parser().parse_args(["serve"]), env={})
    assert defaults.sandbox_db is None
    assert (defaults.transport, defaults.host, defaults.port, defaults.stateless) == (
        "stdio",
        "127.0.0.1",
        8765,
        False,
    )


def test_settings_repr_hides_secrets() -> None:
    s = Settings.from_env({"AURAL_API_KEY": REAL_LOOKING_KEY, "AURAL_MCP_TOKEN": "very-secret-token"})
    assert REAL_LOOKING_KEY not in repr(s) and "very-secret-token" not in repr(s)


@pytest.mark.parametrize("case", ["folder", "missing folder", "parent is a file", "not sqlite", "read-only"])
def test_serve_refuses_a_bad_sandbox_db_path(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, case: str
) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("these are my notes, not a database\n" * 20)
    paths = {
        "folder": (str(tmp_path), "is a folder"),
        "missing folder": (str(tmp_path / "nope" / "sb.db"), "does not exist"),
        "parent is a file": (str(text / "sb.db"), "does not exist"),
        "not sqlite": (str(text), "not a database"),
        # a read-only file system, which even root cannot write to
        "read-only": ("/proc/aural-sandbox.db", "cannot be used"),
    }
    path, message = paths[case]
    code, out, err = run(capsys, "serve", "--sandbox", "--sandbox-db", path)
    assert code == 2
    assert out == ""
    assert message in err and "--sandbox-db" in err, err
    assert err.count("\n") == 1 and err.startswith("aural-mcp: ")  # one line, no traceback
    assert text.read_text().startswith("these are my notes")  # the file is left as it was
