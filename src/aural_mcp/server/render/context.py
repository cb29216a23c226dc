"""What a renderer knows about the call besides the data: its arguments, cursor and links."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aural_mcp.server.render.safe import Marker, raw

if TYPE_CHECKING:
    from aural_mcp.server.runtime import Runtime


@dataclass
class Call:
    op: str
    args: dict[str, Any] = field(default_factory=dict)
    cursor: Any = None
    app_url: str | None = None  # the app's origin, for invite links the API does not return
    marker: Marker = field(default_factory=Marker)

    def arg(self, name: str) -> str:
        return raw(self.args.get(name))


def app_origin(base_url: str) -> str:
    """The app that serves candidate pages, from the API's base URL: '…/api/v1' removed."""
    url = base_url.rstrip("/")
    return url[: -len("/api/v1")] if url.endswith("/api/v1") else url


def app_url(runtime: Runtime) -> str:
    """Where candidates open their links: the sandbox's page server if it has one, else the API's app."""
    sandbox_pages = runtime.sandbox.public_url if runtime.sandbox is not None else None
    return sandbox_pages or app_origin(runtime.client.base_url)
