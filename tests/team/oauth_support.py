"""The team server in OAuth mode on a real loopback socket, a real sandbox API behind it, and an
OAuth client played with plain HTTP requests (discovery, registration, authorization with PKCE,
the consent form, tokens), for the tests of `aural_mcp.team`'s authorization server."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
from tests.support.servers import LiveServer
from tests.support.wire import INITIALIZE, STREAMABLE_HEADERS

from aural_mcp.sandbox import Sandbox
from aural_mcp.server.app import build_server
from aural_mcp.server.http import _bind, build_http_app
from aural_mcp.settings import Settings
from aural_mcp.team.auth import TeamAuth
from aural_mcp.team.secrets import generate_secret_key

WAIT = 20.0
REDIRECT = "http://127.0.0.1:9/callback"  # never followed: the tests read the redirect's query


@dataclass
class TeamServer:
    url: str  # the public URL: the issuer
    team: TeamAuth
    db: Path
    local: str  # where it listens: the public URL, unless that is a proxy's

    @property
    def mcp(self) -> str:
        return self.url + "/mcp"


@contextlib.contextmanager
def sandbox_api() -> Iterator[tuple[Sandbox, str]]:
    """A real sandbox API on loopback: (the sandbox, its base URL)."""
    box = Sandbox()
    try:
        with LiveServer(box.app) as live:
            yield box, live.url + "/api/v1"
    finally:
        box.close()


@contextlib.contextmanager
def team_server(tmp_path: Path, api_url: str, *, public_url: str | None = None, **ttl: float) -> Iterator[TeamServer]:
    """`serve --transport http --auth oauth --public-url http://127.0.0.1:PORT` in process (or
    `public_url`, as behind a TLS proxy: then requests go to `local` with that URL's Host)."""
    sock = _bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    url = public_url or f"http://127.0.0.1:{port}"
    db = tmp_path / "team.sqlite3"
    settings = Settings.from_env(
        {}, transport="http", port=port, auth_mode="oauth", public_url=url, base_url=api_url,
        secret_key=generate_secret_key(), team_db=str(db), watch_state=str(tmp_path / "watch.sqlite3"),
    )  # fmt: skip
    team = TeamAuth.open(settings, **ttl)
    server = build_server(settings, team=team)
    try:
        with LiveServer(build_http_app(server, settings, port), sock=sock, lifespan="on", stop_timeout=15):
            yield TeamServer(url, team, db, f"http://127.0.0.1:{port}")
    finally:
        server.runtime.close()  # type: ignore[attr-defined]


def pkce() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def discover(http: httpx2.AsyncClient, mcp_url: str) -> dict[str, Any]:
    """401 with resource_metadata → protected resource metadata → authorization server metadata."""
    refused = await http.post(mcp_url, json=INITIALIZE, headers=STREAMABLE_HEADERS)
    assert refused.status_code == 401, refused.text
    found = re.search(r'resource_metadata="([^"]+)"', refused.headers["www-authenticate"])
    assert found, refused.headers["www-authenticate"]
    resource = (await http.get(found.group(1))).json()
    assert resource["resource"] == mcp_url
    assert resource["scopes_supported"] == ["aural", "aural:read"]
    issuer = resource["authorization_servers"][0]
    metadata = (await http.get(issuer + "/.well-known/oauth-authorization-server")).json()
    assert metadata["issuer"] == issuer, "RFC 8414: the issuer is exactly the URL the resource named"
    return dict(metadata)


async def register(http: httpx2.AsyncClient, metadata: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """Dynamic Client Registration of a public client (unless `fields` say otherwise)."""
    body = {"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none", "client_name": "Test client", **fields}
    answer = await http.post(metadata["registration_endpoint"], json=body)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


async def authorize(
    http: httpx2.AsyncClient, metadata: dict[str, Any], client_id: str, challenge: str, **params: str
) -> httpx2.Response:
    """The authorization request; its answer is a 302 (to the consent page, or back with an error)."""
    args = {
        "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, "code_challenge": challenge,
        "code_challenge_method": "S256", "state": "st-" + secrets.token_hex(4), **params,
    }  # fmt: skip
    return await http.get(metadata["authorization_endpoint"], params=args)


def form_fields(page: str) -> dict[str, str]:
    """The hidden fields of the consent form."""
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))


async def consent(
    http: httpx2.AsyncClient, consent_url: str, key: str, *, action: str = "allow", scope: str | None = None
) -> tuple[httpx2.Response, httpx2.Response]:
    """GET the consent page and post its form: (the page, the answer to the post)."""
    page = await http.get(consent_url)
    assert page.status_code == 200, page.text
    fields = form_fields(page.text)
    chosen = scope or re.findall(r'name="scope" value="([^"]+)" checked', page.text)[0]
    posted = await http.post(urlsplit(consent_url)._replace(query="").geturl(),
                             data={**fields, "key": key, "scope": chosen, "action": action})  # fmt: skip
    return page, posted


async def token(http: httpx2.AsyncClient, metadata: dict[str, Any], **form: str) -> httpx2.Response:
    return await http.post(metadata["token_endpoint"], data=form)


async def sign_in(
    http: httpx2.AsyncClient, metadata: dict[str, Any], client_id: str, key: str, **params: str
) -> dict[str, Any]:
    """Authorization code + PKCE through the consent page, then the token request: the tokens."""
    verifier, challenge = pkce()
    to_consent = await authorize(http, metadata, client_id, challenge, **params)
    assert to_consent.status_code == 302, to_consent.text
    _, back = await consent(http, to_consent.headers["location"], key)
    assert back.status_code == 302, back.text
    code = query(back.headers["location"])["code"]
    answer = await token(http, metadata, grant_type="authorization_code", code=code, client_id=client_id,
                         redirect_uri=REDIRECT, code_verifier=verifier)  # fmt: skip
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def mcp_status(http: httpx2.AsyncClient, mcp_url: str, access_token: str) -> httpx2.Response:
    """A bare `initialize` with the bearer token."""
    return await http.post(mcp_url, json=INITIALIZE,
                           headers={**STREAMABLE_HEADERS, "Authorization": f"Bearer {access_token}"})  # fmt: skip
