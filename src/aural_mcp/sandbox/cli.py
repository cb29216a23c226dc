"""`aural-mcp sandbox`: serve the sandbox with uvicorn, print a key on first start."""

from __future__ import annotations

import argparse
import ipaddress
import socket
import sys

from aural_mcp.settings import parse_rate_limit


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _quiet_injected_drops(record: object) -> bool:
    """Injected connection drops are intended: keep their tracebacks out of the log."""
    from aural_mcp.sandbox.faults import DroppedConnection

    exc = getattr(record, "exc_info", None)
    return not (exc and isinstance(exc[1], DroppedConnection))


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _seed_summary(summary: dict[str, object]) -> str:
    added = summary["added"]
    existing = summary["existing"]
    assert isinstance(added, dict) and isinstance(existing, dict)
    parts = [f"{n} {kind if n != 1 else kind[:-1]}" for kind, n in added.items() if n]
    kept = sum(existing.values())
    text = "added " + (", ".join(parts) or "nothing")
    return text + (f"; {kept} row{'s' if kept != 1 else ''} already present" if kept else "")


def main(args: argparse.Namespace) -> int:
    from aural_mcp.sandbox.app import Sandbox
    from aural_mcp.sandbox.faults import FaultSpec
    from aural_mcp.sandbox.seed import SeedError

    try:
        limit, window = parse_rate_limit(args.rate_limit or "60/60")
        faults = FaultSpec.parse(args.faults) if args.faults else None
        sb = Sandbox(
            args.db,
            rate_limit=limit,
            rate_window=window,
            plan=args.plan,
            faults=faults,
            public_url=args.public_url,
            max_body_bytes=args.max_body_bytes,
        )
    except ValueError as e:
        sys.stderr.write(f"aural-mcp sandbox: {e}\n")
        return 2
    seeded = None
    if args.seed:
        try:
            seeded = sb.seed_file(args.seed)
        except SeedError as e:
            sys.stderr.write(f"aural-mcp sandbox: --seed {e}\n")
            sb.close()
            return 2

    if args.new_key:
        _out(sb.create_key())
        sb.close()
        return 0

    sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit TCP_NODELAY; without it keep-alive requests wait ~40 ms on
    # Nagle + delayed ACK when uvicorn is handed a pre-bound socket.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as e:
        sys.stderr.write(f"aural-mcp sandbox: cannot listen on {args.host}:{args.port}: {e}\n")
        return 1
    port = sock.getsockname()[1]
    host = f"[{args.host}]" if ":" in args.host else args.host
    base = f"http://{host}:{port}/api/v1"
    _out(f"Aural sandbox serving {base}  (database: {args.db})")
    if not _is_loopback(args.host):
        sys.stderr.write(
            f"aural-mcp sandbox: warning: listening on {args.host}, so the sandbox and its test API keys"
            " are reachable from the network; use --host 127.0.0.1 to keep it on this machine\n"
        )
        sys.stderr.flush()
    if seeded is not None:
        _out(f"Seeded from {args.seed}: {_seed_summary(seeded)}")
    if sb.store.key_count() == 0:
        key = sb.create_key()
        _out(f"API key (shown once, stored hashed): {key}")
        _out("Try it:")
        _out(f'  curl -sS "{base}/interviews?limit=20" -H "Authorization: Bearer {key}"')
    else:
        _out("Existing keys kept; mint another with: aural-mcp sandbox --db " + args.db + " --new-key")
    if args.plan:
        _out(f"Plan limits enforced: {args.plan}")
    if faults:
        _out(f"Fault injection: rate {faults.rate}, kinds {','.join(faults.kinds)}, seed {faults.seed}")

    _out("Press Ctrl+C to stop.")
    import logging

    import uvicorn

    logging.getLogger("uvicorn.error").addFilter(_quiet_injected_drops)

    config = uvicorn.Config(sb.app, log_level="warning", access_log=False, lifespan="off", interface="asgi3")
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    finally:
        sb.close()
    return 0
