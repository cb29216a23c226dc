"""Candidate pages: every link the API hands out opens, on the API's own listener or on a
separate one serving only `Sandbox.pages_app` (what `serve --sandbox` runs on a loopback port),
and a candidate takes the interview through them over real HTTP: plain form posts, as a browser
without JavaScript sends them, read back through the API."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest
from tests.support.forms import hidden_fields
from tests.support.servers import LiveServer

from aural_mcp.sandbox import Sandbox

from .conftest import auth

pytestmark = pytest.mark.anyio
API = "/api/v1"


async def links(api: httpx2.AsyncClient) -> tuple[str, str]:
    """A published interview's public URL and a candidate's invite URL, as the API returns them."""
    iv = (await api.post(f"{API}/interviews", json={"title": "<b>Ops</b> & on-call"})).json()["data"]
    cand = (await api.post(f"{API}/interviews/{iv['id']}/candidates", json={"name": "Bo <i>"})).json()[
        "data"
    ][0]
    url = (await api.post(f"{API}/interviews/{iv['id']}/publish")).json()["data"]["url"]
    return url, cand["inviteUrl"]


async def test_links_open_on_the_api_listener_by_default(http, server):
    public, invite = await links(http)
    assert public.startswith(server.url + "/i/") and invite.startswith(server.url + "/i/invite/")
    for url in (public, invite):
        page = await http.get(url)
        assert page.status_code == 200 and "&lt;b&gt;Ops&lt;/b&gt; &amp; on-call" in page.text, page.text
        assert "<b>Ops</b>" not in page.text  # third-party text is escaped, never markup


async def test_pages_app_serves_the_links_at_the_public_url():
    box = Sandbox()
    try:
        key = box.create_key()
        with LiveServer(box.app) as api_server, LiveServer(box.pages_app) as pages:
            box.public_url = pages.url + "/"  # set once the pages listener's port is known
            async with httpx2.AsyncClient(base_url=api_server.url, headers=auth(key), timeout=30) as api:
                public, invite = await links(api)
            assert public.startswith(pages.url + "/i/") and invite.startswith(pages.url + "/i/invite/")
            async with httpx2.AsyncClient(timeout=30) as browser:
                for url in (public, invite):
                    page = await browser.get(url)
                    assert page.status_code == 200 and "Ops" in page.text, url
                assert "Hello Bo &lt;i&gt;" in (await browser.get(invite)).text
                assert (await browser.get(pages.url + "/healthz")).text == "ok"
                # only the pages: the API is not reachable through this listener
                r = await browser.get(pages.url + f"{API}/interviews", headers=auth(key))
                assert r.status_code == 404 and "text/html" in r.headers["content-type"]
                assert (await browser.get(pages.url + "/i/invite/nosuchtoken")).status_code == 404
                assert (await browser.put(public)).status_code == 405
                slash = await browser.get(public + "/", follow_redirects=False)
                assert slash.status_code == 308 and slash.headers["location"] == public.removeprefix(
                    pages.url
                )
    finally:
        box.close()


# -- taking an interview through the pages, over real HTTP ----------------------------------

QUESTIONS = [
    {"text": "Tell me about a <b>backend</b> service you designed.", "type": "OPEN_ENDED"},
    {"text": "Which isolation level prevents non-repeatable reads?", "type": "SINGLE_CHOICE",
     "options": ["Read committed", "Repeatable read", "<img src=x onerror=alert(1)>"]},
    {"text": "Which of these are SQL databases?", "type": "MULTIPLE_CHOICE",
     "options": ["PostgreSQL", "Redis", "SQLite"]},
    {"text": "Write a function that merges overlapping intervals.", "type": "CODING"},
]  # fmt: skip
CODE = "def merge(xs):\n    # O(n log n), because of the sort\n    return sorted(xs)"


def hidden(page: httpx2.Response) -> dict[str, str]:
    """The hidden fields (CSRF token, step, start key) of the page's form."""
    return hidden_fields(page.text)


async def interview_with_questions(api: httpx2.AsyncClient, *, publish: bool = True) -> dict[str, Any]:
    """An interview with QUESTIONS and its public URL; unpublished, it is by invitation only."""
    iv = (await api.post(f"{API}/interviews", json={"title": "Backend <screen>"})).json()["data"]
    r = await api.post(f"{API}/interviews/{iv['id']}/questions", json=QUESTIONS)
    assert r.status_code == 200, r.text
    if publish:
        assert (await api.post(f"{API}/interviews/{iv['id']}/publish")).status_code == 200
    return {**iv, "url": f"{str(api.base_url).rstrip('/')}/i/{iv['publicSlug']}"}


async def answer(browser: httpx2.AsyncClient, page_url: str, **fields: str | list[str]) -> httpx2.Response:
    """Post the page's form with `fields` (and its hidden fields), as a browser would."""
    page = await browser.get(page_url)
    return await browser.post(page_url, data={**hidden(page), **fields})


@pytest.fixture
async def browser(server: LiveServer) -> AsyncIterator[httpx2.AsyncClient]:
    """A cookie-keeping client without the API key: what a candidate's browser is."""
    async with httpx2.AsyncClient(base_url=server.url, timeout=30) as c:
        yield c


async def test_a_public_interview_taken_end_to_end(http, browser):
    iv = await interview_with_questions(http)
    start = await browser.get(iv["url"])
    assert start.status_code == 200
    assert "recorded" in start.text and "Start the interview" in start.text
    assert "Backend &lt;screen&gt;" in start.text and "<screen>" not in start.text
    assert "default-src 'self'" in start.headers["content-security-policy"]
    assert "samesite=lax" in start.headers["set-cookie"].lower()
    started = await browser.post(
        iv["url"], data={**hidden(start), "name": "Ada <script>alert(1)</script>", "email": "Ada@Example.com"}
    )
    assert started.status_code == 303, started.text
    page_url = started.headers["location"]
    assert re.fullmatch(r"/i/s/[A-Za-z0-9_-]{32}", page_url)
    listed = (await http.get(f"{API}/interviews/{iv['id']}/sessions")).json()["data"]
    assert [s["status"] for s in listed] == ["IN_PROGRESS"]  # there as soon as the candidate starts
    first = await browser.get(page_url)
    assert "Question 1 of 4" in first.text and "&lt;b&gt;backend&lt;/b&gt;" in first.text
    assert "<script>alert" not in first.text and "Ada &lt;script&gt;" in first.text

    assert (
        await answer(browser, page_url, answer="  I built a queue because the API had to stay fast. ")
    ).status_code == 303
    second = await browser.get(page_url)
    assert "Question 2 of 4" in second.text and "type='radio'" in second.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in second.text and "<img src=x" not in second.text
    session_id = listed[0]["id"]
    mid = (await http.get(f"{API}/sessions/{session_id}")).json()["data"]
    assert mid["status"] == "IN_PROGRESS"
    assert [m["content"] for m in mid["messages"] if m["role"] == "USER"] == [
        "I built a queue because the API had to stay fast."
    ]
    assert (await answer(browser, page_url, choice="1")).status_code == 303
    third = await browser.get(page_url)
    assert "type='checkbox'" in third.text
    assert (await answer(browser, page_url, choices=["0", "2"])).status_code == 303
    fourth = await browser.get(page_url)
    assert "class='code'" in fourth.text and "Send and finish" in fourth.text
    assert (await answer(browser, page_url, answer=CODE)).status_code == 303
    done = await browser.get(page_url)
    assert "Thank you" in done.text and "<textarea" not in done.text

    session = (await http.get(f"{API}/sessions/{session_id}")).json()["data"]
    assert session["status"] == "COMPLETED" and session["participantEmail"] == "ada@example.com"
    assert (
        session["participantName"] == "Ada <script>alert(1)</script>"
    )  # stored as typed; escaped when shown
    assert [m["content"] for m in session["messages"] if m["role"] == "USER"] == [
        "I built a queue because the API had to stay fast.", "Repeatable read", "PostgreSQL and SQLite", CODE,
    ]  # fmt: skip
    roles = [m["role"] for m in session["messages"]]
    assert roles[:3] == ["SYSTEM", "ASSISTANT", "ASSISTANT"] and roles[-2:] == ["ASSISTANT", "SYSTEM"]
    assert session["messages"][2]["content"].startswith("Tell me about a <b>backend</b>")
    evaluations = session["insights"]["questionEvaluations"]
    assert len(evaluations) == 4 and all(1 <= e["score"] <= 10 for e in evaluations)
    assert "sandbox" in session["insights"]["scoring"] and session["totalDurationSeconds"] is not None
    report = (await http.get(f"{API}/sessions/{session_id}/report")).json()["data"]
    assert report["status"] == "COMPLETED" and report["summary"].startswith("Ada <script>")


async def test_an_invitation_links_the_session_to_its_candidate(http, browser):
    iv = await interview_with_questions(http, publish=False)
    cand = (
        await http.post(
            f"{API}/interviews/{iv['id']}/candidates", json={"name": "Grace", "email": "g@example.com"}
        )
    ).json()["data"][0]
    public = await browser.get(iv["url"])
    assert "by invitation only" in public.text and "<form" not in public.text
    invite = await browser.get(cand["inviteUrl"])
    assert "Hello Grace" in invite.text and "name='email'" not in invite.text
    started = await browser.post(cand["inviteUrl"], data=hidden(invite))
    assert started.status_code == 303
    page_url = started.headers["location"]
    # The invitation now leads to its session's page, which a reload or a second start keeps.
    again = await browser.get(cand["inviteUrl"])
    assert again.status_code == 303 and again.headers["location"] == page_url
    assert (await browser.post(cand["inviteUrl"], data=hidden(invite))).headers["location"] == page_url
    listed = (await http.get(f"{API}/interviews/{iv['id']}/candidates")).json()["data"]
    linked = next(c for c in listed if c["id"] == cand["id"])
    sessions = (await http.get(f"{API}/interviews/{iv['id']}/sessions")).json()["data"]
    assert len(sessions) == 1 and linked["sessionId"] == sessions[0]["id"]
    assert sessions[0]["participantName"] == "Grace" and sessions[0]["participantEmail"] == "g@example.com"


async def test_bad_input_is_named_next_to_its_field_and_nothing_is_lost(http, browser):
    iv = await interview_with_questions(http)
    start = await browser.get(iv["url"])
    bad = await browser.post(iv["url"], data={**hidden(start), "name": "", "email": "not-an-email"})
    assert bad.status_code == 422
    assert (
        "id='name-error'>Enter your name." in bad.text
        and "id='email-error'>Enter an email address" in bad.text
    )
    assert "value='not-an-email'" in bad.text and "aria-invalid='true'" in bad.text
    stale = await browser.post(
        iv["url"], data={**hidden(start), "csrf": "forged", "name": "Al", "email": "a@b.io"}
    )
    assert stale.status_code == 403 and "expired" in stale.text and "value='Al'" in stale.text
    cookieless = httpx2.AsyncClient(base_url=str(browser.base_url), timeout=30)
    async with cookieless:
        refused = await cookieless.post(iv["url"], data={**hidden(start), "name": "Al", "email": "a@b.io"})
        assert refused.status_code == 403  # a post from another site carries no cookie
    assert (
        await browser.post(iv["url"], content=b"{}", headers={"content-type": "application/json"})
    ).status_code == 415
    assert (await http.get(f"{API}/interviews/{iv['id']}/sessions")).json()["data"] == []

    form = hidden(await browser.get(iv["url"]))
    started = await browser.post(iv["url"], data={**form, "name": "Al", "email": "a@b.io"})
    replayed = await browser.post(iv["url"], data={**form, "name": "Al", "email": "a@b.io"})
    page_url = started.headers["location"]
    assert replayed.headers["location"] == page_url  # the same start form sent twice: one session
    fields = hidden(await browser.get(page_url))
    empty = await browser.post(page_url, data={**fields, "answer": "   "})
    assert empty.status_code == 422 and "Write an answer before sending." in empty.text
    forged = await browser.post(page_url, data={**fields, "csrf": "x", "answer": "Kept <b>text</b>"})
    assert forged.status_code == 403 and "Kept &lt;b&gt;text&lt;/b&gt;</textarea>" in forged.text
    first = await browser.post(page_url, data={**fields, "answer": "Once."})
    twice = await browser.post(page_url, data={**fields, "answer": "Once."})
    assert first.status_code == twice.status_code == 303  # the replay lands on the page, unstored
    fields = hidden(await browser.get(page_url))
    for choice, why in (("7", "not one of the options"), ("x", "not one of the options"), ("", "Choose one")):
        r = await browser.post(page_url, data={**fields, "choice": choice})
        assert r.status_code == 422 and why in r.text, (choice, r.text[-800:])
    r = await browser.post(page_url, data={**fields, "choice": ["0", "1"]})
    assert r.status_code == 422  # one choice only
    sessions = (await http.get(f"{API}/interviews/{iv['id']}/sessions")).json()["data"]
    assert len(sessions) == 1
    detail = (await http.get(f"{API}/sessions/{sessions[0]['id']}")).json()["data"]
    assert [m["content"] for m in detail["messages"] if m["role"] == "USER"] == ["Once."]
    assert (await browser.get("/i/s/" + "x" * 32)).status_code == 404


async def test_closed_interviews_say_so(http, browser):
    iv = await interview_with_questions(http)
    start = await browser.get(iv["url"])
    assert (await http.delete(f"{API}/interviews/{iv['id']}")).status_code == 200
    closed = await browser.get(iv["url"])
    assert "This interview is closed" in closed.text and "<form" not in closed.text
    late = await browser.post(iv["url"], data={**hidden(start), "name": "Al", "email": "a@b.io"})
    assert late.status_code == 409 and "closed" in late.text


async def test_the_code_box_starts_with_the_questions_starter_code(http, browser):
    iv = (await http.post(f"{API}/interviews", json={"title": "Code"})).json()["data"]
    starter = {"python": "def merge(spans):\n    ..."}
    question = {"text": "Merge intervals.", "type": "CODING", "starterCode": starter}
    assert (await http.post(f"{API}/interviews/{iv['id']}/questions", json=[question])).status_code == 200
    assert (await http.post(f"{API}/interviews/{iv['id']}/publish")).status_code == 200
    url = f"/i/{iv['publicSlug']}"
    start = await browser.get(url)
    page_url = (await browser.post(url, data={**hidden(start), "name": "Al", "email": "a@b.io"})).headers[
        "location"
    ]
    box = await browser.get(page_url)
    assert "class='code'" in box.text and ">def merge(spans):\n    ...</textarea>" in box.text


async def test_odd_requests_get_pages_not_crashes(http, browser):
    iv = await interview_with_questions(http)
    start = await browser.get(iv["url"])
    assert (await browser.head(iv["url"])).status_code == 200  # HEAD reads, never posts
    many = "&".join(f"f{i}=x" for i in range(500))
    flooded = await browser.post(
        iv["url"], content=many, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert flooded.status_code == 403 and "expired" in flooded.text
    started = await browser.post(iv["url"], data={**hidden(start), "name": "Al", "email": "a@b.io"})
    page_url = started.headers["location"]
    assert (await browser.head(page_url)).status_code == 200
    garbled = await browser.post(
        page_url, data={**hidden(await browser.get(page_url)), "step": "one", "answer": "Kept"}
    )
    assert garbled.status_code == 422 and "Kept</textarea>" in garbled.text
    binary = await browser.post(
        page_url, content=b"\xff\xfe=\x00", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert binary.status_code == 403
    assert len((await http.get(f"{API}/interviews/{iv['id']}/sessions")).json()["data"]) == 1
