"""`aural-mcp invite INTERVIEW_ID --csv FILE`: add a file of people to an interview, each once,
and write every invite URL to `--out` (see `aural_mcp.pipelines.invite`).

Exit codes: 0 done; 1 the API or the network failed (re-run: the journal resumes); 2 bad input
(a flag, the file, or bad rows with `--on-error abort`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _error(text: str) -> int:
    print(f"aural-mcp invite: {text}", file=sys.stderr, flush=True)
    return 2


def main(args: argparse.Namespace) -> int:
    import anyio

    from aural_mcp.operations import is_uuid
    from aural_mcp.pipelines.invite import read_people
    from aural_mcp.settings import Settings

    if not is_uuid(args.interview_id):
        return _error(f"INTERVIEW_ID {args.interview_id[:60]!r} is not an interview id (a UUID): see list_interviews")
    sources = [p for p in (args.csv, args.jsonl) if p]
    if len(sources) != 1:
        return _error("give the people file as --csv FILE or --jsonl FILE (one of them)")
    source = Path(sources[0])
    if args.jsonl and source.suffix.lower() not in (".jsonl", ".ndjson"):
        return _error(f"--jsonl {source}: name the file .jsonl (or .ndjson)")
    if args.csv and source.suffix.lower() in (".jsonl", ".ndjson"):
        return _error(f"--csv {source}: this is a JSONL file; pass it as --jsonl")
    try:
        people = read_people(source)
    except (OSError, UnicodeDecodeError) as exc:
        return _error(f"cannot read {source}: {exc}")
    if not people.rows and not people.bad:
        return _error(f"{source} holds nobody: a CSV needs a header row (name,email,...) and one row per person")
    if people.ignored_columns:
        shown = ", ".join(repr(c[:40]) for c in people.ignored_columns[:10])
        print(f"invite: ignoring columns that are no candidate field: {shown}", file=sys.stderr)
    for bad in people.bad:
        print(f"{source}:{bad.line}: {bad.problem}", file=sys.stderr)
    if people.bad and args.on_error == "abort":
        return _error(f"{len(people.bad)} bad row(s) (listed above); nothing was sent. Fix them, or pass --on-error skip")
    out = Path(args.out) if args.out else None
    journal = Path(f"{out}.journal.jsonl") if out else Path(f"aural-invite-{args.interview_id}.journal.jsonl")
    try:
        settings = Settings.from_env(base_url=args.base_url)
    except ValueError as exc:
        return _error(f"the configuration is invalid: {exc}")
    return int(anyio.run(_run, settings, args.interview_id, people, journal, out))


async def _run(settings: object, interview_id: str, people: object, journal: Path, out: Path | None) -> int:
    from aural_mcp.api import AuralClient, errors
    from aural_mcp.pipelines.display import stderr_progress
    from aural_mcp.pipelines.invite import People, invite
    from aural_mcp.server.render.candidates import invites_csv

    assert isinstance(people, People)
    try:
        async with AuralClient.from_settings(settings) as client:
            result = await invite(
                client, interview_id, people, journal_path=journal, progress=stderr_progress()
            )
    except errors.ConfigurationError as exc:
        return _error(str(exc))
    except errors.AuralError as exc:
        print(
            f"aural-mcp invite: stopped: {exc}. The journal {journal} records what was sent; "
            "run the same command again to finish without duplicates.",
            file=sys.stderr,
        )
        return 1
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(invites_csv(result.links, None), encoding="utf-8")
        tmp.replace(out)
    s = result.summary
    where = f"; {len(result.links)} invite links in {out}" if out else ""
    print(
        f"invite: {s.line()} ({len(result.repeats)} repeated emails, {len(result.bad)} bad rows){where}",
        file=sys.stderr,
        flush=True,
    )
    if out is None:
        sys.stdout.write(invites_csv(result.links, None))
    return 0
