"""The delivery targets of `aural-mcp watch`: a webhook URL, or a command run per event.

Both send the event's JSON (`Event.payload()`, compact UTF-8) and answer with an `Attempt`: it
succeeded (2xx; exit status 0) or it failed, with a short reason for the logs and the dead
letters. Neither raises for a failure of the receiver: a timeout, a refused connection, a 3xx
(redirects are not followed), a 5xx or a non-zero exit are all failures to retry.

What a target says about itself (`label`, `Attempt.detail`) is safe to log: a URL shows as
scheme://host/path, never with its query or credentials, and the signing secret appears nowhere.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import signal
import subprocess
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import anyio

from aural_mcp import __version__
from aural_mcp.watch.events import Event
from aural_mcp.watch.outbox import target_key

DELIVERY_TIMEOUT = 10.0  # seconds for one attempt, connecting to the last byte or the command's exit
USER_AGENT = f"aural-mcp-watch/{__version__}"
# Never passed on to an --exec command: it needs the event, not the keys of the bridge.
PRIVATE_VARIABLES = ("AURAL_API_KEY", "AURAL_MCP_TOKEN")


@dataclass(frozen=True)
class Attempt:
    ok: bool
    detail: str  # 'HTTP 204', 'HTTP 302 (redirects are not followed)', 'exit status 3', 'timed out after 10 s'


class Target(Protocol):
    key: str  # the outbox's id for it (a hash of the URL or command)
    label: str  # what logs show

    async def deliver(self, event: Event) -> Attempt: ...

    async def aclose(self) -> None: ...


def event_body(event: Event) -> bytes:
    """The bytes a target receives (and a webhook's signature covers)."""
    return json.dumps(event.payload(), separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def webhook_url_problem(url: str) -> str | None:
    """Why `url` cannot be a webhook target, or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        return f"--webhook {safe_url(url)!r} is not a URL; give an http(s) URL such as https://example.com/hooks/aural"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"--webhook {safe_url(url)!r} must be an http:// or https:// URL with a host, such as https://example.com/hooks/aural"
    return None


def safe_url(url: str) -> str:
    """scheme://host[:port]/path of a URL: no credentials, query or fragment (they may hold secrets)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "(an unreadable URL)"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port is not None else host
    return f"{parts.scheme}://{netloc}{parts.path}" if parts.scheme else "(an unreadable URL)"


def _loopback(url: str) -> bool:
    return urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1")


class WebhookTarget:
    """POSTs each event, signed by Standard Webhooks with one `whsec_` secret, or with each of
    several while a secret is rotated (the receiver accepts any signature that matches its own)."""

    def __init__(self, url: str, secrets: list[str], *, timeout: float = DELIVERY_TIMEOUT) -> None:
        import httpx2

        from aural_mcp.webhooks import parse_secret

        if not secrets:
            raise ValueError("a webhook target needs at least one whsec_ secret")
        for secret in secrets:
            parse_secret(secret)  # a malformed secret fails here, before any event is taken from the queue
        self.url = url
        self._secrets = list(secrets)  # several while a secret is rotated: each delivery is signed with each
        self.timeout = timeout
        self.key = target_key("webhook", url)
        self.label = safe_url(url)
        self._http = httpx2.AsyncClient(
            follow_redirects=False,
            timeout=httpx2.Timeout(timeout),
            trust_env=not _loopback(url),  # proxy settings never apply to a receiver on this machine
            headers={"user-agent": USER_AGENT},
        )

    def __repr__(self) -> str:
        return f"WebhookTarget({self.label!r})"

    async def deliver(self, event: Event) -> Attempt:
        import httpx2

        from aural_mcp.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, signed_headers

        body = event_body(event)
        headers = signed_headers(self._secrets[0], event.id, body)  # a fresh timestamp for each attempt
        if len(self._secrets) > 1:
            timestamp = int(headers[TIMESTAMP_HEADER])
            headers[SIGNATURE_HEADER] = " ".join(sign(s, event.id, timestamp, body) for s in self._secrets)
        try:
            with anyio.fail_after(self.timeout):
                # The answer's body is not read: only its status counts, and a receiver cannot make us read megabytes.
                async with self._http.stream("POST", self.url, content=body, headers=headers) as answer:
                    status = answer.status_code
        except (TimeoutError, httpx2.TimeoutException):
            return Attempt(False, f"timed out after {self.timeout:g} s")
        except (httpx2.HTTPError, OSError) as exc:
            return Attempt(False, f"{type(exc).__name__}: {self._without_url(str(exc))}")
        if 200 <= status < 300:
            return Attempt(True, f"HTTP {status}")
        if 300 <= status < 400:
            return Attempt(False, f"HTTP {status} (redirects are not followed: point --webhook at the final URL)")
        return Attempt(False, f"HTTP {status}")

    def _without_url(self, text: str) -> str:
        return (text.replace(self.url, self.label) or "no detail")[:300]

    async def aclose(self) -> None:
        await self._http.aclose()


def exec_command_problem(command: str) -> str | None:
    """Why `command` cannot be an --exec target, or None."""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        return f"--exec {command!r} cannot be split into words ({exc}); check its quotes"
    if not argv:
        return "--exec needs a command, for example --exec 'python3 handle_event.py'"
    if shutil.which(argv[0]) is None:
        return f"--exec: {argv[0]!r} is not an executable file or a command on PATH"
    return None


class ExecTarget:
    """Runs a command per event (no shell): the JSON on stdin, WEBHOOK_ID and WEBHOOK_TYPE in its
    environment, its output on this process's stderr; exit status 0 is success."""

    def __init__(self, command: str, *, timeout: float = DELIVERY_TIMEOUT, private: tuple[str, ...] = ()) -> None:
        self.argv = shlex.split(command)
        self.timeout = timeout
        self.key = target_key("exec", command)
        self.label = f"exec {os.path.basename(self.argv[0])}"
        self._private = (*PRIVATE_VARIABLES, *private)

    def __repr__(self) -> str:
        return f"ExecTarget({self.label!r})"

    async def deliver(self, event: Event) -> Attempt:
        env = {k: v for k, v in os.environ.items() if k not in self._private}
        env.update(WEBHOOK_ID=event.id, WEBHOOK_TYPE=event.type)
        try:
            process = await anyio.open_process(
                self.argv, stdin=subprocess.PIPE, stdout=2, stderr=2, env=env, start_new_session=True
            )
        except OSError as exc:
            return Attempt(False, f"cannot run {self.argv[0]!r}: {exc.strerror or exc}")
        async with process:
            with anyio.move_on_after(self.timeout) as waiting:
                assert process.stdin is not None
                # A command that does not read its input may close it early: its exit status still decides.
                with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                    await process.stdin.send(event_body(event))
                await process.stdin.aclose()
                status = await process.wait()
            if waiting.cancelled_caught:
                self._kill(process.pid)  # the group we started: the command and what it started
                await process.wait()
                return Attempt(False, f"timed out after {self.timeout:g} s (the command was killed)")
        if status == 0:
            return Attempt(True, "exit status 0")
        if status < 0:
            return Attempt(False, f"killed by signal {-status}")
        return Attempt(False, f"exit status {status}")

    @staticmethod
    def _kill(pid: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)

    async def aclose(self) -> None:
        return None
