"""`/register` (Dynamic Client Registration) is bounded, over real HTTP against the team server:
each client address registers at most so many clients per window, counted in the team store (two
servers on one store share the count), and a registered client that completes no grant in time is
forgotten, while one that signed in is kept."""

from __future__ import annotations

from pathlib import Path

import anyio
import httpx2
import pytest
from tests.team.oauth_support import (
    REDIRECT,
    WAIT,
    authorize,
    discover,
    pkce,
    register,
    sandbox_api,
    sign_in,
    team_server,
    token,
)

pytestmark = pytest.mark.anyio


async def test_registrations_beyond_the_bound_get_429_with_retry_after_on_every_server_of_the_store(
    tmp_path: Path,
):
    with (
        anyio.fail_after(WAIT),
        sandbox_api() as (_, api),
        team_server(tmp_path, api) as a,
        team_server(tmp_path, api) as b,
    ):
        assert a.db == b.db, "two servers on one store, as replicas are"
        for served in (a, b):
            served.team.provider.clients.registrations, served.team.provider.clients.registration_window = (
                2,
                30.0,
            )
        async with httpx2.AsyncClient(timeout=WAIT) as http:
            on_a, on_b = await discover(http, a.mcp), await discover(http, b.mcp)
            await register(http, on_a)
            await register(http, on_b)
            for metadata in (on_a, on_b):
                refused = await http.post(metadata["registration_endpoint"],
                                          json={"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"})  # fmt: skip
                assert refused.status_code == 429, refused.text
                assert 1 <= int(refused.headers["retry-after"]) <= 30
                assert refused.json()["error"] == "too_many_requests"
                assert "too many client registrations" in refused.json()["error_description"]
            # Refused registrations registered nothing: only the two clients are in the store.
            assert len(await a.team.store.items("client")) == 2


async def test_a_client_that_never_signs_in_is_forgotten_and_one_that_did_is_kept(tmp_path: Path):
    with anyio.fail_after(WAIT), sandbox_api() as (box, api), team_server(tmp_path, api) as served:
        served.team.provider.clients.unused_client_ttl = 1.0
        async with httpx2.AsyncClient(timeout=WAIT) as http:
            metadata = await discover(http, served.mcp)
            idle = (await register(http, metadata))["client_id"]
            used = (await register(http, metadata))["client_id"]
            tokens = await sign_in(http, metadata, used, box.create_key())
            await anyio.sleep(1.3)

            refused = await authorize(http, metadata, idle, pkce()[1])
            assert refused.status_code == 400 and "not found" in refused.json()["error_description"]
            assert (await authorize(http, metadata, used, pkce()[1])).status_code == 302, "kept: it signed in"
            refreshed = await token(http, metadata, grant_type="refresh_token", refresh_token=tokens["refresh_token"],
                                    client_id=used)  # fmt: skip
            assert refreshed.status_code == 200, refreshed.text
