"""The connection layer under the HTTP transports: uvicorn's h11 protocol with limits.

Each connection must finish its request headers within `header_timeout` of connecting (or of its
first byte after a keep-alive pause), and at most `max_connections` are open: a new connection
beyond that closes the longest-idle one (waiting for headers or between requests), so stalled
unauthenticated sockets cannot lock out the token holder; only when every connection is busy with
a request is the new one answered 503.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import asyncio


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
