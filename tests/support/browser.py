"""A real headless Chromium for the browser tests, driven by Playwright, and the checks they share.

The browser is the system's (Debian's `chromium`, which `.ci/run` installs when it is missing);
Playwright's own browser download is never used. The flags keep Chromium off the network: without
them it tries Google's hosts at start, which this machine refuses. One browser serves each test
module (`browser` fixture in tests/conftest.py, which says why not the whole session); each test
opens its own context, so cookies and storage never leak between tests.

`axe_violations` runs axe-core (the copy the `axe-playwright-python` wheel ships) inside a page or
frame, through the DevTools protocol, so a page's own Content-Security-Policy does not block it.
`Requests` records every request a page makes, to prove a page makes none of its own.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_FLAGS = [
    "--no-sandbox",  # the tests may run as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    # Safety net: no host name resolves but loopback's, so even a failing test's payload cannot reach out.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]

# Widths of the screenshots in docs/: a laptop and a phone.
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def chromium_binary() -> str:
    """The system Chromium; fails the test, naming the fix, when there is none."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("no Chromium on PATH: install the OS package (apt-get install chromium); .ci/run does")


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium (a Playwright `Browser`), closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_binary(), headless=True, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def _axe_source() -> str:
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


# WCAG 2 A and AA: labels, names, roles, focus and contrast among them.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(target: Any, *, include: str | None = None) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A/AA violations in a Playwright Page or Frame (empty when there are none)."""
    target.evaluate(_axe_source() + "\n;undefined")
    context = include if include is not None else "document"
    script = (
        "async ([ctx, tags]) => {"
        " const where = ctx === 'document' ? document : document.querySelector(ctx);"
        " const result = await axe.run(where, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});"
        " return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        "   nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary)}));"
        "}"
    )
    return list(target.evaluate(script, [context, AXE_TAGS]))


def describe_violations(violations: list[dict[str, Any]]) -> str:
    """One line per violation and node, for an assertion message."""
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        lines.extend(f"    {node}" for node in v["nodes"][:5])
    return "\n".join(lines)


class Requests:
    """Every URL a page (and its frames) requests while this records."""

    def __init__(self, page: Any) -> None:
        self.urls: list[str] = []
        page.on("request", lambda request: self.urls.append(request.url))

    def other_than(self, *prefixes: str) -> list[str]:
        """The requested URLs that start with none of `prefixes`."""
        return [url for url in self.urls if not url.startswith(prefixes)]
