"""The ASGI guard in front of the HTTP transports (SSE and Streamable HTTP), and its allow-lists.

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
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aural_mcp.settings import DEFAULT_MAX_BODY_BYTES, Settings, is_loopback

if TYPE_CHECKING:  # pragma: no cover
    from mcp.server.transport_security import TransportSecuritySettings

HEALTH_PATH = "/healthz"


def allowed_hosts(settings: Settings, port: int) -> list[str]:
    """Host header values accepted: loopback names on our port, the bind address, configured extras."""
    hosts = [f"{name}:{port}" for name in ("127.0.0.1", "localhost", "[::1]")]
    if port == 80:
        hosts += ["127.0.0.1", "localhost", "[::1]"]
    bind = settings.host.strip()
    if bind not in ("0.0.0.0", "::", "") and not is_loopback(bind):
        hosts.append(f"[{bind}]:{port}" if ":" in bind else f"{bind}:{port}")
    if settings.public_url:  # behind a TLS proxy, the Host clients send is the public one
        from urllib.parse import urlsplit

        hosts.append(urlsplit(settings.public_url).netloc.lower())
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
    if settings.public_url:  # the consent page's form posts from the public origin
        from urllib.parse import urlsplit

        parts = urlsplit(settings.public_url)
        origins.append(f"{parts.scheme}://{parts.netloc}".lower())
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
            # The SDK's OAuth routes answer `*` themselves: one Allow-Origin only, or browsers refuse both.
            kept = [(k, v) for k, v in message.get("headers", ()) if k.lower() != b"access-control-allow-origin"]
            message = {**message, "headers": [*kept, *cors]}
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
