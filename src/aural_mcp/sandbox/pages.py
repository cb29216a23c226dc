"""The sandbox's candidate pages: the HTML behind the public (`/i/<slug>`) and invite
(`/i/invite/<token>`) links its API hands out, and its 404 page."""

from __future__ import annotations

import html

from starlette.requests import Request
from starlette.responses import HTMLResponse

from aural_mcp.sandbox.store import Store, loads


def page(title: str, body: str, status: int = 200) -> HTMLResponse:
    doc = (
        "<!doctype html><html><head><meta charset='utf-8'><title>"
        f"{html.escape(title)}</title></head><body><main>{body}</main>"
        "<footer><small>Aural sandbox: a local stand-in for the Aural app.</small></footer></body></html>"
    )
    return HTMLResponse(doc, status)


def not_found_page(request: Request | None = None, exc: Exception | None = None) -> HTMLResponse:
    return page("404: This page could not be found.", "<h1>404</h1><p>This page could not be found.</p>", 404)


def interview_page(store: Store, slug: str) -> HTMLResponse:
    """The page behind an interview's public link: its title and whether it is open."""
    row = store.one("SELECT data FROM interviews WHERE public_slug=?", slug)
    if row is None:
        return not_found_page()
    data = loads(row["data"])
    title = str(data.get("title") or "Interview")  # seeded rows may hold anything
    if not data.get("isActive"):
        note = "This interview is closed."
    elif data.get("requireInvite"):
        note = "This interview is by invitation only. Please use the personal link from your invitation."
    else:
        note = "This interview is open. In the real Aural app the interview would start here."
    return page(title, f"<h1>{html.escape(title)}</h1><p>{html.escape(note)}</p>")


def invite_page(store: Store, token: str) -> HTMLResponse:
    """The page behind a candidate's personal invite link."""
    row = store.one("SELECT data FROM candidates WHERE invite_token=?", token)
    if row is None:
        return not_found_page()
    cand = loads(row["data"])
    interview = store.get("interviews", cand["interviewId"]) or {}
    title = str(interview.get("title") or "Interview")
    who = html.escape(str(cand.get("name") or "there"))
    return page(title, f"<h1>{html.escape(title)}</h1><p>Hello {who}, this is your personal invitation.</p>")
