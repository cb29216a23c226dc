"""The scorecard MCP App: over a real MCP client on Streamable HTTP, and in a real browser.

MCP level: `compare_sessions` names `ui://aural/scorecard.html` in its `_meta.ui`; reading it gives
the App document (`text/html;profile=mcp-app`, `_meta.ui.csp` with no domains, no external URL);
resources/list shows it only to a client that declares MCP Apps.

Browser: tests/support/apphost/host.html renders the resource in a sandboxed iframe and speaks the
App bridge; its `tools/call` goes through `auralBridge`, exposed by Playwright, to a real MCP
client session with our server, so everything the view shows comes from the server. Ten
simulated sessions, two with markup payloads in their names and answers.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.client.extension import advertise
from mcp.client.streamable_http import streamable_http_client
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID
from mcp.shared._httpx_utils import create_mcp_http_client
from tests.server.http_inprocess import serve_in_process
from tests.server.test_review_tools import CRITERIA, interview, simulate
from tests.support.browser import DESKTOP, PHONE, Requests, axe_violations, describe_violations

from aural_mcp.server.apps import SCORECARD_URI
from aural_mcp.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
HOST_PAGE = (ROOT / "tests" / "support" / "apphost" / "host.html").read_text(encoding="utf-8")
WAIT = 30.0
# Markup in a name and in answers: if any of it became markup, it would set the global or open a dialog.
PAYLOAD_NAMES = ['<img src=x onerror="window.__pwned=1">Eve', "<script>window.__pwned=2</script>Mallory"]
PAYLOAD_ANSWERS = [
    '<img src=x onerror="window.__pwned=3;alert(3)"> I designed a REST API with versioning.',
    "<script>window.__pwned=4;alert(4)</script> I would add a composite index.",
    '<svg onload="window.__pwned=5"></svg><img src="http://127.0.0.1:9/leak.png"> We rolled back the release.',
    "Postgres <iframe src=\"javascript:window.__pwned=6\"></iframe>",
]
HOST_CAPABILITIES = {"serverTools": {}, "message": {"text": {}}}


class BackgroundClient:
    """An MCP client session over Streamable HTTP on an event loop of its own thread, for sync
    (Playwright) code: `run(coro_fn)` runs `coro_fn(client)` there and waits for its result."""

    def __init__(self, url: str, *, declares_apps: bool) -> None:
        self.url = url
        self.extensions = [advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})] if declares_apps else []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="test-mcp-client", daemon=True)
        self.client: Any = None

    async def _session(self, ready: concurrent.futures.Future[None]) -> None:
        try:
            async with (
                create_mcp_http_client() as http,
                Client(streamable_http_client(self.url, http_client=http), extensions=self.extensions) as client,
            ):
                self.client = client
                self.stop = asyncio.Event()
                ready.set_result(None)
                await self.stop.wait()
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc)
            raise

    def __enter__(self) -> BackgroundClient:
        self.thread.start()
        ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self.session = asyncio.run_coroutine_threadsafe(self._session(ready), self.loop)
        ready.result(WAIT)
        return self

    def run(self, coro_fn: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro_fn(self.client), self.loop).result(WAIT)

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.session.result(WAIT)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(WAIT)
        self.loop.close()


def as_json(result: Any) -> dict[str, Any]:
    return result.model_dump(by_alias=True, mode="json", exclude_none=True)


@pytest.fixture(scope="module")
def round_() -> Iterator[dict[str, Any]]:
    """Our server with the sandbox on a loopback port, an Apps client, ten sessions and their board."""
    settings = Settings(sandbox=True, transport="http", rate_limit=1000)
    with serve_in_process(settings) as running, BackgroundClient(running.url, declares_apps=True) as apps:
        iid, _ = apps.run(interview)
        sids = apps.run(lambda c: simulate(c, iid, 8))
        for seed, name in enumerate(PAYLOAD_NAMES, start=8):
            sids += apps.run(lambda c, s=seed, n=name: simulate(c, iid, 1, seed=s, participantName=n, answers=PAYLOAD_ANSWERS))
        result = apps.run(lambda c: c.call_tool("compare_sessions", {"interviewId": iid}))
        assert not result.is_error
        resource = apps.run(lambda c: c.read_resource(SCORECARD_URI))
        yield {"running": running, "apps": apps, "iid": iid, "sids": sids, "result": as_json(result),
               "board": result.structured_content, "resource": resource}  # fmt: skip


# ---------------------------------------------------------------- MCP level


def test_compare_sessions_names_the_scorecard_and_keeps_its_text(round_):
    tools = round_["apps"].run(lambda c: c.list_tools()).tools
    meta = {t.name: as_json(t).get("_meta") for t in tools}
    assert meta["compare_sessions"] == {"ui": {"resourceUri": SCORECARD_URI}}
    assert all(m is None for name, m in meta.items() if name != "compare_sessions")
    text = round_["result"]["content"][0]["text"]
    assert text.startswith("# Scoreboard of interview") and "## Ranking" in text  # clients without Apps read this


def test_the_resource_is_the_self_contained_app_with_a_strict_csp(round_):
    (content,) = round_["resource"].contents
    dumped = as_json(content)
    assert content.uri == SCORECARD_URI and content.mime_type == APP_MIME_TYPE == "text/html;profile=mcp-app"
    assert dumped["_meta"]["ui"]["csp"] == {"connectDomains": [], "resourceDomains": []}
    html = content.text
    assert html.startswith("<!DOCTYPE html>") and "<script>" in html and "<style>" in html
    assert not re.search(r"https?:|//cdn|\bsrc\s*=|@import|url\(", html, re.IGNORECASE), "an external reference"
    assert "/* scorecard.js */" not in html and "/* scorecard.css */" not in html  # both inlined


def test_resources_list_offers_the_app_only_to_clients_that_declare_mcp_apps(round_):
    listed = {str(r.uri) for r in round_["apps"].run(lambda c: c.list_resources()).resources}
    assert SCORECARD_URI in listed
    with BackgroundClient(round_["running"].url, declares_apps=False) as plain:
        plain_listed = {str(r.uri) for r in plain.run(lambda c: c.list_resources()).resources}
        assert SCORECARD_URI not in plain_listed and listed - plain_listed == {SCORECARD_URI}
        # read through the tool's _meta, it still answers (hosts may find it only there)
        assert plain.run(lambda c: c.read_resource(SCORECARD_URI)).contents[0].mime_type == APP_MIME_TYPE


# ---------------------------------------------------------------- in the browser


class Host:
    """One page of the test host showing the scorecard, with what it recorded."""

    def __init__(self, browser: Any, round_: dict[str, Any], *, viewport: dict[str, int] = DESKTOP,
                 theme: str = "light", capabilities: dict[str, Any] | None = None) -> None:  # fmt: skip
        self.context = browser.new_context(viewport=viewport)
        self.page = self.context.new_page()
        self.dialogs: list[str] = []
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.requests = Requests(self.page)
        self.forwarded: list[tuple[str, dict[str, Any]]] = []
        apps = round_["apps"]

        def forward(method: str, params: dict[str, Any]) -> dict[str, Any]:
            self.forwarded.append((method, params))
            assert method == "tools/call"
            return as_json(apps.run(lambda c: c.call_tool(params["name"], params.get("arguments") or {})))

        self.page.expose_function("auralBridge", forward)
        self.page.set_content(HOST_PAGE)
        config = {
            "html": round_["resource"].contents[0].text,
            "hostCapabilities": HOST_CAPABILITIES if capabilities is None else capabilities,
            "hostContext": {"theme": theme, "displayMode": "inline", "platform": "web"},
            "toolInput": {"interviewId": round_["iid"]},
            "toolResult": round_["result"],
        }
        self.page.evaluate("config => startHost(config)", config)
        self.view = self.page.frame_locator("#view")
        self.view.locator("tr.candidate").first.wait_for(timeout=WAIT * 1000)
        self.frame = next(f for f in self.page.frames if f.parent_frame is not None)

    def rows(self) -> list[dict[str, Any]]:
        return self.frame.evaluate(
            """() => [...document.querySelectorAll('tr.candidate')].map(tr => ({
                 sessionId: tr.dataset.sessionId,
                 cells: [...tr.children].map(td => td.textContent),
                 widths: [...tr.querySelectorAll('.bar')].map(b => {
                   const f = b.querySelector('.fill');
                   return {style: parseFloat(f.style.width), drawn: f.getBoundingClientRect().width / b.getBoundingClientRect().width};
                 }),
               }))"""
        )

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def host(browser, round_) -> Iterator[Host]:
    shown = Host(browser, round_)
    yield shown
    shown.close()


def _criterion(row: dict[str, Any], name: str) -> float | None:
    return next((c["score"] for c in row["criteria"] if c["name"] == name), None)


def test_rows_and_bars_match_the_structured_result(host, round_):
    board = round_["board"]
    rows = host.rows()
    assert [r["sessionId"] for r in rows] == [s["sessionId"] for s in board["sessions"]]  # rank order
    assert len(rows) == 10
    for shown, row in zip(rows, board["sessions"], strict=True):
        rank, name, overall, *criteria, flags = shown["cells"]
        assert rank == f"#{row['rank']}" and name == row["candidateName"]
        assert overall == f"{row['overallScore']:g}"
        scores = [row["overallScore"], *(_criterion(row, c["name"]) for c in CRITERIA)]
        assert criteria == [f"{s:g}" for s in scores[1:]]
        for width, score in zip(shown["widths"], scores, strict=True):
            assert width["style"] == pytest.approx(score * 10, abs=0.01)
            assert width["drawn"] == pytest.approx(score / 10, abs=0.02)
        assert flags == "".join(row["flags"]) and "sandbox heuristic" in flags
    badges = host.view.locator("tr.candidate").first.locator(".badge")
    assert badges.all_text_contents() == board["sessions"][0]["flags"]
    # the bridge's order: the handshake first, then the view reports its size
    calls = host.page.evaluate("() => window.hostCalls")
    assert calls[:2] == ["ui/initialize", "ui/notifications/initialized"] and "ui/notifications/size-changed" in calls


def test_sorting_by_a_criterion_with_the_keyboard_reorders_the_rows(host, round_):
    board = round_["board"]
    name = CRITERIA[1]["name"]
    header = host.view.get_by_role("button", name=name, exact=True)
    header.focus()
    header.press("Enter")
    th = host.view.locator("th:has(button[data-sort='c1'])")
    assert th.get_attribute("aria-sort") == "descending"
    assert host.view.locator("th[aria-sort]").count() == 1
    by_id = {s["sessionId"]: s for s in board["sessions"]}
    shown = [_criterion(by_id[r["sessionId"]], name) for r in host.rows()]
    assert shown == sorted(shown, reverse=True) and len(shown) == 10
    host.view.get_by_role("button", name=name, exact=True).press("Enter")  # focus stays on the header
    assert th.get_attribute("aria-sort") == "ascending"
    shown = [_criterion(by_id[r["sessionId"]], name) for r in host.rows()]
    assert shown == sorted(shown)


def _open(host: Host, name: str) -> Any:
    button = host.view.get_by_role("button", name=name, exact=True)
    button.focus()
    button.press("Enter")
    detail = host.view.locator("tr.detail")
    detail.locator(".message").first.wait_for(timeout=WAIT * 1000)
    assert button.get_attribute("aria-expanded") == "true"
    return detail


def test_a_transcript_opens_through_the_bridge_with_the_candidates_words_marked(host, round_):
    row = next(s for s in round_["board"]["sessions"] if s["candidateName"] == "Candidate 03")
    detail = _open(host, "Candidate 03")
    assert host.forwarded == [("tools/call", {"name": "get_transcript",
                                              "arguments": {"sessionId": row["sessionId"], "format": "compact"}})]  # fmt: skip
    expected = round_["apps"].run(lambda c: c.call_tool("get_transcript", {"sessionId": row["sessionId"]}))
    messages = expected.structured_content["messages"]
    boxes = detail.locator(".message")
    assert boxes.count() == len(messages) > 0
    for i, m in enumerate(messages):
        box = boxes.nth(i)
        assert box.locator("p").text_content() == m["content"]
        candidate = m["role"] == "USER"
        assert box.locator(".speaker").text_content() == ("Candidate's words" if candidate else "Interviewer")
        assert ("candidate" in (box.get_attribute("class") or "").split()) == candidate
    candidate_box = detail.locator(".message.candidate").first
    style = candidate_box.evaluate("b => { const s = getComputedStyle(b); return [s.borderLeftWidth, s.fontStyle]; }")
    assert style == ["4px", "italic"]  # marked by an edge and the type too, not by colour alone


def test_injected_markup_stays_inert(host, round_):
    for name in PAYLOAD_NAMES:
        assert host.view.get_by_role("button", name=name, exact=True).count() == 1  # shown as text
    detail = _open(host, PAYLOAD_NAMES[0])
    assert detail.locator(".message.candidate p").first.text_content().startswith("<img src=x onerror=")
    _open(host, PAYLOAD_NAMES[1])
    inert = host.frame.evaluate(
        """() => ({pwned: typeof window.__pwned,
                   elements: document.querySelectorAll('img, svg, iframe, object, embed').length,
                   scripts: document.scripts.length,
                   handlers: [...document.querySelectorAll('*')].filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).length})"""
    )
    assert inert == {"pwned": "undefined", "elements": 0, "scripts": 1, "handlers": 0}
    assert host.page.evaluate("typeof window.__pwned") == "undefined"
    assert host.dialogs == []
    assert host.requests.urls == [], host.requests.urls  # nothing left the page, not even for an <img>


def test_the_follow_up_button_asks_the_host_to_send_a_message(host, round_):
    board = round_["board"]
    first, second = board["sessions"][0], board["sessions"][1]
    name = CRITERIA[2]["name"]
    host.view.get_by_label("Criterion", exact=True).select_option(label=name)
    host.view.get_by_role("button", name="Ask to compare them").press("Enter")
    host.page.wait_for_function("() => window.hostMessages.length === 1", timeout=WAIT * 1000)
    (sent,) = host.page.evaluate("() => window.hostMessages")
    expected = (f"Compare \u201c{first['candidateName']}\u201d (session {first['sessionId']}) and "
                f"\u201c{second['candidateName']}\u201d (session {second['sessionId']}) on the criterion {name} "
                f"in interview {round_['iid']}, citing their answers (get_transcript).")  # fmt: skip
    assert sent == {"role": "user", "content": [{"type": "text", "text": expected}]}


def test_no_follow_up_buttons_when_the_host_does_not_take_messages(browser, round_):
    shown = Host(browser, round_, capabilities={"serverTools": {}})
    try:
        assert shown.view.locator("#followup").is_hidden()
        assert shown.view.get_by_role("button", name="Ask to compare them").count() == 0  # hidden: not a button
    finally:
        shown.close()


COLOURS = "() => { const s = getComputedStyle(document.body); return [s.backgroundColor, s.color]; }"


def test_the_host_theme_sets_the_colours_and_both_themes_pass_axe(host, round_):
    _open(host, "Candidate 01")  # the transcript and its candidate marking are checked too
    light = host.frame.evaluate(COLOURS)
    assert light == ["rgb(255, 255, 255)", "rgb(26, 26, 26)"]
    violations = axe_violations(host.frame)
    assert not violations, describe_violations(violations)
    host.page.evaluate("() => setHostContext({theme: 'dark'})")
    host.frame.wait_for_function("() => document.documentElement.dataset.theme === 'dark'")
    dark = host.frame.evaluate(COLOURS)
    assert dark == ["rgb(17, 24, 39)", "rgb(243, 244, 246)"]
    violations = axe_violations(host.frame)
    assert not violations, describe_violations(violations)
    # the host's own style variables (the spec's names) win over the view's defaults
    host.page.evaluate("""() => setHostContext({styles: {variables: {
        '--color-background-primary': 'rgb(0, 0, 0)', '--color-text-primary': 'rgb(250, 250, 250)'}}})""")
    host.frame.wait_for_function("() => getComputedStyle(document.body).backgroundColor === 'rgb(0, 0, 0)'")
    assert host.frame.evaluate(COLOURS) == ["rgb(0, 0, 0)", "rgb(250, 250, 250)"]


@pytest.mark.parametrize(("width", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_screenshots(browser, round_, tmp_path, width, viewport):
    shown = Host(browser, round_, viewport=viewport)
    try:
        _open(shown, "Candidate 01")
        shown.view.locator(".message.candidate").first.wait_for()
        # the host sizes the iframe from the view's size-changed notifications: wait until it fits
        height = shown.frame.evaluate("() => document.documentElement.scrollHeight")
        shown.page.wait_for_function(f"() => document.getElementById('view').offsetHeight === {height}")
        # A full-page screenshot paints an iframe only inside the viewport: make the viewport the page.
        total = shown.page.evaluate("() => document.documentElement.scrollHeight")
        shown.page.set_viewport_size({"width": viewport["width"], "height": total})
        shot = tmp_path / f"scorecard-{width}.png"
        shown.page.screenshot(path=str(shot))
        assert shot.stat().st_size > 10_000
        if os.environ.get("UPDATE_SCREENSHOTS") == "1":
            target = ROOT / "docs" / "screenshots" / shot.name
            target.parent.mkdir(exist_ok=True)
            shutil.copyfile(shot, target)
    finally:
        shown.close()


def test_the_document_is_built_from_the_package_sources():
    from aural_mcp.server import apps

    sources = Path(apps.__file__).parent / "scorecard"
    html = apps.scorecard_html()
    for name in ("scorecard.css", "scorecard.js"):
        assert (sources / name).read_text(encoding="utf-8") in html
