"""The team server's secrets: Aural keys sealed with AES-GCM, and tokens kept only as hashes.

`AURAL_MCP_SECRET_KEY` holds one or more master keys, comma-separated, each 32 random bytes in
URL-safe base64 (`aural-mcp tokens keygen` prints one). The first seals; every one opens, so a
key is rotated by putting the new one first and keeping the old one after it until every sealed
value was re-sealed (`SecretBox.needs_reseal` tells which; the grant store re-seals on read).

A sealed value is `aes1.<key id>.<nonce and ciphertext, base64url>`; the key id is the first 8
hex digits of the key's SHA-256, so it names the key without revealing it. The context (a grant
id) is bound in as associated data, so a sealed key copied onto another grant does not open.

The same master keys also give the keys that seal the MCP `requestState` of multi-round-trip
calls, so a state one replica minted opens on every other: each is derived with HKDF-SHA256 under
its own label (`REQUEST_STATE_INFO`), never the master key itself, in the same order (the first
seals, every one opens).

Tokens (access, refresh, service, authorization codes) are 256 random bits with a prefix that says
what they are; the store keeps `token_hash(token)` only. A fast hash is right for them: they are
random, not passwords, so there is nothing to guess.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

if TYPE_CHECKING:
    from mcp.server.request_state import RequestStateSecurity

ENV = "AURAL_MCP_SECRET_KEY"
SEALED_PREFIX = "aes1"
KEY_BYTES = 32
NONCE_BYTES = 12

# What a token is, by its prefix (never parsed for meaning beyond error messages).
ACCESS_PREFIX = "amcp_at_"
REFRESH_PREFIX = "amcp_rt_"
SERVICE_PREFIX = "amcp_st_"
CODE_PREFIX = "amcp_ac_"

# The HKDF label of the request-state keys: keys for one purpose, unrelated to the master key's other uses.
REQUEST_STATE_INFO = b"aural-mcp/request-state/v1"


class SecretKeyError(ValueError):
    """AURAL_MCP_SECRET_KEY is missing or malformed; the message says how to make one."""


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _derived(master: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=SHA256(), length=KEY_BYTES, salt=None, info=info).derive(master)


def generate_secret_key() -> str:
    """A new master key, as AURAL_MCP_SECRET_KEY takes it."""
    return _b64encode(secrets.token_bytes(KEY_BYTES))


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


class SecretBox:
    """Seals and opens with the master keys; the first one seals."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise SecretKeyError(f"{ENV} holds no key; make one with `aural-mcp tokens keygen`")
        self._keys = {key_id(k): AESGCM(k) for k in keys}
        self.current = key_id(keys[0])
        self.request_state_keys = [_derived(k, REQUEST_STATE_INFO) for k in keys]

    @classmethod
    def from_text(cls, text: str | None) -> SecretBox:
        """From the value of AURAL_MCP_SECRET_KEY: `NEW[,OLD...]`."""
        if not text or not text.strip():
            raise SecretKeyError(f"{ENV} is not set; make one with `aural-mcp tokens keygen` and set it")
        keys: list[bytes] = []
        for n, part in enumerate(p.strip() for p in text.split(",")):
            try:
                key = _b64decode(part)
            except (binascii.Error, ValueError):
                key = b""
            if len(key) != KEY_BYTES:
                raise SecretKeyError(
                    f"{ENV}: key {n + 1} is not {KEY_BYTES} bytes in URL-safe base64; "
                    "make one with `aural-mcp tokens keygen`"
                )
            keys.append(key)
        return cls(keys)

    def seal(self, plaintext: str, *, context: str) -> str:
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._keys[self.current].encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
        return f"{SEALED_PREFIX}.{self.current}.{_b64encode(nonce + sealed)}"

    def open(self, sealed: str, *, context: str) -> str:
        """The plaintext; ValueError when the value is not ours, was made with a key no longer
        configured, or was altered or moved to another context."""
        prefix, kid, body = (sealed.split(".", 2) + ["", ""])[:3]
        if prefix != SEALED_PREFIX or not body:
            raise ValueError("not a sealed value")
        box = self._keys.get(kid)
        if box is None:
            raise ValueError(f"sealed with key {kid}, which {ENV} no longer holds")
        try:
            data = _b64decode(body)
            return box.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], context.encode("utf-8")).decode("utf-8")
        except Exception:  # InvalidTag, bad base64: the same answer, never the details
            raise ValueError("the sealed value does not open (altered, or moved from another grant)") from None

    def needs_reseal(self, sealed: str) -> bool:
        return sealed.split(".", 2)[1:2] != [self.current]


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return "sha256:" + hashlib.sha256(token.encode("utf-8")).hexdigest()


def request_state_security(secret_key: str | None) -> RequestStateSecurity:
    """The `mcp` SDK's `RequestStateSecurity` with keys derived from AURAL_MCP_SECRET_KEY's value
    (`NEW[,OLD...]`): every process given the same value seals and opens the same `requestState`.
    Raises SecretKeyError when the value is missing or malformed."""
    from mcp.server.request_state import RequestStateSecurity

    return RequestStateSecurity(keys=SecretBox.from_text(secret_key).request_state_keys)
