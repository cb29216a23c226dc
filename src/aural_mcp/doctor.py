"""`aural-mcp doctor`: check the API key and base URL, then print the account's usage.

Three checks, in order, each with a plain message and a fix; the first failure ends the run
with exit code 1 (0 when all pass). The key is never printed: at most `dlv_…` and its last four
characters.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from aural_mcp.settings import Settings, key_problem, key_warning, mask_secret

OK = "ok  "
FAIL = "FAIL"
WARN = "warn"


def _line(mark: str, text: str) -> None:
    print(f"[{mark}] {text}", flush=True)


def _fail(text: str, fix: str) -> int:
    _line(FAIL, text)
    print(f"       fix: {fix}", flush=True)
    return 1


def main(args: argparse.Namespace) -> int:
    import anyio

    settings = Settings.from_env(base_url=getattr(args, "base_url", None))
    timeout = float(getattr(args, "timeout", None) or 10.0)
    return anyio.run(run_checks, settings, timeout)


async def run_checks(settings: Settings, timeout: float) -> int:
    # 1. the key
    problem = key_problem(settings.api_key)
    if problem:
        return _fail(
            problem + ".",
            "export AURAL_API_KEY=dlv_… (Aural dashboard → Settings → API Keys; the key is shown once). "
            "No account? `aural-mcp sandbox` prints a key for a local sandbox.",
        )
    assert settings.api_key is not None
    _line(OK, f"AURAL_API_KEY is set: {mask_secret(settings.api_key)}")
    warning = key_warning(settings.api_key)
    if warning:
        _line(WARN, warning)

    # 2. the base URL answers with the OpenAPI document (public: no key, no rate limit)
    base = settings.base_url.rstrip("/")
    if not base.startswith(("http://", "https://")):
        return _fail(
            f"the base URL {base!r} is not an http(s) URL.",
            "set AURAL_BASE_URL (or --base-url) to https://aural-ai.com/api/v1, or your sandbox's "
            "http://127.0.0.1:PORT/api/v1",
        )
    reached = await _check_openapi(base, timeout)
    if reached is not None:
        return reached

    # 3. the key works: GET /usage through the SDK, without retries so a 429 shows at once
    return await _check_usage(settings, timeout)


async def _check_openapi(base: str, timeout: float) -> int | None:
    import httpx2

    url = f"{base}/openapi.json"
    try:
        async with httpx2.AsyncClient(timeout=timeout, follow_redirects=True) as http:
            response = await http.get(url, headers={"Accept": "application/json"})
    except httpx2.TimeoutException:
        return _fail(
            f"no answer from {url} within {timeout:g} s.",
            "check your network or proxy, and that AURAL_BASE_URL is right (it ends in /api/v1).",
        )
    except httpx2.TransportError as exc:
        reason = str(exc) or type(exc).__name__
        return _fail(
            f"cannot reach {url} ({reason}).",
            "check AURAL_BASE_URL (default https://aural-ai.com/api/v1; a local sandbox is "
            "http://127.0.0.1:PORT/api/v1 and must be running) and your network.",
        )
    if response.status_code != 200:
        return _fail(
            f"{url} answered HTTP {response.status_code}, not the API's OpenAPI document.",
            "AURAL_BASE_URL must point at the API root, ending in /api/v1.",
        )
    try:
        document = response.json()
        title = document.get("info", {}).get("title", "?")
        version = document.get("info", {}).get("version", "?")
    except (ValueError, AttributeError):
        return _fail(
            f"{url} did not answer with JSON.",
            "AURAL_BASE_URL must point at the API root, ending in /api/v1.",
        )
    _line(OK, f"{base} is reachable ({title} {version})")
    return None


async def _check_usage(settings: Settings, timeout: float) -> int:
    from aural_mcp.api import AuralClient, errors

    try:
        client = AuralClient(
            settings.api_key,
            base_url=settings.base_url,
            timeout=timeout,
            max_retries=0,
        )
    except errors.ConfigurationError as exc:
        return _fail(exc.message, "fix AURAL_API_KEY / AURAL_BASE_URL as the message says.")
    async with client:
        try:
            usage = await client.get_usage()
        except errors.UnauthorizedError as exc:
            return _fail(
                f"the API refused the key (401: {exc.message})",
                "the key is wrong, revoked or expired: create a new one in the Aural dashboard "
                "(Settings → API Keys) and set AURAL_API_KEY to it.",
            )
        except errors.RateLimitedError as exc:
            wait = f" for {exc.retry_after:g} s" if exc.retry_after else ""
            return _fail(
                f"the key is rate limited (429: {exc.message}).",
                f"the key works but used up its 60 requests a minute; wait{wait} and run doctor again.",
            )
        except errors.ForbiddenError as exc:
            return _fail(
                f"the API refused the request (403: {exc.message})",
                "the key's user must belong to an organization; check the account in the dashboard.",
            )
        except errors.AuralError as exc:
            return _fail(
                f"GET /usage failed: {exc}",
                "try again; if it persists, check the base URL and the Aural status page.",
            )
    _line(OK, "the key works; usage:")
    for line in format_usage(usage):
        print(f"       {line}")
    return 0


def format_usage(usage: Any) -> list[str]:
    data = usage.model_dump() if hasattr(usage, "model_dump") else dict(usage)
    lines = []
    if data.get("plan") is not None:
        lines.append(f"plan: {data['plan']}")
    for name, value in data.items():
        if name == "plan" or value is None:
            continue
        if isinstance(value, dict) and ("used" in value or "limit" in value):
            limit = value.get("limit")
            shown = "unlimited" if limit is None else f"{limit:g}" if isinstance(limit, float) else str(limit)
            used = value.get("used")
            used_s = f"{used:g}" if isinstance(used, float) else str(used)
            lines.append(f"{name.replace('_', ' ')}: {used_s} of {shown}")
        else:
            lines.append(f"{name.replace('_', ' ')}: {value}")
    return lines


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(argparse.Namespace(base_url=None, timeout=10.0)))
