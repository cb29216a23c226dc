"""Transport security of real `aural-mcp serve` processes (issue 4, item 5).

Servers bind 127.0.0.1 or 0.0.0.0, but every request goes to 127.0.0.1: rebinding attacks are
simulated with forged Host and Origin headers, never with traffic to another address.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator

import httpx2
import pytest
from aural_e2e import Proc, serve_http
from tests.support.processes import AURAL_MCP, env_without_aural
from tests.support.wire import INITIALIZE, STREAMABLE_HEADERS

TOKEN = "sec-token-0123456789abcdef0123456789"


@pytest.fixture(scope="module")
def sse_local() -> Iterator[Proc]:
    with serve_http("sse") as server:  # loopback, no token
        yield server


@pytest.fixture(scope="module")
def http_local_token() -> Iterator[Proc]:
    with serve_http("http", env=env_without_aural(AURAL_MCP_TOKEN=TOKEN)) as server:
        yield server


@pytest.fixture(scope="module")
def http_any() -> Iterator[Proc]:
    with serve_http(
        "http",
        "--host",
        "0.0.0.0",
        "--auth-token",
        TOKEN,
        "--allowed-hosts",
        "mcp.internal.example",
        "--allowed-origins",
        "https://app.internal.example",
    ) as server:
        yield server


@pytest.fixture(scope="module")
def sse_any() -> Iterator[Proc]:
    with serve_http("sse", "--host", "0.0.0.0", env=env_without_aural(AURAL_MCP_TOKEN=TOKEN)) as server:
        yield server


@pytest.fixture(scope="module", autouse=True)
def http() -> Iterator[httpx2.Client]:
    """One client for the module: creating one per request costs more than the request."""
    global HTTP
    with httpx2.Client(timeout=5) as client:
        HTTP = client
        yield client


HTTP: httpx2.Client


def endpoint_status(
    server: Proc, transport: str, headers: dict[str, str] | None = None, token: str | None = None
) -> int:
    """Status of opening the MCP endpoint (initialize POST for http, the SSE GET for sse)."""
    h = dict(headers or {})
    if token:
        h["Authorization"] = f"Bearer {token}"
    if transport == "http":
        with HTTP.stream("POST", server.url, json=INITIALIZE, headers={**STREAMABLE_HEADERS, **h}) as r:
            return r.status_code
    with HTTP.stream("GET", server.url, headers={"Accept": "text/event-stream", **h}) as r:
        return r.status_code


def host(server: Proc, name: str) -> dict[str, str]:
    return {"Host": f"{name}:{server.port}"}


CASES = [
    ("sse_local", "sse", None),
    ("http_local_token", "http", TOKEN),
    ("http_any", "http", TOKEN),
    ("sse_any", "sse", TOKEN),
]


@pytest.mark.parametrize(("fixture", "transport", "token"), CASES, ids=[c[0] for c in CASES])
def test_host_and_origin_are_validated(
    request: pytest.FixtureRequest, fixture: str, transport: str, token: str | None
) -> None:
    server: Proc = request.getfixturevalue(fixture)
    ok = endpoint_status(server, transport, token=token)
    assert ok == 200
    assert endpoint_status(server, transport, host(server, "localhost"), token) == 200
    # DNS rebinding: a page on evil.example resolves its name to 127.0.0.1
    for forged in (
        "evil.example",
        "evil.example:80",
        f"evil.example:{server.port}",
        f"127.0.0.1:{server.port + 1}",
    ):
        assert endpoint_status(server, transport, {"Host": forged}, token) == 421, forged
    # a LAN address is not accepted unless configured, even when bound to 0.0.0.0
    assert endpoint_status(server, transport, host(server, "192.168.1.10"), token) == 421
    for origin in (
        "http://evil.example",
        "null",
        f"http://evil.example:{server.port}",
        "http://localhost.evil.example",
    ):
        assert endpoint_status(server, transport, {"Origin": origin}, token) == 403, origin
    assert endpoint_status(server, transport, {"Origin": f"http://localhost:{server.port}"}, token) == 200
    assert (
        endpoint_status(server, transport, {"Origin": "http://127.0.0.1:6274"}, token) == 200
    )  # the Inspector
    # /healthz answers ok without a token, but not to a forged Host
    r = HTTP.get(server.base + "/healthz")
    assert (r.status_code, r.text.strip()) == (200, "ok")
    assert HTTP.get(server.base + "/healthz", headers={"Host": "evil.example"}).status_code == 421


def test_configured_hosts_and_origins_are_accepted(http_any: Proc) -> None:
    assert endpoint_status(http_any, "http", host(http_any, "mcp.internal.example"), TOKEN) == 200
    assert endpoint_status(http_any, "http", {"Origin": "https://app.internal.example"}, TOKEN) == 200
    assert endpoint_status(http_any, "http", {"Origin": "https://other.internal.example"}, TOKEN) == 403


@pytest.mark.parametrize("fixture", ["http_local_token", "http_any", "sse_any"])
def test_bearer_token_is_required(request: pytest.FixtureRequest, fixture: str) -> None:
    server: Proc = request.getfixturevalue(fixture)
    transport = "sse" if fixture.startswith("sse") else "http"
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": TOKEN},
        {"Authorization": f"Basic {TOKEN}"},
    ):
        if transport == "http":
            r = HTTP.post(server.url, json=INITIALIZE, headers={**STREAMABLE_HEADERS, **headers})
        else:
            r = HTTP.get(server.url, headers=headers)
        assert r.status_code == 401, headers
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert TOKEN not in r.text
    assert endpoint_status(server, transport, token=TOKEN) == 200
    # the SSE message endpoint is guarded too
    if transport == "sse":
        r = HTTP.post(server.base + "/messages/?session_id=" + "0" * 32, json=INITIALIZE)
        assert r.status_code == 401


def test_no_token_means_open_on_loopback(sse_local: Proc) -> None:
    assert endpoint_status(sse_local, "sse") == 200


@pytest.mark.parametrize("fixture", ["sse_local", "http_local_token"])
def test_oversized_bodies_are_refused(request: pytest.FixtureRequest, fixture: str) -> None:
    server: Proc = request.getfixturevalue(fixture)
    big = b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"' + b"a" * (1536 * 1024) + b'"}}'
    headers = {**STREAMABLE_HEADERS, "Authorization": f"Bearer {TOKEN}"}
    url = server.base + "/messages/?session_id=" + "0" * 32 if fixture == "sse_local" else server.url
    r = HTTP.post(url, content=big, headers=headers, timeout=10)
    assert r.status_code == 413

    # streamed without a Content-Length: refused as well
    def chunks() -> Iterator[bytes]:
        for _ in range(24):
            yield b"a" * 65536

    r = HTTP.post(url, content=chunks(), headers=headers, timeout=10)
    assert r.status_code == 413
    assert HTTP.get(server.base + "/healthz").status_code == 200  # still serving


@pytest.mark.parametrize(
    "argv",
    [
        ["--transport", "http", "--host", "0.0.0.0"],
        ["--transport", "sse", "--host", "0.0.0.0"],
        ["--transport", "http", "--host", "::"],
        ["--transport", "http", "--host", "192.0.2.10"],
    ],
    ids=["http-0.0.0.0", "sse-0.0.0.0", "http-[::]", "http-lan-address"],
)
def test_non_loopback_bind_without_token_is_refused(argv: list[str]) -> None:
    done = subprocess.run(
        [*AURAL_MCP, "serve", "--sandbox", "--port", "0", *argv],
        capture_output=True,
        text=True,
        timeout=30,
        env=env_without_aural(),
    )
    assert done.returncode == 2
    assert "refusing to listen" in done.stderr and "AURAL_MCP_TOKEN" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("AURAL_MCP_HEADER_TIMEOUT", "0"),
        ("AURAL_MCP_BODY_TIMEOUT", "nan"),
        ("AURAL_MCP_SESSION_IDLE_TIMEOUT", "inf"),
        ("AURAL_MCP_MAX_CONNECTIONS", "-5"),
        ("AURAL_MCP_MAX_SESSIONS", "lots"),
    ],
)
def test_bad_http_limits_are_refused_in_one_line(variable: str, value: str) -> None:
    done = subprocess.run(
        [*AURAL_MCP, "serve", "--sandbox", "--transport", "http", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=30,
        env=env_without_aural(**{variable: value}),
    )
    assert done.returncode == 2
    assert variable in done.stderr and "must be" in done.stderr and "for example" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def raw_status(server: Proc, request: bytes) -> bytes:
    """The status line a raw request gets (bytes as sent: no client library re-encodes them)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request)
        return sock.recv(65536).split(b"\r\n", 1)[0]


@pytest.mark.parametrize(("fixture", "transport", "token"), CASES[:2], ids=[c[0] for c in CASES[:2]])
def test_host_and_origin_case_is_accepted_by_the_sdk_too(
    request: pytest.FixtureRequest, fixture: str, transport: str, token: str | None
) -> None:
    server: Proc = request.getfixturevalue(fixture)
    for name in ("LOCALHOST", "LocalHost", "127.0.0.1"):
        headers = {"Host": f"{name}:{server.port}", "Origin": f"HTTP://{name}:6274/"}
        assert endpoint_status(server, transport, headers, token) == 200, name
    assert "Traceback" not in server.stderr() and "Invalid Host" not in server.stderr()


@pytest.mark.parametrize("fixture", ["sse_local", "http_local_token"])
def test_origin_ports_are_ascii_digits_only(request: pytest.FixtureRequest, fixture: str) -> None:
    server: Proc = request.getfixturevalue(fixture)
    auth = f"Authorization: Bearer {TOKEN}\r\n".encode()
    # Superscripts pass str.isdigit() and arrive as single Latin-1 bytes; the others as UTF-8.
    ports = [b"\xb2\xb3", b"8\xb9"] + [
        p.encode()
        for p in ("\u0663\u0660\u0660\u0660", "\uff13\uff10\uff10\uff10", "65536", "123456", "+80", "8 0", "")
    ]
    for port in ports:
        head = b"GET /healthz-no HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nOrigin: http://localhost:%s\r\n%s\r\n" % (
            server.port,
            port,
            auth,
        )
        assert raw_status(server, head) == b"HTTP/1.1 403 Forbidden", port
    for host in (
        "localhost:\u0663\u0660",
        f"127.0.0.1:{server.port}\u0663",
        f"ＬＯＣＡＬＨＯＳＴ:{server.port}",
    ):
        head = b"GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n" % host.encode()
        assert raw_status(server, head) == b"HTTP/1.1 421 Misdirected Request", host
    ok = (
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nOrigin: http://localhost:65535\r\n\r\n" % server.port
    )
    assert raw_status(server, ok) == b"HTTP/1.1 200 OK"
    assert "Traceback" not in server.stderr()


def test_sse_session_ids_are_not_logged_in_full_even_at_debug() -> None:
    with serve_http("sse", env=env_without_aural(AURAL_MCP_LOG_LEVEL="DEBUG")) as server:
        with HTTP.stream("GET", server.url, headers={"Accept": "text/event-stream"}) as stream:
            lines = stream.iter_lines()
            endpoint = next(line for line in lines if line.startswith("data:")).removeprefix("data:").strip()
            session_id = endpoint.rsplit("=", 1)[1]
            assert len(session_id) == 32
            r = HTTP.post(server.base + endpoint, json=INITIALIZE)
            assert r.status_code == 202
            assert next(line for line in lines if line.startswith("data:"))  # the initialize result
        r = HTTP.post(server.base + endpoint.replace(session_id, "f" * 32), json=INITIALIZE)
        assert r.status_code == 404
        stderr = server.stderr()
    assert "/messages/" in stderr and session_id[:8] in stderr  # the access log and the SDK's lines...
    assert session_id not in stderr and "f" * 32 not in stderr  # ...with ids cut short
    assert "Traceback" not in stderr


@pytest.mark.parametrize(("fixture", "transport", "token"), CASES[:2], ids=[c[0] for c in CASES[:2]])
def test_browser_pages_on_allowed_origins_get_cors(
    request: pytest.FixtureRequest, fixture: str, transport: str, token: str | None
) -> None:
    server: Proc = request.getfixturevalue(fixture)
    inspector = "http://localhost:6274"
    preflight = {
        "Origin": inspector,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, mcp-session-id",
    }
    r = HTTP.options(server.url, headers=preflight)  # no token: browsers send none on a preflight
    assert r.status_code == 204 and r.content == b""
    assert r.headers["access-control-allow-origin"] == inspector
    assert "POST" in r.headers["access-control-allow-methods"]
    assert "mcp-session-id" in r.headers["access-control-allow-headers"]
    assert "authorization" in r.headers["access-control-allow-headers"]

    refused = HTTP.options(server.url, headers={**preflight, "Origin": "http://evil.example"})
    assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers

    # The real request: the page may read the answer and, on Streamable HTTP, the session id.
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    if transport == "http":
        r = HTTP.post(server.url, json=INITIALIZE, headers={**STREAMABLE_HEADERS, **auth, "Origin": inspector})
        assert r.status_code == 200 and "mcp-session-id" in r.headers["access-control-expose-headers"]
        assert r.headers["access-control-allow-origin"] == inspector
        denied = HTTP.post(server.url, json=INITIALIZE, headers={**STREAMABLE_HEADERS, "Origin": inspector})
        assert denied.status_code == 401 and denied.headers["access-control-allow-origin"] == inspector
    else:
        with HTTP.stream(
            "GET", server.url, headers={"Accept": "text/event-stream", "Origin": inspector}
        ) as r:
            assert r.status_code == 200 and r.headers["access-control-allow-origin"] == inspector
    # Clients that send no Origin (agents, the command line) get no CORS headers.
    assert "access-control-allow-origin" not in HTTP.get(server.base + "/healthz").headers
