"""HTTP transports (SSE and Streamable HTTP) behind one small ASGI guard.

The guard is applied to every request before anything else:

1. Host must be one of the allowed hosts (421 otherwise) and Origin, when present, one of the
   allowed origins (403 otherwise): DNS-rebinding protection, on whatever address we are bound to.
2. `GET /healthz` answers `ok` (no token needed; it reveals nothing).
3. With a bearer token configured, `Authorization: Bearer <token>` is required (401 with a
   `WWW-Authenticate` header otherwise), compared in constant time.
4. Request bodies over `max_body_bytes` are refused with 413 (the SDK's own limit, set lower).

The SDK's `TransportSecuritySettings` is passed the same allowed hosts and origins, so its check
stays on behind ours. Binding a non-loopback address without a token is refused at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aural_mcp.server.transports import ConfigError, build_for_serve, say
from aural_mcp.settings import Settings, is_loopback

if TYPE_CHECKING:  # pragma: no cover
    from mcp.server.mcpserver import MCPServer
    from mcp.server.transport_security import TransportSecuritySettings

SSE_PATH = "/sse"
SSE_MESSAGE_PATH = "/messages/"
HTTP_PATH = "/mcp"
HEALTH_PATH = "/healthz"


def allowed_hosts(settings: Settings, port: int) -> list[str]:
    """Host header values accepted: loopback names on our port, the bind address, configured extras."""
    hosts = [f"{name}:{port}" for name in ("127.0.0.1", "localhost", "[::1]")]
    if port == 80:
        hosts += ["127.0.0.1", "localhost", "[::1]"]
    bind = settings.host.strip()
    if bind not in ("0.0.0.0", "::", "") and not is_loopback(bind):
        hosts.append(f"[{bind}]:{port}" if ":" in bind else f"{bind}:{port}")
    for extra in settings.allowed_hosts:
        extra = extra.strip().lower()
        hosts.append(extra)
        has_port = "]:" in extra if extra.startswith("[") else ":" in extra
        if not has_port:
            hosts.append(f"{extra}:{port}")
    return list(dict.fromkeys(hosts))


def allowed_origins(settings: Settings) -> list[str]:
    """Origin values accepted (browsers send one; other clients usually do not)."""
    origins = [
        f"{scheme}://{name}:*" for scheme in ("http", "https") for name in ("127.0.0.1", "localhost", "[::1]")
    ]
    origins += [
        f"{scheme}://{name}" for scheme in ("http", "https") for name in ("127.0.0.1", "localhost", "[::1]")
    ]
    origins += [o.strip().rstrip("/").lower() for o in settings.allowed_origins if o.strip()]
    return list(dict.fromkeys(origins))


def _matches(value: str, allowed: list[str]) -> bool:
    value = value.lower()
    for pattern in allowed:
        if value == pattern:
            return True
        if pattern.endswith(":*"):
            base = pattern[:-2]
            rest = value[len(base) + 1 :]
            if value.startswith(base + ":") and rest.isdigit():
                return True
    return False


def transport_security(settings: Settings, port: int) -> TransportSecuritySettings:
    from mcp.server.transport_security import TransportSecuritySettings

    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=allowed_hosts(settings, port),
        allowed_origins=allowed_origins(settings),
    )


class HTTPGuard:
    """ASGI middleware in front of the SDK app: Host/Origin, /healthz, bearer token."""

    def __init__(
        self,
        app: Any,
        *,
        hosts: list[str],
        origins: list[str],
        token: str | None,
    ) -> None:
        self.app = app
        self.hosts = hosts
        self.origins = origins
        self._token = token.encode() if token else None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket":  # nothing here speaks websocket
                await send({"type": "websocket.close", "code": 1008})
                return
            await self.app(scope, receive, send)  # lifespan
            return
        headers = _headers(scope)
        host = headers.get("host", "")
        if not host or not _matches(host, self.hosts):
            await _respond(send, 421, "Invalid Host header")
            return
        origin = headers.get("origin")
        if origin is not None and not _matches(origin.rstrip("/"), self.origins):
            await _respond(send, 403, "Invalid Origin header")
            return
        if scope["path"] == HEALTH_PATH:
            if scope["method"] in ("GET", "HEAD"):
                await _respond(send, 200, "ok", head=scope["method"] == "HEAD")
            else:
                await _respond(send, 405, "Method not allowed", extra=[(b"allow", b"GET, HEAD")])
            return
        if self._token is not None and not self._authorized(headers.get("authorization")):
            await _respond(
                send,
                401,
                "Unauthorized: send the server's bearer token as `Authorization: Bearer <token>`",
                extra=[(b"www-authenticate", b'Bearer realm="aural-mcp"')],
            )
            return
        await self.app(scope, receive, send)

    def _authorized(self, header: str | None) -> bool:
        import hmac

        assert self._token is not None
        if not header:
            return False
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(value.strip().encode(), self._token)


def _headers(scope: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in scope.get("headers", ()):
        name = key.decode("latin-1").lower()
        if name not in out:  # first wins; duplicates of Host/Origin are not honoured twice
            out[name] = value.decode("latin-1")
    return out


async def _respond(
    send: Any, status: int, text: str, *, head: bool = False, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = (text + "\n").encode()
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers + (extra or [])})
    await send({"type": "http.response.body", "body": b"" if head else body})


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
            max_request_body_size=settings.max_body_bytes,
            transport_security=security,
            host=settings.host,
        )
    return HTTPGuard(
        inner, hosts=security.allowed_hosts, origins=security.allowed_origins, token=settings.auth_token
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
    try:
        server = build_for_serve(settings)
        app = build_http_app(server, settings, port)
        config = uvicorn.Config(
            app,
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
            else "Streamable HTTP" + (" (stateless)" if settings.stateless else "")
        )
        auth = "bearer token required" if settings.auth_token else "no token"
        say(f"{kind} listening on http://{shown}:{port}{path} ({auth}; health: {HEALTH_PATH})")
        if settings.host in ("0.0.0.0", "::"):
            say("accepting Host localhost/127.0.0.1/[::1] only; add others with --allowed-hosts")
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
    return 0
