"""`aural-mcp` command line: serve | sandbox | demo | config | doctor | watch | plan | apply | invite | export.

The flags of every command are here; each command's implementation is a module of this package
(`cli.serve`, `cli.config`, `cli.doctor`, `cli.demo`, `cli.watch`, `cli.spec`, `cli.invite`, `cli.export`), except `sandbox`, which is the sandbox's
own (`aural_mcp.sandbox.cli`).

Each command imports its implementation only when chosen: a stdio server is spawned for every
client session, so start-up must not pay for the sandbox, uvicorn or the other commands.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

TRANSPORTS = ("stdio", "sse", "http")
CLIENTS = ("claude-desktop", "claude-code", "cursor", "vscode")


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _positive_minutes(text: str) -> float:
    try:
        minutes = float(text)
    except ValueError:
        minutes = 0.0
    if not 0 < minutes <= 24 * 60:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of minutes between 0 and 1440 (e.g. 15)")
    return minutes


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aural-mcp",
        description="MCP server, SDK and local sandbox for the Aural interview API.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the MCP server (stdio by default)")
    serve.add_argument(
        "--transport",
        choices=TRANSPORTS,
        default=None,
        help="stdio (default); sse (GET /sse, POST /messages/); http (Streamable HTTP at /mcp)",
    )
    serve.add_argument("--host", default=None, help="HTTP bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="HTTP port (default 8765; 0 picks a free one)")
    serve.add_argument("--stateless", action="store_true", help="Streamable HTTP without sessions")
    serve.add_argument(
        "--json-response",
        action="store_true",
        help="Streamable HTTP answers each request with one JSON body instead of an SSE stream (no progress "
        "notifications); with --stateless, the mode to scale out behind a load balancer",
    )
    serve.add_argument(
        "--auth-token",
        default=None,
        help="bearer token HTTP clients must send; prefer AURAL_MCP_TOKEN (flags show in ps)",
    )
    serve.add_argument(
        "--auth",
        dest="auth_mode",
        choices=("token", "oauth"),
        default=None,
        help="token (default): one Aural key for everyone holding AURAL_MCP_TOKEN; oauth: OAuth 2.1, each user "
        "with their own key (needs --transport http, --public-url, AURAL_MCP_SECRET_KEY; or AURAL_MCP_AUTH)",
    )
    serve.add_argument(
        "--public-url",
        default=None,
        help="with --auth oauth: the https URL clients reach this server at, e.g. https://mcp.example.com "
        "(or AURAL_MCP_PUBLIC_URL)",
    )
    serve.add_argument(
        "--team-db",
        default=None,
        metavar="PATH",
        help="with --auth oauth and no --redis: the SQLite file of grants and tokens (or AURAL_MCP_TEAM_DB; "
        "default: team.sqlite3 in the user's data folder)",
    )
    serve.add_argument(
        "--redis",
        dest="redis_url",
        default=None,
        metavar="URL",
        help="with --auth oauth: keep grants, tokens, each key's rate budget and resource updates in Redis, "
        "so many replicas serve as one, e.g. redis://:PASSWORD@10.0.0.5:6379/0; prefer AURAL_MCP_REDIS_URL "
        "(flags show in ps)",
    )
    serve.add_argument(
        "--allowed-hosts",
        type=_csv,
        default=None,
        help="extra Host values to accept, comma-separated (or AURAL_MCP_ALLOWED_HOSTS)",
    )
    serve.add_argument(
        "--allowed-origins",
        type=_csv,
        default=None,
        help="extra Origin values to accept, comma-separated (or AURAL_MCP_ALLOWED_ORIGINS)",
    )
    serve.add_argument("--toolsets", type=_csv, default=None, help="only these toolsets, comma-separated")
    serve.add_argument("--read-only", action="store_true", help="hide every tool that writes")
    serve.add_argument("--sandbox", action="store_true", help="serve against an in-process sandbox")
    serve.add_argument(
        "--sandbox-db", default=None, help="keep the sandbox's data in this SQLite file (or AURAL_SANDBOX_DB)"
    )
    serve.add_argument(
        "--sandbox-port",
        type=int,
        default=None,
        help="with --sandbox: serve its candidate pages (the public and invite links) on this loopback port "
        "(default: a free one, printed on stderr)",
    )
    serve.add_argument(
        "--sandbox-seed",
        default=None,
        help="with --sandbox: load this JSON file of dashboard-made interviews and questions (or AURAL_SANDBOX_SEED)",
    )
    serve.add_argument("--base-url", default=None, help="Aural API base URL (or AURAL_BASE_URL)")
    serve.add_argument("--rate-limit", default=None, help="client pacing N/SECONDS (or AURAL_RATE_LIMIT)")
    serve.add_argument(
        "--watch-share",
        default=None,
        metavar="FRACTION",
        help="share of the rate limit the session watcher may use, after your own calls: 0.2 (default) "
        "or 20%% (or AURAL_WATCH_SHARE)",
    )
    serve.add_argument(
        "--state",
        default=None,
        metavar="PATH",
        help="the session watcher's SQLite state file (or AURAL_WATCH_STATE; default: this account's file in "
        "the user's data folder, in memory with an in-memory --sandbox); opened only when a tool waits or a "
        "client subscribes",
    )
    serve.add_argument(
        "--log-level",
        default=None,
        help="stderr log level: DEBUG, INFO, WARNING (default), ERROR (or AURAL_MCP_LOG_LEVEL)",
    )

    sandbox = sub.add_parser("sandbox", help="run the local Aural API sandbox")
    sandbox.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1, this machine only; 0.0.0.0 exposes it to the network)",
    )
    sandbox.add_argument(
        "--port", type=int, default=8400, help="port to listen on; 0 picks a free one (default 8400)"
    )
    sandbox.add_argument(
        "--db", default="aural-sandbox.db", help="SQLite file, or :memory: (default ./aural-sandbox.db)"
    )
    sandbox.add_argument("--rate-limit", default="60/60", help="N/SECONDS per key (default 60/60)")
    sandbox.add_argument("--plan", default=None, help="enforce a plan's limits, e.g. free")
    sandbox.add_argument(
        "--faults", default=None, help="fault injection, e.g. 0.2:drop_before,drop_after,500,502,503,latency"
    )
    sandbox.add_argument(
        "--public-url", default=None, help="base of published links (default: the sandbox's own URL)"
    )
    sandbox.add_argument("--new-key", action="store_true", help="mint another API key, print it and exit")
    sandbox.add_argument(
        "--seed", default=None, metavar="FILE.json", help="insert dashboard-made rows from this file at start"
    )
    sandbox.add_argument(
        "--max-body-bytes",
        type=int,
        default=1024 * 1024,
        metavar="BYTES",
        help="larger request bodies get 413 (default 1048576)",
    )

    demo = sub.add_parser("demo", help="walk the interview lifecycle as an agent would, on a sandbox")
    demo.add_argument(
        "--as-candidate",
        action="store_true",
        help="take the first candidate's interview yourself in a browser; the agent waits for you, then ranks you",
    )
    demo.add_argument(
        "--wait-minutes",
        type=_positive_minutes,
        default=15.0,
        metavar="N",
        help="with --as-candidate: how long the agent waits for you (default 15)",
    )

    config = sub.add_parser("config", help="print ready-to-paste client configuration")
    config.add_argument("client", choices=CLIENTS)
    config.add_argument("--sandbox", action="store_true", help="configure the server to use the sandbox")
    config.add_argument(
        "--sandbox-db", default=None, help="with --sandbox (required): keep its data in this SQLite file"
    )
    config.add_argument(
        "--sandbox-port", type=int, default=None, help="with --sandbox: serve its candidate pages on this port"
    )
    config.add_argument(
        "--sandbox-seed", default=None, metavar="FILE.json", help="with --sandbox: load this seed file at start"
    )
    config.add_argument("--toolsets", type=_csv, default=None, help="only these toolsets, comma-separated")
    config.add_argument("--read-only", action="store_true", help="hide every tool that writes")
    config.add_argument("--name", default="aural", help="the server's name in the client (default aural)")

    doctor = sub.add_parser("doctor", help="check the API key and base URL and print usage")
    doctor.add_argument("--base-url", default=None, help="Aural API base URL (or AURAL_BASE_URL)")
    doctor.add_argument("--timeout", type=float, default=10.0, help="seconds per request (default 10)")

    watch = sub.add_parser(
        "watch", help="deliver session events as signed webhooks (or to a command), until stopped or --once"
    )
    watch.add_argument(
        "--interview", dest="interviews", action="append", default=[], metavar="ID", help="watch this interview (repeat)"
    )
    watch.add_argument("--all", action="store_true", help="watch every interview the key can see")
    watch.add_argument("--webhook", default=None, metavar="URL", help="POST each event here, signed (Standard Webhooks)")
    watch.add_argument(
        "--exec", dest="exec_command", default=None, metavar="CMD", help="run CMD per event, the JSON on its stdin"
    )
    watch.add_argument(
        "--secret-env",
        default="AURAL_WEBHOOK_SECRET",
        metavar="NAME",
        help="the environment variable holding the whsec_ signing secret (default AURAL_WEBHOOK_SECRET)",
    )
    watch.add_argument("--state", default=None, metavar="PATH", help="the watcher's SQLite file (or AURAL_WATCH_STATE)")
    watch.add_argument("--poll-seconds", default=None, metavar="N", help="poll each busy interview this often (default 30)")
    watch.add_argument(
        "--retry-for",
        default=None,
        metavar="SECONDS",
        help="retry a failing event this long before it is a dead letter (default 86400, a day)",
    )
    watch.add_argument("--once", action="store_true", help="one pass, deliver what is due, exit (for cron)")
    watch.add_argument("--replay", default=None, metavar="EVENT_ID", help="re-send one stored event now and exit")
    watch.add_argument("--new-secret", action="store_true", help="print a new whsec_ signing secret and exit")
    watch.add_argument("--base-url", default=None, help="Aural API base URL (or AURAL_BASE_URL)")
    watch.add_argument(
        "--rate-limit", default=None, metavar="N/SECONDS", help="the key's rate limit (or AURAL_RATE_LIMIT; default 60/60)"
    )
    watch.add_argument(
        "--watch-share",
        default=None,
        metavar="SHARE",
        help="the share of the rate limit to use, e.g. 0.2 (or AURAL_WATCH_SHARE; default 0.2)",
    )
    for name, what in (("plan", "show what apply would change"), ("apply", "make Aural match")):
        command = sub.add_parser(
            name,
            help=f"interviews as code: {what} an interview spec file (YAML or JSON)",
            description="plan exits 0 when nothing would change, 2 when something would, 1 on an error; "
            "apply exits 0 when everything was applied, 1 otherwise. The state is aural.state.json beside FILE.",
        )
        command.add_argument("file", metavar="FILE", help="the spec, .yaml/.yml or .json")
        command.add_argument("--prune", action="store_true", help="also delete questions (and archive interviews) the spec no longer declares")
        command.add_argument(
            "--adopt", action="append", default=[], metavar="KEY=ID", help="map the spec's KEY to an existing interview (ID alone for a one-interview spec; repeat)"
        )
        command.add_argument("--base-url", default=None, help="Aural API base URL (or AURAL_BASE_URL)")
    invite = sub.add_parser("invite", help="add a CSV or JSONL file of people to an interview, each once, with invite links")
    invite.add_argument("interview_id", metavar="INTERVIEW_ID")
    invite.add_argument("--csv", default=None, metavar="FILE", help="people as CSV with a header (name, email, ...)")
    invite.add_argument("--jsonl", default=None, metavar="FILE", help="people as JSON lines, one object per line")
    invite.add_argument(
        "--out", default=None, metavar="FILE", help="write every invite link here as CSV (default: stdout); "
        "the journal that makes a re-run safe is FILE.journal.jsonl"
    )
    invite.add_argument(
        "--on-error", choices=("skip", "abort"), default="skip", help="bad rows: skip them (default) or send nothing"
    )
    invite.add_argument("--base-url", default=None, help="Aural API base URL (or AURAL_BASE_URL)")

    export = sub.add_parser("export", help="write an interview's sessions, scores and links to CSV or JSONL")
    export.add_argument("interview_id", metavar="INTERVIEW_ID")
    export.add_argument("--format", choices=("csv", "jsonl"), required=True, help="csv or jsonl")
    export.add_argument("--out", default=None, metavar="PATH", help="the output file (default INTERVIEW_ID.FORMAT)")
    export.add_argument(
        "--transcripts",
        action="store_true",
        help="jsonl: add the compact transcript to each row; csv: one markdown file per session in OUT-transcripts/",
    )
    export.add_argument(
        "--since", action="store_true", help="only sessions changed since the last export (state in OUT.state.json)"
    )
    export.add_argument("--base-url", default=None, help="Aural API base URL (or AURAL_BASE_URL)")

    tokens = sub.add_parser("tokens", help="service tokens of the team server (--auth oauth): create, list, revoke")
    actions = tokens.add_subparsers(dest="tokens_command", metavar="ACTION")
    actions.add_parser("keygen", help="print a new AURAL_MCP_SECRET_KEY value")
    create = actions.add_parser("create", help="read an Aural key from stdin; print a service token for it once")
    create.add_argument("--name", required=True, help="what the token is for, e.g. ats (unique; revoke takes it)")
    create.add_argument("--read-only", action="store_true", help="the token may call the read tools only")
    create.add_argument("--base-url", default=None, help="Aural API base URL the key is checked on (or AURAL_BASE_URL)")
    listing = actions.add_parser("list", help="every grant: name, id, kind, scope, created (never a key or token)")
    revoke = actions.add_parser("revoke", help="revoke a grant, by id or name: its tokens stop working")
    revoke.add_argument("grant", metavar="ID_OR_NAME")
    for action in (create, listing, revoke):
        action.add_argument("--public-url", default=None, help="the team server's public URL (or AURAL_MCP_PUBLIC_URL)")
        action.add_argument("--team-db", default=None, help="the team store's SQLite file (or AURAL_MCP_TEAM_DB)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from aural_mcp import __version__

        print(__version__)
        return 0
    if args.command == "serve":
        from aural_mcp.cli.serve import main as run

        return run(args)
    if args.command == "sandbox":
        from aural_mcp.sandbox.cli import main as run

        return run(args)
    if args.command == "demo":
        from aural_mcp.cli.demo import main as run

        return run(args)
    if args.command == "config":
        from aural_mcp.cli.config import main as run

        return run(args)
    if args.command == "doctor":
        from aural_mcp.cli.doctor import main as run

        return run(args)
    if args.command == "watch":
        from aural_mcp.cli.watch import main as run

        return run(args)
    if args.command in ("plan", "apply"):
        from aural_mcp.cli.spec import main as run

        return run(args)
    if args.command == "invite":
        from aural_mcp.cli.invite import main as run

        return run(args)
    if args.command == "export":
        from aural_mcp.cli.export import main as run

        return run(args)
    if args.command == "tokens":
        from aural_mcp.cli.tokens import main as run

        return run(args)
    parser.print_help(sys.stderr)
    return 2
