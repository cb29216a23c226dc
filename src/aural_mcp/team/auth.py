"""`TeamAuth`: the team server's store, grants, OAuth provider and the MCP server's auth settings, made once at start.

Every bearer token a request carries (an OAuth access token or a service token) is resolved by
`GrantTokenVerifier` to a live grant; the request then acts as that grant's user
(`GrantAccessToken.grant`). Tokens are bound to this server's resource URL (RFC 8707): the
`mcp` SDK's bearer middleware refuses a token issued for another resource with 401.

The issuer is the public URL without a trailing slash, written the same way everywhere (the
authorization server metadata, the protected resource metadata, `iss` on redirects): RFC 8414
and RFC 9207 compare issuers as exact strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcp.server.auth.provider import AccessToken

from aural_mcp.settings import Settings
from aural_mcp.team.grants import SCOPES, Grant, GrantBook
from aural_mcp.team.secrets import SecretBox, request_state_security
from aural_mcp.team.store import SqliteStore, TeamStore

if TYPE_CHECKING:
    from mcp.server.auth.settings import AuthSettings

    from aural_mcp.team.oauth import TeamOAuthProvider

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
    def open(cls, settings: Settings, **ttl: float) -> TeamAuth:
        """Raises SecretKeyError (AURAL_MCP_SECRET_KEY) or ValueError (a setting) with the fix.
        `ttl`: `GrantBook`'s token lifetimes (access_ttl, refresh_ttl, code_ttl), for tests."""
        if not settings.public_url:
            raise ValueError("--auth oauth needs --public-url (or AURAL_MCP_PUBLIC_URL): where clients reach this server")
        box = SecretBox.from_text(settings.secret_key)
        store = open_store(settings)
        return cls(settings, store, GrantBook(store, box, base_url=settings.base_url, **ttl))

    @property
    def issuer(self) -> str:
        return str(self.settings.public_url).rstrip("/")

    @property
    def resource(self) -> str:
        """The URL tokens are bound to: the MCP endpoint."""
        return self.issuer + MCP_PATH

    @cached_property
    def provider(self) -> TeamOAuthProvider:
        from aural_mcp.team.oauth import TeamOAuthProvider

        return TeamOAuthProvider(
            self.store, self.book, GrantTokenVerifier(self.book), issuer=self.issuer, resource=self.resource
        )

    def auth_settings(self) -> AuthSettings:
        from mcp.server.auth.settings import AuthSettings, RevocationOptions

        from aural_mcp.team.oauth import REGISTRATION

        return AuthSettings(
            issuer_url=self.issuer,  # type: ignore[arg-type]  # a str keeps its exact spelling (no "/" added)
            resource_server_url=self.resource,  # type: ignore[arg-type]
            validate_token_resource=True,
            required_scopes=None,  # either scope may call; which tools a grant gets follows from its scope
            client_registration_options=REGISTRATION,
            revocation_options=RevocationOptions(enabled=True),
        )

    def server_kwargs(self) -> dict[str, Any]:
        """`MCPServer` keyword arguments: the auth settings, the authorization server, and the
        request-state keys every replica derives from the same AURAL_MCP_SECRET_KEY."""
        return {
            "auth_server_provider": self.provider,
            "auth": self.auth_settings(),
            "request_state_security": request_state_security(self.settings.secret_key),
        }

    def routes(self) -> list[Any]:
        """Starlette routes served in front of the SDK's own (server/http.py): the authorization
        server metadata (the SDK's lacks Client ID Metadata Documents, public clients and
        `iss`), the protected resource metadata with our scopes, authorization, registration and revocation
        (`TeamOAuthProvider`'s endpoints) and the consent page."""
        from mcp.server.auth.handlers.metadata import MetadataHandler
        from mcp.server.auth.routes import (
            REGISTRATION_PATH,
            build_metadata,
            cors_middleware,
            create_protected_resource_routes,
        )
        from starlette.routing import Route

        from aural_mcp.team.consent import ConsentPage
        from aural_mcp.team.oauth import AUTHORIZATION_PATH, CONSENT_PATH, REVOCATION_PATH

        auth = self.auth_settings()
        assert auth.client_registration_options is not None and auth.revocation_options is not None
        metadata = build_metadata(auth.issuer_url, None, auth.client_registration_options, auth.revocation_options)
        methods = ["none", "client_secret_post", "client_secret_basic"]
        metadata.token_endpoint_auth_methods_supported = methods
        metadata.revocation_endpoint_auth_methods_supported = methods
        metadata.client_id_metadata_document_supported = True
        metadata.authorization_response_iss_parameter_supported = True
        consent = ConsentPage(self.store, self.book, self.issuer, self.resource, self.settings.base_url)
        return [
            Route(
                "/.well-known/oauth-authorization-server",
                endpoint=cors_middleware(MetadataHandler(metadata).handle, ["GET", "OPTIONS"]),
                methods=["GET", "OPTIONS"],
            ),
            *create_protected_resource_routes(
                resource_url=auth.resource_server_url,  # type: ignore[arg-type]
                authorization_servers=[auth.issuer_url],
                scopes_supported=list(SCOPES),
                resource_name="Aural interviews",
            ),
            Route(AUTHORIZATION_PATH, endpoint=self.provider.authorization_endpoint, methods=["GET", "POST"]),
            Route(
                REGISTRATION_PATH,
                endpoint=cors_middleware(self.provider.registration_endpoint, ["POST", "OPTIONS"]),
                methods=["POST", "OPTIONS"],
            ),
            Route(
                REVOCATION_PATH,
                endpoint=cors_middleware(self.provider.revocation_endpoint, ["POST", "OPTIONS"]),
                methods=["POST", "OPTIONS"],
            ),
            Route(CONSENT_PATH, endpoint=consent.get, methods=["GET"]),
            Route(CONSENT_PATH, endpoint=consent.post, methods=["POST"]),
        ]


__all__ = ["SCOPES", "GrantAccessToken", "GrantTokenVerifier", "TeamAuth"]
