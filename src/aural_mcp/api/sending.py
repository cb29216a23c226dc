"""Sending one request: authentication, pacing, bounded attempts, retries and reading the answer.

- Every keyed request is paced client-side to `rate_limit` per `rate_window` (see `pacing.py`).
  A 429 blocks all requests for `retry_after` seconds and the request is retried (bounded).
- Requests that are safe to repeat retry on network errors and 502/503/504 with jittered
  exponential backoff (bounded by `max_retries`).
- A request that is not safe to repeat is never repeated once it may have reached the server: a
  dropped connection, a timeout after sending, or a 502/503/504 raises `OutcomeUnknownError` with
  how to check. A connect error (nothing was sent) and a 429 (the server refused it) are retried.
- Each attempt is bounded in total (`timeout` covers connecting, sending and reading the whole
  answer, however slowly it trickles), and retries after failures stop once the attempts and
  their backoff would pass `CALL_TIMEOUTS` x `timeout`: a request answers within about that, plus
  pacing and 429 waits. The pacing slot is released when an attempt ends, however it ends.
- At most `max_response_bytes` of an answer are read; a larger one is an error naming the setting.
- The API key never appears in `repr()`, logs or exceptions. An answer that echoes the key (or
  `Bearer <key>`) has it replaced by its masked form in every string before anyone sees it.
"""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx2

from ..settings import mask_secret
from . import errors
from .pacing import OnWait, Pacer

log = logging.getLogger("aural_mcp.api")

# Nothing was sent when these happen, so even a create may be tried again.
_NOT_SENT = (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout, httpx2.UnsupportedProtocol)
_RETRY_STATUSES = frozenset({502, 503, 504})
# Retries after failures stop once the attempts and their backoff would pass this many timeouts.
CALL_TIMEOUTS = 5
NOT_AN_OBJECT = "the body is not a JSON object"


@dataclass(frozen=True)
class Limits:
    """How long to wait and how often to try; validated by `AuralClient`."""

    timeout: float
    max_retries: int
    backoff_base: float
    max_backoff: float
    max_retry_wait: float
    max_response_bytes: int


class _Answer:
    """What one attempt got back: status, headers and the body (empty when over the size cap)."""

    def __init__(self, status: int, headers: dict[str, str]) -> None:
        self.status = status
        self.headers = headers
        self.content = b""
        self.too_large = False


class Sender:
    """Sends requests with one API key over one HTTP connection pool (made on first use)."""

    def __init__(
        self, key: str, *, base_url: str, limits: Limits, pacer: Pacer, http_options: dict[str, Any]
    ) -> None:
        self.__key = key  # name-mangled and never printed
        self.base_url = base_url
        self.limits = limits
        self.pacer = pacer
        # Counters for monitoring and tests: attempts sent, retries, 429 answers, unknown outcomes.
        # Rows skipped because they are not objects with an id are counted too (see envelope.py).
        self.stats: dict[str, int] = {
            "requests": 0,
            "retries": 0,
            "rate_limited": 0,
            "outcome_unknown": 0,
            "skipped_rows": 0,
        }
        self._http_options = http_options
        self._http_client: httpx2.AsyncClient | None = None
        self.closed = False

    async def aclose(self) -> None:
        self.closed = True
        if self._http_client is not None:
            await self._http_client.aclose()

    @property
    def _http(self) -> httpx2.AsyncClient:
        # Built on first request: creating it loads the TLS trust store (tens of ms), which a
        # stdio MCP server would otherwise pay before it can answer `initialize`.
        if self.closed:
            raise errors.ConfigurationError("this AuralClient is closed; create a new one.")
        if self._http_client is None:
            self._http_client = httpx2.AsyncClient(**self._http_options)
        return self._http_client

    # --- errors for answers that are not what was asked for ---------------------------------------

    def outcome_unknown(
        self, message: str, *, reason: str, check: str | None, label: str, status: int | None = None
    ) -> errors.OutcomeUnknownError:
        """A write that may have applied: counted, with how to check and the wire reason."""
        self.stats["outcome_unknown"] += 1
        unknown = errors.OutcomeUnknownError(message, check=check or "", status=status, operation=label)
        unknown.reason = reason
        return unknown

    def not_json(
        self, status: int, *, label: str, retry_safe: bool, check: str | None, why: str = ""
    ) -> errors.AuralError:
        """A success whose body is unusable: an unknown outcome for a write not safe to repeat."""
        why = why or NOT_AN_OBJECT
        if not retry_safe:
            return self.outcome_unknown(
                f"The API answered {status} but {why}, so the outcome is unknown; it was not "
                f"repeated. To check: {check}.",
                reason=(
                    f"HTTP {status} but {why}"
                    if why != NOT_AN_OBJECT
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

    def _too_large(self, label: str, *, retry_safe: bool, check: str | None) -> errors.AuralError:
        cap = self.limits.max_response_bytes
        what = (
            f"the answer is larger than max_response_bytes ({cap} bytes) and was not read; "
            "raise it with AURAL_MAX_RESPONSE_BYTES (or max_response_bytes=...) if such answers are expected"
        )
        if not retry_safe:
            return self.outcome_unknown(
                f"The outcome is unknown: {what}; it was not repeated. To check: {check}.",
                reason=f"the answer is larger than max_response_bytes ({cap})",
                check=check,
                label=label,
                status=200,
            )
        return errors.ResponseTooLargeError(what[0].upper() + what[1:] + ".", status=200, operation=label)

    # --- sending -----------------------------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        base = min(self.limits.max_backoff, self.limits.backoff_base * (2 ** (attempt - 1)))
        return float(base * (0.5 + random.random() / 2))

    async def send(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, str] | None,
        content: bytes | None,
        retry_safe: bool,
        label: str,
        check: str | None,
        keyed: bool = True,
        background: bool = False,
        on_wait: OnWait | None = None,
    ) -> dict[str, Any]:
        """The decoded JSON object a 2xx answer carries; every other outcome is a typed error.

        A `background` request gives way to foreground ones (see `pacing.py`). `on_wait` is told
        the seconds left whenever pacing (or a 429's wait) holds an attempt for more than a second."""
        limits = self.limits
        headers: dict[str, str] = {}
        if content is not None:
            headers["Content-Type"] = "application/json"
        if keyed:
            headers["Authorization"] = "Bearer " + self.__key
        path = urlsplit(url).path
        may_have_applied = False  # an earlier attempt of this request may have reached the server
        budget = CALL_TIMEOUTS * limits.timeout
        spent = 0.0  # seconds spent in attempts and backoff (pacing and 429 waits are not counted)
        attempt = 0
        while True:
            attempt += 1
            self.stats["requests"] += 1
            if attempt > 1:
                self.stats["retries"] += 1
            slot = None
            if keyed:
                slot = await self.pacer.acquire(background=background, on_wait=on_wait)
            failure: httpx2.TransportError | None = None
            answer: _Answer | None = None
            started = anyio.current_time()
            try:
                # The whole attempt, not each read: an API that trickles a byte at a time still ends here.
                with anyio.move_on_after(limits.timeout):
                    answer = await self._exchange(method, url, params, content, headers)
                if answer is None:
                    failure = httpx2.ReadTimeout(
                        f"no complete answer within {limits.timeout:g} s (the client's timeout, AURAL_TIMEOUT)"
                    )
            except httpx2.TransportError as exc:
                failure = exc
            finally:
                if keyed:
                    self.pacer.release(background=background)
                    await self.pacer.settle(slot)
                spent += anyio.current_time() - started

            if failure is not None:
                sent = not isinstance(failure, _NOT_SENT)
                reason = f"{type(failure).__name__}: {failure}" if str(failure) else type(failure).__name__
                log.debug("%s %s -> %s (attempt %d)", method, path, type(failure).__name__, attempt)
                if sent and not retry_safe:
                    raise self.outcome_unknown(
                        f"The outcome is unknown: the request may have reached the server but no "
                        f"answer came back ({reason}); it was not repeated. To check: {check}.",
                        reason=reason,
                        check=check,
                        label=label,
                    )
                may_have_applied = may_have_applied or sent
                final = isinstance(failure, httpx2.LocalProtocolError | httpx2.UnsupportedProtocol)
                delay = self._backoff(attempt)
                if final or attempt > limits.max_retries or spent + delay + limits.timeout > budget:
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
                raise self.not_json(status, label=label, retry_safe=retry_safe, check=check)

            if status == 429:
                self.stats["rate_limited"] += 1
                err = errors.error_from_payload(status, payload, answer.headers, operation=label)
                wait = getattr(err, "retry_after", None)
                too_long = getattr(err, "wait_too_long", False) or (
                    wait is not None and wait > limits.max_retry_wait
                )
                if attempt > limits.max_retries or too_long:
                    raise err
                # retry_after is rounded up to whole seconds; add a little so the window has surely ended
                delay = (wait if wait is not None else self._backoff(attempt)) + random.uniform(0.01, 0.1)
                log.debug("%s %s rate limited; waiting %.2fs", method, path, delay)
                if keyed:
                    await self.pacer.rate_limited(delay)
                else:
                    await anyio.sleep(delay)
                continue

            if status in _RETRY_STATUSES:
                if not retry_safe:
                    raise self.outcome_unknown(
                        f"The outcome is unknown: a proxy answered {status}, and the request may "
                        f"have reached the API; it was not repeated. To check: {check}.",
                        reason=f"a proxy answered {status}",
                        check=check,
                        label=label,
                        status=status,
                    )
                may_have_applied = True
                delay = max(self._backoff(attempt), self._retry_after(answer.headers))
                if attempt <= limits.max_retries and spent + delay + limits.timeout <= budget:
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
        cap = self.limits.max_response_bytes
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
        return min(seconds or 0.0, self.limits.max_backoff)

    def _parse(self, content: bytes) -> Any:
        """The JSON of an answer, with the key masked in every string; None if it is not JSON."""
        try:
            payload = json.loads(content) if content else None
        except (ValueError, UnicodeDecodeError, RecursionError):
            return None
        key = self.__key
        # Without a backslash no JSON escape can spell the key, so it would appear as it is.
        if key.encode() not in content and b"\\" not in content:
            return payload
        return _mask_in(payload, key, mask_secret(key))


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
