"""`AuralClient`: the async client of the Aural Developer API.

`call(operation, args)` runs any registry operation (`aural_mcp.operations`): `requests.py`
builds the request from the registry, `sending.py` sends it (authentication, pacing, bounded
attempts, retries, size limits, key masking) and `envelope.py` checks the answer against the
operation's response description. What `call()` returns is always the API's envelope: `data` of
the operation's kind, odd rows skipped. The typed methods (`create_interview`, `list_sessions`,
...) are thin wrappers that validate the answer into models, which read rows leniently
(`models.py`): unknown enum values, any JSON in `options`/`starterCode`, nulls anywhere and extra
fields never fail a read.
"""

from __future__ import annotations

import importlib.util
import math
import os
import re
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import httpx2
from pydantic import BaseModel, ValidationError

from .. import operations
from ..settings import DEFAULT_MAX_RESPONSE_BYTES, account_fingerprint
from . import envelope, errors, requests
from .pacing import DEFAULT_BACKGROUND_SHARE, BudgetStore, OnWait, Pacer, SharedBudget
from .sending import Limits, Sender


def _lazy_module(name: str) -> ModuleType:
    """The module `name`, executed on first attribute access (the stdlib LazyLoader recipe)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.loader is not None
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


if TYPE_CHECKING:
    from aural_mcp.watch import Event, WatchState

    from . import models
else:
    # The typed methods need the models; `call()` (all an MCP server uses) does not. Building the
    # model classes costs tens of ms at start-up, so the module loads on first attribute access.
    models = _lazy_module("aural_mcp.api.models")

__all__ = ["DEFAULT_BASE_URL", "AuralClient", "models"]

DEFAULT_BASE_URL = "https://aural-ai.com/api/v1"
USER_AGENT = "aural-mcp-python"

_KEY_RE = re.compile(r"^dlv_[!-~]+$")  # the prefix, then visible ASCII only (no spaces, no newlines)

M = TypeVar("M", bound=BaseModel)


def _check_number(
    name: str, value: Any, expected: str, *, integer: bool = False, minimum: float | None = None
) -> None:
    """Reject a constructor argument that is not a usable number, naming it and the fix."""
    kinds: tuple[type, ...] = (int,) if integer else (int, float)
    usable = isinstance(value, kinds) and not isinstance(value, bool)
    if usable and not integer:
        usable = math.isfinite(value)
    if usable:
        usable = value >= minimum if minimum is not None else value > 0
    if not usable:
        raise errors.ConfigurationError(
            f"{name} must be {expected}; got {operations.show_input(value)}. Pass {name}=... with such a value."
        )


class AuralClient:
    """Async client of the Aural Developer API (`/api/v1`).

    ```python
    async with AuralClient() as aural:  # key from AURAL_API_KEY
        interview = await aural.create_interview("Backend engineer screen")
    ```
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        rate_limit: int = 60,
        rate_window: float = 60.0,
        timeout: float = 30.0,
        max_retries: int = 4,
        transport: httpx2.AsyncBaseTransport | None = None,
        backoff_base: float = 0.5,
        max_backoff: float = 8.0,
        max_retry_wait: float = 120.0,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        background_share: float = DEFAULT_BACKGROUND_SHARE,
        budget_store: BudgetStore | None = None,
    ) -> None:
        """`budget_store` (a team store, `aural_mcp.team.store.TeamStore`): share this key's rate budget
        with every client of the same key and base URL on that store (a team server's replicas)."""
        key = api_key if api_key is not None else os.environ.get("AURAL_API_KEY")
        key = (key or "").strip()
        if not key:
            raise errors.ConfigurationError(
                "No Aural API key. Pass api_key=... or set the AURAL_API_KEY environment variable. "
                "Keys start with dlv_ and are created in the Aural dashboard under Settings → API Keys; "
                "for local testing, `aural-mcp sandbox` prints one."
            )
        if not _KEY_RE.match(key):
            raise errors.ConfigurationError(
                "The Aural API key is malformed: it must start with dlv_ and contain no spaces. "
                "Copy the whole key from Settings → API Keys (it is shown once) into AURAL_API_KEY."
            )
        url = (base_url or os.environ.get("AURAL_BASE_URL") or DEFAULT_BASE_URL).strip().rstrip("/")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise errors.ConfigurationError(
                f"base_url {url!r} must be an http(s) URL such as {DEFAULT_BASE_URL} "
                "or http://127.0.0.1:8000/api/v1 (set AURAL_BASE_URL or pass base_url=...)."
            )
        _check_number("rate_limit", rate_limit, "an integer >= 1, for example 60", integer=True, minimum=1)
        _check_number("rate_window", rate_window, "a finite number of seconds > 0, for example 60.0")
        _check_number("timeout", timeout, "a finite number of seconds > 0, for example 30.0")
        _check_number("max_retries", max_retries, "an integer >= 0, for example 4", integer=True, minimum=0)
        _check_number(
            "max_response_bytes",
            max_response_bytes,
            f"an integer > 0, for example {DEFAULT_MAX_RESPONSE_BYTES} (16 MiB)",
            integer=True,
            minimum=1,
        )
        for name, value, example in (
            ("backoff_base", backoff_base, 0.5),
            ("max_backoff", max_backoff, 8.0),
            ("max_retry_wait", max_retry_wait, 120.0),
        ):
            _check_number(name, value, f"a finite number of seconds >= 0, for example {example}", minimum=0)

        if isinstance(background_share, bool) or not isinstance(background_share, int | float) or not (
            0 < background_share <= 1
        ):
            raise errors.ConfigurationError(
                f"background_share must be a fraction in (0, 1], for example 0.2; got "
                f"{operations.show_input(background_share)}. Pass background_share=... (AURAL_WATCH_SHARE)."
            )
        self.base_url = url
        self.account = account_fingerprint(url, key)  # names the watcher's state file; not the key
        # Paths outside /api/v1 (the sandbox's /sandbox/...) are relative to the deployment root.
        root = url[: -len("/api/v1")] if url.endswith("/api/v1") else f"{parts.scheme}://{parts.netloc}"
        self.root_url = root.rstrip("/")
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        self._sender = Sender(
            key,
            base_url=url,
            limits=Limits(
                timeout, max_retries, backoff_base, max_backoff, max_retry_wait, max_response_bytes
            ),
            pacer=Pacer(
                rate_limit,
                rate_window,
                background_share=background_share,
                shared_budget=None
                if budget_store is None
                else SharedBudget(budget_store, f"rate:{self.account}", rate_limit, rate_window, hold=timeout),
            ),
            http_options={
                "transport": transport,
                "timeout": httpx2.Timeout(timeout),
                "follow_redirects": False,
                # proxy settings from the environment never apply to a loopback sandbox
                "trust_env": transport is None and parts.hostname not in ("127.0.0.1", "localhost", "::1"),
                "headers": {"User-Agent": USER_AGENT, "Accept": "application/json"},
            },
        )

    # --- settings and counters, as the sender holds them -------------------------------------------

    @property
    def pacer(self) -> Pacer:
        return self._sender.pacer

    @property
    def stats(self) -> dict[str, int]:
        """Counters: attempts sent, retries, 429 answers, unknown outcomes, rows skipped."""
        return self._sender.stats

    @property
    def timeout(self) -> float:
        return self._sender.limits.timeout

    @property
    def max_retries(self) -> int:
        return self._sender.limits.max_retries

    @property
    def backoff_base(self) -> float:
        return self._sender.limits.backoff_base

    @property
    def max_backoff(self) -> float:
        return self._sender.limits.max_backoff

    @property
    def max_retry_wait(self) -> float:
        return self._sender.limits.max_retry_wait

    @property
    def max_response_bytes(self) -> int:
        return self._sender.limits.max_response_bytes

    # --- lifecycle -----------------------------------------------------------------------------

    @classmethod
    def from_settings(
        cls, settings: Any, transport: httpx2.AsyncBaseTransport | None = None, budget_store: BudgetStore | None = None
    ) -> AuralClient:
        """Build a client from `aural_mcp.settings.Settings` (or anything with the same attributes)."""
        return cls(
            getattr(settings, "api_key", None),
            base_url=getattr(settings, "base_url", None),
            rate_limit=getattr(settings, "rate_limit", 60),
            rate_window=getattr(settings, "rate_window", 60.0),
            timeout=getattr(settings, "timeout", 30.0),
            max_response_bytes=getattr(settings, "max_response_bytes", DEFAULT_MAX_RESPONSE_BYTES),
            background_share=getattr(settings, "watch_share", DEFAULT_BACKGROUND_SHARE),
            transport=transport,
            budget_store=budget_store,
        )

    def __repr__(self) -> str:
        return (
            f"AuralClient(base_url={self.base_url!r}, api_key='dlv_…', "
            f"rate_limit={self.rate_limit}/{self.rate_window:g}s)"
        )

    async def __aenter__(self) -> AuralClient:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._sender.aclose()

    @property
    def is_closed(self) -> bool:
        return self._sender.closed

    # --- the generic core ------------------------------------------------------------------

    async def call(
        self,
        operation: str,
        args: dict[str, Any] | None = None,
        *,
        background: bool = False,
        on_wait: OnWait | None = None,
    ) -> dict[str, Any]:
        """Run a registry operation with its API-named arguments; return the decoded JSON envelope,
        checked against the operation's response (`data` of its kind, odd rows skipped).

        `background=True` (the session watcher's polls) sends it only when no other request is
        waiting and within the pacer's background share of the rate limit. `on_wait(seconds_left)`
        is awaited while pacing holds the request for more than a second, about every second."""
        op = requests.operation(operation)
        args = dict(args or {})
        request = requests.build(op, args)
        check = operations.outcome_check_text(op, args)
        payload = await self._sender.send(
            request.method,
            self.base_url + request.path,
            params=request.params,
            content=request.content,
            retry_safe=op.retry_safe,
            label=op.name,
            check=check,
            background=background,
            on_wait=on_wait,
        )
        return envelope.checked(op, payload, check=check, sender=self._sender)

    async def raw_request(
        self, method: str, path: str, json: Any = None, *, idempotent: bool = False
    ) -> dict[str, Any]:
        """A keyed request to a path relative to the deployment root (e.g. `/sandbox/...`).

        Same authentication, pacing, errors and retry rules as `call`; `idempotent=False` means the
        request is never repeated once it may have reached the server.
        """
        if not path.startswith("/"):
            path = "/" + path
        method = method.upper()
        label = f"{method} {path}"
        check = None
        if not idempotent:
            m = re.search(r"/interviews/([^/]+)/", path)
            check = (
                f"call list_sessions for interview {m.group(1)} to see whether it took effect before repeating it"
                if m and path.endswith("/simulate")
                else f"check whether {method} {path} took effect (list the resource) before repeating it"
            )
        return await self._sender.send(
            method,
            self.root_url + path,
            params=None,
            content=None if json is None else requests.json_content(json, label),
            retry_safe=idempotent,
            label=label,
            check=check,
        )

    async def openapi(self) -> dict[str, Any]:
        """The API's OpenAPI document (public: sent without the key and not paced)."""
        return await self._sender.send(
            "GET",
            self.base_url + "/openapi.json",
            params=None,
            content=None,
            retry_safe=True,
            label="openapi",
            check=None,
            keyed=False,
        )

    async def _data(self, operation: str, args: dict[str, Any]) -> Any:
        return (await self.call(operation, args)).get("data")

    # --- interviews -----------------------------------------------------------------------------

    async def list_interviews(
        self, limit: int | None = None, cursor: str | None = None
    ) -> models.Page[models.InterviewListItem]:
        """One page, most recently updated first. The boundary item repeats on the next page."""
        payload = await self.call("list_interviews", {"limit": limit, "cursor": cursor})
        return _validate(models.Page[models.InterviewListItem], payload)

    async def get_interview(self, interview_id: str) -> models.InterviewDetail:
        return _validate(
            models.InterviewDetail, await self._data("get_interview", {"interviewId": interview_id})
        )

    async def create_interview(self, title: str, **fields: Any) -> models.Interview:
        """Create an interview (invite-only, with a slug). Fields use the API's names (aiTone, ...)."""
        data = await self._data("create_interview", {"title": title, **fields})
        return _validate(models.Interview, data)

    async def update_interview(self, interview_id: str, **fields: Any) -> models.Interview:
        """Change the given fields; a None value clears a nullable field (description, timeLimitMinutes...)."""
        data = await self._data("update_interview", {"interviewId": interview_id, **fields})
        return _validate(models.Interview, data)

    async def archive_interview(self, interview_id: str) -> models.ArchiveResult:
        data = await self._data("archive_interview", {"interviewId": interview_id})
        return _validate(models.ArchiveResult, data)

    async def publish_interview(self, interview_id: str) -> models.PublishResult:
        data = await self._data("publish_interview", {"interviewId": interview_id})
        return _validate(models.PublishResult, data)

    # --- questions ------------------------------------------------------------------------------

    async def list_questions(self, interview_id: str) -> list[models.Question]:
        data = await self._data("list_questions", {"interviewId": interview_id})
        return [_validate(models.Question, q) for q in data or []]

    async def add_questions(
        self, interview_id: str, questions: list[dict[str, Any]] | dict[str, Any]
    ) -> list[models.Question]:
        """Add one question or many (all or nothing), with the request names (`required`,
        `followUpEnabled`), not the names the API reads back (`isRequired`, `probeOnShort`)."""
        data = await self._data(
            "add_questions", {"interviewId": interview_id, "questions": _as_list(questions)}
        )
        return [_validate(models.Question, q) for q in _as_list(data)]

    async def update_question(self, question_id: str, **fields: Any) -> models.Question:
        data = await self._data("update_question", {"questionId": question_id, **fields})
        return _validate(models.Question, data)

    async def delete_question(self, question_id: str) -> models.DeleteResult:
        data = await self._data("delete_question", {"questionId": question_id})
        return _validate(models.DeleteResult, data)

    # --- candidates -----------------------------------------------------------------------------

    async def list_candidates(self, interview_id: str) -> list[models.Candidate]:
        data = await self._data("list_candidates", {"interviewId": interview_id})
        return [_validate(models.Candidate, c) for c in data or []]

    async def add_candidates(
        self, interview_id: str, candidates: list[dict[str, Any]] | dict[str, Any]
    ) -> list[models.CandidateWithInviteUrl]:
        data = await self._data(
            "add_candidates", {"interviewId": interview_id, "candidates": _as_list(candidates)}
        )
        return [_validate(models.CandidateWithInviteUrl, c) for c in _as_list(data)]

    async def update_candidate(
        self, interview_id: str, candidate_id: str, **fields: Any
    ) -> models.CandidateRow:
        data = await self._data(
            "update_candidate", {"interviewId": interview_id, "candidateId": candidate_id, **fields}
        )
        return _validate(models.CandidateRow, data)

    # --- sessions -------------------------------------------------------------------------------

    async def list_sessions(
        self, interview_id: str, limit: int | None = None, cursor: str | None = None
    ) -> models.Page[models.SessionListItem]:
        payload = await self.call(
            "list_sessions", {"interviewId": interview_id, "limit": limit, "cursor": cursor}
        )
        return _validate(models.Page[models.SessionListItem], payload)

    async def get_session(self, session_id: str) -> models.SessionDetail:
        return _validate(models.SessionDetail, await self._data("get_session", {"sessionId": session_id}))

    async def get_session_report(self, session_id: str) -> models.SessionReport:
        data = await self._data("get_session_report", {"sessionId": session_id})
        return _validate(models.SessionReport, data)

    async def end_sessions(
        self, interview_id: str, ids: list[str], dry_run: bool = True
    ) -> models.EndSessionsResult:
        """Preview (dry_run=True, the default) or complete in-progress sessions. Inspect every item."""
        data = await self._data(
            "end_sessions", {"interviewId": interview_id, "ids": list(ids), "dryRun": dry_run}
        )
        return _validate(models.EndSessionsResult, data)

    # --- practices and usage ----------------------------------------------------------------

    async def list_practices(
        self, interview_id: str, limit: int | None = None
    ) -> list[models.PracticeSummary]:
        data = await self._data("list_practices", {"interviewId": interview_id, "limit": limit})
        return [_validate(models.PracticeSummary, p) for p in data or []]

    async def get_practice(self, practice_id: str) -> models.PracticeReport:
        return _validate(models.PracticeReport, await self._data("get_practice", {"practiceId": practice_id}))

    async def get_usage(self) -> models.Usage:
        return _validate(models.Usage, await self._data("get_usage", {}))

    # --- pagination -----------------------------------------------------------------------------

    async def iter_interviews(self, page_size: int = 100) -> AsyncIterator[models.InterviewListItem]:
        """Every interview once. Follows cursors, drops the repeated boundary items, and stops when a
        page brings no new ids or a cursor comes back (the API silently restarts at page one on a cursor it does not know)."""
        seen: set[str] = set()
        cursors: set[str] = set()
        cursor: str | None = None
        while True:
            page = await self.call("list_interviews", {"limit": page_size, "cursor": cursor})
            new = 0
            for raw in page.get("data") or []:
                item = _validate(models.InterviewListItem, raw)
                if item.id in seen:
                    continue
                seen.add(item.id)
                new += 1
                yield item
            cursor = page.get("cursor")
            if not cursor or new == 0 or cursor in cursors:
                return
            cursors.add(cursor)

    async def iter_sessions(
        self, interview_id: str, page_size: int = 100, *, since: str | datetime | None = None
    ) -> AsyncIterator[models.SessionListItem]:
        """Every session of an interview, newest first, in constant memory (one page at a time).

        With `since` (an aware datetime, or ISO 8601 text such as "2026-12-01T09:00:00Z"), only the
        sessions started at or after it, and paging stops at the first older one: the list is
        ordered by start time. A row whose start time cannot be read is yielded and does not stop it.
        """
        start = _since(since)
        cursor: str | None = None
        previous: set[str] = set()
        while True:
            page = await self.call(
                "list_sessions", {"interviewId": interview_id, "limit": page_size, "cursor": cursor}
            )
            current: set[str] = set()
            for raw in page.get("data") or []:
                item = _validate(models.SessionListItem, raw)
                current.add(item.id)
                if item.id in previous:
                    continue
                started = item.createdAt
                if start is not None and isinstance(started, datetime):
                    if started.tzinfo is None:  # no offset given: the API's times are UTC
                        started = started.replace(tzinfo=UTC)
                    if started < start:
                        return
                yield item
            next_cursor = page.get("cursor")
            if not next_cursor or next_cursor == cursor or not (current - previous):
                return
            cursor, previous = next_cursor, current

    async def watch(
        self,
        interview_ids: list[str] | None = None,
        *,
        state: str | os.PathLike[str] | WatchState | None = None,
        since: str | None = None,
        poll_seconds: float = 30.0,
    ) -> AsyncIterator[Event]:
        """Session events as they are detected: `session.started`, `.completed`, `.abandoned`,
        `.analyzed` and `candidate.created`, oldest first, forever (break out of the loop to stop).

        `interview_ids=None` watches every interview the key can see. The state (what was seen,
        the events found) is kept in SQLite: `state` is a path, an open `WatchState`, or None for
        this account's file in the user's data folder, so a restart neither repeats old events nor
        misses what happened meanwhile. `since` is an `Event`'s cursor (`state.cursor(event.seq)`)
        to continue after; by default only events detected from now on are yielded. Polling uses
        at most the client's `background_share` of the rate limit, after any other request.

        ```python
        async for event in aural.watch([interview_id]):
            if event.type == "session.completed":
                ...
        ```
        """
        from aural_mcp.watch import Watcher, WatchState, default_state_path

        own = not isinstance(state, WatchState)
        store = state if isinstance(state, WatchState) else WatchState(state or default_state_path(self.account))
        try:
            watcher = Watcher(self, store, interviews=interview_ids, poll_seconds=poll_seconds)
            seq = store.last_seq() if since is None else store.seq_of(since)
            while True:
                await watcher.run_pass()
                for event in store.events_after(seq, interview_ids=None if watcher.watch_all else interview_ids):
                    seq = event.seq
                    yield event
                await watcher.sleep()
        finally:
            if own:
                store.close()

def _validate(model: type[M], data: Any) -> M:
    """Validate an answer into its model; a shape no model accepts becomes an SDK error."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first: dict[str, Any] = dict(exc.errors()[0]) if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ())) or "the answer"
        raise errors.ServerError(
            f"The request succeeded (HTTP 200) but the answer does not have the shape of {model.__name__}: "
            f"{where}: {first.get('msg', exc)}",
            status=200,
            code="INVALID_RESPONSE",
        ) from None


def _since(value: str | datetime | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise errors.ConfigurationError(
                f"since must be an ISO 8601 time such as 2026-12-01T09:00:00Z; got {operations.show_input(value)}"
            ) from None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise errors.ConfigurationError(
            "since must be a datetime with a time zone (datetime.now(UTC)) or ISO 8601 text with Z or an offset"
        )
    return value


def _as_list(data: Any) -> list[Any]:
    if data is None:
        return []
    return data if isinstance(data, list) else [data]
