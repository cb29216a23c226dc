"""A candidate takes an interview on the sandbox in a real headless Chromium, with the keyboard
only: once with the page's script (answers posted in the background, the next turn appended)
and once with JavaScript disabled (plain form posts). The SDK client then reads the session
through the sandbox's API. Every screen passes axe-core's WCAG 2.1 A/AA checks, no request
leaves the page's origin, and markup in the candidate's name and answers stays inert.

One sandbox on a loopback port serves the whole module; each test opens its own browser context.
Screenshots go to tmp_path; with UPDATE_SCREENSHOTS=1 they are written to docs/screenshots/.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2
import pytest
from tests.support.browser import DESKTOP, PHONE, Requests, axe_violations, describe_violations
from tests.support.servers import LiveServer

from aural_mcp.api.client import AuralClient
from aural_mcp.sandbox import Sandbox

REPO = Path(__file__).resolve().parents[2]
QUESTIONS = [
    {"text": "Tell me about a backend service you designed.", "type": "OPEN_ENDED"},
    {"text": "Which isolation level prevents non-repeatable reads?", "type": "SINGLE_CHOICE",
     "options": ["Read committed", "Repeatable read", "Serializable"]},
    {"text": "Which of these are SQL databases?", "type": "MULTIPLE_CHOICE",
     "options": ["PostgreSQL", "Redis", "SQLite"]},
    {"text": "Write a function that merges overlapping intervals.", "type": "CODING"},
]  # fmt: skip
NAME = "Ada Lovelace"
OPEN_ANSWER = "I built a job queue in front of the billing API, because its p99 had to stay under 200 ms."
# Markup a hostile candidate might type: it must show as text and never run or load anything.
HOSTILE_NAME = "Ada <img src=http://127.0.0.1:9/n.png onerror=window.__pwned=1>"  # a closed loopback port: other origin
HOSTILE_ANSWER = "A queue. <script>window.__pwned=2</script><img src=x onerror=window.__pwned=3>"
CODE = "def merge(spans):\n    # O(n log n), because of the sort\n    return sorted(spans)"


class Site:
    def __init__(self, box: Sandbox, live: LiveServer) -> None:
        self.box, self.url, self.key = box, live.url, box.create_key()
        self.api = httpx2.Client(
            base_url=live.url + "/api/v1", headers={"Authorization": f"Bearer {self.key}"}
        )

    def interview(self) -> str:
        """A published interview with QUESTIONS; returns its public URL."""
        iv = self.api.post("/interviews", json={"title": "Backend engineer screen"}).json()["data"]
        assert self.api.post(f"/interviews/{iv['id']}/questions", json=QUESTIONS).status_code == 200
        return str(self.api.post(f"/interviews/{iv['id']}/publish").json()["data"]["url"])

    def session_through_sdk(self, slug_url: str) -> Any:
        """The interview's only session as the SDK client reads it from the sandbox's API."""
        slug = slug_url.rsplit("/", 1)[1]
        interview = next(i for i in self.api.get("/interviews").json()["data"] if i["publicSlug"] == slug)

        async def read() -> Any:
            async with AuralClient(self.key, base_url=self.url + "/api/v1") as aural:
                page = await aural.list_sessions(interview["id"])
                assert len(page.data) == 1, page
                return await aural.get_session(page.data[0].id)

        with ThreadPoolExecutor(1) as pool:  # its own event loop, beside Playwright's
            return pool.submit(asyncio.run, read()).result(timeout=30)


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    box = Sandbox(rate_limit=10_000)
    try:
        with LiveServer(box.app) as live:
            made = Site(box, live)
            yield made
            made.api.close()
    finally:
        box.close()


def shoot(page: Any, tmp_path: Path, name: str) -> None:
    """Screenshots of the screen at desktop and phone widths (into docs/ when asked)."""
    for width, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        path = tmp_path / f"candidate-{name}-{width}.png"
        page.screenshot(path=str(path))
        if os.environ.get("UPDATE_SCREENSHOTS") == "1":
            (REPO / "docs" / "screenshots").mkdir(exist_ok=True)
            shutil.copyfile(path, REPO / "docs" / "screenshots" / path.name)
    page.set_viewport_size(DESKTOP)


def accessible(page: Any, scripted: bool) -> None:
    """axe-core's WCAG 2.1 A/AA checks of the screen. axe needs the page's JavaScript (it waits
    on timers); the run without it gets the same markup, checked in the run with it."""
    if not scripted:
        return
    found = axe_violations(page)
    assert not found, f"{page.url}:\n{describe_violations(found)}"


def focused(page: Any) -> str:
    return str(
        page.evaluate(
            "document.activeElement && (document.activeElement.id || document.activeElement.tagName)"
        )
    )


def take_interview(
    page: Any,
    url: str,
    *,
    scripted: bool,
    tmp_path: Path | None,
    name: str = NAME,
    open_answer: str = OPEN_ANSWER,
) -> None:
    """Start and answer every question with Tab, arrows, Space, Enter and typing: no clicks."""
    page.goto(url)
    accessible(page, scripted)
    if tmp_path:
        shoot(page, tmp_path, "start")
    page.keyboard.press("Tab")
    assert focused(page) == "name"
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    page.keyboard.type("ada@example.com")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/i/s/"))
    progress = page.locator("#progress")

    def send(number: int) -> None:
        if scripted and focused(page) == "answer":
            page.keyboard.press("Control+Enter")
        else:
            page.keyboard.press("Tab")  # from the answer to the Send button
            page.keyboard.press("Enter")
        if number < len(QUESTIONS):
            progress.filter(has_text=f"Question {number + 1} of").wait_for()
        else:
            page.get_by_role("heading", name=re.compile("Thank you")).wait_for()

    def reach_answer() -> None:
        if not scripted:  # a new page after each post; the script instead puts focus in the answer
            page.keyboard.press("Tab")

    page.keyboard.press("Tab")  # a new page: from its top to the first control
    assert focused(page) == "answer"
    accessible(page, scripted)
    page.keyboard.type(open_answer)
    send(1)
    reach_answer()
    assert focused(page) == "opt-0"
    page.keyboard.press("ArrowDown")  # moves to and picks "Repeatable read"
    accessible(page, scripted)
    if tmp_path:
        shoot(page, tmp_path, "choice")
    send(2)
    reach_answer()
    assert focused(page) == "opt-0"
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    accessible(page, scripted)
    send(3)
    reach_answer()
    assert focused(page) == "answer"
    page.keyboard.type(CODE)
    accessible(page, scripted)
    if tmp_path:
        shoot(page, tmp_path, "code")
    send(4)
    accessible(page, scripted)
    if tmp_path:
        shoot(page, tmp_path, "thanks")


@pytest.mark.parametrize("scripted", [True, False], ids=["javascript", "no-javascript"])
def test_keyboard_only_interview_reaches_the_api(
    browser: Any, site: Site, tmp_path: Path, scripted: bool
) -> None:
    url = site.interview()
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=scripted)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        requests = Requests(page)
        take_interview(page, url, scripted=scripted, tmp_path=tmp_path if scripted else None)
        assert "Thank you, Ada Lovelace" in page.content()
        # Back: without the script, to a question's page, which now says thank you; with it
        # (one page for all questions), to the start screen, which offers the finished session.
        page.go_back()
        if scripted:
            page.get_by_role("link", name="see it").wait_for()
            page.keyboard.press("Tab")
            assert focused(page) == "A"  # the offer comes before the form
            page.keyboard.press("Enter")
        page.get_by_role("heading", name=re.compile("Thank you")).wait_for()
        assert page.locator("textarea, input[type=radio]").count() == 0
        assert requests.urls and not requests.other_than(site.url + "/"), requests.other_than(site.url + "/")
    finally:
        context.close()
    session = site.session_through_sdk(url)
    assert session.status == "COMPLETED" and session.participantName == NAME
    assert [m.content for m in session.messages if m.role == "USER"] == [
        OPEN_ANSWER, "Repeatable read", "PostgreSQL and SQLite", CODE,
    ]  # fmt: skip
    report = site.api.get(f"/sessions/{session.id}/report").json()["data"]
    scores = [e["score"] for e in report["insights"]["questionEvaluations"]]
    assert len(scores) == len(QUESTIONS) and all(1 <= s <= 10 for s in scores)


def test_markup_in_names_and_answers_stays_inert(browser: Any, site: Site) -> None:
    url = site.interview()
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        requests = Requests(page)
        page.goto(url)
        page.get_by_role("button", name="Start the interview").press("Enter")  # nothing filled in
        page.get_by_text("Enter your name.").wait_for()
        accessible(page, True)  # the errors, next to their fields, pass too
        page.get_by_label("Your name").fill(HOSTILE_NAME)
        page.get_by_label("Your email").fill("ada@example.com")
        page.get_by_role("button", name="Start the interview").press("Enter")
        page.get_by_label("Your answer to question 1").fill(HOSTILE_ANSWER)
        page.get_by_label("Your answer to question 1").press("Control+Enter")
        page.locator("#progress").filter(has_text="Question 2 of").wait_for()  # appended by the script
        for _ in ("appended", "rendered by the server"):
            log = page.locator("#log")
            assert HOSTILE_ANSWER in log.inner_text() and HOSTILE_NAME in log.inner_text()
            assert log.locator("img, script").count() == 0
            assert page.evaluate("window.__pwned") is None and not dialogs
            page.reload()
        assert requests.urls and not requests.other_than(site.url + "/"), requests.other_than(site.url + "/")
    finally:
        context.close()
    session = site.session_through_sdk(url)
    assert session.participantName == HOSTILE_NAME
    assert [m.content for m in session.messages if m.role == "USER"] == [HOSTILE_ANSWER]
