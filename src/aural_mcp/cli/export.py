"""`aural-mcp export INTERVIEW_ID --format csv|jsonl`: the interview's sessions, one row each.

Progress goes to stderr (`pipelines.display.stderr_progress`), then one summary line; the rows go
to `--out` (default `<INTERVIEW_ID>.<format>` in the current folder), the state beside it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def say(text: str) -> None:
    print(f"aural-mcp export: {text}", file=sys.stderr, flush=True)


def main(args: argparse.Namespace) -> int:
    import anyio

    from aural_mcp.api import AuralClient, errors
    from aural_mcp.pipelines.display import stderr_progress
    from aural_mcp.pipelines.export import export, state_path
    from aural_mcp.settings import Settings, key_problem

    try:
        settings = Settings.from_env(base_url=args.base_url)
    except ValueError as exc:
        say(f"the configuration is invalid: {exc}")
        return 2
    problem = key_problem(settings.api_key)
    if problem:
        say(f"{problem}: export AURAL_API_KEY=dlv_… (or run `aural-mcp sandbox` for a local key)")
        return 2
    out = Path(args.out or f"{args.interview_id}.{args.format}")

    async def run() -> int:
        try:
            client = AuralClient.from_settings(settings)
        except errors.ConfigurationError as exc:
            say(exc.message)
            return 2
        async with client:
            summary = await export(
                client, args.interview_id, fmt=args.format, out=out, transcripts=args.transcripts,
                since=args.since, progress=stderr_progress(),
            )  # fmt: skip
        say(f"{summary.line()}; rows in {out}, state in {state_path(out)}")
        return 1 if summary.failed else 0

    try:
        return anyio.run(run)
    except ValueError as exc:
        say(str(exc))
        return 2
    except errors.AuralError as exc:
        say(f"the export stopped: {exc.message}")
        return 1
    except OSError as exc:
        say(f"cannot write {out}: {exc.strerror or exc}")
        return 1
