"""Issue 4, item 3 (stdio half): malformed JSON-RPC lines and oversized messages on stdio.

A real `aural-mcp serve --sandbox` subprocess gets, after a normal handshake, lines that are not
JSON, JSON that is not JSON-RPC, broken UTF-8, NUL bytes and a message far over any sane size.
Each must be answered with a JSON-RPC error (parse error -32700 for what does not parse,
invalid request -32600 for JSON that is not a request), nothing else may reach stdout, and the
very next valid request must succeed.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import time
from typing import Any

import pytest
from tests.support.processes import AURAL_MCP, stop_process

from .results import record

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601

# (label, raw line without the newline, acceptable error codes, the id the error must carry):
# wherever the line shows the id of the top-level object, the error carries it, so the client
# that sent it stops waiting; otherwise the id is null.
GARBAGE: list[tuple[str, bytes, set[int], int | None]] = [
    ("plain text", b"hello server", {PARSE_ERROR}, None),
    ("truncated object", b'{"jsonrpc": "2.0", "id": 7, "method": "tools/list"', {PARSE_ERROR}, 7),
    ("trailing comma", b'{"jsonrpc": "2.0", "id": 7, "method": "ping",}', {PARSE_ERROR}, 7),
    ("single quotes", b"{'jsonrpc': '2.0', 'id': 7, 'method': 'ping'}", {PARSE_ERROR}, None),
    ("bare brace", b"{", {PARSE_ERROR}, None),
    # Not UTF-8, so not JSON text (RFC 8259); a reader that decodes with replacement characters
    # sees a request for an unknown method instead, which is answered as such (with its id).
    (
        "broken utf-8",
        b'{"jsonrpc": "2.0", "id": 7, "method": "\xff\xfe"}',
        {PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND},
        7,
    ),
    ("nul bytes", b"\x00\x00\x00", {PARSE_ERROR}, None),
    ("binary", bytes(range(1, 10)) + bytes(range(14, 256)), {PARSE_ERROR}, None),
    ("number", b"42", {PARSE_ERROR, INVALID_REQUEST}, None),
    ("string", b'"tools/list"', {PARSE_ERROR, INVALID_REQUEST}, None),
    ("null", b"null", {PARSE_ERROR, INVALID_REQUEST}, None),
    ("empty array", b"[]", {PARSE_ERROR, INVALID_REQUEST}, None),
    ("object without jsonrpc", b'{"id": 7, "method": "ping"}', {INVALID_REQUEST}, 7),
    ("wrong jsonrpc version", b'{"jsonrpc": "1.0", "id": 7, "method": "ping"}', {INVALID_REQUEST}, 7),
    ("method not a string", b'{"jsonrpc": "2.0", "id": 7, "method": 12}', {INVALID_REQUEST}, 7),
    ("id is an object", b'{"jsonrpc": "2.0", "id": {"a": 1}, "method": "ping"}', {INVALID_REQUEST}, None),
    ("id is true", b'{"jsonrpc": "2.0", "id": true, "method": "ping"}', {INVALID_REQUEST}, None),
    # 2,000 bytes of nested arrays: a recursive parser runs out of stack on these
    ("nested arrays", b"[" * 1000 + b"]" * 1000, {INVALID_REQUEST}, None),
    ("unclosed nested arrays", b"[" * 2000, {INVALID_REQUEST}, None),
    # a valid call whose arguments nest 200 deep, with its id after the deep part
    (
        "deep arguments, id last",
        b'{"jsonrpc": "2.0", "method": "tools/call", "params": {"name": "get_usage", "arguments": {"x": '
        + b"[" * 200
        + b"]" * 200
        + b'}}, "id": 8}',
        {INVALID_REQUEST},
        8,
    ),
    (
        "deep objects, string id",
        b'{"jsonrpc": "2.0", "id": "deep-9", "method": "ping", "params": '
        + b'{"a": ' * 150
        + b"1"
        + b"}" * 151,
        {INVALID_REQUEST},
        "deep-9",
    ),
]

OVERSIZED_BYTES = 8 * 1024 * 1024  # 8 MiB: far over the 1 MiB request limit of the HTTP transports


class StdioPeer:
    """A newline-delimited JSON-RPC peer over a subprocess's stdin/stdout."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.lines: queue.Queue[bytes] = queue.Queue()
        self.stray: list[bytes] = []  # stdout lines that are not JSON (must stay empty)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._next_id = 100

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in iter(self.proc.stdout.readline, b""):
            self.lines.put(line)

    def send_raw(self, raw: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(raw + b"\n")
        self.proc.stdin.flush()

    def send(self, message: dict[str, Any]) -> None:
        self.send_raw(json.dumps(message).encode())

    def recv(self, timeout: float = 15.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no message from the server within {timeout}s")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            try:
                msg = json.loads(line)
            except ValueError:
                self.stray.append(line)
                continue
            if isinstance(msg, dict):
                return msg
            self.stray.append(line)

    def request(self, method: str, params: dict[str, Any] | None = None, timeout: float = 15.0):
        """Send a request; return (its response, every other message received meanwhile)."""
        self._next_id += 1
        rid = self._next_id
        msg: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)
        others = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.recv(timeout=max(0.1, deadline - time.monotonic()))
            if got.get("id") == rid and ("result" in got or "error" in got):
                return got, others
            others.append(got)
        raise TimeoutError(f"no answer to {method} (id {rid})")

    def errors_until_alive(self) -> list[dict[str, Any]]:
        """Ping; return the error messages that arrived before the pong (the server must answer)."""
        response, others = self.request("ping")
        assert response.get("result") == {}, f"ping after garbage failed: {response}"
        return [m for m in others if "error" in m]


@pytest.fixture(scope="module")
def stdio_server(tmp_path_factory: pytest.TempPathFactory):
    tmp_path = tmp_path_factory.mktemp("stdio")
    env = {**os.environ, "AURAL_MCP_LOG_LEVEL": "WARNING"}
    env.pop("AURAL_API_KEY", None)
    stderr = open(tmp_path / "stderr.log", "wb")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen(
        [*AURAL_MCP, "serve", "--sandbox"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        env=env,
        cwd=tmp_path,
        start_new_session=True,
    )
    try:
        peer = StdioPeer(proc)
        init, _ = peer.request(
            "initialize",
            {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "reliability-garbage", "version": "1"},
            },
            timeout=60,
        )
        assert "result" in init, init
        peer.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        yield peer
    finally:
        stop_process(proc, group=True)
        stderr.close()


def test_malformed_lines_do_not_disturb_the_server(stdio_server: StdioPeer) -> None:
    peer = stdio_server
    tools, _ = peer.request("tools/list")
    assert tools["result"]["tools"], "the server lists no tools"
    for label, raw, _codes, _id in GARBAGE:
        peer.send_raw(raw)
        response, others = peer.request("ping")
        assert response.get("result") == {}, f"after {label}: {response}"
        for msg in others:  # anything else that came back must be a JSON-RPC error, not a result
            assert "error" in msg and msg.get("jsonrpc") == "2.0", f"after {label}: unexpected {msg}"
    usage, _ = peer.request("tools/call", {"name": "get_usage", "arguments": {}})
    assert "result" in usage and not usage["result"].get("isError"), usage
    assert not peer.stray, f"non-JSON output reached stdout: {peer.stray[:3]}"
    assert peer.proc.poll() is None, "the server exited"


def test_malformed_lines_get_protocol_errors(stdio_server: StdioPeer) -> None:
    peer = stdio_server
    answered: dict[str, int] = {}
    for label, raw, codes, request_id in GARBAGE:
        peer.send_raw(raw)
        errors = peer.errors_until_alive()
        assert errors, f"{label}: no JSON-RPC error came back for {raw[:60]!r}"
        assert len(errors) == 1, f"{label}: expected one error, got {errors}"
        err = errors[0]
        assert err.get("jsonrpc") == "2.0", err
        assert "id" in err and err["id"] == request_id, f"{label}: the error's id should be {request_id}: {err}"
        assert err["error"]["code"] in codes, f"{label}: code {err['error']['code']} not in {codes}: {err}"
        assert isinstance(err["error"].get("message"), str) and err["error"]["message"]
        answered[label] = err["error"]["code"]
    usage, _ = peer.request("tools/call", {"name": "get_usage", "arguments": {}})
    assert "result" in usage and not usage["result"].get("isError"), usage
    record("stdio-garbage", {"lines": len(GARBAGE), "codes": answered})


def _send_oversized(peer: StdioPeer) -> list[dict[str, Any]]:
    """A syntactically valid request that is far too big, then one that is too big and not JSON.
    Returns what came back for the first, and checks the server answers after each."""
    huge = "A" * OVERSIZED_BYTES
    peer.send(
        {
            "jsonrpc": "2.0",
            "id": 9001,
            "method": "tools/call",
            "params": {"name": "get_usage", "arguments": {"pad": huge}},
        }
    )
    response, others = peer.request("ping", timeout=60)
    assert response.get("result") == {}, response
    replies = [m for m in others if m.get("id") in (9001, None)]
    peer.send_raw(b"{" + b"x" * OVERSIZED_BYTES)
    peer.errors_until_alive()
    usage, _ = peer.request("tools/call", {"name": "get_usage", "arguments": {}})
    assert "result" in usage and not usage["result"].get("isError"), usage
    assert not peer.stray, f"non-JSON output reached stdout: {peer.stray[:3]}"
    return replies


def test_oversized_messages_do_not_disturb_the_server(stdio_server: StdioPeer) -> None:
    _send_oversized(stdio_server)
    assert stdio_server.proc.poll() is None, "the server exited"


def test_oversized_message_is_refused_with_a_protocol_error(stdio_server: StdioPeer) -> None:
    peer = stdio_server
    replies = _send_oversized(peer)
    assert replies, "the oversized request got no answer at all"
    assert all("error" in m and "result" not in m for m in replies), (
        f"the oversized request was processed instead of refused: {replies[0]!r:.300}"
    )
    peer.send_raw(b"{" + b"x" * OVERSIZED_BYTES)
    errors = peer.errors_until_alive()
    assert errors and errors[0]["error"]["code"] in (PARSE_ERROR, INVALID_REQUEST), errors
    record("stdio-oversized", {"bytes": OVERSIZED_BYTES, "valid_json_reply": replies[0]["error"]})


def test_oversized_requests_are_refused_with_their_id(stdio_server: StdioPeer) -> None:
    """Over the limit, the error carries the request's id wherever the id sits in the line."""
    peer = stdio_server
    pad = "A" * (2 * 1024 * 1024)
    lines = {
        9002: b'{"id": 9002, "method": "tools/call", "jsonrpc": "2.0", "params": {"arguments": {"pad": "'
        + pad.encode()
        + b'"}}}',
        9003: b'{"jsonrpc": "2.0", "method": "tools/call", "params": {"name": "get_usage", "arguments": {"pad": "'
        + pad.encode()
        + b'"}}, "id": 9003}',
        "last-4": b'{"method": "tools/call", "params": {"arguments": {"pad": "'
        + pad.encode()
        + b'"}}, "id": "last-4", "jsonrpc": "2.0"}',
    }
    for request_id, raw in lines.items():
        peer.send_raw(raw)
        errors = peer.errors_until_alive()
        assert len(errors) == 1, errors
        assert errors[0]["id"] == request_id, errors[0]
        assert errors[0]["error"]["code"] == INVALID_REQUEST and "too large" in errors[0]["error"]["message"]
    usage, _ = peer.request("tools/call", {"name": "get_usage", "arguments": {}})
    assert "result" in usage and not usage["result"].get("isError"), usage
    assert peer.proc.poll() is None, "the server exited"
    record("stdio-oversized-id", {"bytes": len(lines[9003]), "ids": [str(i) for i in lines]})
