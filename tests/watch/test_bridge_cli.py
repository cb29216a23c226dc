"""`aural-mcp watch` as users run it: its flags, and the real command against a sandbox on a
loopback port delivering to a receiver that verifies every request with `standardwebhooks`.

--once and its exit codes, --replay, --exec, redirects as failures, dead letters after
--retry-for, SIGTERM finishing the delivery in flight, and the secret, the API key and the URL's
query appearing neither on stderr nor in the state file.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from standardwebhooks.webhooks import Webhook
from tests.support.processes import AURAL_MCP, started
from tests.watch.bridge_helpers import (
    Receiver,
    SandboxWorld,
    compact,
    receiving,
    run_watch,
    sandbox,
    state_bytes,
    wait_until,
    watch_env,
)

from aural_mcp.cli import main
from aural_mcp.watch.events import event_id
from aural_mcp.watch.schema import EVENT_SCHEMA
from aural_mcp.webhooks import generate_secret, parse_secret

KEY = "dlv_" + "k3y" * 10 + "zz"
IID = "4b1c8f6e-1d2a-4e57-9c3b-0a1b2c3d4e5f"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("AURAL_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="module")
def world() -> Any:
    with sandbox(rate_limit=30, rate_window=10.0) as w:
        yield w


# ---------------------------------------------------------------- flags


@pytest.mark.parametrize(
    ("env", "argv", "message"),
    [
        ({}, ["--interview", IID], "say where events go: --webhook URL"),
        ({}, ["--interview", IID, "--webhook", "http://127.0.0.1:9/h", "--exec", "true"], "exclude each other"),
        ({}, ["--webhook", "http://127.0.0.1:9/h"], "say what to watch: --interview ID"),
        ({}, ["--all", "--interview", IID, "--exec", "true"], "--interview and --all exclude each other"),
        ({}, ["--interview", "nope", "--exec", "true"], "--interview 'nope' is not an interview id"),
        ({}, ["--all", "--webhook", "ftp://example.com/h"], "must be an http:// or https:// URL"),
        ({}, ["--all", "--webhook", "http://example.com:99999/h"], "is not a URL"),
        ({}, ["--all", "--exec", "no-such-command-here --x"], "'no-such-command-here' is not an executable"),
        ({}, ["--all", "--exec", "'unclosed"], "cannot be split into words"),
        ({}, ["--all", "--exec", ""], "--exec needs a command"),
        ({}, ["--all", "--exec", "true", "--poll-seconds", "0"], "--poll-seconds '0' must be a number of seconds"),
        ({}, ["--all", "--exec", "true", "--poll-seconds", "nan"], "--poll-seconds 'nan'"),
        ({}, ["--all", "--exec", "true", "--poll-seconds", "soon"], "--poll-seconds 'soon'"),
        ({}, ["--all", "--exec", "true", "--retry-for", "-1"], "--retry-for '-1'"),
        ({}, ["--all", "--exec", "true", "--secret-env", "1-bad"], "must be an environment variable name"),
        ({}, ["--all", "--webhook", "http://127.0.0.1:9/h"], "which is not set: make one with `aural-mcp watch --new-secret`"),
        (
            {"AURAL_WEBHOOK_SECRET": "whsec_@@NOT-BASE64@@"},
            ["--all", "--webhook", "http://127.0.0.1:9/h"],
            "is not valid base64; make one with `aural-mcp watch --new-secret`",
        ),
        (
            {"HOOK_KEY": "whsec_c2hvcnQ="},
            ["--all", "--webhook", "http://127.0.0.1:9/h", "--secret-env", "HOOK_KEY"],
            "usable signing secret in HOOK_KEY: the webhook secret decodes to 5 bytes",
        ),
        (
            {"AURAL_WEBHOOK_SECRET": generate_secret() + " whsec_@@NOT-BASE64@@"},
            ["--all", "--webhook", "http://127.0.0.1:9/h"],
            "usable signing secret 2 of 2 in AURAL_WEBHOOK_SECRET",
        ),
        ({}, ["--replay", "evt_x", "--exec", "true"], "--replay 'evt_x' is not an event id"),
        ({}, ["--replay", "evt_" + "0" * 24, "--exec", "true", "--once"], "drop --once"),
        ({}, ["--all", "--exec", "true"], "AURAL_API_KEY is not set"),
        ({"AURAL_API_KEY": KEY}, ["--all", "--exec", "true", "--rate-limit", "fast"], "N/SECONDS"),
        ({"AURAL_API_KEY": KEY}, ["--all", "--exec", "true", "--watch-share", "2"], "--watch-share='2'"),
        ({"AURAL_API_KEY": KEY}, ["--all", "--exec", "true", "--base-url", "ftp://x"], "must be an http(s) URL"),
        ({"AURAL_API_KEY": KEY}, ["--all", "--exec", "true", "--state", "/"], "choose another file with --state"),
    ],
)
def test_bad_flags_get_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    env: dict[str, str],
    argv: list[str],
    message: str,
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = main(["watch", *argv])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert message in err
    assert err.count("\n") == 1 and err.startswith("aural-mcp watch: ")  # one line, no traceback
    assert "NOT-BASE64" not in err  # a bad secret is never echoed
    assert list(tmp_path.iterdir()) == []  # nothing was started, no state file made


def test_new_secret_prints_a_usable_secret_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["watch", "--new-secret"]) == 0
    out, err = capsys.readouterr()
    secret = out.strip()
    assert out.count("\n") == 1 and len(parse_secret(secret)) == 32
    assert secret not in err and "export AURAL_WEBHOOK_SECRET=" in err
    assert main(["watch", "--new-secret"]) == 0
    assert capsys.readouterr().out.strip() != secret


def test_a_missing_state_event_for_replay_is_a_flag_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AURAL_WATCH_STATE", str(tmp_path / "state.sqlite3"))  # no key needed with a state file
    code = main(["watch", "--replay", "evt_" + "0" * 24, "--exec", "true"])
    err = capsys.readouterr().err
    assert code == 2 and "no such event in the state file" in err and err.count("\n") == 1


# ---------------------------------------------------------------- the real command


def _sessions(world: SandboxWorld, iid: str, *statuses: str) -> list[str]:
    return [world.sb.simulate_session(iid, status=s, seed=i)["id"] for i, s in enumerate(statuses)]


def _expected(world: SandboxWorld, session_ids: list[str]) -> dict[str, list[str]]:
    """The events each session's final state calls for, in order, from what the sandbox holds."""
    from aural_mcp.watch.detector import analyzed

    expected: dict[str, list[str]] = {}
    for sid in session_ids:
        row = world.sb.store.get("sessions", sid)
        kinds = ["session.started"]
        if row["status"] == "COMPLETED":
            kinds.append("session.completed")
        if row["status"] == "ABANDONED":
            kinds.append("session.abandoned")
        if analyzed(row):
            kinds.append("session.analyzed")
        expected[sid] = kinds
    return expected


def _per_session(receiver: Receiver) -> dict[str, list[str]]:
    got: dict[str, list[str]] = {}
    for d in receiver.first_deliveries().values():
        got.setdefault(d.payload["data"]["sessionId"], []).append(d.payload["type"])
    return got


def test_once_delivers_what_is_due_and_its_exit_code_says_whether_something_is_left(
    world: SandboxWorld, tmp_path: Path
) -> None:
    secret = generate_secret()
    state = tmp_path / "state.sqlite3"
    status = {"code": 204}
    receiver = Receiver(secret, answer=lambda n: status["code"])
    iid = world.interview()
    _sessions(world, iid, "COMPLETED")  # before the first pass: the baseline, never announced
    with receiving(receiver):
        url = receiver.url + "?token=query-s3cret"
        env = watch_env(world, secret)
        args = ["--interview", iid, "--webhook", url, "--state", str(state)]

        first = run_watch(["--once", *args], env)
        assert first.returncode == 0, first.stderr
        assert receiver.requests == [] and "watch: found" not in first.stderr  # no pass line: nothing happened
        assert "summary: 1 interview(s) watched; this run found 0 event(s)" in first.stderr

        later = _sessions(world, iid, "COMPLETED", "ABANDONED")
        second = run_watch(["--once", *args], env)
        assert second.returncode == 0, second.stderr
        assert _per_session(receiver) == _expected(world, later)
        assert "found 5 event(s)" in second.stderr and "delivered 5; queued 0, retrying 0, dead 0" in second.stderr
        assert receiver.rejected == []
        assert all(d.headers["user-agent"].startswith("aural-mcp-watch/") for d in receiver.requests)
        for d in receiver.requests:  # the payloads follow the schema docs/webhooks.md shows
            Draft202012Validator(EVENT_SCHEMA).validate(d.payload)
        first_seen = receiver.requests[0]
        assert first_seen.webhook_id == first_seen.payload["id"] == event_id(first_seen.payload["type"], first_seen.payload["data"]["sessionId"])

        status["code"] = 500
        (failing,) = _sessions(world, iid, "ABANDONED")
        third = run_watch(["--once", *args], env)
        assert third.returncode == 1, third.stderr  # something is left retrying
        assert "1 failed (last: session.started evt_" in third.stderr and "HTTP 500" in third.stderr
        assert "retrying 1" in third.stderr
        assert [d.payload["data"]["sessionId"] for d in receiver.requests[-1:]] == [failing]
        assert len(receiver.requests) == 6  # the abandoned event waits behind its session's start

        status["code"] = 204
        started_id = event_id("session.started", failing)
        replay = run_watch(["--replay", started_id, "--webhook", url, "--state", str(state)], env)
        assert replay.returncode == 0, replay.stderr
        assert f"replayed {started_id} (session.started) to {receiver.url}: HTTP 204" in replay.stderr
        fourth = run_watch(["--once", *args], env)  # the session's next event goes now
        assert fourth.returncode == 0, fourth.stderr
        assert _per_session(receiver)[failing] == ["session.started", "session.abandoned"]
        again = run_watch(["--replay", started_id, "--webhook", url, "--state", str(state)], env)
        assert again.returncode == 0  # a delivered event can be re-sent too: same webhook-id
        assert [d.webhook_id for d in receiver.requests].count(started_id) == 3

        status["code"] = 503
        failed_replay = run_watch(["--replay", started_id, "--webhook", url, "--state", str(state)], env)
        assert failed_replay.returncode == 1 and "failed: HTTP 503" in failed_replay.stderr

    for run in (first, second, third, replay, fourth, again, failed_replay):
        for secret_text in (secret, secret.removeprefix("whsec_"), world.key, "query-s3cret"):
            assert secret_text not in run.stderr and secret_text not in run.stdout
    on_disk = state_bytes(state)
    for secret_text in (secret, secret.removeprefix("whsec_"), world.key, "query-s3cret"):
        assert secret_text.encode() not in on_disk


def test_a_redirect_is_a_failure_and_is_not_followed(world: SandboxWorld, tmp_path: Path) -> None:
    secret = generate_secret()
    receiver = Receiver(secret, answer=lambda n: 302)
    iid = world.interview()
    with receiving(receiver, location="/elsewhere"):
        env = watch_env(world, secret)
        args = ["--once", "--interview", iid, "--webhook", receiver.url, "--state", str(tmp_path / "s.sqlite3")]
        assert run_watch(args, env).returncode == 0  # the baseline
        _sessions(world, iid, "ABANDONED")
        result = run_watch(args, env)
    assert result.returncode == 1
    assert "HTTP 302 (redirects are not followed: point --webhook at the final URL)" in result.stderr
    assert len(receiver.requests) == 1  # one POST for the session's first event, no second to /elsewhere


def test_while_a_secret_is_rotated_each_delivery_is_signed_with_both(world: SandboxWorld, tmp_path: Path) -> None:
    old, new = generate_secret(), generate_secret()
    receiver = Receiver(new)  # a receiver already switched to the new secret
    iid = world.interview()
    with receiving(receiver):
        env = watch_env(world, f"{old} {new}")
        args = ["--once", "--interview", iid, "--webhook", receiver.url, "--state", str(tmp_path / "s.sqlite3")]
        assert run_watch(args, env).returncode == 0
        _sessions(world, iid, "ABANDONED")
        result = run_watch(args, env)
    assert result.returncode == 0, result.stderr
    assert receiver.rejected == [] and len(receiver.requests) == 2
    for d in receiver.requests:
        assert len(d.headers["webhook-signature"].split(" ")) == 2
        Webhook(old).verify(compact(d.payload), d.headers)  # a receiver still on the old secret accepts it too
    assert old not in result.stderr and new not in result.stderr


HANDLER = textwrap.dedent(
    """
    import os, pathlib, sys
    out = pathlib.Path(sys.argv[1])
    body = sys.stdin.buffer.read()
    if "AURAL_API_KEY" in os.environ or "AURAL_WEBHOOK_SECRET" in os.environ:
        sys.exit(9)
    if (out / "fail-next").exists():
        (out / "fail-next").unlink()
        sys.exit(3)
    (out / (os.environ["WEBHOOK_ID"] + "." + os.environ["WEBHOOK_TYPE"])).write_bytes(body)
    """
)


def test_exec_runs_a_command_per_event_with_the_json_on_stdin(world: SandboxWorld, tmp_path: Path) -> None:
    import json

    script = tmp_path / "handler.py"
    script.write_text(HANDLER)
    out = tmp_path / "out"
    out.mkdir()
    iid = world.interview()
    env = watch_env(world, None, AURAL_WEBHOOK_SECRET=generate_secret())
    command = f"{sys.executable} {script} {out}"
    args = ["--once", "--interview", iid, "--exec", command, "--state", str(tmp_path / "s.sqlite3")]
    assert run_watch(args, env).returncode == 0
    (sid,) = _sessions(world, iid, "ABANDONED")
    (out / "fail-next").touch()
    failed = run_watch(args, env)
    assert failed.returncode == 1 and "exit status 3" in failed.stderr
    assert sorted(p.name for p in out.iterdir()) == []
    time.sleep(1.3)  # the first retry is due about a second later
    retried = run_watch(args, env)
    assert retried.returncode == 0, retried.stderr
    files = sorted(out.iterdir(), key=lambda p: p.stat().st_mtime_ns)
    assert [p.name for p in files] == [
        f"{event_id('session.started', sid)}.session.started",
        f"{event_id('session.abandoned', sid)}.session.abandoned",
    ]
    payload = json.loads(files[0].read_bytes())
    assert payload["id"] == event_id("session.started", sid) and payload["data"]["sessionId"] == sid
    assert files[0].read_bytes() == json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def test_an_event_failing_past_retry_for_is_a_dead_letter_and_replay_sends_it(
    world: SandboxWorld, tmp_path: Path
) -> None:
    secret = generate_secret()
    state = tmp_path / "s.sqlite3"
    status = {"code": 500}
    receiver = Receiver(secret, answer=lambda n: status["code"])
    iid = world.interview()
    with receiving(receiver):
        env = watch_env(world, secret)
        args = ["--interview", iid, "--webhook", receiver.url, "--state", str(state), "--retry-for", "2"]
        assert run_watch(["--once", *args], env).returncode == 0
        (sid,) = _sessions(world, iid, "ABANDONED")
        assert run_watch(["--once", *args], env).returncode == 1
        time.sleep(2.2)
        died = run_watch(["--once", *args], env)
        assert died.returncode == 1
        started_id, abandoned_id = event_id("session.started", sid), event_id("session.abandoned", sid)
        assert f"dead letter: {started_id} (session.started) failed for 2 s, last HTTP 500" in died.stderr
        # the session's next event went on once the first was dead
        assert [d.webhook_id for d in receiver.requests] == [started_id, started_id, abandoned_id]
        with sqlite3.connect(state) as db:
            dead = db.execute("SELECT event_id, attempts, last_error FROM dead_letters").fetchall()
        assert dead == [(started_id, 2, "HTTP 500")]

        status["code"] = 204
        replay = run_watch(["--replay", started_id, *args[2:]], env)
        assert replay.returncode == 0, replay.stderr
        with sqlite3.connect(state) as db:
            assert db.execute("SELECT count(*) FROM dead_letters").fetchone()[0] == 0
            assert db.execute("SELECT event_id FROM deliveries").fetchall() == [(started_id,)]


def test_sigterm_lets_the_delivery_in_flight_finish_and_exits_0(world: SandboxWorld, tmp_path: Path) -> None:
    secret = generate_secret()
    state = tmp_path / "s.sqlite3"
    arrived = threading.Event()

    def slow(n: int) -> int:
        arrived.set()
        time.sleep(1.5)  # the answer comes after the signal
        return 204

    receiver = Receiver(secret, answer=slow)
    iid = world.interview()
    with receiving(receiver):
        env = watch_env(world, secret)
        args = ["--interview", iid, "--webhook", receiver.url, "--state", str(state), "--poll-seconds", "0.2"]
        assert run_watch(["--once", *args], env).returncode == 0
        (sid,) = _sessions(world, iid, "ABANDONED")
        log = tmp_path / "stderr.txt"
        with log.open("w") as err, started([*AURAL_MCP, "watch", *args], env=env, stderr=err, stdin=subprocess.DEVNULL) as proc:
            assert arrived.wait(30), log.read_text()
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(20) == 0
        text = log.read_text()
        assert "summary:" in text and "Traceback" not in text
        with sqlite3.connect(state) as db:  # the answer was recorded before exiting
            assert db.execute("SELECT event_id FROM deliveries").fetchall() == [(event_id("session.started", sid),)]
        assert len(receiver.requests) == 1  # nothing new was started after the signal
        rest = run_watch(["--once", *args], env)  # the next run sends the rest, not the acknowledged one
        assert rest.returncode == 0, rest.stderr
        assert [d.webhook_id for d in receiver.requests] == [
            event_id("session.started", sid),
            event_id("session.abandoned", sid),
        ]


def test_a_second_process_on_the_same_state_and_target_is_refused_until_the_first_is_gone(
    world: SandboxWorld, tmp_path: Path
) -> None:
    secret = generate_secret()
    state = tmp_path / "s.sqlite3"
    receiver = Receiver(secret)
    iid = world.interview()
    with receiving(receiver):
        env = watch_env(world, secret)
        args = ["--interview", iid, "--webhook", receiver.url, "--state", str(state), "--poll-seconds", "0.2"]
        log = tmp_path / "stderr.txt"
        with log.open("w") as err, started([*AURAL_MCP, "watch", *args], env=env, stderr=err, stdin=subprocess.DEVNULL) as first:
            wait_until(lambda: "watching 1 interview" in log.read_text(), 30, "the first watcher to start")
            second = run_watch(["--once", *args], env)
            assert second.returncode == 2
            assert f"another aural-mcp watch (PID {first.pid} on" in second.stderr and "--state" in second.stderr
            other = run_watch(["--once", *args[:3], receiver.url + "?other", *args[4:]], env)
            assert other.returncode == 0, other.stderr  # another target from the same file is not held up
            first.send_signal(signal.SIGKILL)
            first.wait(20)
        # Killed without a word: its claim is left behind, and the next process sees it is gone.
        again = run_watch(["--once", *args], env)
        assert again.returncode == 0, again.stderr
