"""Grants and their tokens: who consented to what, with which Aural key, and the tokens that carry it.

A grant is made when a user consents (OAuth) or an operator runs `aural-mcp tokens create`
(service). It holds the user's Aural key sealed (`SecretBox`, the grant id as context), the scopes
and the resource (this server's URL) its tokens are for. Tokens are random strings given out once
and stored only by hash:

- an access token (OAuth) lives `access_ttl` seconds; a refresh token `refresh_ttl`, and each use
  replaces it (rotation). A refresh token presented a second time means it leaked: the grant is
  revoked, so every token of it stops working;
- a service token has no expiry and is revoked with its grant.

Every request resolves its token to a live grant through the store, so revoking a grant (deleting
it) takes effect on every replica at the next request. A token already resolved once is only
checked for being still there (its record and its grant's, one read without decoding): what a
token and its grant say never changes while both exist, only whether they exist.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from typing import Any

from aural_mcp.settings import account_fingerprint
from aural_mcp.team.secrets import (
    ACCESS_PREFIX,
    CODE_PREFIX,
    REFRESH_PREFIX,
    SERVICE_PREFIX,
    SecretBox,
    new_token,
    token_hash,
)
from aural_mcp.team.store import TeamStore

SCOPE_ALL = "aural"  # every tool the operator's flags allow
SCOPE_READ = "aural:read"  # the read-only tools only
SCOPES = (SCOPE_ALL, SCOPE_READ)
ACCESS_TTL = 3600.0
REFRESH_TTL = 30 * 86400.0
CODE_TTL = 300.0
RESOLVED_CAPACITY = 1024  # tokens whose resolution is kept (by hash), least recently used out first


@dataclass
class Grant:
    id: str
    kind: str  # "oauth" or "service"
    name: str  # the client's name, or the service token's
    scopes: list[str]
    resource: str  # the MCP server URL its tokens are for (RFC 8707)
    sealed_key: str
    account: str  # account_fingerprint(base URL, key): names per-account state; not the key
    client_id: str | None = None
    created_at: float = field(default_factory=time.time)

    @property
    def read_only(self) -> bool:
        return SCOPE_ALL not in self.scopes

    def public(self) -> dict[str, Any]:
        """What may be shown (a listing): everything but the sealed key."""
        out = asdict(self)
        del out["sealed_key"]
        return out

    @classmethod
    def from_record(cls, gid: str, value: dict[str, Any]) -> Grant | None:
        try:
            return cls(
                id=gid, kind=str(value["kind"]), name=str(value["name"]), scopes=[str(s) for s in value["scopes"]],
                resource=str(value["resource"]), sealed_key=str(value["sealed_key"]), account=str(value["account"]),
                client_id=value.get("client_id"), created_at=float(value.get("created_at", 0)),
            )  # fmt: skip
        except (KeyError, TypeError, ValueError):
            return None  # a damaged record grants nothing


@dataclass(frozen=True)
class Issued:
    """Tokens just issued: shown to the client once."""

    access_token: str
    expires_in: int
    scopes: list[str]
    refresh_token: str | None = None


@dataclass(frozen=True)
class Resolved:
    """A live token and its grant."""

    grant: Grant
    kind: str  # "access" or "service"
    client_id: str | None
    scopes: list[str]
    resource: str
    expires_at: float | None


class GrantBook:
    """Grants and tokens over a `TeamStore`, for the API at `base_url`."""

    def __init__(
        self,
        store: TeamStore,
        box: SecretBox,
        *,
        base_url: str,
        access_ttl: float = ACCESS_TTL,
        refresh_ttl: float = REFRESH_TTL,
        code_ttl: float = CODE_TTL,
    ) -> None:
        self.store, self.box, self.base_url = store, box, base_url
        self.access_ttl, self.refresh_ttl, self.code_ttl = access_ttl, refresh_ttl, code_ttl
        self._resolved: OrderedDict[str, Resolved] = OrderedDict()  # token hash -> its resolution

    # -- grants -------------------------------------------------------------------------------

    async def create_grant(
        self, *, kind: str, name: str, scopes: list[str], resource: str, key: str, client_id: str | None = None
    ) -> Grant:
        gid = "grt_" + secrets.token_hex(12)
        grant = Grant(
            id=gid, kind=kind, name=name, scopes=list(scopes), resource=resource,
            sealed_key=self.box.seal(key, context=gid), account=account_fingerprint(self.base_url, key),
            client_id=client_id,
        )  # fmt: skip
        await self._save(grant)
        return grant

    async def _save(self, grant: Grant) -> None:
        value = asdict(grant)
        del value["id"]
        await self.store.put("grant", grant.id, value)

    async def grant(self, gid: str) -> Grant | None:
        value = await self.store.get("grant", gid)
        return Grant.from_record(gid, value) if value is not None else None

    async def grants(self, kind: str | None = None) -> list[Grant]:
        found = [Grant.from_record(gid, v) for gid, v in await self.store.items("grant")]
        return [g for g in found if g is not None and (kind is None or g.kind == kind)]

    async def key_of(self, grant: Grant) -> str:
        """The grant's Aural key; re-sealed with the current master key when an older one sealed it."""
        key = self.box.open(grant.sealed_key, context=grant.id)
        if self.box.needs_reseal(grant.sealed_key):
            grant.sealed_key = self.box.seal(key, context=grant.id)
            await self._save(grant)
        return key

    async def revoke_grant(self, gid: str) -> bool:
        """Every token of the grant stops working at once, on every replica."""
        return await self.store.delete("grant", gid)

    # -- tokens -------------------------------------------------------------------------------

    async def _put_token(self, token: str, kind: str, grant: Grant, client_id: str | None, ttl: float | None) -> None:
        record = {
            "kind": kind, "grant": grant.id, "client_id": client_id, "scopes": grant.scopes,
            "resource": grant.resource, "expires_at": time.time() + ttl if ttl is not None else None,
        }  # fmt: skip
        await self.store.put("token", token_hash(token), record, ttl)

    async def issue(self, grant: Grant) -> Issued:
        """A new access and refresh token for an OAuth grant."""
        access, refresh = new_token(ACCESS_PREFIX), new_token(REFRESH_PREFIX)
        await self._put_token(access, "access", grant, grant.client_id, self.access_ttl)
        await self._put_token(refresh, "refresh", grant, grant.client_id, self.refresh_ttl)
        return Issued(access, int(self.access_ttl), grant.scopes, refresh)

    async def issue_service_token(self, grant: Grant) -> str:
        token = new_token(SERVICE_PREFIX)
        await self._put_token(token, "service", grant, None, None)
        return token

    async def resolve(self, token: str) -> Resolved | None:
        """The live access or service token `token`, with its grant; None for anything else."""
        digest = token_hash(token)
        known = self._resolved.get(digest)
        if known is not None:
            # Revoking deletes the grant (and maybe the token) and an expired token's record is
            # gone or past `expires_at`: asking the store whether both are still there, on every
            # request, keeps revocation immediate on every replica.
            if (known.expires_at is None or known.expires_at > time.time()) and await self.store.all_live(
                ("token", digest), ("grant", known.grant.id)
            ):
                self._resolved.move_to_end(digest)
                return known
            self._resolved.pop(digest, None)
            return None
        record = await self.store.get("token", digest)
        if record is None or record.get("kind") not in ("access", "service"):
            return None
        expires = record.get("expires_at")
        if isinstance(expires, int | float) and expires <= time.time():
            return None
        grant = await self.grant(str(record.get("grant")))
        if grant is None:  # revoked
            return None
        resolved = Resolved(grant, str(record["kind"]), record.get("client_id"), list(record.get("scopes") or []),
                            str(record.get("resource") or ""), expires)  # fmt: skip
        self._resolved[digest] = resolved
        while len(self._resolved) > RESOLVED_CAPACITY:
            self._resolved.popitem(last=False)
        return resolved

    async def refresh(self, refresh_token: str, client_id: str) -> Issued | None:
        """Rotate: the refresh token is used up and a new pair issued. None when it is not a live
        refresh token of `client_id`; a used one presented again revokes the whole grant."""
        digest = token_hash(refresh_token)
        record = await self.store.take("token", digest)
        if record is None:
            return None
        if record.get("kind") == "refresh-used":
            await self.revoke_grant(str(record.get("grant")))
            return None
        if record.get("kind") != "refresh" or record.get("client_id") != client_id:
            if record.get("kind") == "refresh":
                await self.store.put("token", digest, record, self.refresh_ttl)  # not this client's: left as it was
            return None
        grant = await self.grant(str(record.get("grant")))
        if grant is None:
            return None
        await self.store.put("token", digest, {"kind": "refresh-used", "grant": grant.id}, self.refresh_ttl)
        return await self.issue(grant)

    async def token_record(self, token: str) -> dict[str, Any] | None:
        """The stored record of any token (revocation looks up what it is)."""
        return await self.store.get("token", token_hash(token))

    async def revoke_token(self, token: str) -> None:
        """RFC 7009: revoking an access or refresh token revokes its grant (all its tokens); an
        unknown token is no error."""
        record = await self.token_record(token)
        if record is not None and isinstance(record.get("grant"), str):
            await self.revoke_grant(record["grant"])
        await self.store.delete("token", token_hash(token))

    # -- authorization codes --------------------------------------------------------------------

    async def new_code(self, grant: Grant, **details: Any) -> str:
        """An authorization code for `grant` (details: client_id, code_challenge, redirect_uri,
        redirect_uri_provided_explicitly, resource, scopes), usable once within `code_ttl`."""
        code = new_token(CODE_PREFIX)
        record = {"grant": grant.id, "expires_at": time.time() + self.code_ttl, **details}
        await self.store.put("code", token_hash(code), record, self.code_ttl)
        return code

    async def peek_code(self, code: str) -> dict[str, Any] | None:
        return await self.store.get("code", token_hash(code))

    async def take_code(self, code: str) -> dict[str, Any] | None:
        """The code's record, once: a replayed code gets None."""
        return await self.store.take("code", token_hash(code))
