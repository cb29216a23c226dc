"""stdio transport: JSON-RPC over stdin/stdout, the default and the hot path.

This module imports nothing at the top that only the HTTP transports need. stdout carries
JSON-RPC only (fd 1 points at stderr while the server is built and while it serves; the
protocol goes to a private duplicate of the original fd 1). Lines that are not JSON-RPC, nested
deeper than `MAX_DEPTH` or longer than `max_body_bytes` get a JSON-RPC error back, with the
request's id when one can be found. When stdin closes, calls still running are finished (for up
to `shutdown_grace` seconds) and their results written before the server exits.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import sys
import time
from typing import TYPE_CHECKING, Any, NamedTuple

from aural_mcp.settings import Settings

if TYPE_CHECKING:  # pragma: no cover
    from mcp.server.mcpserver import MCPServer

log = logging.getLogger("aural_mcp.transports")

MAX_DEPTH = 64  # levels of nested arrays and objects in one message; real tool calls use under ten
RequestId = int | str


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
        from aural_mcp.server.app import build_for_serve  # after the redirect: imports may print too

        server = build_for_serve(settings)
        in_flight = InFlight()
        try:
            anyio.run(
                serve_stdio,
                server,
                settings.max_body_bytes,
                _WireWriter(wire, in_flight),
                in_flight,
                settings.shutdown_grace,
            )
        except* (BrokenPipeError, ConnectionResetError):  # the client went away: nothing left to do
            pass
        finally:
            server.runtime.close()  # type: ignore[attr-defined]
    finally:
        sys.stdout.flush()
        os.dup2(wire, 1)
        os.close(wire)
    return 0


# ---------------------------------------------------------------- reading ids without parsing

# A JSON string (escapes included) or one bracket; strings are skipped whole, so brackets inside
# them do not count. Scanning with this never recurses, whatever the depth of the input.
_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
_OPEN = (b"[", b"{")
_CLOSE = (b"]", b"}")
_ID_VALUE = re.compile(rb'\s*:\s*(-?\d{1,15}(?![\d.eE])|"[^"\\]{0,200}")')
# `"id": V` as the last member of the outermost object (optionally followed by "jsonrpc"), at the
# very end of a line: where a client that writes the id last puts it.
_TAIL_ID = re.compile(
    rb'[{,]\s*"id"\s*:\s*(-?\d{1,15}|"[^"\\]{0,200}")\s*(?:,\s*"jsonrpc"\s*:\s*"2\.0"\s*)?\}\s*$'
)
_ANSWER_ID = re.compile(r'\{"jsonrpc":"2\.0","id":(-?\d{1,15}|"[^"\\]*(?:\\.[^"\\]*)*"),"(?:result|error)"')


def too_deep(data: bytes, limit: int = MAX_DEPTH) -> bool:
    """True when arrays and objects in `data` nest deeper than `limit` (linear, no recursion)."""
    if data.count(b"[") + data.count(b"{") <= limit:  # the common case, at C speed
        return False
    depth = 0
    for match in _TOKENS.finditer(data):
        token = match.group()
        if token in _OPEN:
            depth += 1
            if depth > limit:
                return True
        elif token in _CLOSE:
            depth -= 1
    return False


def find_request_id(data: bytes) -> RequestId | None:
    """The `id` member of the top-level object `data` starts with, if it can be found.

    Only the outermost object's members are looked at, whatever their order; nested values are
    skipped by counting brackets, never parsed, so hostile depth or a truncated line is harmless.
    """
    if not data.lstrip().startswith(b"{"):
        return None
    depth = 0
    for match in _TOKENS.finditer(data):
        token = match.group()
        if token in _OPEN:
            depth += 1
        elif token in _CLOSE:
            depth -= 1
            if depth <= 0:
                return None
        elif depth == 1 and token == b'"id"':
            value = _ID_VALUE.match(data, match.end())
            if value is not None:
                return _id_from_json(value.group(1))
    return None


def find_tail_id(tail: bytes) -> RequestId | None:
    match = _TAIL_ID.search(tail)
    return _id_from_json(match.group(1)) if match else None


def _id_from_json(raw: bytes | str) -> RequestId | None:
    try:
        return _as_id(json.loads(raw))
    except ValueError:
        return None


def _as_id(value: Any) -> RequestId | None:
    return value if isinstance(value, int | str) and not isinstance(value, bool) else None


# ---------------------------------------------------------------- calls in flight


def _key(request_id: RequestId) -> tuple[str, RequestId]:
    return (type(request_id).__name__, request_id)  # 5 and "5" are different ids


class InFlight:
    """Requests read from stdin that have no answer on stdout yet, so EOF can wait for them."""

    def __init__(self) -> None:
        self._calls: dict[tuple[str, RequestId], str] = {}

    def started(self, message: Any) -> None:
        kind = type(message).__name__
        if kind == "JSONRPCRequest":
            what = message.method
            params = message.params or {}
            if what == "tools/call" and isinstance(params, dict) and isinstance(params.get("name"), str):
                what = f"tools/call {params['name'][:100]}"
            self._calls[_key(message.id)] = what
        elif kind == "JSONRPCNotification" and message.method == "notifications/cancelled":
            request_id = (message.params or {}).get("requestId")
            if isinstance(request_id, int | str):
                self._calls.pop(_key(request_id), None)  # a cancelled request gets no answer

    def answered(self, text: str) -> None:
        if self._calls:
            match = _ANSWER_ID.match(text)
            if match is not None:
                request_id = _id_from_json(match.group(1))
                if request_id is not None:
                    self._calls.pop(_key(request_id), None)

    def pending(self) -> list[tuple[RequestId, str]]:
        return [(key[1], what) for key, what in self._calls.items()]

    async def wait(self, grace: float) -> None:
        """Until every call is answered or `grace` seconds pass; then log the ones left unknown."""
        import anyio

        if not self._calls:
            return
        log.info(
            "stdin closed with %d call(s) in flight; finishing them (up to %g s) before exiting",
            len(self._calls),
            grace,
        )
        deadline = time.monotonic() + grace
        while self._calls and time.monotonic() < deadline:
            await anyio.sleep(0.05)
        for request_id, what in self.pending():
            log.warning(
                "stdin closed: %s (request id %s) did not finish within %g s; its outcome is unknown "
                "(check with a list tool before repeating a write)",
                what,
                json.dumps(request_id),
                grace,
            )


# ---------------------------------------------------------------- the wire


class _WireWriter:
    """The protocol's stdout: a private copy of fd 1, written directly.

    fd 1 itself stays pointed at stderr while serving, so a stray print cannot reach the wire.
    Each message is written whole with os.write, without the thread hop per write and flush of
    the SDK's file wrapper: a message is one small write to a pipe the client is reading.
    """

    def __init__(self, fd: int, in_flight: InFlight | None = None) -> None:
        self._fd = fd
        self._in_flight = in_flight

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
        if self._in_flight is not None:
            self._in_flight.answered(text)
        return len(text)

    async def flush(self) -> None:
        return None


async def serve_stdio(
    server: MCPServer,
    max_line_bytes: int,
    stdout: Any = None,
    in_flight: InFlight | None = None,
    shutdown_grace: float = 0.0,
) -> None:
    """`MCPServer.run_stdio_async`, plus answers to lines that are not JSON-RPC.

    The SDK's stdio transport drops a line it cannot parse without a reply, reads lines of any
    length, and cancels running calls as soon as stdin closes. Here stdin is read by
    `_GuardedStdin`: a line over `max_line_bytes` is refused with -32600 (read and discarded in
    chunks, never held whole), a line nested deeper than `MAX_DEPTH` with -32600, a line that is
    not JSON gets -32700 (parse error) and JSON that is not a JSON-RPC message gets -32600
    (invalid request), each with the request's id when it can be found and `"id": null`
    otherwise. Only valid messages reach the SDK. At EOF the calls in `in_flight` get up to
    `shutdown_grace` seconds to finish before the SDK sees the end of input.
    """
    import anyio
    from mcp.server.stdio import stdio_server
    from mcp.shared.message import SessionMessage

    from aural_mcp.server.sdk_private import run_on_streams

    errors_in, errors_out = anyio.create_memory_object_stream[SessionMessage](32)
    stdin = _GuardedStdin(sys.stdin.buffer, max_line_bytes, errors_in, in_flight, shutdown_grace)
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
            await run_on_streams(server, read_stream, write_stream)
            tg.cancel_scope.cancel()


class _Refusal(NamedTuple):
    code: int
    message: str
    request_id: RequestId | None


class _GuardedStdin:
    """Async iterator of valid JSON-RPC lines from a binary stream; answers the others."""

    _CHUNK = 1 << 16
    _SNIFF = 4096  # bytes kept from each end of an oversized line to find its id

    def __init__(
        self,
        buffer: Any,
        limit: int,
        errors: Any,
        in_flight: InFlight | None = None,
        shutdown_grace: float = 0.0,
    ) -> None:
        self._buffer = buffer
        self._limit = limit
        self._errors = errors
        self._in_flight = in_flight
        self._grace = shutdown_grace

    def __aiter__(self) -> _GuardedStdin:
        return self

    async def __anext__(self) -> str:
        import anyio

        while True:
            line = await anyio.to_thread.run_sync(self._buffer.readline, self._limit + 1)
            if not line:
                if self._in_flight is not None:
                    await self._in_flight.wait(self._grace)
                self._errors.close()
                raise StopAsyncIteration
            if len(line) > self._limit and not line.endswith(b"\n"):
                head, tail = line[: self._SNIFF], line[-self._SNIFF :]
                while line and not line.endswith(b"\n"):  # discard the rest of the line
                    line = await anyio.to_thread.run_sync(self._buffer.readline, self._CHUNK)
                    tail = (tail + line)[-self._SNIFF :]
                request_id = find_request_id(head)
                await self._reply(
                    -32600,
                    f"Message too large: over {self._limit} bytes; send smaller requests",
                    request_id if request_id is not None else find_tail_id(tail),
                )
                continue
            if not line.strip():
                continue
            checked = self._check(line)
            if isinstance(checked, _Refusal):
                await self._reply(*checked)
                continue
            text, message = checked
            if self._in_flight is not None:
                self._in_flight.started(message)
            return text

    def _check(self, line: bytes) -> tuple[str, Any] | _Refusal:
        """(text, parsed message) for a valid JSON-RPC message, else why it is refused."""
        from mcp_types import jsonrpc_message_adapter

        if too_deep(line):
            return _Refusal(
                -32600,
                f"Invalid Request: arrays and objects nested more than {MAX_DEPTH} levels deep",
                find_request_id(line),
            )
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            return _Refusal(-32700, "Parse error: the line is not valid UTF-8", find_request_id(line))
        try:
            message = jsonrpc_message_adapter.validate_json(text, by_name=False)
        except ValueError:
            pass
        else:
            # a request whose id is not a string or number would pass as a notification
            if type(message).__name__ != "JSONRPCNotification" or "id" not in json.loads(text):
                return text, message
        try:
            parsed = json.loads(text)  # safe: the depth is bounded above
        except ValueError:
            return _Refusal(-32700, "Parse error: the line is not valid JSON", find_request_id(line))
        request_id = _as_id(parsed.get("id")) if isinstance(parsed, dict) else None
        return _Refusal(
            -32600, "Invalid Request: not a JSON-RPC 2.0 message (jsonrpc, id, method, params)", request_id
        )

    async def _reply(self, code: int, message: str, request_id: RequestId | None) -> None:
        import anyio
        from mcp.shared.message import SessionMessage
        from mcp_types import ErrorData, JSONRPCError

        log.info("stdio: answered a bad line with %d: %s", code, message)
        error = JSONRPCError(jsonrpc="2.0", id=request_id, error=ErrorData(code=code, message=message))
        with contextlib.suppress(anyio.ClosedResourceError, anyio.BrokenResourceError):
            await self._errors.send(SessionMessage(error))
