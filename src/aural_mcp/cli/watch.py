"""`aural-mcp watch`: the webhook bridge. Watches interviews for session events and delivers each
one to a webhook URL (signed by Standard Webhooks) or to a command, through a durable outbox.

Two tasks: one runs the watcher's passes (`aural_mcp.watch.Watcher`, inside its share of the
rate limit) and queues the events they store for the target (`watch.outbox`); the other delivers
the due ones one at a time (`watch.delivery`) and sleeps until the next retry or new event.
SIGTERM or SIGINT stops a pass at once, lets the delivery in flight finish and record its
answer, then exits 0.

Everything it reports goes to stderr, one `aural-mcp watch: ...` line each; stdout carries only
what `--new-secret` prints.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import re
import signal
import sqlite3
import sys
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aural_mcp.api import AuralClient
    from aural_mcp.settings import Settings
    from aural_mcp.watch import Watcher, WatchState
    from aural_mcp.watch.delivery import Target
    from aural_mcp.watch.outbox import Outbox

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2
DEFAULT_SECRET_ENV = "AURAL_WEBHOOK_SECRET"
SUMMARY_SECONDS = 60.0  # a summary line this often while running (and one at exit)
ONCE_DELIVERY_SECONDS = 60.0  # --once starts no delivery after this long, so a cron run ends
MAX_POLL_SECONDS = 86_400.0
MAX_RETRY_FOR_SECONDS = 30 * 86_400.0
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class FlagError(Exception):
    """A flag or setting the user must fix; one line on stderr, exit 2, nothing started."""


def say(text: str) -> None:
    print(f"aural-mcp watch: {text}", file=sys.stderr, flush=True)


class _StderrLines(logging.Handler):
    """The engine's warnings as `aural-mcp watch:` lines on the current stderr, with any secret masked."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.secrets = secrets

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a malformed record must not stop the watching
            return
        for secret in self.secrets:
            text = text.replace(secret, "…")
        say(text)


@dataclass
class Options:
    interviews: list[str] | None  # None: every interview the key can see
    webhook: str | None
    exec_command: str | None
    secret_env: str
    poll_seconds: float
    retry_for: float
    once: bool
    replay: str | None


@dataclass
class RunStats:
    found: int = 0
    delivered: int = 0
    failed: int = 0
    died: int = 0
    last_error: str | None = None


def _seconds(flag: str, text: str | None, default: float, maximum: float, example: str) -> float:
    if text is None:
        return default
    rule = f"{flag} {text!r} must be a number of seconds above 0 and at most {maximum:g}, for example {example}"
    try:
        value = float(text)
    except ValueError:
        raise FlagError(rule) from None
    if not (math.isfinite(value) and 0 < value <= maximum):
        raise FlagError(rule)
    return value


def _interview_ids(values: list[str]) -> list[str]:
    ids: list[str] = []
    for value in values:
        try:
            iid = str(uuid.UUID(value.strip()))
        except ValueError:
            raise FlagError(
                f"--interview {value[:80]!r} is not an interview id: give the UUID that list_interviews shows "
                "(repeat --interview for more), or --all"
            ) from None
        if iid not in ids:
            ids.append(iid)
    return ids


def options_from_args(args: argparse.Namespace) -> Options:
    """The flags, checked; FlagError names the first bad one and its fix."""
    from aural_mcp.watch.delivery import exec_command_problem, webhook_url_problem

    if args.webhook is not None and args.exec_command is not None:
        raise FlagError("--webhook and --exec exclude each other: run one aural-mcp watch per target")
    if args.webhook is None and args.exec_command is None:
        raise FlagError("say where events go: --webhook URL (signed POSTs) or --exec CMD (a command per event)")
    problem = webhook_url_problem(args.webhook) if args.webhook is not None else exec_command_problem(args.exec_command)
    if problem:
        raise FlagError(problem)
    if not _ENV_NAME.fullmatch(args.secret_env):
        raise FlagError(f"--secret-env {args.secret_env[:80]!r} must be an environment variable name, such as {DEFAULT_SECRET_ENV}")
    if args.replay is not None:
        if args.once:
            raise FlagError("--replay sends one event and exits: drop --once")
        if not re.fullmatch(r"evt_[0-9a-f]{24}", args.replay):
            raise FlagError(
                f"--replay {args.replay[:80]!r} is not an event id: give the webhook-id of a delivery "
                "(evt_ and 24 hex digits), as the receiver or a dead-letter line shows it"
            )
    interviews: list[str] | None = None
    if args.replay is None:
        if args.all and args.interviews:
            raise FlagError("--interview and --all exclude each other: name interviews, or watch them all")
        if not args.all and not args.interviews:
            raise FlagError("say what to watch: --interview ID (repeat for more) or --all")
        interviews = None if args.all else _interview_ids(args.interviews)
    return Options(
        interviews=interviews,
        webhook=args.webhook,
        exec_command=args.exec_command,
        secret_env=args.secret_env,
        poll_seconds=_seconds("--poll-seconds", args.poll_seconds, 30.0, MAX_POLL_SECONDS, "30"),
        retry_for=_seconds("--retry-for", args.retry_for, 86_400.0, MAX_RETRY_FOR_SECONDS, "86400"),
        once=args.once,
        replay=args.replay,
    )


def webhook_secrets(name: str) -> list[str]:
    """The signing secrets in the environment variable `name` (one, or several separated by spaces
    while a secret is rotated), checked; FlagError says how to make one."""
    from aural_mcp.webhooks import WebhookSecretError, parse_secret

    secrets = os.environ.get(name, "").split()
    if not secrets:
        raise FlagError(
            f"--webhook needs a whsec_ signing secret in {name}, which is not set: make one with "
            f"`aural-mcp watch --new-secret`, export {name}=<it>, and give the receiver the same secret"
        )
    for n, secret in enumerate(secrets, 1):
        try:
            parse_secret(secret)
        except WebhookSecretError as exc:
            which = f"secret {n} of {len(secrets)}" if len(secrets) > 1 else "secret"
            raise FlagError(f"--webhook needs a usable signing {which} in {name}: {exc}") from None
    return secrets


def settings_from_args(args: argparse.Namespace) -> Settings:
    from aural_mcp.settings import Settings, parse_rate_limit, parse_share

    try:
        settings = Settings.from_env(base_url=args.base_url, watch_state=args.state)
        if args.rate_limit is not None:
            settings.rate_limit, settings.rate_window = parse_rate_limit(args.rate_limit)
        if args.watch_share is not None:
            settings.watch_share = parse_share("--watch-share", args.watch_share)
    except ValueError as exc:
        raise FlagError(str(exc)) from None
    return settings


def main(args: argparse.Namespace) -> int:
    if args.new_secret:
        from aural_mcp.webhooks import generate_secret

        print(generate_secret(), flush=True)
        say(f"a new signing secret is on stdout: export {args.secret_env}=<it> here and give the receiver the same")
        return EXIT_OK
    secrets: list[str] = []
    handler = _StderrLines(secrets)
    engine_log = logging.getLogger("aural_mcp")
    engine_log.addHandler(handler)
    try:
        return _main(args, secrets)
    except FlagError as exc:
        say(str(exc))
        return EXIT_CONFIG
    except KeyboardInterrupt:  # before the signal handlers are in place
        return EXIT_OK
    finally:
        engine_log.removeHandler(handler)


def _main(args: argparse.Namespace, secrets: list[str]) -> int:
    import anyio

    from aural_mcp.api import AuralClient
    from aural_mcp.api.errors import ConfigurationError
    from aural_mcp.settings import key_problem
    from aural_mcp.watch import StateError, WatchState
    from aural_mcp.watch.delivery import ExecTarget, WebhookTarget
    from aural_mcp.watch.outbox import Outbox, TargetBusyError
    from aural_mcp.watch.state import state_location

    opts = options_from_args(args)
    settings = settings_from_args(args)
    signing = webhook_secrets(opts.secret_env) if opts.webhook is not None else []
    secrets += signing
    if settings.api_key:
        secrets.append(settings.api_key.strip())

    client: AuralClient | None = None
    if opts.replay is None or not settings.watch_state:  # watching, or finding the account's state file
        problem = key_problem(settings.api_key)
        if problem:
            raise FlagError(f"{problem}: export AURAL_API_KEY=dlv_… (Aural dashboard, Settings → API Keys)")
        try:
            client = AuralClient.from_settings(settings)
        except ConfigurationError as exc:
            raise FlagError(exc.message) from None
    path = state_location(settings, client.account if client is not None else None)
    try:
        state = WatchState(path)
    except StateError as exc:
        raise FlagError(str(exc)) from None

    target: Target
    if opts.webhook is not None:
        target = WebhookTarget(opts.webhook, signing)
    else:
        assert opts.exec_command is not None
        target = ExecTarget(opts.exec_command, private=(opts.secret_env,))
    try:
        try:
            outbox = Outbox(state, target.key, target.label, interview_ids=opts.interviews, retry_for=opts.retry_for)
        except sqlite3.Error as exc:
            raise FlagError(f"cannot use {path!r} as the watch state ({exc}); choose another file with --state") from None
        if opts.replay is not None:
            return anyio.run(_replay, opts.replay, state, outbox, target)
        assert client is not None
        try:
            outbox.claim()
        except TargetBusyError as exc:
            raise FlagError(str(exc)) from None
        try:
            return anyio.run(_watch, opts, client, state, outbox, target, path)
        finally:
            outbox.release()
    finally:
        state.close()


async def _replay(event_id: str, state: WatchState, outbox: Outbox, target: Target) -> int:
    event = state.event(event_id)
    if event is None:
        await target.aclose()
        raise FlagError(f"--replay {event_id}: no such event in the state file {state.path}; check --state")
    try:
        attempt = await target.deliver(event)
    finally:
        await target.aclose()
    if attempt.ok:
        outbox.delivered(event, attempt.detail)
        say(f"replayed {event.id} ({event.type}) to {target.label}: {attempt.detail}")
        return EXIT_OK
    say(f"replay of {event.id} ({event.type}) to {target.label} failed: {attempt.detail}")
    return EXIT_FAILED


async def _watch(opts: Options, client: Any, state: WatchState, outbox: Outbox, target: Target, path: str) -> int:
    return await Bridge(opts, client, state, outbox, target, path).run()  # made in the event loop it uses


class Bridge:
    """Watching and delivering, side by side until a signal (or one round of each, with --once).

    Two tasks share the state file: one runs the watcher's passes and queues what they store; the
    other delivers what is due, one event at a time. So a pass waiting for its share of the rate
    limit never holds up deliveries, and a slow receiver never holds up the watching.
    """

    def __init__(
        self, opts: Options, client: Any, state: WatchState, outbox: Outbox, target: Target, path: str
    ) -> None:
        import anyio

        from aural_mcp.watch import Watcher

        self.opts = opts
        self.client = client
        self.state = state
        self.outbox = outbox
        self.target = target
        self.path = path
        self.watcher: Watcher = Watcher(client, state, interviews=opts.interviews, poll_seconds=opts.poll_seconds)
        self.stats = RunStats()
        self._stopping = False
        self._watching_scope = anyio.CancelScope()  # cancelled by a signal: a pass can stop anywhere
        self._wake = anyio.Event()  # something was queued, or a signal came: the delivery task looks again

    async def run(self) -> int:
        import anyio

        watched = "all interviews" if self.opts.interviews is None else f"{len(self.opts.interviews)} interview(s)"
        say(
            f"watching {watched} every {self.opts.poll_seconds:g} s at most "
            f"{self.client.pacer.background_limit} requests per {self.client.rate_window:g} s, "
            f"delivering to {self.target.label}; state {self.path}"
        )
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._on_signals)
                code = await (self._once() if self.opts.once else self._forever())
                tg.cancel_scope.cancel()
        finally:
            await self.target.aclose()
            await self.client.aclose()
        return code

    async def _on_signals(self) -> None:
        import anyio

        with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
            async for _ in signals:
                self._stopping = True
                self._watching_scope.cancel()
                self._wake.set()

    async def _forever(self) -> int:
        import anyio

        self.outbox.enqueue()  # what a killed run stored but had not queued yet
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._watching)
            await self._delivering()
            tg.cancel_scope.cancel()
        self._summary()
        return EXIT_OK

    async def _watching(self) -> None:
        with self._watching_scope:
            while True:
                found = await self.watcher.run_pass()
                self.outbox.enqueue()
                if found:
                    self.stats.found += len(found)
                    kinds: dict[str, int] = {}
                    for event in found:
                        kinds[event.type] = kinds.get(event.type, 0) + 1
                    say(f"found {len(found)} event(s): " + ", ".join(f"{n} {kind}" for kind, n in kinds.items()))
                    self._wake.set()
                await self.watcher.sleep()

    async def _delivering(self) -> None:
        import anyio

        last_summary = time.monotonic()
        while not self._stopping:
            self._wake = anyio.Event()  # before looking: what is queued from now on wakes the wait below
            self.outbox.renew()
            before = (self.stats.delivered, self.stats.failed)
            await self._deliver_due(deadline=math.inf)
            if (self.stats.delivered, self.stats.failed) != before:
                self._delivery_line(before)
            if time.monotonic() - last_summary >= SUMMARY_SECONDS:
                self._summary()
                last_summary = time.monotonic()
            if self._stopping:
                return
            retry_in = self.outbox.next_due_in()
            with anyio.move_on_after(min(SUMMARY_SECONDS, math.inf if retry_in is None else retry_in)):
                await self._wake.wait()

    async def _once(self) -> int:
        with self._watching_scope:
            found = await self.watcher.run_pass(everything=True)
            self.stats.found += len(found)
            if found:
                say(f"found {len(found)} event(s)")
        self.outbox.enqueue()
        before = (self.stats.delivered, self.stats.failed)
        await self._deliver_due(deadline=time.monotonic() + ONCE_DELIVERY_SECONDS)
        if (self.stats.delivered, self.stats.failed) != before:
            self._delivery_line(before)
        counts = self._summary()
        failed = counts.retrying > 0 or self.stats.died > 0 or bool(self.watcher.errors)
        return EXIT_FAILED if failed else EXIT_OK

    async def _deliver_due(self, *, deadline: float) -> None:
        """Deliver what is due, one at a time, each event tried at most once per call (a retry that
        comes due meanwhile waits for the next round); stops early for a signal or the deadline."""
        tried: set[str] = set()
        while not self._stopping and time.monotonic() < deadline:
            batch = [p for p in self.outbox.due() if p.event.id not in tried]
            if not batch:
                return
            for pending in batch:
                if self._stopping or time.monotonic() >= deadline:
                    return
                tried.add(pending.event.id)
                await self._deliver(pending.event)

    async def _deliver(self, event: Any) -> None:
        started = time.time()
        attempt = await self.target.deliver(event)  # never cancelled: a signal waits for its answer
        if attempt.ok:
            self.outbox.delivered(event, attempt.detail)
            self.stats.delivered += 1
            return
        self.stats.failed += 1
        self.stats.last_error = f"{event.type} {event.id}: {attempt.detail}"
        if self.outbox.failed(event, attempt.detail, tried_at=started):
            self.stats.died += 1
            say(
                f"dead letter: {event.id} ({event.type}) failed for {self.opts.retry_for:g} s, last {attempt.detail}; "
                f"`aural-mcp watch --replay {event.id}` with the same target re-sends it"
            )

    def _delivery_line(self, before: tuple[int, int]) -> None:
        delivered = self.stats.delivered - before[0]
        failed = self.stats.failed - before[1]
        counts = self.outbox.counts()
        line = f"delivered {delivered}"
        if failed:
            line += f"; {failed} failed (last: {self.stats.last_error})"
        say(f"{line}; queued {counts.queued}, retrying {counts.retrying}, dead {counts.dead}")

    def _summary(self) -> Any:
        counts = self.outbox.counts()
        say(
            f"summary: {len(self.watcher.interview_ids)} interview(s) watched; this run found {self.stats.found} "
            f"event(s), delivered {self.stats.delivered}, {self.stats.failed} failed attempt(s); now queued "
            f"{counts.queued}, retrying {counts.retrying}, dead {counts.dead}; "
            f"{self.client.stats.get('requests', 0)} API request(s)"
        )
        return counts
