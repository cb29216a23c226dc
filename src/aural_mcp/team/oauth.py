"""The OAuth 2.1 authorization server: the `mcp` SDK's provider Protocol over grants and the team store.

The SDK's handlers serve `/authorize`, `/token`, `/register` and `/revoke` and call this provider:

- `authorize` checks the resource (RFC 8707: only this server's) and the scopes, keeps the request
  as kind `pending` for 10 minutes and sends the browser to the consent page (`consent.py`), which
  makes the grant and the code once the user allowed it with their Aural key;
- the token handler checks PKCE (S256) and the redirect URI against `load_authorization_code`, then
  `exchange_authorization_code` takes the code once: a replayed code is `invalid_grant`, and it
  revokes the grant the code made (RFC 6749 §4.1.2);
- refresh tokens rotate (`GrantBook.refresh`): an old one presented again revokes the grant;
- `/authorize`, `/register` and `/revoke` are `authorization_endpoint`, `registration_endpoint` and
  `revocation_endpoint`, served in front of the SDK's (see each for why);
- access tokens, and service tokens from `aural-mcp tokens`, resolve through `GrantTokenVerifier`.
"""

from __future__ import annotations

import math
import secrets
import time
from typing import Any

from mcp.server.auth.handlers.authorize import AuthorizationHandler
from mcp.server.auth.handlers.register import RegistrationHandler
from mcp.server.auth.middleware.client_auth import AuthenticationError, ClientAuthenticator
from mcp.server.auth.provider import (
    AuthorizationCode,
    AuthorizationParams,
    AuthorizeError,
    RefreshToken,
    TokenError,
    TokenVerifier,
    construct_redirect_uri,
)
from mcp.server.auth.settings import ClientRegistrationOptions
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from pydantic import AnyHttpUrl, AnyUrl, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from aural_mcp.team.clients import ClientRegistry
from aural_mcp.team.grants import SCOPE_ALL, SCOPES, GrantBook, Issued
from aural_mcp.team.secrets import token_hash
from aural_mcp.team.store import TeamStore

PENDING_TTL = 600.0
AUTHORIZATION_PATH = "/authorize"
REVOCATION_PATH = "/revoke"
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
CONSENT_PATH = "/consent"
REGISTRATION = ClientRegistrationOptions(enabled=True, valid_scopes=list(SCOPES), default_scopes=list(SCOPES))


def same_resource(a: str, b: str) -> bool:
    """RFC 8707 resource URLs compared as URLs (case of scheme and host, default port), a trailing slash aside."""
    try:
        return str(AnyHttpUrl(a)).removesuffix("/") == str(AnyHttpUrl(b)).removesuffix("/")
    except ValidationError:
        return False


def _token(issued: Issued) -> OAuthToken:
    return OAuthToken(
        access_token=issued.access_token,
        expires_in=issued.expires_in,
        scope=" ".join(issued.scopes),
        refresh_token=issued.refresh_token,
    )


class TeamOAuthProvider:
    """`OAuthAuthorizationServerProvider` (mcp.server.auth.provider) for the team server."""

    def __init__(self, store: TeamStore, book: GrantBook, verifier: TokenVerifier, *, issuer: str, resource: str) -> None:
        self.store, self.book, self.verifier = store, book, verifier  # verifier: auth.GrantTokenVerifier
        self.issuer, self.resource = issuer, resource
        self.clients = ClientRegistry(store, book.box)

    # -- clients ------------------------------------------------------------------------------

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        return await self.clients.get(client_id)

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        await self.clients.register(client_info)

    # -- authorization ------------------------------------------------------------------------

    async def authorize(self, client: OAuthClientInformationFull, params: AuthorizationParams) -> str:
        if params.resource is not None and not same_resource(params.resource, self.resource):
            raise AuthorizeError("invalid_target", f"this server issues tokens for resource {self.resource} only")
        scopes = params.scopes or [SCOPE_ALL]
        unknown = [s for s in scopes if s not in SCOPES]
        if unknown:
            raise AuthorizeError("invalid_scope", f"unknown scope {unknown[0][:40]!r}; use aural or aural:read")
        request_id = secrets.token_urlsafe(24)
        pending = {
            "client_id": client.client_id,
            "client_name": (client.client_name or "")[:200] or None,
            "redirect_uri": str(params.redirect_uri),
            "redirect_uri_provided_explicitly": params.redirect_uri_provided_explicitly,
            "code_challenge": params.code_challenge,
            "state": params.state,
            "scopes": scopes,
            "csrf": secrets.token_urlsafe(32),
            "expires_at": time.time() + PENDING_TTL,
        }
        await self.store.put("pending", request_id, pending, PENDING_TTL)
        return f"{self.issuer}{CONSENT_PATH}?request={request_id}"

    async def load_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: str
    ) -> AuthorizationCode | None:
        record = await self.book.peek_code(authorization_code)
        if record is None:
            return None
        if record.get("used"):  # presented again: whatever it gave out is revoked
            await self.book.revoke_grant(str(record.get("grant")))
            return None
        try:
            return AuthorizationCode(
                code=authorization_code,
                scopes=list(record["scopes"]),
                expires_at=float(record["expires_at"]),
                client_id=str(record["client_id"]),
                code_challenge=str(record["code_challenge"]),
                redirect_uri=AnyUrl(str(record["redirect_uri"])),
                redirect_uri_provided_explicitly=bool(record["redirect_uri_provided_explicitly"]),
                resource=str(record["resource"]),
                subject=str(record["grant"]),
            )
        except (KeyError, TypeError, ValueError):
            return None  # a damaged record is no code

    async def exchange_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: AuthorizationCode
    ) -> OAuthToken:
        record = await self.book.take_code(authorization_code.code)
        if record is None or record.get("used"):  # another request took it first
            if record is not None:
                await self.book.revoke_grant(str(record.get("grant")))
            raise TokenError("invalid_grant", "the authorization code was already used")
        gid = str(record.get("grant"))
        # Remember the code as used until it would have expired, so a replay revokes the grant.
        await self.store.put("code", token_hash(authorization_code.code), {"used": True, "grant": gid}, self.book.code_ttl)
        grant = await self.book.grant(gid)
        if grant is None:
            raise TokenError("invalid_grant", "the grant behind this code was revoked")
        await self.clients.keep(client.client_id)
        return _token(await self.book.issue(grant))

    # -- refresh and access tokens ------------------------------------------------------------

    async def load_refresh_token(self, client: OAuthClientInformationFull, refresh_token: str) -> RefreshToken | None:
        record = await self.book.token_record(refresh_token)
        if record is None:
            return None
        if record.get("kind") == "refresh-used":
            await self.book.refresh(refresh_token, client.client_id)  # a replay: this revokes the grant
            return None
        if record.get("kind") != "refresh" or record.get("client_id") != client.client_id:
            return None
        expires = record.get("expires_at")
        return RefreshToken(
            token=refresh_token,
            client_id=client.client_id,
            scopes=list(record.get("scopes") or []),
            expires_at=int(expires) if isinstance(expires, int | float) else None,
            resource=str(record.get("resource") or ""),
            subject=str(record.get("grant")),
        )

    async def exchange_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: RefreshToken, scopes: list[str]
    ) -> OAuthToken:
        issued = await self.book.refresh(refresh_token.token, client.client_id)
        if issued is None:
            raise TokenError("invalid_grant", "the refresh token was already used or revoked")
        return _token(issued)

    async def load_access_token(self, token: str) -> Any:
        return await self.verifier.verify_token(token)

    async def revoke_token(self, token: Any) -> None:
        await self.book.revoke_token(token.token)

    async def authorization_endpoint(self, request: Request) -> Response:
        """`/authorize`: the SDK's handler, with `iss` (RFC 9207) added to the errors it sends back to
        the client (invalid_scope, invalid_target, ...), as on every other authorization response."""
        response = await AuthorizationHandler(self).handle(request)
        location = response.headers.get("location")
        if location is not None and not location.startswith(self.issuer + CONSENT_PATH + "?"):
            response.headers["location"] = construct_redirect_uri(location, iss=self.issuer)
        return response

    async def registration_endpoint(self, request: Request) -> Response:
        """`/register`: the SDK's handler, which has no bound, once the client's address is within
        its registrations (`ClientRegistry.registration_wait`; refused attempts count too); beyond
        them 429 with Retry-After, nothing registered."""
        wait = await self.clients.registration_wait(request.client.host if request.client else "")
        if wait > 0:
            seconds = max(1, math.ceil(wait)) if math.isfinite(wait) else 1
            description = f"too many client registrations from this address: try again in {seconds} s"
            return JSONResponse({"error": "too_many_requests", "error_description": description}, 429,
                                {**_NO_STORE, "Retry-After": str(seconds)})  # fmt: skip
        return await RegistrationHandler(self, REGISTRATION).handle(request)

    async def revocation_endpoint(self, request: Request) -> Response:
        """RFC 7009 `/revoke`. Ours rather than the SDK's, which requires a `client_secret` field
        even of public clients. The client authenticates as at `/token`; revoking an access or
        refresh token of its own revokes the grant; any other token is answered 200 all the same."""
        try:
            client = await ClientAuthenticator(self).authenticate_request(request)
        except AuthenticationError as exc:
            return JSONResponse({"error": "invalid_client", "error_description": exc.message}, 401, _NO_STORE)
        token = (await request.form()).get("token")
        if not isinstance(token, str) or not token:
            return JSONResponse({"error": "invalid_request", "error_description": "the form needs token"}, 400, _NO_STORE)
        record = await self.book.token_record(token)
        if record is not None and record.get("client_id") == client.client_id:
            await self.book.revoke_token(token)
        return Response(status_code=200, headers=_NO_STORE)

    async def exchange_identity_assertion(self, client: OAuthClientInformationFull, params: Any) -> OAuthToken:
        raise TokenError("unsupported_grant_type", "this server supports authorization_code and refresh_token only")
