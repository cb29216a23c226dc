"""HTTP transports (SSE and Streamable HTTP) behind one small ASGI guard.

The guard is applied to every request before anything else:

1. Host must be one of the allowed hosts (421 otherwise) and Origin, when present, one of the
   allowed origins (403 otherwise): DNS-rebinding protection, on whatever address we are bound to.
2. A request with an allowed Origin gets CORS headers; its preflight (`OPTIONS` with
   `Access-Control-Request-Method`) is answered 204 here, without a token, as browsers send none.
3. `GET /healthz` answers `ok` (no token needed; it reveals nothing).
4. With a bearer token configured, `Authorization: Bearer <token>` is required (401 with a
   `WWW-Authenticate` header otherwise), compared in constant time.
5. The whole request body must arrive within `body_timeout` (408 otherwise) and be at most
   `max_body_bytes` (413 otherwise); it is read here, after the token check, and handed on.
6. Host and Origin are handed on lower-cased, so the SDK's own (case-sensitive) check, which
   stays on behind ours with the same allowed values, agrees with ours.

Below the guard, each connection must finish its request headers within `header_timeout` of
connecting (or of its first byte after a keep-alive pause), and at most `max_connections` are
open: a new connection beyond that closes the longest-idle one (waiting for headers or between
requests), so stalled unauthenticated sockets cannot lock out the token holder; only when every
connection is busy with a request is the new one answered 503. Binding a non-loopback address
without a token is refused at start-up.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from aural_mcp.server.console import ConfigError, say
from aural_mcp.settings import DEFAULT_MAX_BODY_BYTES, Settings, is_loopback

if TYPE_CHECKING:  # pragma: no cover
    import asyncio

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


def _is_port(text: str) -> bool:
    """1-5 ASCII digits, at most 65535 (`str.isdigit` would accept other scripts' digits)."""
    return 1 <= len(text) <= 5 and all("0" <= c <= "9" for c in text) and int(text) <= 65535


def _matches(value: str, allowed: list[str]) -> bool:
    if not value.isascii():
        return False
    value = value.lower()
    for pattern in allowed:
        if value == pattern:
            return True
        if pattern.endswith(":*"):
            base = pattern[:-2]
            if value.startswith(base + ":") and _is_port(value[len(base) + 1 :]):
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
    """ASGI middleware in front of the SDK app: Host/Origin, /healthz, bearer token, body."""

    def __init__(
        self,
        app: Any,
        *,
        hosts: list[str],
        origins: list[str],
        token: str | None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        body_timeout: float = 30.0,
    ) -> None:
        self.app = app
        self.hosts = hosts
        self.origins = origins
        self._token = token.encode() if token else None
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout

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
        if origin is not None:  # an allowed browser page: let it read our answers (CORS)
            send = _with_cors(send, origin)
            if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
                await _respond(send, 204, "", extra=_PREFLIGHT)  # preflights carry no credentials
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
        declared = headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > self.max_body_bytes:
            await _respond(send, 413, f"Request body over {self.max_body_bytes} bytes")
            return
        body = await self._read_body(receive)
        if isinstance(body, int):
            if body == 413:
                await _respond(send, 413, f"Request body over {self.max_body_bytes} bytes")
            else:
                await _respond(send, 408, f"Request body not received within {self.body_timeout:g} seconds")
            return
        await self.app(_normalised(scope, headers), _replay(body, receive), send)

    async def _read_body(self, receive: Any) -> list[dict[str, Any]] | int:
        """The request's messages up to the end of its body (one `http.request`), or 413 / 408."""
        import anyio

        chunks: list[bytes] = []
        size = 0
        with anyio.move_on_after(self.body_timeout):
            while True:
                message = await receive()
                if message["type"] != "http.request":  # the client went away: let the app see it
                    return [message]
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.max_body_bytes:
                    return 413
                chunks.append(chunk)
                if not message.get("more_body", False):
                    return [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]
        return 408

    def _authorized(self, header: str | None) -> bool:
        import hmac

        assert self._token is not None
        if not header:
            return False
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(value.strip().encode(), self._token)


_CLOSE = [(b"connection", b"close")]
# What a browser page on an allowed origin may send and read (the MCP Inspector in a browser).
_PREFLIGHT = [
    (b"access-control-allow-methods", b"GET, POST, DELETE, OPTIONS"),
    (
        b"access-control-allow-headers",
        b"authorization, content-type, accept, last-event-id, mcp-session-id, mcp-protocol-version",
    ),
    (b"access-control-max-age", b"600"),
]


def _with_cors(send: Any, origin: str) -> Any:
    """`send` that lets the page at `origin` (already checked) read the response and its session id."""
    cors = [
        (b"access-control-allow-origin", origin.encode("latin-1")),
        (b"access-control-expose-headers", b"mcp-session-id, mcp-protocol-version, www-authenticate"),
        (b"vary", b"Origin"),
    ]

    async def send_with_cors(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), *cors]}
        await send(message)

    return send_with_cors


def _normalised(scope: Any, headers: dict[str, str]) -> Any:
    """`scope` with one Host and one Origin, lower-cased as our check compared them."""
    rest = [(k, v) for k, v in scope.get("headers", ()) if k.lower() not in (b"host", b"origin")]
    fixed = [(b"host", headers["host"].lower().encode("latin-1"))]
    if "origin" in headers:
        fixed.append((b"origin", headers["origin"].rstrip("/").lower().encode("latin-1")))
    return {**scope, "headers": fixed + rest}


def _replay(messages: list[dict[str, Any]], receive: Any) -> Any:
    """A `receive` that hands out the already-read body first, then the real channel."""

    async def replayed() -> Any:
        if messages:
            return messages.pop(0)
        return await receive()

    return replayed


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
    if status == 204:  # No Content: no body, and so no body headers
        await send({"type": "http.response.start", "status": 204, "headers": extra or []})
        await send({"type": "http.response.body", "body": b""})
        return
    body = (text + "\n").encode()
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]
    if status >= 400:  # a refused request may still be sending its body: do not wait for more
        headers += _CLOSE
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
            session_idle_timeout=settings.session_idle_timeout,
            max_sessions=settings.max_sessions,
            transport_security=security,
            host=settings.host,
        )
    return HTTPGuard(
        inner,
        hosts=security.allowed_hosts,
        origins=security.allowed_origins,
        token=settings.auth_token,
        max_body_bytes=settings.max_body_bytes,
        body_timeout=settings.body_timeout,
    )


def connection_protocol(header_timeout: float, max_connections: int) -> type[asyncio.Protocol]:
    """uvicorn's h11 protocol with a deadline on request headers and a cap on open connections."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    # Connections between requests (no headers yet, or keep-alive), longest-waiting first:
    # the ones closed to make room for a new connection.
    idle: dict[Any, None] = {}
    log = logging.getLogger("aural_mcp.http")

    class LimitedH11Protocol(H11Protocol):
        _header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            # Connections already told to close are on their way out and do not count.
            if sum(not c.transport.is_closing() for c in self.connections) > max_connections:
                oldest = next(iter(idle), None)
                if oldest is None:  # every connection is inside a request
                    log.debug("refusing a connection: %d open", len(self.connections))
                    self._close_with(b"503 Service Unavailable", b"Too many open connections; try again\n")
                    return
                log.debug("closing the longest-idle connection to make room")
                oldest._close_with(None, b"")
            self._track()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            self._track()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._track()

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_header_timer()
            idle.pop(self, None)
            super().connection_lost(exc)

        def _track(self) -> None:
            """Keep `idle` and the header deadline in step with where this connection is."""
            between_requests = self.conn.their_state is h11.IDLE and (
                self.cycle is None or self.cycle.response_complete
            )
            if self.transport.is_closing() or not between_requests:
                self._cancel_header_timer()
                idle.pop(self, None)
                return
            idle.setdefault(self, None)
            # uvicorn's keep-alive timer covers a silent connection after a response; ours runs from
            # connecting, and from the first byte of a later request, to the end of its headers.
            waiting_for_headers = self.cycle is None or self.timeout_keep_alive_task is None
            if waiting_for_headers and self._header_timer is None:
                self._header_timer = self.loop.call_later(header_timeout, self._headers_too_slow)

        def _headers_too_slow(self) -> None:
            self._header_timer = None
            log.debug("closing a connection that sent no complete request headers in %gs", header_timeout)
            self._close_with(b"408 Request Timeout", b"Request headers not received in time\n")

        def _cancel_header_timer(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _close_with(self, status: bytes | None, body: bytes) -> None:
            self._cancel_header_timer()
            idle.pop(self, None)
            if self.transport.is_closing():
                return
            if status is not None:  # written directly: no request was parsed to answer through h11
                self.transport.write(
                    b"HTTP/1.1 " + status + b"\r\ncontent-type: text/plain; charset=utf-8\r\n"
                    b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body
                )
            self.transport.close()

    return LimitedH11Protocol


# Streamable HTTP and SSE session ids are bearer-like: whoever has one can use the session. The SDK
# and the servers under it log them (at INFO, and in every SSE chunk and access line at DEBUG).
_SESSION_ID = re.compile(r"\b([0-9a-f]{8})(?:-?[0-9a-f]{4}){3}-?[0-9a-f]{12}\b", re.IGNORECASE)
_LIBRARY_LOGGERS = ("mcp.", "uvicorn", "sse_starlette", "starlette")


class SessionIdMask(logging.Filter):
    """Shortens anything shaped like a session id to its first 8 hex digits in library log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith(_LIBRARY_LOGGERS):
            try:
                text = record.getMessage()
            except Exception:  # a malformed record is the handler's to report, not ours to raise
                return True
            masked = _SESSION_ID.sub(r"\1…", text)
            if masked != text:
                record.msg, record.args = masked, None
        return True


def mask_session_ids() -> None:
    """Put the mask on every handler of the root logger (where all library records end up)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, SessionIdMask) for f in handler.filters):
            handler.addFilter(SessionIdMask())


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
            else "Streamable HTTP" + (" (stateless)" if settings.stateless else "")
        )
        auth = "bearer token required" if settings.auth_token else "no token"
        say(f"{kind} listening on http://{shown}:{port}{path} ({auth}; health: {HEALTH_PATH})")
        if settings.host in ("0.0.0.0", "::"):
            say("accepting Host localhost/127.0.0.1/[::1] only; add others with --allowed-hosts")
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
        if server is not None:
            server.runtime.close()  # type: ignore[attr-defined]  # the sandbox's pages listener
    return 0
