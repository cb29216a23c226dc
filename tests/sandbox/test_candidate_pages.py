"""Candidate pages: every link the API hands out opens, on the API's own listener or on a
separate one serving only `Sandbox.pages_app` (what `serve --sandbox` runs on a loopback port)."""

from __future__ import annotations

import httpx2
import pytest
from tests.support.servers import LiveServer

from aural_mcp.sandbox import Sandbox

from .conftest import auth

pytestmark = pytest.mark.anyio
API = "/api/v1"


async def links(api: httpx2.AsyncClient) -> tuple[str, str]:
    """A published interview's public URL and a candidate's invite URL, as the API returns them."""
    iv = (await api.post(f"{API}/interviews", json={"title": "<b>Ops</b> & on-call"})).json()["data"]
    cand = (await api.post(f"{API}/interviews/{iv['id']}/candidates", json={"name": "Bo <i>"})).json()[
        "data"
    ][0]
    url = (await api.post(f"{API}/interviews/{iv['id']}/publish")).json()["data"]["url"]
    return url, cand["inviteUrl"]


async def test_links_open_on_the_api_listener_by_default(http, server):
    public, invite = await links(http)
    assert public.startswith(server.url + "/i/") and invite.startswith(server.url + "/i/invite/")
    for url in (public, invite):
        page = await http.get(url)
        assert page.status_code == 200 and "&lt;b&gt;Ops&lt;/b&gt; &amp; on-call" in page.text
        assert "<b>Ops</b>" not in page.text  # third-party text is escaped, never markup


async def test_pages_app_serves_the_links_at_the_public_url():
    box = Sandbox()
    try:
        key = box.create_key()
        with LiveServer(box.app) as api_server, LiveServer(box.pages_app) as pages:
            box.public_url = pages.url + "/"  # set once the pages listener's port is known
            async with httpx2.AsyncClient(base_url=api_server.url, headers=auth(key), timeout=30) as api:
                public, invite = await links(api)
            assert public.startswith(pages.url + "/i/") and invite.startswith(pages.url + "/i/invite/")
            async with httpx2.AsyncClient(timeout=30) as browser:
                for url in (public, invite):
                    page = await browser.get(url)
                    assert page.status_code == 200 and "Ops" in page.text, url
                assert "Hello Bo &lt;i&gt;" in (await browser.get(invite)).text
                assert (await browser.get(pages.url + "/healthz")).text == "ok"
                # only the pages: the API is not reachable through this listener
                r = await browser.get(pages.url + f"{API}/interviews", headers=auth(key))
                assert r.status_code == 404 and "text/html" in r.headers["content-type"]
                assert (await browser.get(pages.url + "/i/invite/nosuchtoken")).status_code == 404
                assert (await browser.post(public)).status_code == 405
                slash = await browser.get(public + "/", follow_redirects=False)
                assert slash.status_code == 308 and slash.headers["location"] == public.removeprefix(
                    pages.url
                )
    finally:
        box.close()
