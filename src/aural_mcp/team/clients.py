"""OAuth clients of the team server: Client ID Metadata Documents first, Dynamic Client Registration as the fallback.

A client whose `client_id` is an https URL publishes its metadata there (a Client ID Metadata
Document): we fetch it (no redirects, 5 s, at most 64 KiB), check that it names itself by that
URL and lists its redirect URIs, and keep it as kind `client` for an hour. `http://` ids are
accepted for loopback hosts only (tests, local clients). Any other `client_id` is one `/register`
(RFC 7591) gave out; its record is kept as kind `client`, its secret (confidential clients) sealed.

`/register` needs no credentials, so it is bounded: each client address may register
`REGISTRATIONS` clients per `REGISTRATION_WINDOW` (counted in the team store, so the replicas share
the count; beyond it 429 with Retry-After), and a registered client that completes no grant within
`UNUSED_CLIENT_TTL` is forgotten. Its first grant keeps it for good.

Clients are public (`token_endpoint_auth_method` `none`, PKCE) or hold a secret we issued; both may
ask for the scopes `aural` and `aural:read`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any
from urllib.parse import urlsplit

import httpx2
from mcp.server.auth.provider import RegistrationError
from mcp.shared.auth import OAuthClientInformationFull
from pydantic import ValidationError

from aural_mcp.settings import is_loopback
from aural_mcp.team.grants import SCOPES
from aural_mcp.team.secrets import SecretBox
from aural_mcp.team.store import TeamStore

logger = logging.getLogger(__name__)

DOCUMENT_TIMEOUT = 5.0
DOCUMENT_MAX_BYTES = 64 * 1024
DOCUMENT_TTL = 3600.0
REGISTRATIONS, REGISTRATION_WINDOW = 20, 600.0  # per client address; a person's clients register a few times at most
UNUSED_CLIENT_TTL = 24 * 3600.0  # long enough to sign in the day one registers
# Redirect URI schemes that could run code or read files instead of returning to a client.
_FORBIDDEN_SCHEMES = {"javascript", "data", "file", "vbscript", "blob", "about"}


class ClientDocumentError(ValueError):
    """A Client ID Metadata Document could not be used; the message says why (for the log)."""


def is_document_url(client_id: str) -> bool:
    """True when `client_id` names a Client ID Metadata Document (an https URL, or http on loopback)."""
    parts = urlsplit(client_id)
    if parts.scheme == "https":
        return bool(parts.hostname)
    return parts.scheme == "http" and parts.hostname is not None and is_loopback(parts.hostname)


def redirect_uri_problem(uri: str) -> str | None:
    """Why `uri` may not be a redirect URI, or None: https, http on loopback, or an app's own scheme."""
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if not scheme or scheme in _FORBIDDEN_SCHEMES:
        return f"redirect URI {uri[:80]!r}: use https://, http:// on loopback, or an app's own scheme"
    if scheme == "http" and not (parts.hostname and is_loopback(parts.hostname)):
        return f"redirect URI {uri[:80]!r}: http:// is only for 127.0.0.1, localhost or [::1]; use https://"
    if parts.fragment:
        return f"redirect URI {uri[:80]!r} must not have a #fragment"
    return None


class ClientRegistry:
    """Looks clients up by id (fetching metadata documents) and keeps registered ones."""

    def __init__(self, store: TeamStore, box: SecretBox) -> None:
        self.store, self.box = store, box
        # For tests: the bounds of /register.
        self.registrations, self.registration_window = REGISTRATIONS, REGISTRATION_WINDOW
        self.unused_client_ttl = UNUSED_CLIENT_TTL

    async def registration_wait(self, address: str) -> float:
        """0.0 when `address` may register a client now (that registration is counted), else the
        seconds until it may. The address is kept only as a hash."""
        digest = hashlib.sha256(address.encode("utf-8")).hexdigest()[:16]
        return await self.store.reserve(f"register:{digest}", self.registrations, self.registration_window)

    async def keep(self, client_id: str) -> None:
        """Keep a registered client for good: it completed a grant."""
        if is_document_url(client_id):
            return  # a metadata document is fetched again when its copy expires
        record = await self.store.get("client", client_id)
        if record is not None:
            await self.store.put("client", client_id, record)

    async def get(self, client_id: str) -> OAuthClientInformationFull | None:
        if is_document_url(client_id):
            cached = await self.store.get("client", client_id)
            if cached is not None:
                return _client(cached)
            try:
                document = await fetch_document(client_id)
            except ClientDocumentError as exc:
                logger.warning("client %r: %s", client_id[:200], exc)
                return None
            await self.store.put("client", client_id, document, DOCUMENT_TTL)
            return _client(document)
        record = await self.store.get("client", client_id)
        if record is None:
            return None
        sealed = record.pop("sealed_secret", None)
        if isinstance(sealed, str):
            try:
                record["client_secret"] = self.box.open(sealed, context=client_id)
            except ValueError:
                return None  # sealed with a master key no longer configured: the client registers again
        return _client(record)

    async def register(self, info: OAuthClientInformationFull) -> None:
        """Keep a client `/register` made, after checking its redirect URIs (RegistrationError otherwise)."""
        for uri in info.redirect_uris or []:
            problem = redirect_uri_problem(str(uri))
            if problem:
                raise RegistrationError("invalid_redirect_uri", problem)
        if info.token_endpoint_auth_method not in ("none", "client_secret_post", "client_secret_basic"):
            raise RegistrationError(
                "invalid_client_metadata", "token_endpoint_auth_method must be none, client_secret_post or client_secret_basic"
            )
        record = info.model_dump(mode="json", exclude_none=True)
        secret = record.pop("client_secret", None)
        if secret:
            record["sealed_secret"] = self.box.seal(secret, context=info.client_id)
        record["scope"] = " ".join(SCOPES)  # what the consent page may grant, whatever was asked
        await self.store.put("client", info.client_id, record, self.unused_client_ttl)


def _client(record: dict[str, Any]) -> OAuthClientInformationFull | None:
    try:
        return OAuthClientInformationFull.model_validate(record)
    except ValidationError:
        return None  # a damaged record is no client


async def fetch_document(url: str) -> dict[str, Any]:
    """The client record from the metadata document at `url`; ClientDocumentError when unusable."""
    parts = urlsplit(url)
    if parts.fragment or parts.username or parts.password or parts.path in ("", "/"):
        raise ClientDocumentError("a client id URL needs a path and no #fragment or user:password@")
    try:
        async with (
            httpx2.AsyncClient(follow_redirects=False, timeout=DOCUMENT_TIMEOUT) as http,
            http.stream("GET", url, headers={"Accept": "application/json"}) as response,
        ):
            if response.status_code != 200:
                raise ClientDocumentError(f"the metadata document answered {response.status_code}, not 200")
            body = b""
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > DOCUMENT_MAX_BYTES:
                    raise ClientDocumentError(f"the metadata document is over {DOCUMENT_MAX_BYTES} bytes")
    except httpx2.HTTPError as exc:
        raise ClientDocumentError(f"cannot fetch the metadata document ({type(exc).__name__})") from None
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise ClientDocumentError("the metadata document is not JSON") from None
    if not isinstance(document, dict):
        raise ClientDocumentError("the metadata document is not a JSON object")
    if document.get("client_id") != url:
        raise ClientDocumentError("the metadata document's client_id is not its own URL")
    uris = document.get("redirect_uris")
    if not isinstance(uris, list) or not uris or not all(isinstance(u, str) for u in uris):
        raise ClientDocumentError("the metadata document needs redirect_uris, a list of URLs")
    for uri in uris:
        problem = redirect_uri_problem(uri)
        if problem:
            raise ClientDocumentError(problem)
    method = document.get("token_endpoint_auth_method", "none")
    if method != "none":
        raise ClientDocumentError(f"token_endpoint_auth_method {str(method)[:40]!r}: only none (PKCE) is supported")
    name = document.get("client_name")
    record: dict[str, Any] = {
        "client_id": url,
        "redirect_uris": uris,
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": " ".join(SCOPES),
    }
    if isinstance(name, str) and name.strip():
        record["client_name"] = name.strip()[:200]
    if _client(record) is None:
        raise ClientDocumentError("the metadata document's redirect_uris are not all URLs")
    return record
