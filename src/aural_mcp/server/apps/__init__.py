"""MCP Apps (`io.modelcontextprotocol/ui`): the scorecard view of `compare_sessions`.

`compare_sessions` carries `_meta.ui.resourceUri` = `SCORECARD_URI` in every tools/list, and
`resources/read` of that URI always answers: hosts that render Apps find the view through the
tool, whatever they declare, and every other client ignores the `_meta` and reads the text
scoreboard as before. Only `resources/list` depends on the client: it shows the view to clients
that declare the extension in `capabilities.extensions` with the HTML profile (the SDK's
`client_supports_apps`; the spec has clients declare it there at every protocol version), so an
agent without Apps is not offered an HTML page it cannot use.

The document is one self-contained HTML file, inlined when the server is built from `scorecard/`
(HTML, CSS, JS in the package); its `_meta.ui.csp` declares no domains, so hosts let it make no requests.
The view reads only the tool result the host hands it and what its own `tools/call` of
`get_transcript` returns, which the host sends through the user's ordinary connection (in the
team server, that user's grant).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from mcp.server.apps import Apps, ResourceCsp, client_supports_apps
from mcp_types import ListResourcesResult, PaginatedRequestParams

from aural_mcp.server.sdk_private import add_request_handler

SCORECARD_URI = "ui://aural/scorecard.html"
SCORECARD_TOOL_META: dict[str, Any] = {"ui": {"resourceUri": SCORECARD_URI}}
_SOURCES = Path(__file__).resolve().parent / "scorecard"


@functools.cache
def scorecard_html() -> str:
    """scorecard.html with scorecard.css and scorecard.js inlined: the document hosts render."""
    html = (_SOURCES / "scorecard.html").read_text(encoding="utf-8")
    css = (_SOURCES / "scorecard.css").read_text(encoding="utf-8")
    js = (_SOURCES / "scorecard.js").read_text(encoding="utf-8")
    # A closing tag inside the inlined text would end its element early.
    if "</style" in css.lower() or "</script" in js.lower():
        raise ValueError("scorecard.css or scorecard.js contains a closing </style> or </script> tag")
    return html.replace("/* scorecard.css */", css, 1).replace("/* scorecard.js */", js, 1)


def apps_extension() -> Apps:
    """The Apps extension with the scorecard resource (the tool's `_meta` is set where it is built)."""
    apps = Apps()
    apps.add_html_resource(
        SCORECARD_URI,
        scorecard_html(),
        name="scorecard",
        title="Scorecard",
        description="Interactive view of compare_sessions for hosts that render MCP Apps",
        csp=ResourceCsp(connect_domains=[], resource_domains=[]),
        prefers_border=True,
    )
    return apps


def list_ui_resources_only_to_apps_clients(server: Any) -> None:
    """resources/list without the `ui://` resources for clients that did not declare MCP Apps."""

    async def list_resources(ctx: Any, params: PaginatedRequestParams | None) -> ListResourcesResult:
        resources = await server.list_resources()
        if not client_supports_apps(ctx):
            resources = [r for r in resources if not str(r.uri).startswith("ui://")]
        return ListResourcesResult(resources=resources)

    add_request_handler(server, "resources/list", PaginatedRequestParams, list_resources)
