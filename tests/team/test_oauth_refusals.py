"""Each refusal of the team server's authorization server, with the error the specs name: a
resource or scope that is not ours, a token for another audience, an expired token, a replayed
code, a PKCE mismatch, a rotated-out refresh token, a revoked token; and the consent page's own:
CSRF, a bad or refused key, an API that cannot be reached, and the anti-framing headers."""

from __future__ import annotations

from pathlib import Path

import anyio
import httpx2
import pytest
from tests.support.net import free_port
from tests.team.oauth_support import (
    REDIRECT,
    WAIT,
    authorize,
    consent,
    discover,
    form_fields,
    mcp_status,
    pkce,
    query,
    register,
    sandbox_api,
    sign_in,
    team_server,
    token,
)

from aural_mcp.team.grants import SCOPE_ALL

pytestmark = pytest.mark.anyio


async def test_authorize_refuses_another_resource_and_unknown_scopes(tmp_path: Path) -> None:
    with anyio.fail_after(WAIT), sandbox_api() as (_, api), team_server(tmp_path, api) as served:
        async with httpx2.AsyncClient(timeout=WAIT) as http:
            metadata = await discover(http, served.mcp)
            client = await register(http, metadata)
            challenge = pkce()[1]
            other = await authorize(http, metadata, client["client_id"], challenge,
                                    resource="https://other.example.com/mcp", state="s")  # fmt: skip
            assert other.status_code == 302
            assert query(other.headers["location"])["error"] == "invalid_target"
            assert query(other.headers["location"])["state"] == "s"
            assert query(other.headers["location"])["iss"] == served.url, "RFC 9207: errors carry iss too"
            scope = await authorize(http, metadata, client["client_id"], challenge, scope="admin")
            assert query(scope.headers["location"])["error"] == "invalid_scope"
            assert query(scope.headers["location"])["iss"] == served.url
            plain = await authorize(http, metadata, client["client_id"], challenge, code_challenge_method="plain")
            assert plain.status_code == 302 and query(plain.headers["location"])["error"] == "invalid_request"
            assert "S256" in query(plain.headers["location"])["error_description"]
        assert await served.team.store.items("pending") == []


async def test_tokens_for_another_audience_and_expired_tokens_get_401(tmp_path: Path) -> None:
    with anyio.fail_after(WAIT), sandbox_api() as (box, api), team_server(tmp_path, api, access_ttl=1.0) as served:
        key = box.create_key()
        book = served.team.book
        elsewhere = await book.create_grant(kind="oauth", name="x", scopes=[SCOPE_ALL],
                                            resource="https://other.example.com/mcp", key=key, client_id="c")  # fmt: skip
        async with httpx2.AsyncClient(timeout=WAIT) as http:
            foreign = await mcp_status(http, served.mcp, (await book.issue(elsewhere)).access_token)
            assert foreign.status_code == 401 and 'error="invalid_token"' in foreign.headers["www-authenticate"]
            metadata = await discover(http, served.mcp)
            client = await register(http, metadata)
            tokens = await sign_in(http, metadata, client["client_id"], key)
            assert tokens["expires_in"] == 1
            assert (await mcp_status(http, served.mcp, tokens["access_token"])).status_code == 200
            await anyio.sleep(1.2)
            expired = await mcp_status(http, served.mcp, tokens["access_token"])
            assert expired.status_code == 401 and 'error="invalid_token"' in expired.headers["www-authenticate"]
            assert 'resource_metadata="' in expired.headers["www-authenticate"]
            # The refresh token still works, and brings a live access token.
            fresh = await token(http, metadata, grant_type="refresh_token", refresh_token=tokens["refresh_token"],
                                client_id=client["client_id"])  # fmt: skip
            assert (await mcp_status(http, served.mcp, fresh.json()["access_token"])).status_code == 200


async def test_pkce_mismatch_and_replayed_code_are_invalid_grant(tmp_path: Path) -> None:
    with anyio.fail_after(WAIT), sandbox_api() as (box, api), team_server(tmp_path, api) as served:
        async with httpx2.AsyncClient(timeout=WAIT) as http:
            metadata = await discover(http, served.mcp)
            client = await register(http, metadata)
            verifier, challenge = pkce()
            to_consent = await authorize(http, metadata, client["client_id"], challenge)
            _, back = await consent(http, to_consent.headers["location"], box.create_key())
            form = {"grant_type": "authorization_code", "code": query(back.headers["location"])["code"],
                    "client_id": client["client_id"], "redirect_uri": REDIRECT}  # fmt: skip
            mismatch = await token(http, metadata, **form, code_verifier=pkce()[0])
            assert mismatch.status_code == 400 and mismatch.json()["error"] == "invalid_grant"
            other_uri = await token(http, metadata, **{**form, "redirect_uri": "http://127.0.0.1:9/other"},
                                    code_verifier=verifier)  # fmt: skip
            assert other_uri.status_code == 400
            first = await token(http, metadata, **form, code_verifier=verifier)
            assert first.status_code == 200, first.text
            assert (await mcp_status(http, served.mcp, first.json()["access_token"])).status_code == 200
            replay = await token(http, metadata, **form, code_verifier=verifier)
            assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
            # RFC 6749 §4.1.2: what the replayed code gave out is revoked.
            assert (await mcp_status(http, served.mcp, first.json()["access_token"])).status_code == 401
        assert await served.team.book.grants() == []


async def test_refresh_tokens_rotate_and_a_replayed_one_revokes_the_grant(tmp_path: Path) -> None:
    with anyio.fail_after(WAIT), sandbox_api() as (box, api), team_server(tmp_path, api) as served:
        async with httpx2.AsyncClient(timeout=WAIT) as http:
            metadata = await discover(http, served.mcp)
            client = await register(http, metadata)
            first = await sign_in(http, metadata, client["client_id"], box.create_key())
            form = {"grant_type": "refresh_token", "client_id": client["client_id"]}
            second = await token(http, metadata, **form, refresh_token=first["refresh_token"])
            assert second.status_code == 200, second.text
            new = second.json()
            assert new["refresh_token"] != first["refresh_token"] and new["access_token"] != first["access_token"]
            assert (await mcp_status(http, served.mcp, new["access_token"])).status_code == 200
            other = await register(http, metadata)
            stolen = await token(http, metadata, grant_type="refresh_token", client_id=other["client_id"],
                                 refresh_token=new["refresh_token"])  # fmt: skip
            assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant", "another client's"
            replay = await token(http, metadata, **form, refresh_token=first["refresh_token"])
            assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
            assert (await mcp_status(http, served.mcp, new["access_token"])).status_code == 401, "the grant is revoked"
            after = await token(http, metadata, **form, refresh_token=new["refresh_token"])
            assert after.status_code == 400 and after.json()["error"] == "invalid_grant"


async def test_revocation_ends_every_token_of_the_grant(tmp_path: Path) -> None:
    with anyio.fail_after(WAIT), sandbox_api() as (box, api), team_server(tmp_path, api) as served:
        async with httpx2.AsyncClient(timeout=WAIT) as http:
            metadata = await discover(http, served.mcp)
            client = await register(http, metadata)
            tokens = await sign_in(http, metadata, client["client_id"], box.create_key())
            assert (await mcp_status(http, served.mcp, tokens["access_token"])).status_code == 200
            revoked = await http.post(metadata["revocation_endpoint"],
                                      data={"token": tokens["access_token"], "client_id": client["client_id"]})  # fmt: skip
            assert revoked.status_code == 200
            assert (await mcp_status(http, served.mcp, tokens["access_token"])).status_code == 401
            again = await token(http, metadata, grant_type="refresh_token", client_id=client["client_id"],
                                refresh_token=tokens["refresh_token"])  # fmt: skip
            assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
            unknown = await http.post(metadata["revocation_endpoint"], data={"token": "nope", "client_id": client["client_id"]})
            assert unknown.status_code == 200, "RFC 7009: an unknown token is no error"
        assert await served.team.book.grants() == []


async def test_the_consent_form_needs_its_csrf_token_and_cookie(tmp_path: Path) -> None:
    with anyio.fail_after(WAIT), sandbox_api() as (box, api), team_server(tmp_path, api) as served:
        key = box.create_key()
        async with httpx2.AsyncClient(timeout=WAIT) as http:
            metadata = await discover(http, served.mcp)
            client = await register(http, metadata)
            to_consent = await authorize(http, metadata, client["client_id"], pkce()[1])
            page = await http.get(to_consent.headers["location"])
            fields = {**form_fields(page.text), "key": key, "scope": "aural", "action": "allow"}
            post = served.url + "/consent"
            for bad in ({**fields, "csrf": ""}, {**fields, "csrf": fields["csrf"][:-2] + "xx"},
                        {k: v for k, v in fields.items() if k != "csrf"}):  # fmt: skip
                refused = await http.post(post, data=bad)
                assert refused.status_code == 400 and "could not be verified" in refused.text
            async with httpx2.AsyncClient(timeout=WAIT) as elsewhere:  # the right token, but no cookie
                refused = await elsewhere.post(post, data=fields)
                assert refused.status_code == 400 and "could not be verified" in refused.text
            assert await served.team.book.grants() == []
            unknown = await http.post(post, data={**fields, "request": "nope"})
            assert unknown.status_code == 400 and "expired" in unknown.text
            allowed = await http.post(post, data=fields)
            assert allowed.status_code == 302
            twice = await http.post(post, data=fields)
            assert twice.status_code == 400 and "expired or was already used" in twice.text
        assert len(await served.team.book.grants()) == 1


async def test_a_bad_or_refused_key_shows_the_page_again_with_the_error(tmp_path: Path) -> None:
    with anyio.fail_after(WAIT), sandbox_api() as (box, api), team_server(tmp_path, api) as served:
        revoked = box.create_key()
        box.revoke_key(revoked)
        async with httpx2.AsyncClient(timeout=WAIT) as http:
            metadata = await discover(http, served.mcp)
            client = await register(http, metadata)
            to_consent = await authorize(http, metadata, client["client_id"], pkce()[1])
            for key, says in (("not-a-key", "That is not an Aural API key"), ("dlv_ spaced key", "That is not an Aural API key"),
                              (revoked, "Aural refused this key"), ("", "That is not an Aural API key")):  # fmt: skip
                page, posted = await consent(http, to_consent.headers["location"], key)
                assert posted.status_code == 400 and says in posted.text, (key, posted.text)
                assert 'role="alert"' in posted.text and '<input type="password"' in posted.text
                if key:
                    assert key not in posted.text, "the key is never echoed"
                assert posted.headers["x-frame-options"] == "DENY"
        assert await served.team.book.grants() == []


async def test_an_unreachable_api_is_a_clear_error_and_the_page_cannot_be_framed(tmp_path: Path) -> None:
    nothing = f"http://127.0.0.1:{free_port()}/api/v1"
    with anyio.fail_after(WAIT), sandbox_api() as (box, _), team_server(tmp_path, nothing) as served:
        async with httpx2.AsyncClient(timeout=WAIT) as http:
            metadata = await discover(http, served.mcp)
            client = await register(http, metadata)
            to_consent = await authorize(http, metadata, client["client_id"], pkce()[1])
            page, posted = await consent(http, to_consent.headers["location"], box.create_key())
            assert posted.status_code == 400 and "could not be reached" in posted.text
            for answer in (page, posted):
                assert answer.headers["x-frame-options"] == "DENY"
                csp = answer.headers["content-security-policy"]
                assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
                assert answer.headers["cache-control"] == "no-store"
                assert answer.headers["referrer-policy"] == "no-referrer"
            assert "<script" not in page.text
            assert all(f'<label for="{i}"' in page.text for i in ("key", "scope-0", "scope-1"))
        assert await served.team.book.grants() == []
