"""stdio transport: JSON-RPC over stdin/stdout, the default and the hot path.

This module imports nothing at the top that only the HTTP transports need. stdout carries
JSON-RPC only (fd 1 points at stderr while the server is built and while it serves; the
protocol goes to a private duplicate of the original fd 1), and lines that are not JSON-RPC, or
longer than `max_body_bytes`, get a JSON-RPC error back.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
from typing import TYPE_CHECKING, Any

from aural_mcp.server.transports import build_for_serve
from aural_mcp.settings import Settings

if TYPE_CHECKING:  # pragma: no cover
    from mcp.server.mcpserver import MCPServer

log = logging.getLogger("aural_mcp.transports")


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
        server = build_for_serve(settings)
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
