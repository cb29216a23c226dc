"""The delivery targets on their own, over real sockets and real processes: what a failure of
the receiver looks like (refused, no answer in time, a command that hangs), and that no detail
shows a URL's query or credentials."""

from __future__ import annotations

import socket
import sys
from typing import Any

import anyio

from aural_mcp.watch.delivery import ExecTarget, WebhookTarget, safe_url, webhook_url_problem
from aural_mcp.watch.events import SESSION_STARTED, Event, event_id
from aural_mcp.webhooks import generate_secret

EVENT = Event(1, event_id(SESSION_STARTED, "s1"), SESSION_STARTED, "iv", "s1", None, "2026-12-02T09:00:00.000Z", {})


def _deliver(target: Any) -> Any:
    async def go() -> Any:
        try:
            return await target.deliver(EVENT)
        finally:
            await target.aclose()

    return anyio.run(go)


def test_a_refused_connection_is_a_failure_without_the_urls_secrets() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens once it is closed
    url = f"http://user:pw@127.0.0.1:{port}/hook?token=q-s3cret"
    target = WebhookTarget(url, [generate_secret()])
    attempt = _deliver(target)
    assert not attempt.ok and attempt.detail.startswith("ConnectError")
    for text in (attempt.detail, target.label, repr(target)):
        assert "q-s3cret" not in text and "pw" not in text
    assert target.label == f"http://127.0.0.1:{port}/hook"


def test_a_receiver_that_never_answers_times_out() -> None:
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()  # accepts connections (the kernel does) and never answers
        url = f"http://127.0.0.1:{listening.getsockname()[1]}/hook"
        attempt = _deliver(WebhookTarget(url, [generate_secret()], timeout=0.3))
    assert (attempt.ok, attempt.detail) == (False, "timed out after 0.3 s")


def test_a_command_that_hangs_is_killed_at_the_timeout() -> None:
    target = ExecTarget(f"{sys.executable} -c 'import time; time.sleep(30)'", timeout=0.3)
    attempt = _deliver(target)
    assert (attempt.ok, attempt.detail) == (False, "timed out after 0.3 s (the command was killed)")
    assert _deliver(ExecTarget(f"{sys.executable} -c 'import sys; sys.exit(0)'")).ok


def test_only_http_urls_with_a_host_are_targets() -> None:
    assert webhook_url_problem("https://example.com/h") is None
    assert webhook_url_problem("http://[::1]:8080/h") is None
    for bad in ("ftp://example.com/h", "file:///etc/passwd", "example.com/h", "http:///h", "http://h:0x1/"):
        assert webhook_url_problem(bad) is not None, bad
    assert safe_url("https://u:p@[::1]:8443/a/b?x=1#f") == "https://[::1]:8443/a/b"
