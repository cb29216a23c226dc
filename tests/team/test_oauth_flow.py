"""The team server as an OAuth 2.1 authorization server, end to end over real HTTP: discovery,
registration (Dynamic Client Registration and Client ID Metadata Documents), authorization code
with PKCE through the consent page with a real sandbox key, tokens, and then MCP calls with the
bearer token, against `serve --transport http --auth oauth` on loopback and a sandbox API."""

from __future__ import annotations

from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from tests.support.servers import LiveServer
from tests.team.oauth_support import (
    REDIRECT,
    WAIT,
    authorize,
    consent,
    discover,
    mcp_status,
    pkce,
    query,
    register,
    sandbox_api,
    sign_in,
    team_server,
)

pytestmark = pytest.mark.anyio


async def test_metadata_says_what_clients_need(tmp_path: Path) -> None:
    with anyio.fail_after(WAIT), sandbox_api() as (_, api), team_server(tmp_path, api) as served:
        async with httpx2.AsyncClient(timeout=WAIT) as http:
            metadata = await discover(http, served.mcp)
            # A browser client (the MCP Inspector) reads them: exactly one Allow-Origin, its own.
            for url in (served.url + "/.well-known/oauth-authorization-server", metadata["token_endpoint"]):
                answer = await http.request("GET" if "well-known" in url else "POST", url,
                                            headers={"Origin": "http://localhost:6274"})  # fmt: skip
                assert answer.headers.get_list("access-control-allow-origin") == ["http://localhost:6274"], url
    assert metadata["issuer"] == served.url, "the public URL, no trailing slash, everywhere"
    assert metadata["authorization_endpoint"] == served.url + "/authorize"
    assert metadata["registration_endpoint"] == served.url + "/register"
    assert metadata["revocation_endpoint"] == served.url + "/revoke"
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["scopes_supported"] == ["aural", "aural:read"]
    assert "none" in metadata["token_endpoint_auth_methods_supported"]
    assert metadata["client_id_metadata_document_supported"] is True
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert metadata["grant_types_supported"] == ["authorization_code", "refresh_token"]


async def test_a_registered_public_client_signs_in_with_a_sandbox_key_and_lists_tools(tmp_path: Path) -> None:
    with anyio.fail_after(WAIT), sandbox_api() as (box, api), team_server(tmp_path, api) as served:
        key = box.create_key()
        async with httpx2.AsyncClient(timeout=WAIT) as http:
            metadata = await discover(http, served.mcp)
            client = await register(http, metadata, client_name="<b>Recruiting</b> & Co")
            assert "client_secret" not in client
            verifier, challenge = pkce()
            to_consent = await authorize(http, metadata, client["client_id"], challenge, resource=served.mcp, state="s1")
            assert to_consent.status_code == 302 and to_consent.headers["location"].startswith(served.url + "/consent?")
            page, back = await consent(http, to_consent.headers["location"], key)
            assert "&lt;b&gt;Recruiting&lt;/b&gt; &amp; Co" in page.text and "<b>Recruiting" not in page.text
            assert back.status_code == 302
            answer = query(back.headers["location"])
            assert back.headers["location"].startswith(REDIRECT + "?")
            assert answer["state"] == "s1" and answer["iss"] == served.url and answer["code"]
            tokens = (await http.post(metadata["token_endpoint"], data={
                "grant_type": "authorization_code", "code": answer["code"], "client_id": client["client_id"],
                "redirect_uri": REDIRECT, "code_verifier": verifier, "resource": served.mcp,
            })).json()  # fmt: skip
        assert tokens["token_type"] == "Bearer" and tokens["scope"] == "aural" and tokens["refresh_token"]
        assert tokens["expires_in"] == 3600
        async with (
            create_mcp_http_client(headers={"Authorization": f"Bearer {tokens['access_token']}"}) as client_http,
            Client(streamable_http_client(served.mcp, http_client=client_http)) as mcp,
        ):
            names = {t.name for t in (await mcp.list_tools()).tools}
        assert {"list_interviews", "get_usage"} <= names
        grants = await served.team.book.grants()
        assert [(g.kind, g.name, g.scopes, g.resource) for g in grants] == [
            ("oauth", "<b>Recruiting</b> & Co", ["aural"], served.mcp)
        ]
        assert await served.team.book.key_of(grants[0]) == key
        stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("team.sqlite3"))
        for secret in (key, tokens["access_token"], tokens["refresh_token"], answer["code"]):
            assert secret.encode() not in stored


async def test_a_client_id_metadata_document_client_signs_in_read_only(tmp_path: Path) -> None:
    documents: dict[str, object] = {}

    async def document(request: object) -> JSONResponse:
        return JSONResponse(documents["client"])

    with (
        anyio.fail_after(WAIT),
        sandbox_api() as (box, api),
        team_server(tmp_path, api) as served,
        LiveServer(Starlette(routes=[Route("/oauth/client.json", document)])) as site,
    ):
        client_id = site.url + "/oauth/client.json"
        documents["client"] = {"client_id": client_id, "client_name": "Doc <Client>", "redirect_uris": [REDIRECT],
                               "token_endpoint_auth_method": "none"}  # fmt: skip
        key = box.create_key()
        async with httpx2.AsyncClient(timeout=WAIT) as http:
            metadata = await discover(http, served.mcp)
            tokens = await sign_in(http, metadata, client_id, key, scope="aural:read")
            assert tokens["scope"] == "aural:read"
            assert (await mcp_status(http, served.mcp, tokens["access_token"])).status_code == 200
            # A document that does not name itself is no client: the request is refused.
            await served.team.store.delete("client", client_id)  # drop the cached copy
            documents["client"] = {**documents["client"], "client_id": site.url + "/other.json"}  # type: ignore[dict-item]
            refused = await authorize(http, metadata, client_id, pkce()[1])
            assert refused.status_code == 400 and "not found" in refused.json()["error_description"]
        grant = (await served.team.book.grants())[0]
        assert grant.read_only and grant.client_id == client_id and grant.name == "Doc <Client>"


async def test_a_user_may_narrow_to_read_only_and_deny(tmp_path: Path) -> None:
    with anyio.fail_after(WAIT), sandbox_api() as (box, api), team_server(tmp_path, api) as served:
        key = box.create_key()
        async with httpx2.AsyncClient(timeout=WAIT) as http:
            metadata = await discover(http, served.mcp)
            client = await register(http, metadata)
            verifier, challenge = pkce()
            to_consent = await authorize(http, metadata, client["client_id"], challenge)
            _, back = await consent(http, to_consent.headers["location"], key, scope="aural:read")
            code = query(back.headers["location"])["code"]
            tokens = (await http.post(metadata["token_endpoint"], data={
                "grant_type": "authorization_code", "code": code, "client_id": client["client_id"],
                "redirect_uri": REDIRECT, "code_verifier": verifier,
            })).json()  # fmt: skip
            assert tokens["scope"] == "aural:read"

            # Asked for read-only, the form offers nothing more, and a forged "aural" is refused.
            to_consent = await authorize(http, metadata, client["client_id"], challenge, scope="aural:read")
            page, posted = await consent(http, to_consent.headers["location"], key, scope="aural")
            assert 'value="aural"' not in page.text and posted.status_code == 400

            to_consent = await authorize(http, metadata, client["client_id"], challenge, state="s2")
            _, denied = await consent(http, to_consent.headers["location"], "", action="deny")
            assert denied.status_code == 302
            assert query(denied.headers["location"]) == {"error": "access_denied", "state": "s2", "iss": served.url}
        assert len(await served.team.book.grants()) == 1


async def test_a_confidential_client_authenticates_with_its_secret(tmp_path: Path) -> None:
    with anyio.fail_after(WAIT), sandbox_api() as (box, api), team_server(tmp_path, api) as served:
        async with httpx2.AsyncClient(timeout=WAIT) as http:
            metadata = await discover(http, served.mcp)
            client = await register(http, metadata, token_endpoint_auth_method="client_secret_post")
            secret = client["client_secret"]
            stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("team.sqlite3"))
            assert secret.encode() not in stored, "the client secret is sealed at rest"
            verifier, challenge = pkce()
            to_consent = await authorize(http, metadata, client["client_id"], challenge)
            _, back = await consent(http, to_consent.headers["location"], box.create_key())
            form = {"grant_type": "authorization_code", "code": query(back.headers["location"])["code"],
                    "client_id": client["client_id"], "redirect_uri": REDIRECT, "code_verifier": verifier}  # fmt: skip
            wrong = await http.post(metadata["token_endpoint"], data={**form, "client_secret": "nope"})
            assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
            right = await http.post(metadata["token_endpoint"], data={**form, "client_secret": secret})
            assert right.status_code == 200, right.text


async def test_registration_refuses_dangerous_redirect_uris(tmp_path: Path) -> None:
    with anyio.fail_after(WAIT), sandbox_api() as (_, api), team_server(tmp_path, api) as served:
        async with httpx2.AsyncClient(timeout=WAIT) as http:
            metadata = await discover(http, served.mcp)
            for uri in ("javascript:alert(1)", "http://evil.example/cb", "data:text/html,hi"):
                answer = await http.post(metadata["registration_endpoint"], json={"redirect_uris": [uri]})
                assert answer.status_code == 400, uri
                assert answer.json()["error"] in ("invalid_redirect_uri", "invalid_client_metadata"), answer.text
            bad_scope = await http.post(metadata["registration_endpoint"],
                                        json={"redirect_uris": [REDIRECT], "scope": "admin"})  # fmt: skip
            assert bad_scope.status_code == 400 and bad_scope.json()["error"] == "invalid_client_metadata"


async def test_behind_a_tls_proxy_the_csrf_cookie_is_a_secure_host_cookie(tmp_path: Path) -> None:
    public = "https://mcp.example.test"
    with anyio.fail_after(WAIT), sandbox_api() as (_, api), team_server(tmp_path, api, public_url=public) as served:
        proxied = {"Host": "mcp.example.test", "X-Forwarded-Proto": "https"}
        async with httpx2.AsyncClient(base_url=served.local, headers=proxied, timeout=WAIT) as http:
            metadata = (await http.get("/.well-known/oauth-authorization-server")).json()
            assert metadata["issuer"] == public and metadata["token_endpoint"] == public + "/token"
            client = (await http.post("/register", json={"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"})).json()
            to_consent = await http.get("/authorize", params={
                "response_type": "code", "client_id": client["client_id"], "redirect_uri": REDIRECT,
                "code_challenge": pkce()[1], "code_challenge_method": "S256",
            })  # fmt: skip
            assert to_consent.headers["location"].startswith(public + "/consent?request=")
            page = await http.get("/consent?" + to_consent.headers["location"].split("?", 1)[1])
        assert page.status_code == 200
        cookie = page.headers["set-cookie"]
        assert cookie.startswith("__Host-aural_csrf_"), cookie
        assert all(part in cookie.lower() for part in ("; secure", "; httponly", "; samesite=strict", "; path=/"))
