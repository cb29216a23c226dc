"""`TeamAuth`: the team server's store, grants and the MCP server's auth settings, made once at start.

Every bearer token a request carries (an OAuth access token or a service token) is resolved by
`GrantTokenVerifier` to a live grant; the request then acts as that grant's user
(`GrantAccessToken.grant`). Tokens are bound to this server's resource URL (RFC 8707): the
`mcp` SDK's bearer middleware refuses a token issued for another resource with 401.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcp.server.auth.provider import AccessToken

from aural_mcp.settings import Settings
from aural_mcp.team.grants import SCOPES, Grant, GrantBook
from aural_mcp.team.secrets import SecretBox
from aural_mcp.team.store import SqliteStore, TeamStore

MCP_PATH = "/mcp"  # the Streamable HTTP endpoint (server/http.py HTTP_PATH), the protected resource


class GrantAccessToken(AccessToken):
    """A verified token of a live grant: the user this request acts for."""

    grant: Grant


class GrantTokenVerifier:
    """The `mcp` SDK's `TokenVerifier` over the grant store."""

    def __init__(self, book: GrantBook) -> None:
        self.book = book

    async def verify_token(self, token: str) -> GrantAccessToken | None:
        resolved = await self.book.resolve(token)
        if resolved is None:
            return None
        return GrantAccessToken(
            token=token,
            client_id=resolved.client_id or resolved.grant.id,
            scopes=resolved.scopes,
            expires_at=int(resolved.expires_at) if resolved.expires_at is not None else None,
            resource=resolved.resource,
            subject=resolved.grant.id,
            grant=resolved.grant,
        )


def default_team_db() -> Path:
    from aural_mcp.watch.state import data_folder

    return data_folder() / "team.sqlite3"


def open_store(settings: Settings) -> TeamStore:
    """Redis with `--redis` (many replicas share it), else the embedded SQLite file (one replica)."""
    if settings.redis_url:
        from aural_mcp.team.redis_store import RedisStore  # redis is imported only in this mode

        return RedisStore(settings.redis_url)
    return SqliteStore(settings.team_db or default_team_db())


@dataclass
class TeamAuth:
    settings: Settings
    store: TeamStore
    book: GrantBook

    @classmethod
    def open(cls, settings: Settings) -> TeamAuth:
        """Raises SecretKeyError (AURAL_MCP_SECRET_KEY) or ValueError (a setting) with the fix."""
        if not settings.public_url:
            raise ValueError("--auth oauth needs --public-url (or AURAL_MCP_PUBLIC_URL): where clients reach this server")
        box = SecretBox.from_text(settings.secret_key)
        store = open_store(settings)
        return cls(settings, store, GrantBook(store, box, base_url=settings.base_url))

    @property
    def issuer(self) -> str:
        return str(self.settings.public_url).rstrip("/")

    @property
    def resource(self) -> str:
        """The URL tokens are bound to: the MCP endpoint."""
        return self.issuer + MCP_PATH

    def server_kwargs(self) -> dict[str, Any]:
        """`MCPServer` keyword arguments: the auth settings and how tokens are verified."""
        from mcp.server.auth.settings import AuthSettings
        from pydantic import AnyHttpUrl

        return {
            "token_verifier": GrantTokenVerifier(self.book),
            "auth": AuthSettings(
                issuer_url=AnyHttpUrl(self.issuer),
                resource_server_url=AnyHttpUrl(self.resource),
                validate_token_resource=True,
                required_scopes=None,
            ),
        }


__all__ = ["SCOPES", "GrantAccessToken", "GrantTokenVerifier", "TeamAuth"]
