"""`aural-mcp serve` over stdio imports nothing it does not use (issue 5): a size check, not a timing.

The real console script is run, as a client would spawn it, with a well-formed dummy key and a
base URL on a loopback port nobody listens on (the server must start without contacting the
API). A `sitecustomize` put on PYTHONPATH registers an atexit hook that writes `sys.modules` to
a file when the server exits after `initialize` + `tools/list` + EOF, so the set covers start-up
and serving. The one-tool bare `MCPServer` (bench/baselines/bare_server.py) is run the same way,
and is the measure of what the `mcp` SDK imports unavoidably.

Unavoidable (imported by `mcp` itself on `import mcp.server.mcpserver`, so outside our control):
`starlette.*`, `uvicorn.*` and `sse_starlette.*` modules. For those we assert only that we add
none beyond the SDK's own set. Everything else listed below is ours to avoid, and must be absent.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.support.net import free_port
from tests.support.processes import stop_process

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DUMMY_KEY = "dlv_" + "0123456789abcdefghijklmnopqrstuv"  # well-formed, never valid

SITECUSTOMIZE = """
import atexit, os, sys

def _dump():
    with open(os.environ["BENCH_MODULES_OUT"], "w") as f:
        f.write("\\n".join(sorted(sys.modules)))

atexit.register(_dump)
"""

# Never imported by the stdio server: none of these are needed to serve the real API.
FORBIDDEN_PREFIXES = (
    "aural_mcp.sandbox",  # the embedded API: only with --sandbox
    "aural_mcp.cli.demo",  # other CLI commands
    "aural_mcp.cli.doctor",
    "aural_mcp.cli.config",
    "aural_mcp.cli.watch",
    "aural_mcp.webhooks",  # signing is the webhook bridge's and receivers' business
    "aural_mcp.watch",  # the session watcher: opened on the first wait or subscription
    "aural_mcp.pipelines",  # plan/apply, invite, export: their commands and tools load them
    "tqdm",  # the pipeline commands' progress bar
    "yaml",  # interview spec files
    "aural_mcp.team",  # the team server (OAuth, grants): only with --auth oauth and `aural-mcp tokens`
    "redis",  # its shared store: only with --redis
    "schemathesis",  # test-only libraries
    "hypothesis",
    "pytest",
    "fastmcp",
)
# Pulled in by the mcp SDK itself; we may not add to them.
SDK_OWNED_PREFIXES = ("starlette", "uvicorn", "sse_starlette")
# Modules our stdio server may import beyond the bare one-tool server's set (ours, the SDK client
# use: httpcore2/h11 for the HTTP client, models). 64 when written; past this means a heavy new import.
EXTRA_MODULE_BUDGET = 120


def _rpc(proc: subprocess.Popen[bytes], rid: int, method: str, params: dict | None = None) -> dict:
    msg = {
        "jsonrpc": "2.0",
        "id": rid,
        "method": method,
        **({"params": params} if params is not None else {}),
    }
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps(msg).encode() + b"\n")
    proc.stdin.flush()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            continue
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"server closed stdout (exit {proc.poll()})")
        answer = json.loads(line)
        if answer.get("id") == rid and "method" not in answer:
            assert "error" not in answer, answer
            return answer["result"]
    raise AssertionError(f"no answer to {method} within 60 s")


def _modules_after_serving(argv: list[str], env: dict[str, str], tmp: Path) -> tuple[set[str], int]:
    hook = tmp / "hook"
    hook.mkdir(exist_ok=True)
    (hook / "sitecustomize.py").write_text(SITECUSTOMIZE)
    out = tmp / f"modules-{Path(argv[-1]).name}.txt"
    env = {**env, "PYTHONPATH": str(hook), "BENCH_MODULES_OUT": str(out)}
    proc = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    try:
        _rpc(
            proc,
            1,
            "initialize",
            {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "1"},
            },
        )
        assert proc.stdin is not None
        proc.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
        tools = _rpc(proc, 2, "tools/list", {})["tools"]
        proc.stdin.close()  # EOF: the server shuts down and the atexit hook writes the module list
        proc.wait(timeout=30)
    finally:
        stop_process(proc)
    assert out.exists(), (
        f"{argv} did not exit cleanly on EOF (code {proc.returncode}); stderr: {proc.stderr.read()[-2000:]!r}"
    )
    return set(out.read_text().split()), len(tools)


@pytest.fixture(scope="module")
def module_sets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    tmp = tmp_path_factory.mktemp("imports")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AURAL_", "PYTHON"))}
    ours_env = {
        **env,
        "AURAL_API_KEY": DUMMY_KEY,
        "AURAL_BASE_URL": f"http://127.0.0.1:{free_port()}/api/v1",
    }
    ours, n_tools = _modules_after_serving([str(BIN / "aural-mcp"), "serve"], ours_env, tmp)
    assert n_tools >= 19, f"aural-mcp serve listed {n_tools} tools"
    bare, _ = _modules_after_serving(
        [sys.executable, str(ROOT / "bench" / "baselines" / "bare_server.py")], env, tmp
    )
    return {"ours": ours, "bare": bare}


def _matching(modules: set[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in prefixes))


def test_stdio_server_imports_nothing_it_does_not_use(module_sets: dict[str, set[str]]) -> None:
    found = _matching(module_sets["ours"], FORBIDDEN_PREFIXES)
    assert not found, f"`aural-mcp serve` (stdio, real API) imported modules it does not need: {found}"


def test_stdio_server_adds_no_http_server_modules_beyond_the_sdk(module_sets: dict[str, set[str]]) -> None:
    ours = set(_matching(module_sets["ours"], SDK_OWNED_PREFIXES))
    sdk = set(_matching(module_sets["bare"], SDK_OWNED_PREFIXES))
    assert not ours - sdk, (
        f"stdio imports HTTP-server modules the mcp SDK alone does not: {sorted(ours - sdk)}; "
        "load them only for --transport sse/http"
    )


def test_stdio_server_module_count_stays_within_budget(module_sets: dict[str, set[str]]) -> None:
    extra = module_sets["ours"] - module_sets["bare"]
    assert len(extra) <= EXTRA_MODULE_BUDGET, (
        f"{len(extra)} modules beyond the bare MCPServer (budget {EXTRA_MODULE_BUDGET}); "
        f"third-party among them: {sorted({m.split('.')[0] for m in extra if not m.startswith('aural_mcp')})}"
    )
