"""`aural-mcp plan FILE` and `aural-mcp apply FILE`: interviews as code.

`plan` prints what `apply` would do (`+` create, `~` update, `-` delete with --prune, `=`
unchanged) and exits 0 when nothing would change, 2 when something would, 1 on an error.
`apply` does it, then prints the summary line; it exits 0 when everything was applied, 1
otherwise. The state (spec key -> ids) is `aural.state.json` beside the spec.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _adoptions(values: list[str], keys: list[str]) -> dict[str, str] | str:
    """--adopt KEY=ID (or ID alone for a one-interview spec) -> {key: id}, or the problem text."""
    out: dict[str, str] = {}
    for value in values:
        key, _, iid = value.rpartition("=")
        if not key:
            if len(keys) != 1:
                return f"--adopt {value[:80]!r}: this spec has {len(keys)} interviews; say which with --adopt KEY=ID"
            key = keys[0]
        if key not in keys:
            return f"--adopt {value[:80]!r}: the spec has no interview with key {key!r} (its keys: {', '.join(keys)})"
        try:
            out[key] = str(uuid.UUID(iid.strip()))
        except ValueError:
            return f"--adopt {value[:80]!r}: {iid[:80]!r} is not an interview id (a UUID, as list_interviews shows it)"
    return out


def main(args: argparse.Namespace) -> int:
    import anyio

    from aural_mcp.api import AuralClient
    from aural_mcp.api.errors import AuralError, ConfigurationError
    from aural_mcp.pipelines.apply import PlanError, State, StateError
    from aural_mcp.pipelines.spec import SpecError, load_spec
    from aural_mcp.settings import Settings

    try:
        spec = load_spec(args.file)
    except SpecError as exc:
        for problem in exc.problems:
            _say(str(problem))
        _say(f"{len(exc.problems)} problem(s) in the spec; nothing was sent.")
        return EXIT_ERROR
    adopt = _adoptions(args.adopt, [i.key for i in spec.interviews])
    if isinstance(adopt, str):
        _say(adopt)
        return EXIT_ERROR
    try:
        settings = Settings.from_env(base_url=args.base_url)
        client = AuralClient.from_settings(settings)
    except (ValueError, ConfigurationError) as exc:
        _say(str(getattr(exc, "message", exc)))
        return EXIT_ERROR
    try:
        state = State.for_spec(Path(args.file).resolve(), client.account)
    except StateError as exc:
        _say(str(exc))
        return EXIT_ERROR
    for key, iid in adopt.items():
        state.adopt(key, iid)

    async def run() -> int:
        async with client:
            try:
                return await (_apply(client, spec, state, args) if args.command == "apply" else _plan(client, spec, state, args))
            except PlanError as exc:
                for problem in exc.problems:
                    _say(problem)
                return EXIT_ERROR
            except AuralError as exc:
                _say(f"{exc}")
                return EXIT_ERROR

    return anyio.run(run)


async def _plan(client: Any, spec: Any, state: Any, args: argparse.Namespace) -> int:
    from aural_mcp.pipelines.apply import plan

    p = await plan(client, spec, state, prune=args.prune)
    for line in p.lines():
        print(line)
    return EXIT_CHANGES if p.has_changes else EXIT_OK


async def _apply(client: Any, spec: Any, state: Any, args: argparse.Namespace) -> int:
    from aural_mcp.pipelines.apply import apply, plan
    from aural_mcp.pipelines.display import stderr_progress

    p = await plan(client, spec, state, prune=args.prune)
    for line in p.lines():
        print(line)
    summary, failures = await apply(client, spec, state, stderr_progress(), prune=args.prune, the_plan=p)
    for failure in failures:
        _say(failure)
    print(f"Apply: {summary.line()}.")
    return EXIT_ERROR if failures else EXIT_OK
