"""HTTP transports (SSE and Streamable HTTP): the app behind the guard, and binding and running it.

The request guard (Host/Origin, CORS, token, body limits) is `http_guard`; the connection limits
(header deadline, connection cap) are `http_connections`. Binding a non-loopback address without
a token is refused at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aural_mcp.server.console import ConfigError, say
from aural_mcp.server.http_connections import connection_protocol
from aural_mcp.server.http_guard import HEALTH_PATH, HTTPGuard, transport_security
from aural_mcp.server.logs import mask_session_ids
from aural_mcp.settings import Settings

if TYPE_CHECKING:  # pragma: no cover
    from mcp.server.mcpserver import MCPServer

SSE_PATH = "/sse"
SSE_MESSAGE_PATH = "/messages/"
HTTP_PATH = "/mcp"


def build_http_app(server: MCPServer, settings: Settings, port: int) -> Any:
    """The ASGI app for `settings.transport` ('sse' or 'http'), behind the guard."""
    security = transport_security(settings, port)
    if settings.transport == "sse":
        inner = server.sse_app(
            sse_path=SSE_PATH,
            message_path=SSE_MESSAGE_PATH,
            max_request_body_size=settings.max_body_bytes,
            transport_security=security,
            host=settings.host,
        )
    else:
        inner = server.streamable_http_app(
            streamable_http_path=HTTP_PATH,
            stateless_http=settings.stateless,
            json_response=settings.json_response,
            max_request_body_size=settings.max_body_bytes,
            session_idle_timeout=settings.session_idle_timeout,
            max_sessions=settings.max_sessions,
            transport_security=security,
            host=settings.host,
        )
        team = getattr(server, "team", None)  # TeamAuth in `--auth oauth` (server/app.py build_server)
        if team is not None:  # ours first: the SDK serves its own metadata at the same paths
            inner.router.routes[0:0] = team.routes()
    return HTTPGuard(
        inner,
        hosts=security.allowed_hosts,
        origins=security.allowed_origins,
        token=settings.auth_token,
        max_body_bytes=settings.max_body_bytes,
        body_timeout=settings.body_timeout,
    )


def _bind(host: str, port: int) -> Any:
    import socket

    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigError(f"cannot resolve --host {host!r}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}; choose another --port") from None
    sock.set_inheritable(True)
    return sock


def run_http(settings: Settings) -> int:
    import uvicorn

    sock = _bind(settings.host, settings.port)
    port = sock.getsockname()[1]
    server = None
    try:
        from aural_mcp.server.app import build_for_serve  # the SDK is imported once the port is bound

        server = build_for_serve(settings)
        app = build_http_app(server, settings, port)
        mask_session_ids()
        config = uvicorn.Config(
            app,
            http=connection_protocol(settings.header_timeout, settings.max_connections),
            log_config=None,
            log_level=settings.log_level.lower(),
            access_log=settings.log_level == "DEBUG",
            lifespan="on",
            server_header=False,
            timeout_graceful_shutdown=3,
        )
        shown = f"[{settings.host}]" if ":" in settings.host else settings.host
        path = SSE_PATH if settings.transport == "sse" else HTTP_PATH
        kind = (
            "SSE"
            if settings.transport == "sse"
            else "Streamable HTTP"
            + "".join(f" ({m})" for m, on in (("stateless", settings.stateless), ("JSON", settings.json_response)) if on)
        )
        auth = (
            f"OAuth, issuer {settings.public_url}"
            if settings.auth_mode == "oauth"
            else ("bearer token required" if settings.auth_token else "no token")
        )
        say(f"{kind} listening on http://{shown}:{port}{path} ({auth}; health: {HEALTH_PATH})")
        if settings.host in ("0.0.0.0", "::"):
            public = f", {urlsplit(settings.public_url).netloc}" if settings.public_url else ""
            say(f"accepting Host localhost/127.0.0.1/[::1]{public} only; add others with --allowed-hosts")
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
        if server is not None:
            server.runtime.close()  # type: ignore[attr-defined]  # the sandbox's pages listener
    return 0
