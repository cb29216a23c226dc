"""The sandbox's keyed routes come from the operation registry: every operation is answered by
its handler at its method and path, and an operation without a handler stops the sandbox from
being built at all (instead of a route that silently answers 404)."""

from __future__ import annotations

import dataclasses
import uuid

import httpx2
import pytest

from aural_mcp import operations
from aural_mcp.sandbox import Sandbox

pytestmark = pytest.mark.anyio
API = "/api/v1"


def concrete(path: str) -> str:
    return path.format(id=uuid.uuid4(), candidateId=uuid.uuid4())


async def test_every_registry_operation_is_routed_to_a_handler(server) -> None:
    async with httpx2.AsyncClient(base_url=server.url, timeout=30) as http:
        for op in operations.OPERATIONS:
            path = API + concrete(op.path)
            allowed = (await http.options(path)).headers.get("allow", "")
            assert op.method in allowed.split(", "), f"{op.name}: {op.method} {op.path} not routed"
            # Without a key, a routed operation answers the API's 401 envelope, not the 404 page.
            r = await http.request(op.method, path)
            assert r.status_code == 401 and r.json()["error"]["code"] == "UNAUTHORIZED", op.name


def test_every_registry_operation_has_a_sandbox_handler(sb: Sandbox) -> None:
    missing = [op.name for op in operations.OPERATIONS if sb.api.handler(op.name) is None]
    assert missing == []


def test_an_operation_without_a_handler_fails_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    read_one = dataclasses.replace(
        operations.get("get_practice"),
        name="read_without_handler",
        operation_id="readWithoutHandler",
        path="/candidates/{id}",
    )
    monkeypatch.setattr(operations, "OPERATIONS", (*operations.OPERATIONS, read_one))
    with pytest.raises(LookupError, match="'read_without_handler' has no sandbox handler"):
        Sandbox()


def test_handler_lookup_finds_only_operations(sb: Sandbox) -> None:
    """Helpers of the resource parts are not handlers: only an operation's name finds one."""
    assert sb.api.handler("_counts") is None
    assert sb.api.handler("store") is None
    assert sb.api.handler("add_questions") is not None
    assert sb.api.handler("create_questions") is None
