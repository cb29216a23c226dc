"""`aural-mcp config CLIENT`: print ready-to-paste MCP client configuration.

stdout carries only the snippet (so `aural-mcp config cursor > .cursor/mcp.json` works); where it
goes and what to replace is said on stderr. The API key is never printed, not even when it is set
in the environment: the snippet holds a placeholder (VS Code prompts for it instead).

A snippet that could not start a working server is refused with one line on stderr and exit 2:
an unknown toolset, `--sandbox-db` without `--sandbox` (serve would ignore the file), or the
`sandbox` toolset without `--sandbox` (it would list no tools).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path
from typing import Any

SERVER_NAME = "aural"
KEY_PLACEHOLDER = "dlv_REPLACE_WITH_YOUR_KEY"


def server_command() -> tuple[str, list[str]]:
    """The absolute command that starts this installation's `aural-mcp`.

    The console script next to the running interpreter when there is one (a venv or pipx
    install), else the interpreter itself with `-m aural_mcp.cli`. Clients start servers with a
    minimal PATH, so a bare `aural-mcp` would often not be found.
    """
    bindir = Path(sys.executable).parent
    for name in ("aural-mcp", "aural-mcp.exe"):
        candidate = bindir / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate.absolute()), []
    return str(Path(sys.executable).absolute()), ["-m", "aural_mcp.cli"]


def serve_args(args: argparse.Namespace) -> list[str]:
    out = ["serve"]
    if getattr(args, "sandbox", False):
        out.append("--sandbox")
        for flag in ("sandbox_db", "sandbox_seed"):  # absolute: clients start servers in any directory
            if getattr(args, flag, None):
                out += [f"--{flag.replace('_', '-')}", str(Path(getattr(args, flag)).expanduser().absolute())]
        if getattr(args, "sandbox_port", None) is not None:
            out += ["--sandbox-port", str(args.sandbox_port)]
    if getattr(args, "toolsets", None):
        out += ["--toolsets", ",".join(args.toolsets)]
    if getattr(args, "read_only", False):
        out.append("--read-only")
    return out


def render(client: str, args: argparse.Namespace) -> tuple[str, str]:
    """(snippet for stdout, guidance for stderr)."""
    command, prefix = server_command()
    argv = prefix + serve_args(args)
    sandbox = bool(getattr(args, "sandbox", False))
    name = getattr(args, "name", None) or SERVER_NAME
    env: dict[str, str] = {} if sandbox else {"AURAL_API_KEY": KEY_PLACEHOLDER}
    key_note = (
        ""
        if sandbox
        else f"Replace {KEY_PLACEHOLDER} with your Aural API key (Settings → API Keys in the Aural dashboard).\n"
    )

    if client == "claude-code":
        parts = ["claude", "mcp", "add", name, "--scope", "user"]
        for key, value in env.items():
            parts += ["--env", f"{key}={value}"]
        parts += ["--", command, *argv]
        snippet = " ".join(shlex.quote(p) for p in parts)
        guide = (
            "Run this command in a terminal (Claude Code stores it in ~/.claude.json; "
            "use --scope project to write .mcp.json in the current project instead).\n"
            + key_note
            + "Check it with: claude mcp list"
        )
        return snippet, guide

    if client == "vscode":
        entry: dict[str, Any] = {"type": "stdio", "command": command, "args": argv}
        document: dict[str, Any] = {"servers": {name: entry}}
        if not sandbox:
            entry["env"] = {"AURAL_API_KEY": "${input:aural-api-key}"}
            document["inputs"] = [
                {
                    "type": "promptString",
                    "id": "aural-api-key",
                    "description": "Aural API key (dlv_…)",
                    "password": True,
                }
            ]
        guide = (
            "Put this in .vscode/mcp.json in your workspace (or run 'MCP: Open User Configuration' "
            "for every workspace), then start the server from the MCP view.\n"
            + ("" if sandbox else "VS Code asks for the API key once and stores it securely.\n")
            + "Merge it by hand if the file already lists other servers."
        )
        return json.dumps(document, indent=2, ensure_ascii=False), guide

    entry = {"command": command, "args": argv}
    if env:
        entry["env"] = env
    snippet = json.dumps({"mcpServers": {name: entry}}, indent=2, ensure_ascii=False)
    if client == "cursor":
        where = "~/.cursor/mcp.json (every project) or .cursor/mcp.json (this project)"
        after = "Then enable it under Cursor Settings → MCP."
    else:  # claude-desktop
        where = (
            "claude_desktop_config.json (Claude Desktop → Settings → Developer → Edit Config):\n"
            "  macOS:   ~/Library/Application Support/Claude/claude_desktop_config.json\n"
            "  Windows: %APPDATA%\\Claude\\claude_desktop_config.json\n"
            "  Linux:   ~/.config/Claude/claude_desktop_config.json"
        )
        after = "Then quit and reopen Claude Desktop."
    guide = (
        f"Put this in {where}\n"
        "Merge the 'mcpServers' entry by hand if the file already lists other servers.\n" + key_note + after
    )
    return snippet, guide


def problem(args: argparse.Namespace) -> str | None:
    """Why these flags would configure a server that cannot work, or None."""
    from aural_mcp.server.serve_settings import sandbox_only_flags_problem
    from aural_mcp.server.tools import SANDBOX_TOOLSET, check_toolsets

    sandbox = bool(getattr(args, "sandbox", False))
    toolsets = getattr(args, "toolsets", None)
    sandbox_only = sandbox_only_flags_problem(args)
    if sandbox_only:
        return sandbox_only
    seed = getattr(args, "sandbox_seed", None)
    if seed and not Path(seed).expanduser().is_file():
        return f"--sandbox-seed {seed!r}: no such file; give the path of a seed JSON file"
    if toolsets is not None:
        if not toolsets:
            return "--toolsets needs at least one toolset, e.g. --toolsets interviews,sessions"
        try:
            check_toolsets(toolsets)
        except ValueError as exc:
            return f"--toolsets: {exc}"
        if toolsets == [SANDBOX_TOOLSET] and not sandbox:
            return (
                "--toolsets sandbox lists tools only with --sandbox: add --sandbox, or choose other toolsets"
            )
    return None


def main(args: argparse.Namespace) -> int:
    wrong = problem(args)
    if wrong:
        print(f"aural-mcp config: {wrong}", file=sys.stderr)
        return 2
    snippet, guide = render(args.client, args)
    print(snippet)
    sys.stdout.flush()
    print("\n" + guide, file=sys.stderr)
    return 0
