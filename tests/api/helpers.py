"""Shared helpers of the SDK's unit tests: a fixed key, a recording mock transport."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx2

from aural_mcp.api import AuralClient

KEY = "dlv_" + "k3y5ecr3t0123456789abcdefghijklm"
BASE = "http://api.test/api/v1"


def uid() -> str:
    return str(uuid.uuid4())


def ok(data: Any, **extra: Any) -> httpx2.Response:
    return httpx2.Response(200, json={"data": data, **extra})


def err(status: int, code: str, message: str = "boom", **extra: Any) -> httpx2.Response:
    return httpx2.Response(status, json={"error": {"code": code, "message": message, **extra}})


class Recorder:
    """A MockTransport handler that records every request and answers from a function."""

    def __init__(self, answer: Callable[[httpx2.Request], Any]) -> None:
        self.answer = answer
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> Any:
        self.requests.append(request)
        return self.answer(request)

    @property
    def count(self) -> int:
        return len(self.requests)

    def body(self, i: int = -1) -> Any:
        content = self.requests[i].content
        return json.loads(content) if content else None


def client(answer: Callable[[httpx2.Request], Any], **kw: Any) -> tuple[AuralClient, Recorder]:
    rec = Recorder(answer)
    kw.setdefault("backoff_base", 0.01)
    kw.setdefault("max_backoff", 0.05)
    c = AuralClient(KEY, base_url=BASE, transport=httpx2.MockTransport(rec), **kw)
    return c, rec


_LIST_PATHS = ("/interviews", "/questions", "/candidates", "/sessions", "/practices")


def ok_shaped(request: httpx2.Request) -> httpx2.Response:
    """A minimal valid answer for any operation: a list of one row where the operation answers a
    list (the list GETs and the bulk creates), one object with an id elsewhere."""
    path = request.url.path
    listed = path.endswith(_LIST_PATHS) and (request.method == "GET" or path.endswith(("/questions", "/candidates")))
    row = {"id": uid()}
    return ok([row], cursor=None) if listed else ok(row)
