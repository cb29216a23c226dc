"""`AuralClient`: the async client of the Aural Developer API.

One place builds requests: `call(operation, args)` reads the operation registry
(`aural_mcp.operations`), validates ids, fills the path, the query and the JSON body, and sends it
through `_send`, which owns authentication, pacing, retries and error mapping. The typed methods
(`create_interview`, `list_sessions`, ...) are thin wrappers that validate the answer into models.

Reliability rules:

- Every keyed request is paced client-side to `rate_limit` per `rate_window` (see `pacing.py`).
  A 429 blocks all requests for `retry_after` seconds and the request is retried (bounded).
- Operations marked `retry_safe` retry on network errors and 502/503/504 with jittered
  exponential backoff (bounded by `max_retries`).
- Creates are never repeated once they may have reached the server: a dropped connection, a
  timeout after sending, or a 502/503/504 raises `OutcomeUnknownError` with how to check.
  A connect error (nothing was sent) and a 429 (the server refused it) are retried.
- Each attempt is bounded in total (`timeout` covers connecting, sending and reading the whole
  answer, however slowly it trickles), and retries after failures stop once the attempts and
  their backoff would pass 5 x `timeout`: a call answers within about that, plus pacing and
  429 waits. The pacing slot is released when an attempt ends, however it ends.
- At most `max_response_bytes` of an answer are read; a larger one is an error naming the setting.
- The API key never appears in `repr()`, logs or exceptions. An answer that echoes the key (or
  `Bearer <key>`) has it replaced by its masked form in every string before anyone sees it.

What `call()` returns is always the API's envelope, checked against the operation:

- `data` must be present: a list for the list operations and the two bulk creates (a single
  object from a bulk create is read as a list of one), an object for every other operation.
  Anything else (no `data`, the wrong kind, a JSON scalar, HTML) is a typed error:
  `ServerError` with code `INVALID_RESPONSE`, or `OutcomeUnknownError` for a create.
- In a list of rows, a row that is not an object with an `id` is skipped and logged (a warning
  on the `aural_mcp.api` logger, counted in `stats["skipped_rows"]`), and the good rows are kept:
  one odd row never fails a read. A non-empty list with no usable row at all is `INVALID_RESPONSE`.
  Nested lists of objects (an interview's questions, a transcript's messages, bulk results)
  drop items that are not objects, the same way.
- Rows themselves are read leniently by the models (`models.py`): unknown enum values, any JSON
  in `options`/`starterCode`, nulls anywhere and extra fields never fail a read.
"""

from __future__ import annotations

import importlib.util
import json as _json
import logging
import math
import os
import random
import re
import sys
from collections.abc import AsyncIterator
from datetime import date, datetime
from enum import Enum
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import anyio
import httpx2
from pydantic import BaseModel, ValidationError

from .. import operations
from ..operations import Operation
from ..settings import DEFAULT_MAX_RESPONSE_BYTES, mask_secret
from . import errors
from .pacing import Pacer


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
    from . import models
else:
    # The typed methods need the models; `call()` (all an MCP server uses) does not. Building the
    # model classes costs tens of ms at start-up, so the module loads on first attribute access.
    models = _lazy_module("aural_mcp.api.models")

__all__ = ["DEFAULT_BASE_URL", "AuralClient", "models"]

log = logging.getLogger("aural_mcp.api")

DEFAULT_BASE_URL = "https://aural-ai.com/api/v1"
USER_AGENT = "aural-mcp-python"

_KEY_RE = re.compile(r"^dlv_[!-~]+$")  # the prefix, then visible ASCII only (no spaces, no newlines)

# Which tool lists the ids of each path argument (for error messages that say how to fix them).
_ID_SOURCES = {
    "interviewId": "list_interviews",
    "questionId": "list_questions (or get_interview)",
    "sessionId": "list_sessions",
    "candidateId": "list_candidates",
    "practiceId": "list_practices",
}

# Request names of renamed question fields: the read name -> the name the API accepts.
_QUESTION_RENAMES = {"isRequired": "required", "probeOnShort": "followUpEnabled"}

# Nothing was sent when these happen, so even a create may be tried again.
_NOT_SENT = (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout, httpx2.UnsupportedProtocol)
_RETRY_STATUSES = frozenset({502, 503, 504})
# Retries after failures stop once the attempts and their backoff would pass this many timeouts.
CALL_TIMEOUTS = 5

# Operations whose `data` is a list of rows (each an object with an `id`); every other operation
# answers one object. The bulk creates are always answered with a list, even for one item.
_LIST_DATA = frozenset(
    {"list_interviews", "list_questions", "list_candidates", "list_sessions", "list_practices",
     "add_questions", "add_candidates"}
)
# Lists of objects inside an object answer.
_NESTED_LISTS: dict[str, tuple[str, ...]] = {
    "get_interview": ("questions",),
    "get_session": ("messages",),
    "get_session_report": ("messages",),
    "get_practice": ("questions", "attempts"),
    "end_sessions": ("results",),
}

M = TypeVar("M", bound=BaseModel)


def _json_default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


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


def _types(schema: dict[str, Any]) -> set[str]:
    t = schema.get("type")
    if isinstance(t, list):
        return set(t)
    return {t} if isinstance(t, str) else set()


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def _short(text: str, n: int = 60) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _decode_json_text(value: Any, kinds: Any) -> Any:
    """Arrays and objects that arrive as JSON text (some MCP clients send them so) are decoded."""
    if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
        try:
            decoded = _json.loads(value)
        except ValueError:
            return value
        if isinstance(decoded, kinds):
            return decoded
    return value


_INT_TEXT = re.compile(r"^-?\d+$")


def _normalize(value: Any, schema: dict[str, Any]) -> Any:
    """Bring a value to the JSON type its registry schema declares, where that is unambiguous.

    The API reads booleans by truthiness on questions (the string "false" means true) and rejects
    numeric strings elsewhere, so "true"/"false" and integer text are sent as real JSON booleans
    and integers; arrays and objects sent as JSON text are decoded. Nothing
    else is changed: the API's own validation stays the judge.
    """
    types = _types(schema)
    if isinstance(value, str) and "string" not in types:
        kinds = tuple(k for t, k in (("array", list), ("object", dict)) if t in types)
        if kinds:
            value = _decode_json_text(value, kinds)
        elif "boolean" in types and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        elif "integer" in types and _INT_TEXT.match(value.strip()):
            return int(value.strip())
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_normalize(v, schema["items"]) for v in value]
    if isinstance(value, dict) and isinstance(schema.get("properties"), dict):
        props = schema["properties"]
        return {k: _normalize(v, props[k]) if k in props else v for k, v in value.items()}
    return value


def _rename_question(item: Any) -> Any:
    """Accept the read names (`isRequired`, `probeOnShort`) as aliases of the request names."""
    if not isinstance(item, dict):
        return item
    out = dict(item)
    for read_name, request_name in _QUESTION_RENAMES.items():
        if read_name in out:
            value = out.pop(read_name)
            out.setdefault(request_name, value)
    return out


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
    ) -> None:
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

        self.__key = key  # name-mangled and never printed
        self.base_url = url
        # Paths outside /api/v1 (the sandbox's /sandbox/...) are relative to the deployment root.
        root = url[: -len("/api/v1")] if url.endswith("/api/v1") else f"{parts.scheme}://{parts.netloc}"
        self.root_url = root.rstrip("/")
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.max_backoff = max_backoff
        self.max_retry_wait = max_retry_wait
        self.max_response_bytes = max_response_bytes
        self.pacer = Pacer(rate_limit, rate_window)
        # Counters for monitoring and tests: attempts sent, retries, 429 answers, unknown outcomes.
        # Rows skipped because they are not objects with an id are counted too.
        self.stats: dict[str, int] = {
            "requests": 0, "retries": 0, "rate_limited": 0, "outcome_unknown": 0, "skipped_rows": 0
        }
        self._http_options: dict[str, Any] = {
            "transport": transport,
            "timeout": httpx2.Timeout(timeout),
            "follow_redirects": False,
            # proxy settings from the environment never apply to a loopback sandbox
            "trust_env": transport is None and parts.hostname not in ("127.0.0.1", "localhost", "::1"),
            "headers": {"User-Agent": USER_AGENT, "Accept": "application/json"},
        }
        self._http_client: httpx2.AsyncClient | None = None
        self._closed = False

    # --- lifecycle -----------------------------------------------------------------------------

    @classmethod
    def from_settings(cls, settings: Any, transport: httpx2.AsyncBaseTransport | None = None) -> AuralClient:
        """Build a client from `aural_mcp.settings.Settings` (or anything with the same attributes)."""
        return cls(
            getattr(settings, "api_key", None),
            base_url=getattr(settings, "base_url", None),
            rate_limit=getattr(settings, "rate_limit", 60),
            rate_window=getattr(settings, "rate_window", 60.0),
            timeout=getattr(settings, "timeout", 30.0),
            max_response_bytes=getattr(settings, "max_response_bytes", DEFAULT_MAX_RESPONSE_BYTES),
            transport=transport,
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
        self._closed = True
        if self._http_client is not None:
            await self._http_client.aclose()

    @property
    def is_closed(self) -> bool:
        return self._closed

    @property
    def _http(self) -> httpx2.AsyncClient:
        # Built on first request, not in __init__: creating it loads the TLS trust store (tens of
        # ms), which a stdio MCP server would otherwise pay before it can answer `initialize`.
        if self._closed:
            raise errors.ConfigurationError("this AuralClient is closed; create a new one.")
        if self._http_client is None:
            self._http_client = httpx2.AsyncClient(**self._http_options)
        return self._http_client

    # --- the generic core ------------------------------------------------------------------

    async def call(self, operation: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run a registry operation with its API-named arguments; return the decoded JSON envelope,
        checked as the module docstring says (`data` of the operation's kind, odd rows skipped)."""
        op = self._operation(operation)
        method, path, params, body, has_body = self._build(op, dict(args or {}))
        check = None if op.retry_safe else self._check_text(op, args or {})
        payload = await self._send(
            method,
            self.base_url + path,
            params=params,
            body=body,
            has_body=has_body,
            retry_safe=op.retry_safe,
            label=op.name,
            check=check,
        )
        return self._envelope(op, payload, check)

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
        check = None
        if not idempotent:
            m = re.search(r"/interviews/([^/]+)/", path)
            check = (
                f"call list_sessions for interview {m.group(1)} to see whether it took effect before repeating it"
                if m and path.endswith("/simulate")
                else f"check whether {method} {path} took effect (list the resource) before repeating it"
            )
        return await self._send(
            method,
            self.root_url + path,
            params=None,
            body=json,
            has_body=json is not None,
            retry_safe=idempotent,
            label=f"{method} {path}",
            check=check,
        )

    async def openapi(self) -> dict[str, Any]:
        """The API's OpenAPI document (public: sent without the key and not paced)."""
        return await self._send(
            "GET",
            self.base_url + "/openapi.json",
            params=None,
            body=None,
            has_body=False,
            retry_safe=True,
            label="openapi",
            check=None,
            keyed=False,
        )

    # --- request building ------------------------------------------------------------------

    @staticmethod
    def _operation(name: str) -> Operation:
        try:
            return operations.get(name)
        except KeyError:
            known = ", ".join(op.name for op in operations.OPERATIONS)
            raise ValueError(f"unknown operation {name!r}; known operations: {known}") from None

    def _build(self, op: Operation, args: dict[str, Any]) -> tuple[str, str, dict[str, str], Any, bool]:
        if op.name == "update_question":
            args = _rename_question(args)
        known = {a.name for a in op.args}
        body_args = op.args_in("body")
        unknown = [k for k in args if k not in known]
        if unknown and (not body_args or op.body_list_arg):
            expected = ", ".join(a.name for a in op.args) or "no arguments"
            raise errors.BadRequestError(
                f"unknown argument{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} for {op.name}; "
                f"expected: {expected}",
                operation=op.name,
            )

        for a in op.args_in("path"):
            value = args.get(a.name)
            source = _ID_SOURCES.get(a.name, "the list operations")
            if value is None or value == "":
                raise errors.BadRequestError(
                    f"{a.name} is required; {source} shows the ids", operation=op.name
                )
            if not operations.is_uuid(value):
                raise errors.BadRequestError(
                    f"{a.name} must be a UUID like 3f2b8c1e-9a4d-4e6f-8b1a-2c3d4e5f6a7b; {source} shows the ids"
                    + ("" if "dlv_" in str(value) else f" (got {operations.show_input(value)})"),
                    operation=op.name,
                )
        for a in (*op.args_in("query"), *body_args):
            if a.required and args.get(a.name) is None:
                raise errors.BadRequestError(f"{a.name} is required for {op.name}", operation=op.name)

        path = operations.wire_path(op, args)
        params = {
            a.name: _query_value(args[a.name])
            for a in op.args_in("query")
            if args.get(a.name) is not None and args.get(a.name) != ""
        }
        if op.method == "GET" or not body_args:
            return op.method, path, params, None, False

        if op.body_list_arg:
            items = _decode_json_text(args[op.body_list_arg], list | dict)
            if isinstance(items, dict):
                items = [items]
            if op.name == "add_questions" and isinstance(items, list):
                items = [_rename_question(i) for i in items]
            return op.method, path, params, _normalize(items, op.arg(op.body_list_arg).schema), True

        body: dict[str, Any] = {}
        for a in body_args:
            if a.name not in args:
                continue
            value = args[a.name]
            if value is None and "null" not in _types(a.schema):
                continue  # None means "not given" where the API gives null no meaning
            body[a.name] = _normalize(value, a.schema)
        for name in unknown:  # passed through: the API ignores what it does not know
            body[name] = args[name]
        return op.method, path, params, body, True

    @staticmethod
    def _check_text(op: Operation, args: dict[str, Any]) -> str:
        iid = args.get("interviewId")
        if op.name == "create_interview":
            return (
                f"call list_interviews and look for the title '{_short(args.get('title', ''))}' "
                "before creating it again"
            )
        items = _decode_json_text(args.get(op.body_list_arg or "", []), list | dict)
        if isinstance(items, dict):
            items = [items]
        if not isinstance(items, list):
            items = []
        if op.name == "add_questions":
            texts = [_short(i.get("text", ""), 40) for i in items if isinstance(i, dict)][:3]
            what = f" and look for {', '.join(repr(t) for t in texts)}" if texts else ""
            return f"call list_questions for interview {iid}{what} before adding them again"
        if op.name == "add_candidates":
            who = [
                _short(i.get("email") or i.get("name") or "", 40)
                for i in items
                if isinstance(i, dict) and (i.get("email") or i.get("name"))
            ][:3]
            what = f" and look for {', '.join(repr(w) for w in who)}" if who else ""
            return f"call list_candidates for interview {iid}{what} before adding them again"
        return f"check whether {op.name} took effect before repeating it"

    # --- sending ------------------------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        base = min(self.max_backoff, self.backoff_base * (2 ** (attempt - 1)))
        return float(base * (0.5 + random.random() / 2))

    async def _send(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, str] | None,
        body: Any,
        has_body: bool,
        retry_safe: bool,
        label: str,
        check: str | None,
        keyed: bool = True,
    ) -> dict[str, Any]:
        headers: dict[str, str] = {}
        content: bytes | None = None
        if has_body:
            try:
                content = _json.dumps(body, default=_json_default, ensure_ascii=False).encode()
            except (TypeError, ValueError) as exc:
                raise errors.BadRequestError(
                    f"the request body is not JSON: {exc}", operation=label
                ) from None
            headers["Content-Type"] = "application/json"
        if keyed:
            headers["Authorization"] = "Bearer " + self.__key
        path = urlsplit(url).path
        may_have_applied = False  # an earlier attempt of this request may have reached the server
        budget = CALL_TIMEOUTS * self.timeout
        spent = 0.0  # seconds spent in attempts and backoff (pacing and 429 waits are not counted)
        attempt = 0
        while True:
            attempt += 1
            self.stats["requests"] += 1
            if attempt > 1:
                self.stats["retries"] += 1
            if keyed:
                await self.pacer.acquire()
            failure: httpx2.TransportError | None = None
            answer: _Answer | None = None
            started = anyio.current_time()
            try:
                # The whole attempt, not each read: an API that trickles a byte at a time still ends here.
                with anyio.move_on_after(self.timeout):
                    answer = await self._exchange(method, url, params, content, headers)
                if answer is None:
                    failure = httpx2.ReadTimeout(
                        f"no complete answer within {self.timeout:g} s (the client's timeout, AURAL_TIMEOUT)"
                    )
            except httpx2.TransportError as exc:
                failure = exc
            finally:
                if keyed:
                    self.pacer.release()
                spent += anyio.current_time() - started

            if failure is not None:
                sent = not isinstance(failure, _NOT_SENT)
                reason = f"{type(failure).__name__}: {failure}" if str(failure) else type(failure).__name__
                log.debug("%s %s -> %s (attempt %d)", method, path, type(failure).__name__, attempt)
                if sent and not retry_safe:
                    raise self._outcome_unknown(
                        f"The outcome is unknown: the request may have reached the server but no "
                        f"answer came back ({reason}); it was not repeated. To check: {check}.",
                        reason=reason,
                        check=check,
                        label=label,
                    )
                may_have_applied = may_have_applied or sent
                final = isinstance(failure, httpx2.LocalProtocolError | httpx2.UnsupportedProtocol)
                delay = self._backoff(attempt)
                if final or attempt > self.max_retries or spent + delay + self.timeout > budget:
                    note = (
                        " It may or may not have been applied; it is safe to repeat."
                        if may_have_applied and method != "GET"
                        else ""
                    )
                    failed = errors.TransportError(
                        f"Could not reach the Aural API at {self.base_url} after {attempt} "
                        f"attempt{'s' if attempt > 1 else ''} ({reason}).{note}",
                        operation=label,
                    )
                    failed.may_have_applied = bool(note)
                    failed.timed_out = isinstance(failure, httpx2.TimeoutException)
                    failed.reason = reason
                    raise failed
                await anyio.sleep(delay)
                spent += delay
                continue

            assert answer is not None  # either an answer or a failure
            status = answer.status
            log.debug("%s %s -> %d (attempt %d)", method, path, status, attempt)
            if answer.too_large and 200 <= status < 300:
                raise self._too_large(label, retry_safe=retry_safe, check=check)
            payload = self._parse(answer.content)
            if 200 <= status < 300:
                if isinstance(payload, dict):
                    return payload
                raise self._not_json(status, label=label, retry_safe=retry_safe, check=check)

            if status == 429:
                self.stats["rate_limited"] += 1
                err = errors.error_from_payload(status, payload, answer.headers, operation=label)
                wait = getattr(err, "retry_after", None)
                too_long = getattr(err, "wait_too_long", False) or (
                    wait is not None and wait > self.max_retry_wait
                )
                if attempt > self.max_retries or too_long:
                    raise err
                # retry_after is rounded up to whole seconds; add a little so the window has surely ended
                delay = (wait if wait is not None else self._backoff(attempt)) + random.uniform(0.01, 0.1)
                log.debug("%s %s rate limited; waiting %.2fs", method, path, delay)
                if keyed:
                    self.pacer.block(delay)
                else:
                    await anyio.sleep(delay)
                continue

            if status in _RETRY_STATUSES:
                if not retry_safe:
                    raise self._outcome_unknown(
                        f"The outcome is unknown: a proxy answered {status}, and the request may "
                        f"have reached the API; it was not repeated. To check: {check}.",
                        reason=f"a proxy answered {status}",
                        check=check,
                        label=label,
                        status=status,
                    )
                may_have_applied = True
                delay = max(self._backoff(attempt), self._retry_after(answer.headers))
                if attempt <= self.max_retries and spent + delay + self.timeout <= budget:
                    await anyio.sleep(delay)
                    spent += delay
                    continue

            err = errors.error_from_payload(status, payload, answer.headers, operation=label)
            if status == 404 and method == "DELETE" and may_have_applied:
                err.message += (
                    " (An earlier attempt of this request got no answer and may have done it already; "
                    "either way it is gone now.)"
                )
                err.args = (err.message,)
            raise err

    async def _exchange(
        self,
        method: str,
        url: str,
        params: dict[str, str] | None,
        content: bytes | None,
        headers: dict[str, str],
    ) -> _Answer:
        """One request; the answer's body is read up to `max_response_bytes` and no further."""
        cap = self.max_response_bytes
        async with self._http.stream(
            method, url, params=params, content=content, headers=headers
        ) as response:
            answer = _Answer(response.status_code, dict(response.headers))
            declared = response.headers.get("content-length", "")
            if declared.isascii() and declared.isdigit() and int(declared) > cap:
                answer.too_large = True
                return answer
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > cap:
                    answer.too_large = True
                    return answer
                chunks.append(chunk)
            answer.content = b"".join(chunks)
            return answer

    def _retry_after(self, headers: dict[str, str]) -> float:
        seconds, _ = errors.parse_retry_after(headers.get("retry-after"))
        return min(seconds or 0.0, self.max_backoff)

    def _parse(self, content: bytes) -> Any:
        """The JSON of an answer, with the key masked in every string; None if it is not JSON."""
        try:
            payload = _json.loads(content) if content else None
        except (ValueError, UnicodeDecodeError, RecursionError):
            return None
        key = self.__key
        # Without a backslash no JSON escape can spell the key, so it would appear as it is.
        if key.encode() not in content and b"\\" not in content:
            return payload
        return _mask_in(payload, key, mask_secret(key))

    def _outcome_unknown(
        self, message: str, *, reason: str, check: str | None, label: str, status: int | None = None
    ) -> errors.OutcomeUnknownError:
        """A write that may have applied: counted, with how to check and the wire reason."""
        self.stats["outcome_unknown"] += 1
        unknown = errors.OutcomeUnknownError(message, check=check or "", status=status, operation=label)
        unknown.reason = reason
        return unknown

    def _too_large(self, label: str, *, retry_safe: bool, check: str | None) -> errors.AuralError:
        what = (
            f"the answer is larger than max_response_bytes ({self.max_response_bytes} bytes) and was not read; "
            "raise it with AURAL_MAX_RESPONSE_BYTES (or max_response_bytes=...) if such answers are expected"
        )
        if not retry_safe:
            return self._outcome_unknown(
                f"The outcome is unknown: {what}; it was not repeated. To check: {check}.",
                reason=f"the answer is larger than max_response_bytes ({self.max_response_bytes})",
                check=check,
                label=label,
                status=200,
            )
        return errors.ResponseTooLargeError(what[0].upper() + what[1:] + ".", status=200, operation=label)

    def _not_json(
        self, status: int, *, label: str, retry_safe: bool, check: str | None, why: str = ""
    ) -> errors.AuralError:
        why = why or _NOT_OBJECT
        if not retry_safe:
            return self._outcome_unknown(
                f"The API answered {status} but {why}, so the outcome is unknown; it was not "
                f"repeated. To check: {check}.",
                reason=(
                    f"HTTP {status} but {why}"
                    if why != _NOT_OBJECT
                    else f"HTTP {status} with a body that is not a JSON object"
                ),
                check=check,
                label=label,
                status=status,
            )
        return errors.ServerError(
            f"the API answered {status} but {why}",
            status=status,
            code="INVALID_RESPONSE",
            operation=label,
        )

    def _envelope(self, op: Operation, payload: dict[str, Any], check: str | None) -> dict[str, Any]:
        """`payload` checked to be the envelope `op` answers with (see the module docstring)."""
        if "data" not in payload:
            raise self._not_json(
                200, label=op.name, retry_safe=op.retry_safe, check=check, why="the body has no `data`"
            )
        data = payload["data"]
        if op.name in _LIST_DATA:
            if isinstance(data, dict) and op.body_list_arg:
                data = [data]
            if not isinstance(data, list):
                raise self._not_json(
                    200, label=op.name, retry_safe=op.retry_safe, check=check,
                    why=f"`data` is {_kind(data)}, not a list",
                )
            rows = self._rows(op.name, data, need_id=True)
            if data and not rows:
                raise self._not_json(
                    200, label=op.name, retry_safe=op.retry_safe, check=check,
                    why="`data` holds no object with an `id`",
                )
            return {**payload, "data": rows}
        if not isinstance(data, dict):
            raise self._not_json(
                200, label=op.name, retry_safe=op.retry_safe, check=check,
                why=f"`data` is {_kind(data)}, not an object",
            )
        nested = {
            name: self._rows(f"{op.name} {name}", data[name], need_id=False)
            for name in _NESTED_LISTS.get(op.name, ())
            if isinstance(data.get(name), list)
        }
        return {**payload, "data": {**data, **nested}} if nested else payload

    def _rows(self, where: str, items: list[Any], *, need_id: bool) -> list[Any]:
        rows = [
            item
            for item in items
            if isinstance(item, dict) and (not need_id or _usable_id(item.get("id")))
        ]
        skipped = len(items) - len(rows)
        if skipped:
            self.stats["skipped_rows"] += skipped
            what = "objects with an id" if need_id else "objects"
            log.warning("%s: skipped %d of %d items that are not %s", where, skipped, len(items), what)
        return rows

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
        """Add one question or many (all or nothing). `isRequired`/`probeOnShort` are accepted as
        aliases of the request names `required`/`followUpEnabled`."""
        data = await self._data("add_questions", {"interviewId": interview_id, "questions": questions})
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
        data = await self._data("add_candidates", {"interviewId": interview_id, "candidates": candidates})
        return [_validate(models.CandidateWithInviteUrl, c) for c in _as_list(data)]

    async def update_candidate(self, interview_id: str, candidate_id: str, **fields: Any) -> models.Candidate:
        data = await self._data(
            "update_candidate", {"interviewId": interview_id, "candidateId": candidate_id, **fields}
        )
        return _validate(models.Candidate, data)

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
        self, interview_id: str, page_size: int = 100
    ) -> AsyncIterator[models.SessionListItem]:
        """Every session of an interview, newest first, in constant memory (one page at a time)."""
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
                yield item
            next_cursor = page.get("cursor")
            if not next_cursor or next_cursor == cursor or not (current - previous):
                return
            cursor, previous = next_cursor, current


_NOT_OBJECT = "the body is not a JSON object"


class _Answer:
    """What one attempt got back: status, headers and the body (empty when over the size cap)."""

    def __init__(self, status: int, headers: dict[str, str]) -> None:
        self.status = status
        self.headers = headers
        self.content = b""
        self.too_large = False


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number"
    )


def _usable_id(value: Any) -> bool:
    return (isinstance(value, str) and value != "") or (isinstance(value, int) and not isinstance(value, bool))


def _mask_in(payload: Any, secret: str, masked: str) -> Any:
    """`payload` with `secret` replaced by `masked` in every string and key (in place; iterative,
    so a deeply nested answer cannot exhaust the stack)."""

    def clean(text: str) -> str:
        return text.replace(secret, masked) if secret in text else text

    if isinstance(payload, str):
        return clean(payload)
    stack: list[Any] = [payload] if isinstance(payload, dict | list) else []
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            for i, item in enumerate(node):
                if isinstance(item, str):
                    node[i] = clean(item)
                elif isinstance(item, dict | list):
                    stack.append(item)
            continue
        for name in list(node):
            item = node[name]
            if isinstance(item, str):
                node[name] = clean(item)
            elif isinstance(item, dict | list):
                stack.append(item)
            if secret in name:
                node[clean(name)] = node.pop(name)
    return payload


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


def _as_list(data: Any) -> list[Any]:
    if data is None:
        return []
    return data if isinstance(data, list) else [data]
