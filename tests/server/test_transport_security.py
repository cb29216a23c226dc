"""The HTTP guard and the start-up checks, in process (the real servers are tested in tests/e2e)."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from aural_mcp.server.console import ConfigError
from aural_mcp.server.http_guard import (
    HTTPGuard,
    _matches,
    allowed_hosts,
    allowed_origins,
    transport_security,
)
from aural_mcp.server.serve_settings import check_settings
from aural_mcp.settings import Settings, is_loopback, key_problem, mask_secret

pytestmark = pytest.mark.anyio
PORT = 8765
TOKEN = "unit-token-abcdef0123456789abcdef01"


async def downstream(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"reached"})


def guard(settings: Settings) -> HTTPGuard:
    sec = transport_security(settings, PORT)
    return HTTPGuard(
        downstream, hosts=sec.allowed_hosts, origins=sec.allowed_origins, token=settings.auth_token
    )


async def status(app: HTTPGuard, path: str = "/mcp", method: str = "GET", **headers: str) -> httpx2.Response:
    headers.setdefault("host", f"127.0.0.1:{PORT}")
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://x") as http:
        return await http.request(method, path, headers=headers)


async def test_host_header() -> None:
    app = guard(Settings(transport="http"))
    for ok in (f"127.0.0.1:{PORT}", f"localhost:{PORT}", f"[::1]:{PORT}", f"LOCALHOST:{PORT}"):
        assert (await status(app, host=ok)).status_code == 200, ok
    for bad in (
        "evil.example",
        f"evil.example:{PORT}",
        "127.0.0.1",
        f"127.0.0.1:{PORT + 1}",
        "localhost:*",
        "",
    ):
        assert (await status(app, host=bad)).status_code == 421, bad


async def test_origin_header() -> None:
    app = guard(Settings(transport="http", allowed_origins=["https://app.example/"]))
    assert (await status(app)).status_code == 200  # no Origin: a non-browser client
    for ok in ("http://localhost:3000", "http://127.0.0.1:6274", "https://app.example", "http://[::1]:1"):
        assert (await status(app, origin=ok)).status_code == 200, ok
    for bad in (
        "null",
        "http://evil.example",
        "http://localhost:3000.evil.example",
        "http://localhost:x",
        "file://",
    ):
        assert (await status(app, origin=bad)).status_code == 403, bad


async def test_bearer_token() -> None:
    app = guard(Settings(transport="http", auth_token=TOKEN))
    r = await status(app)
    assert r.status_code == 401 and r.headers["www-authenticate"] == 'Bearer realm="aural-mcp"'
    assert TOKEN not in r.text
    for bad in ("Bearer nope", f"Basic {TOKEN}", TOKEN, f"Bearer {TOKEN}x", "Bearer "):
        assert (await status(app, authorization=bad)).status_code == 401, bad
    assert (await status(app, authorization=f"Bearer {TOKEN}")).status_code == 200
    assert (
        await status(app, authorization=f"bearer {TOKEN}")
    ).status_code == 200  # the scheme is case-insensitive


async def test_healthz_needs_no_token_and_reveals_nothing() -> None:
    app = guard(Settings(transport="http", auth_token=TOKEN))
    r = await status(app, "/healthz")
    assert (r.status_code, r.text) == (200, "ok\n")
    assert (await status(app, "/healthz", method="HEAD")).status_code == 200
    assert (await status(app, "/healthz", method="POST")).status_code == 405
    assert (await status(app, "/healthz", host="evil.example")).status_code == 421


def test_allowed_hosts_on_any_address() -> None:
    s = Settings(
        transport="http", host="0.0.0.0", auth_token=TOKEN, allowed_hosts=["mcp.example", "lan.example:9000"]
    )
    hosts = allowed_hosts(s, PORT)
    assert f"127.0.0.1:{PORT}" in hosts and f"mcp.example:{PORT}" in hosts and "lan.example:9000" in hosts
    assert not any(h.startswith("0.0.0.0") for h in hosts)
    specific = allowed_hosts(Settings(transport="http", host="192.168.1.5", auth_token=TOKEN), PORT)
    assert f"192.168.1.5:{PORT}" in specific
    assert "https://app.example" in allowed_origins(Settings(allowed_origins=["https://App.example/"]))


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"transport": "http", "host": "0.0.0.0"}, "refusing to listen on 0.0.0.0"),
        ({"transport": "sse", "host": "::"}, "refusing to listen on ::"),
        ({"transport": "http", "host": "10.1.2.3"}, "without a bearer token"),
        ({"transport": "http", "host": "0.0.0.0", "auth_token": "has space"}, "without spaces"),
        ({"transport": "http", "port": -1}, "between 0 and 65535"),
        ({"transport": "http", "max_body_bytes": 10}, "at least 1024"),
    ],
)
def test_check_settings_refuses(overrides: dict[str, Any], fragment: str) -> None:
    s = Settings(sandbox=True)
    for name, value in overrides.items():
        setattr(s, name, value)
    with pytest.raises(ConfigError, match=fragment):
        check_settings(s)


def test_check_settings_accepts() -> None:
    check_settings(Settings(sandbox=True, transport="http", host="0.0.0.0", auth_token=TOKEN))
    check_settings(Settings(sandbox=True, transport="sse", host="::1"))
    check_settings(Settings(api_key="dlv_" + "a" * 32))


def test_helpers() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "LOCALHOST"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "10.0.0.1", "example.com", ""))
    key = "dlv_abcdefghijklmnopqrstuvwxyz123456"
    assert (
        mask_secret(key) == "dlv_…3456" and mask_secret(None) == "(not set)" and mask_secret("short") == "…"
    )
    assert key_problem(key) is None and key_problem(key + "\n") is None
    assert key_problem("dlv_") and key_problem("dlv_a b") and key_problem("'dlv_ab'")


async def test_unicode_digits_and_out_of_range_ports_are_refused() -> None:
    origins = allowed_origins(Settings())
    for text in ("http://localhost:\u00b2", "http://localhost:\u0663\u0660", "http://localhost:\uff18"):
        assert not _matches(text, origins), text  # each passes str.isdigit()
    app = guard(Settings(transport="http"))
    for bad in ("http://localhost:65536", "http://localhost:000080", "http://localhost:-1"):
        assert (await status(app, origin=bad)).status_code == 403, bad
    for ok in ("http://localhost:0", "http://localhost:65535", "http://localhost:1"):
        assert (await status(app, origin=ok)).status_code == 200, ok


async def test_the_app_behind_the_guard_sees_host_and_origin_lower_cased() -> None:
    seen: list[list[tuple[bytes, bytes]]] = []

    async def recorder(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope["headers"])
        await downstream(scope, receive, send)

    sec = transport_security(Settings(transport="http"), PORT)
    app = HTTPGuard(recorder, hosts=sec.allowed_hosts, origins=sec.allowed_origins, token=None)
    r = await status(app, host=f"LocalHost:{PORT}", origin="HTTP://LOCALHOST:3000/")
    assert r.status_code == 200
    headers = dict(seen[0])
    assert headers[b"host"] == f"localhost:{PORT}".encode() and headers[b"origin"] == b"http://localhost:3000"
