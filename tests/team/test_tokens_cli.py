"""`aural-mcp tokens`, the real command in a subprocess, against a real sandbox on loopback: keygen,
create (the key from stdin, checked with GET /usage, the token alone on stdout), list, revoke, and
the errors that name what to fix."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from tests.support.processes import AURAL_MCP, env_without_aural
from tests.support.servers import LiveServer

from aural_mcp.sandbox import Sandbox
from aural_mcp.settings import Settings
from aural_mcp.team.auth import TeamAuth
from aural_mcp.team.secrets import SecretBox

pytestmark = pytest.mark.anyio

WAIT = 30.0
PUBLIC_URL = "https://mcp.example.com"


def tokens(env: dict[str, str], *args: str, key: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*AURAL_MCP, "tokens", *args], input=key, capture_output=True, text=True, env=env, timeout=WAIT
    )


@contextlib.contextmanager
def sandbox_and_env(tmp_path: Path) -> Iterator[tuple[Sandbox, dict[str, str]]]:
    sandbox = Sandbox(":memory:", rate_limit=1000, rate_window=60)
    secret = tokens(env_without_aural(), "keygen").stdout.strip()
    with LiveServer(sandbox.app) as api:
        yield sandbox, env_without_aural(
            AURAL_MCP_SECRET_KEY=secret, AURAL_MCP_TEAM_DB=str(tmp_path / "team.sqlite3"),
            AURAL_MCP_PUBLIC_URL=PUBLIC_URL, AURAL_BASE_URL=api.url + "/api/v1",
        )  # fmt: skip


def test_keygen_prints_a_new_usable_secret_key() -> None:
    first, second = tokens(env_without_aural(), "keygen"), tokens(env_without_aural(), "keygen")
    assert first.returncode == 0 and first.stdout.count("\n") == 1
    assert first.stdout != second.stdout
    SecretBox.from_text(first.stdout.strip())  # what AURAL_MCP_SECRET_KEY takes


def test_create_list_revoke_and_the_key_is_never_shown_or_stored_plain(tmp_path: Path) -> None:
    with sandbox_and_env(tmp_path) as (sandbox, env):
        key = sandbox.create_key()
        made = tokens(env, "create", "--name", "ats", "--read-only", key=key + "\n")
        assert made.returncode == 0, made.stderr
        token = made.stdout.strip()
        assert made.stdout == token + "\n" and token.startswith("amcp_st_"), "the token alone on stdout"
        assert "ats" in made.stderr and "aural:read" in made.stderr and key not in made.stderr + made.stdout

        again = tokens(env, "create", "--name", "ats", key=key)
        assert again.returncode == 2 and "--name" in again.stderr and again.stdout == ""

        listed = tokens(env, "list")
        assert listed.returncode == 0
        header, row = listed.stdout.splitlines()
        assert header.split() == ["NAME", "ID", "KIND", "SCOPE", "CREATED"]
        name, grant_id, kind, scope, _created = row.split()
        assert (name, kind, scope) == ("ats", "service", "aural:read") and grant_id.startswith("grt_")
        for secret in (key, token):
            assert secret not in listed.stdout
        stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())
        assert key.encode() not in stored and token.encode() not in stored

        # the grant is for this server's MCP endpoint, and resolves as the server resolves it
        async def resolved_resource() -> str | None:
            auth = TeamAuth.open(Settings.from_env(env))
            try:
                found = await auth.book.resolve(token)
                return found.resource if found is not None else None
            finally:
                await auth.store.close()

        assert anyio.run(resolved_resource) == PUBLIC_URL + "/mcp"

        missing = tokens(env, "revoke", "nope")
        assert missing.returncode == 1 and "tokens list" in missing.stderr
        revoked = tokens(env, "revoke", grant_id)
        assert revoked.returncode == 0 and grant_id in revoked.stderr
        assert [line.split() for line in tokens(env, "list").stdout.splitlines()] == [header.split()]
        assert anyio.run(resolved_resource) is None


def test_create_refuses_a_key_the_api_refuses_and_bad_input_naming_the_fix(tmp_path: Path) -> None:
    with sandbox_and_env(tmp_path) as (sandbox, env):
        key = sandbox.create_key()
        sandbox.revoke_key(key)
        refused = tokens(env, "create", "--name", "ats", key=key)
        assert refused.returncode == 1 and refused.stdout == ""
        assert env["AURAL_BASE_URL"] in refused.stderr and "--base-url" in refused.stderr
        assert key not in refused.stderr
        assert tokens(env, "list").stdout.splitlines()[1:] == [], "no grant was made"

        empty = tokens(env, "create", "--name", "ats", key="")
        assert empty.returncode == 2 and "stdin" in empty.stderr and "pipe" in empty.stderr.lower()
        bad_name = tokens(env, "create", "--name", "a\x1b[2Jb", key=sandbox.create_key())
        assert bad_name.returncode == 2 and "--name" in bad_name.stderr

        no_secret = tokens({**env, "AURAL_MCP_SECRET_KEY": ""}, "create", "--name", "x", key=sandbox.create_key())
        assert no_secret.returncode == 2 and "AURAL_MCP_SECRET_KEY" in no_secret.stderr and "keygen" in no_secret.stderr
        no_url = tokens({**env, "AURAL_MCP_PUBLIC_URL": ""}, "list")
        assert no_url.returncode == 2 and "--public-url" in no_url.stderr and "AURAL_MCP_PUBLIC_URL" in no_url.stderr
        bare = tokens(env)
        assert bare.returncode == 2 and "keygen, create, list or revoke" in bare.stderr
