"""`aural-mcp serve`: the MCP server over stdio, SSE or Streamable HTTP.

stdio is the default and the hot path (a client spawns one server per session), so this module
imports nothing at the top that only the HTTP transports need: uvicorn, the socket set-up and the
ASGI guard are loaded when an HTTP transport is chosen. On stdio, stdout carries JSON-RPC only
(fd 1 points at stderr while the server is built; the SDK keeps it there while serving), and
lines that are not JSON-RPC, or longer than `max_body_bytes`, get a JSON-RPC error back.

HTTP transports (both SSE and Streamable HTTP) sit behind one small ASGI guard, applied to every
request before anything else:

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

import argparse
import contextlib
import logging
import os
import re
import sys
from typing import TYPE_CHECKING, Any

from aural_mcp.settings import Settings, is_loopback, key_problem, parse_rate_limit

if TYPE_CHECKING:  # pragma: no cover
    from mcp.server.mcpserver import MCPServer
    from mcp.server.transport_security import TransportSecuritySettings

log = logging.getLogger("aural_mcp.transports")

EXIT_CONFIG = 2  # bad configuration: nothing was started
EXIT_RUNTIME = 1  # started, then failed
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
SSE_PATH = "/sse"
SSE_MESSAGE_PATH = "/messages/"
HTTP_PATH = "/mcp"
HEALTH_PATH = "/healthz"
KEY_HELP = (
    "Set AURAL_API_KEY=dlv_… (a key from the Aural dashboard, Settings → API Keys), "
    "or try `aural-mcp serve --sandbox` to run against a local sandbox with no account."
)


class ConfigError(Exception):
    """A configuration problem the user can fix; reported as one line on stderr, exit 2."""


# ---------------------------------------------------------------- settings from flags


def settings_from_args(args: argparse.Namespace, env: dict[str, str] | None = None) -> Settings:
    """Flags win over the environment (AURAL_*), which wins over defaults."""
    overrides: dict[str, Any] = {}
    for name in (
        "transport",
        "host",
        "port",
        "auth_token",
        "allowed_hosts",
        "allowed_origins",
        "toolsets",
        "sandbox_db",
    ):
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = value
    for flag in ("stateless", "read_only", "sandbox"):
        if getattr(args, flag, False):
            overrides[flag] = True
    if getattr(args, "base_url", None):
        overrides["base_url"] = args.base_url
    if getattr(args, "log_level", None):
        overrides["log_level"] = args.log_level.upper()
    try:
        settings = Settings.from_env(env, **overrides)
        if getattr(args, "rate_limit", None):
            settings.rate_limit, settings.rate_window = parse_rate_limit(args.rate_limit)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return settings


def check_settings(settings: Settings) -> None:
    """Refuse configurations that cannot work or are unsafe, before anything starts."""
    if settings.log_level not in LEVELS:
        raise ConfigError(f"log level {settings.log_level!r} must be one of {', '.join(LEVELS)}")
    if not settings.sandbox:
        problem = key_problem(settings.api_key)
        if problem:
            raise ConfigError(f"{problem}. {KEY_HELP}")
        if not settings.base_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"the base URL must start with http:// or https://, for example https://aural-ai.com/api/v1 "
                f"(got {settings.base_url!r} from --base-url or AURAL_BASE_URL)"
            )
    if settings.transport == "stdio":
        return
    if not 0 <= settings.port <= 65535:
        raise ConfigError(f"--port {settings.port} must be between 0 and 65535")
    if settings.max_body_bytes < 1024:
        raise ConfigError("AURAL_MCP_MAX_BODY_BYTES must be at least 1024")
    if settings.auth_token is not None and (
        not settings.auth_token.strip() or any(c.isspace() for c in settings.auth_token)
    ):
        raise ConfigError(
            "the bearer token (--auth-token / AURAL_MCP_TOKEN) must be non-empty and without spaces"
        )
    if not is_loopback(settings.host) and not settings.auth_token:
        raise ConfigError(
            f"refusing to listen on {settings.host}, which other machines can reach, without a bearer token. "
            "Set AURAL_MCP_TOKEN (or --auth-token) to a long random secret, e.g. "
            '`export AURAL_MCP_TOKEN="$(python -c "import secrets; print(secrets.token_urlsafe(32))")"`, '
            "or bind 127.0.0.1."
        )


# ---------------------------------------------------------------- logging


class _RedactingFormatter(logging.Formatter):
    """Replaces the configured secrets with a mask in every formatted log line (defence in depth)."""

    def __init__(self, fmt: str, secrets: list[str]) -> None:
        super().__init__(fmt)
        self._secrets = [s for s in secrets if s and len(s) >= 4]

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return text


def configure_logging(settings: Settings) -> None:
    """Everything goes to stderr: in stdio mode stdout belongs to the protocol."""
    handler = logging.StreamHandler(sys.stderr)
    secrets = [s for s in (settings.api_key, settings.auth_token) if s]
    handler.setFormatter(_RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)


def _say(text: str) -> None:
    print(f"aural-mcp: {text}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- entry point


def main(args: argparse.Namespace) -> int:
    try:
        settings = settings_from_args(args)
        check_settings(settings)
    except ConfigError as exc:
        _say(str(exc))
        return EXIT_CONFIG
    configure_logging(settings)
    try:
        if settings.transport == "stdio":
            return run_stdio(settings)
        return run_http(settings)
    except ConfigError as exc:
        _say(str(exc))
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 0


def _build(settings: Settings) -> MCPServer:
    from aural_mcp.api.errors import ConfigurationError
    from aural_mcp.server.app import build_server

    try:
        return build_server(settings)
    except ConfigurationError as exc:
        raise ConfigError(f"{exc.message}. {KEY_HELP}") from None
    except ValueError as exc:  # a setting build_server rejects, e.g. an unknown --toolsets name
        raise ConfigError(str(exc)) from None


def run_stdio(settings: Settings) -> int:
    """Serve over stdin/stdout. Nothing but JSON-RPC may reach stdout.

    From start to exit fd 1 points at stderr, so a stray print from any library (while the server
    is built or while it serves) cannot corrupt the stream; the protocol is written to a private
    duplicate of the original fd 1 (`_WireWriter`).
    """
    import anyio

    sys.stdout.flush()
    wire = os.dup(1)
    os.dup2(2, 1)
    try:
        server = _build(settings)
        try:
            anyio.run(serve_stdio, server, settings.max_body_bytes, _WireWriter(wire))
        except* (BrokenPipeError, ConnectionResetError):  # the client went away: nothing left to do
            pass
    finally:
        sys.stdout.flush()
        os.dup2(wire, 1)
        os.close(wire)
    return 0


class _WireWriter:
    """The protocol's stdout: a private copy of fd 1, written directly.

    fd 1 itself stays pointed at stderr while serving, so a stray print cannot reach the wire.
    Each message is written whole with os.write, without the thread hop per write and flush of
    the SDK's file wrapper: a message is one small write to a pipe the client is reading.
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd

    async def write(self, text: str) -> int:
        import anyio

        data = memoryview(text.encode("utf-8"))
        while data:
            try:
                written = os.write(self._fd, data)
            except BlockingIOError:  # an inherited non-blocking pipe that is full: let the client read
                await anyio.sleep(0.005)
                continue
            data = data[written:]
        return len(text)

    async def flush(self) -> None:
        return None


async def serve_stdio(server: MCPServer, max_line_bytes: int, stdout: Any = None) -> None:
    """`MCPServer.run_stdio_async`, plus answers to lines that are not JSON-RPC.

    The SDK's stdio transport drops a line it cannot parse without a reply, and reads lines of
    any length. Here stdin is read by `_GuardedStdin`: a line over `max_line_bytes` is refused
    with -32600 (read and discarded in chunks, never held whole), a line that is not JSON gets
    -32700 (parse error) and JSON that is not a JSON-RPC message gets -32600 (invalid request),
    with `"id": null` as JSON-RPC 2.0 says. Only valid messages reach the SDK.
    """
    import anyio
    from mcp.server.stdio import stdio_server
    from mcp.shared.message import SessionMessage

    lowlevel = server._lowlevel_server  # MCPServer.run_stdio_async does the same; it takes no streams
    errors_in, errors_out = anyio.create_memory_object_stream[SessionMessage](32)
    stdin = _GuardedStdin(sys.stdin.buffer, max_line_bytes, errors_in)
    async with stdio_server(stdin=stdin, stdout=stdout) as (read_stream, write_stream):  # type: ignore[arg-type]

        async def forward_errors() -> None:
            async with errors_out:
                async for message in errors_out:
                    try:
                        await write_stream.send(message)
                    except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                        return

        async with anyio.create_task_group() as tg:
            tg.start_soon(forward_errors)
            await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())
            tg.cancel_scope.cancel()


class _GuardedStdin:
    """Async iterator of valid JSON-RPC lines from a binary stream; answers the others."""

    _ID = re.compile(rb'^\s*\{\s*"jsonrpc"\s*:\s*"2\.0"\s*,\s*"id"\s*:\s*(-?\d{1,15}|"[^"\\]{0,200}")')
    _CHUNK = 1 << 16

    def __init__(self, buffer: Any, limit: int, errors: Any) -> None:
        self._buffer = buffer
        self._limit = limit
        self._errors = errors

    def __aiter__(self) -> _GuardedStdin:
        return self

    async def __anext__(self) -> str:
        import anyio

        while True:
            line = await anyio.to_thread.run_sync(self._buffer.readline, self._limit + 1)
            if not line:
                self._errors.close()
                raise StopAsyncIteration
            if len(line) > self._limit and not line.endswith(b"\n"):
                head = line[:512]
                while line and not line.endswith(b"\n"):  # discard the rest of the line
                    line = await anyio.to_thread.run_sync(self._buffer.readline, self._CHUNK)
                await self._reply(
                    -32600,
                    f"Message too large: over {self._limit} bytes; send smaller requests",
                    self._sniff_id(head),
                )
                continue
            if not line.strip():
                continue
            checked = self._check(line)
            if isinstance(checked, str):
                return checked
            await self._reply(*checked, None)

    def _check(self, line: bytes) -> str | tuple[int, str]:
        import json

        from mcp_types import jsonrpc_message_adapter

        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            return -32700, "Parse error: the line is not valid UTF-8"
        try:
            message = jsonrpc_message_adapter.validate_json(text, by_name=False)
        except ValueError:
            pass
        else:
            # a request whose id is not a string or number would pass as a notification
            if type(message).__name__ != "JSONRPCNotification" or "id" not in json.loads(text):
                return text
        try:
            json.loads(text)
        except ValueError:
            return -32700, "Parse error: the line is not valid JSON"
        return -32600, "Invalid Request: not a JSON-RPC 2.0 message (jsonrpc, id, method, params)"

    def _sniff_id(self, head: bytes) -> int | str | None:
        import json

        match = self._ID.match(head)
        return json.loads(match.group(1)) if match else None

    async def _reply(self, code: int, message: str, request_id: int | str | None) -> None:
        import anyio
        from mcp.shared.message import SessionMessage
        from mcp_types import ErrorData, JSONRPCError

        log.info("stdio: answered a bad line with %d: %s", code, message)
        error = JSONRPCError(jsonrpc="2.0", id=request_id, error=ErrorData(code=code, message=message))
        with contextlib.suppress(anyio.ClosedResourceError, anyio.BrokenResourceError):
            await self._errors.send(SessionMessage(error))


# ---------------------------------------------------------------- HTTP transports


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
        server = _build(settings)
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
        _say(f"{kind} listening on http://{shown}:{port}{path} ({auth}; health: {HEALTH_PATH})")
        if settings.host in ("0.0.0.0", "::"):
            _say("accepting Host localhost/127.0.0.1/[::1] only; add others with --allowed-hosts")
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
    return 0
