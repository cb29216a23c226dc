"""Serve the sandbox's ASGI app for the benchmarks when `aural-mcp sandbox` stalls keep-alive calls.

bench/run.py starts `aural-mcp sandbox` first and probes it. If keep-alive requests take ~40 ms
(Nagle's algorithm left on: the CLI's listening socket is created with proto 0, so asyncio's
`_set_nodelay` skips the accepted sockets, and uvicorn's separate header and body writes wait for
the client's delayed ACK), the run uses this launcher instead: the same `Sandbox` on the same
database, under uvicorn, on a socket created with IPPROTO_TCP. RESULTS.md says which one ran.

usage: python bench/sandbox_server.py DB PORT RATE_LIMIT(N/SECONDS)
"""

import socket
import sys

import uvicorn

from aural_mcp.sandbox import Sandbox


def main() -> None:
    db, port, rate = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    limit, _, window = rate.partition("/")
    sb = Sandbox(db, rate_limit=int(limit), rate_window=float(window))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    config = uvicorn.Config(sb.app, log_level="warning", access_log=False, lifespan="off", interface="asgi3")
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sb.close()


if __name__ == "__main__":
    main()
