"""`aural-mcp tokens`: service tokens of the team server, for pipelines without a browser.

- `keygen` prints a new AURAL_MCP_SECRET_KEY value.
- `create --name NAME [--read-only]` reads an Aural key from stdin (never a flag: flags show in
  `ps` and shell history), checks it with `GET /usage`, stores it sealed in a new service grant
  for this server's resource (`<public URL>/mcp`) and prints the grant's token once, alone on stdout.
- `list` shows every grant (name, id, kind, scope, created); never a key or a token.
- `revoke ID_OR_NAME` deletes a grant: each of its tokens gets 401 at its next request.

The grants live in the team server's store (`team.auth.open_store`), so the server must run with
the same store and AURAL_MCP_SECRET_KEY. Exit codes: 0 done, 1 the API refused the key or
nothing matched, 2 a setting or an argument to fix.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from typing import TYPE_CHECKING

from aural_mcp.settings import Settings, key_problem

if TYPE_CHECKING:
    from aural_mcp.team.auth import TeamAuth
    from aural_mcp.team.grants import Grant

EXIT_FAILED = 1
EXIT_USAGE = 2
MAX_NAME = 80


class TokensError(Exception):
    """A problem to report on one stderr line, with the exit code."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def say(text: str) -> None:
    print(f"aural-mcp tokens: {text}", file=sys.stderr, flush=True)


def main(args: argparse.Namespace) -> int:
    import anyio

    if args.tokens_command is None:
        say("choose an action: keygen, create, list or revoke (aural-mcp tokens --help)")
        return EXIT_USAGE
    if args.tokens_command == "keygen":
        from aural_mcp.team.secrets import generate_secret_key

        print(generate_secret_key())
        return 0
    try:
        settings = Settings.from_env(
            base_url=getattr(args, "base_url", None), public_url=args.public_url, team_db=args.team_db
        )
        return anyio.run(_run, args, settings)
    except TokensError as exc:
        say(str(exc))
        return exc.code
    except ValueError as exc:  # a setting: AURAL_MCP_SECRET_KEY, --public-url, an environment value
        say(str(exc))
        return EXIT_USAGE


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    team = _open(settings)
    try:
        if args.tokens_command == "create":
            return await _create(team, args.name, args.read_only)
        if args.tokens_command == "list":
            return await _list(team)
        return await _revoke(team, args.grant)
    finally:
        await team.store.close()


def _open(settings: Settings) -> TeamAuth:
    from aural_mcp.team.auth import TeamAuth

    return TeamAuth.open(settings)


def read_key() -> str:
    """The Aural key, from stdin: piped (`… | aural-mcp tokens create`), or typed without echo."""
    text = getpass.getpass("Aural API key (dlv_…): ") if sys.stdin.isatty() else sys.stdin.read()
    key = text.strip()
    problem = key_problem(key or None)
    if problem:
        raise TokensError(
            f"the key read from stdin is unusable: {problem.replace('AURAL_API_KEY', 'the key')}. "
            "Pipe the dlv_ key in, e.g. `printenv ATS_AURAL_KEY | aural-mcp tokens create --name ats`"
        )
    return key


async def check_key(key: str, base_url: str) -> None:
    """GET /usage with the key: a key the API refuses makes no grant."""
    from aural_mcp.api import AuralClient
    from aural_mcp.api.errors import AuralError

    try:
        async with AuralClient(key, base_url=base_url, max_retries=0, timeout=15.0) as client:
            await client.call("get_usage", {})
    except AuralError as exc:
        raise TokensError(
            f"the Aural API at {base_url} did not accept the key ({exc.code}: {exc.message}); "
            "check the key, and --base-url / AURAL_BASE_URL",
            EXIT_FAILED,
        ) from None


async def _create(team: TeamAuth, name: str, read_only: bool) -> int:
    from aural_mcp.team.grants import SCOPE_ALL, SCOPE_READ

    name = name.strip()
    if not name or len(name) > MAX_NAME or not name.isprintable():
        raise TokensError(f"--name must be 1-{MAX_NAME} printable characters, e.g. --name ats")
    if any(g.name == name for g in await team.book.grants(kind="service")):
        raise TokensError(f"a service token named {name!r} exists: choose another --name, or revoke it first")
    key = read_key()
    await check_key(key, team.settings.base_url)
    scopes = [SCOPE_READ] if read_only else [SCOPE_ALL]
    grant = await team.book.create_grant(kind="service", name=name, scopes=scopes, resource=team.resource, key=key)
    token = await team.book.issue_service_token(grant)
    print(token, flush=True)
    say(f"created {name!r} ({grant.id}, scope {' '.join(scopes)}) for {team.resource}; the token is shown only this once")
    return 0


def _shown(text: str) -> str:
    """A client-given name on the terminal: no control characters (they could rewrite the screen)."""
    return "".join(c if c.isprintable() else "?" for c in text)


def _created(grant: Grant) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(grant.created_at))


async def _list(team: TeamAuth) -> int:
    grants = sorted(await team.book.grants(), key=lambda g: g.created_at)
    rows = [("NAME", "ID", "KIND", "SCOPE", "CREATED")]
    rows += [(_shown(g.name), g.id, g.kind, " ".join(g.scopes), _created(g)) for g in grants]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


async def _revoke(team: TeamAuth, wanted: str) -> int:
    grants = await team.book.grants()
    matches = [g for g in grants if g.id == wanted] or [g for g in grants if g.name == wanted]
    if not matches:
        raise TokensError(f"no grant has the id or name {_shown(wanted)!r}: `aural-mcp tokens list` shows them", EXIT_FAILED)
    if len(matches) > 1:
        ids = ", ".join(g.id for g in matches)
        raise TokensError(f"{len(matches)} grants are named {_shown(wanted)!r} ({ids}): revoke one by its id")
    grant = matches[0]
    await team.book.revoke_grant(grant.id)
    say(f"revoked {_shown(grant.name)!r} ({grant.id}): its tokens get 401 from the next request")
    return 0
