"""The sandbox's candidate pages: taking an interview in a browser, behind the public
(`/i/<slug>`) and invite (`/i/invite/<token>`) links its API hands out.

- `GET /i/<slug>`, `GET /i/invite/<token>`: the start screen (what the interview is, that the
  answers are recorded and scored, a Start button; the public link asks for name and email).
  `POST` to the same URL starts the session and redirects (303) to its page.
- `GET /i/s/<page>`: the conversation so far and the question being asked; `POST` answers it and
  redirects back. A finished session's page says thank you.
- `GET /i/assets/<name>`: the stylesheet and the small script that makes the page feel like a chat.

Plain HTML forms are the contract; the script only enhances them. Everything a candidate, an
interview's author or a seed wrote is escaped. Each page carries a strict Content-Security-Policy
(same-origin only, no inline script or style). The start forms are protected by a double-submit
cookie, the session pages by their own token; the sessions are in `sandbox.interviewing`.
"""

from __future__ import annotations

import functools
import html
import re
import secrets
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from aural_mcp.sandbox import interviewing
from aural_mcp.sandbox.interviewing import Progress, Refused
from aural_mcp.sandbox.store import Store, loads
from aural_mcp.shapes import option_labels

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # a session page's URL is its key: never sent elsewhere
    "Cache-Control": "no-store",
}
CSRF_COOKIE = "aural_csrf"
STARTED_COOKIE = "aural_started"  # the page id of the session this browser last started on a public link
ASSETS = {"chat.css": "text/css; charset=utf-8", "chat.js": "text/javascript; charset=utf-8"}
MAX_NAME = 200
MAX_EMAIL = 254
MAX_ANSWER = 20_000
MAX_FORM_FIELDS = 200
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
TEXT_TYPES_NOTE = {
    "WHITEBOARD": "The sandbox has no whiteboard: describe your drawing in words.",
    "RESEARCH": "Write what you found and how you found it.",
}

ReadBody = Callable[[Request], Awaitable[bytes]]


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def page(title: str, body: str, status: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    doc = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{esc(title)}</title><link rel='stylesheet' href='/i/assets/chat.css'>"
        "<script src='/i/assets/chat.js' defer></script></head><body>"
        f"<main id='main'>{body}</main>"
        "<footer><p>Aural sandbox: a local stand-in for the Aural app. Nothing here leaves this computer.</p>"
        "</footer></body></html>"
    )
    return HTMLResponse(doc, status, headers={**SECURITY_HEADERS, **(headers or {})})


def not_found_page(request: Request | None = None, exc: Exception | None = None) -> HTMLResponse:
    return page("404: This page could not be found.", "<h1>404</h1><p>This page could not be found.</p>", 404)


@functools.cache
def _asset_bytes(name: str) -> bytes:
    return resources.files("aural_mcp.sandbox").joinpath("assets", name).read_bytes()


def asset(name: str) -> Response:
    if name not in ASSETS:
        return not_found_page()
    return Response(
        _asset_bytes(name), 200, {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}, ASSETS[name]
    )


def _title(interview: dict[str, Any]) -> str:
    return str(interview.get("title") or "Interview")  # seeded rows may hold anything


def _field(name: str, label: str, value: str, error: str | None, *, kind: str, autocomplete: str) -> str:
    described = f" aria-invalid='true' aria-describedby='{name}-error'" if error else ""
    problem = f"<p class='error' id='{name}-error'>{esc(error)}</p>" if error else ""
    return (
        f"<div class='field'><label for='{name}'>{label}</label>"
        f"<input id='{name}' name='{name}' type='{kind}' autocomplete='{autocomplete}' "
        f"value='{esc(value)}'{described}>{problem}</div>"
    )


class CandidatePages:
    """The request handlers of the candidate pages, on the sandbox's store."""

    def __init__(self, store: Store, read_body: ReadBody) -> None:
        self.store = store
        self.read_body = read_body

    # -- the start screens --------------------------------------------------------------

    def _by_slug(self, slug: str) -> dict[str, Any] | None:
        row = self.store.one("SELECT data FROM interviews WHERE public_slug=?", slug)
        return loads(row["data"]) if row else None

    def _by_token(self, token: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        row = self.store.one("SELECT data FROM candidates WHERE invite_token=?", token)
        if row is None:
            return None
        candidate = loads(row["data"])
        return candidate, self.store.get("interviews", candidate["interviewId"]) or {}

    async def public_start(self, request: Request) -> Response:
        interview = self._by_slug(request.path_params["slug"])
        if interview is None:
            return not_found_page()
        if request.method in ("GET", "HEAD"):
            return self._start_screen(request, interview, None, ask_contact=True)
        form = await self._form(request)
        if form is None:
            return _unsupported()
        if (closed := self._closed_note(interview, public=True)) is not None:
            return page(_title(interview), closed, 409)
        name = form.get("name", "").strip()
        email = form.get("email", "").strip()
        errors = {}
        if not name:
            errors["name"] = "Enter your name."
        elif len(name) > MAX_NAME:
            errors["name"] = f"Your name is longer than {MAX_NAME} characters; shorten it."
        if not email:
            errors["email"] = "Enter your email address, for example ada@example.com."
        elif len(email) > MAX_EMAIL or not _EMAIL.match(email):
            errors["email"] = "Enter an email address in the form name@example.com."
        if not self._start_csrf_ok(request, form):
            return self._start_screen(request, interview, form, ask_contact=True, stale=True)
        if errors:
            return self._start_screen(request, interview, form, ask_contact=True, errors=errors)
        page_id = interviewing.start(
            self.store, interview, name=name, email=email.lower(), start_key=form.get("start") or None
        )
        response = _see(page_id)
        # Back on the start screen (the back button), this browser is offered its session again.
        response.set_cookie(STARTED_COOKIE, page_id, httponly=True, samesite="lax", path="/i/")
        return response

    async def invite_start(self, request: Request) -> Response:
        found = self._by_token(request.path_params["token"])
        if found is None:
            return not_found_page()
        candidate, interview = found
        if candidate.get("sessionId"):
            started = interviewing.page_of_session(self.store, candidate["sessionId"])
            if started is not None:  # the invitation's session is under way or done: its page
                return _see(started)
        if request.method in ("GET", "HEAD"):
            return self._start_screen(request, interview, None, candidate=candidate)
        form = await self._form(request)
        if form is None:
            return _unsupported()
        if (closed := self._closed_note(interview, public=False, candidate=candidate)) is not None:
            return page(_title(interview), closed, 409)
        if not self._start_csrf_ok(request, form):
            return self._start_screen(request, interview, form, candidate=candidate, stale=True)
        name = str(candidate.get("name") or "Candidate")
        try:
            page_id = interviewing.start(
                self.store, interview, name=name, email=candidate.get("email"), candidate=candidate
            )
        except Refused as exc:
            return page(_title(interview), f"<h1>{esc(_title(interview))}</h1><p>{esc(exc)}</p>", 409)
        return _see(page_id)

    def _closed_note(
        self, interview: dict[str, Any], *, public: bool, candidate: dict[str, Any] | None = None
    ) -> str | None:
        """The start screen's body when the interview cannot be started from this link, else None."""
        title = f"<h1>{esc(_title(interview))}</h1>"
        if not interview.get("isActive"):
            return title + "<p class='notice'>This interview is closed: it no longer takes answers.</p>"
        if public and interview.get("requireInvite"):
            return title + (
                "<p class='notice'>This interview is by invitation only. "
                "Please use the personal link from your invitation.</p>"
            )
        if candidate is not None and candidate.get("sessionId"):
            return title + "<p class='notice'>There is already a session for this invitation.</p>"
        return None

    def _start_screen(
        self,
        request: Request,
        interview: dict[str, Any],
        form: dict[str, str] | None,
        *,
        ask_contact: bool = False,
        candidate: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        stale: bool = False,
    ) -> Response:
        title = _title(interview)
        closed = self._closed_note(interview, public=ask_contact, candidate=candidate)
        if closed is not None:
            return page(title, closed)
        greeting = (
            f"<p>Hello {esc(candidate.get('name') or 'there')}, this is your personal invitation.</p>"
            if candidate is not None
            else ""
        )
        questions = self.store.questions_of(interview["id"])
        if not questions:
            note = "<p class='notice'>This interview has no questions yet.</p>"
            return page(title, f"<h1>{esc(title)}</h1>{greeting}{note}")
        csrf = request.cookies.get(CSRF_COOKIE) or ""
        if not re.fullmatch(r"[A-Za-z0-9_-]{20,64}", csrf):
            csrf = interviewing.new_token()
        form = form or {}
        errors = errors or {}
        ai = esc(interview.get("aiName") or "Aural")
        count = len(questions)
        objective = f"<p>{esc(interview['objective'])}</p>" if interview.get("objective") else ""
        parts = [
            f"<h1>{esc(title)}</h1>",
            greeting,
            objective,
            "<h2>Before you start</h2><ul>",
            f"<li>{ai}, a scripted interviewer, asks you {count} question{'s' if count != 1 else ''}, one at a time.</li>",
            "<li>Your answers are recorded as you send them, and scored when you finish "
            "(by the sandbox's heuristic, not Aural's model). The interview's team sees them.</li>",
            "<li>You can reload the page or come back to this link: your progress is kept.</li></ul>",
        ]
        started = (
            interviewing.load(self.store, request.cookies.get(STARTED_COOKIE) or "") if ask_contact else None
        )
        if started is not None and started.session.get("interviewId") == interview.get("id"):
            where = "see it" if not started.in_progress else "continue it"
            parts.append(
                "<p class='notice'>You have already started this interview in this browser: "
                f"<a href='/i/s/{esc(started.page_id)}'>{where}</a>. To start again as someone else, "
                "fill in the form.</p>"
            )
        if stale:
            parts.append(
                "<p class='error' role='alert'>This form had expired. Nothing was lost: check your details "
                "and press Start again.</p>"
            )
        if errors:
            parts.append(
                f"<p class='error' role='alert'>Please correct the {len(errors)} "
                f"field{'s' if len(errors) != 1 else ''} marked below.</p>"
            )
        parts.append(f"<form method='post' novalidate><input type='hidden' name='csrf' value='{esc(csrf)}'>")
        parts.append(f"<input type='hidden' name='start' value='{esc(interviewing.new_token())}'>")
        if ask_contact:
            parts.append(
                _field(
                    "name",
                    "Your name",
                    form.get("name", ""),
                    errors.get("name"),
                    kind="text",
                    autocomplete="name",
                )
            )
            parts.append(
                _field(
                    "email",
                    "Your email",
                    form.get("email", ""),
                    errors.get("email"),
                    kind="email",
                    autocomplete="email",
                )
            )
        parts.append("<button type='submit'>Start the interview</button></form>")
        status = 403 if stale else 422 if errors else 200
        response = page(title, "".join(parts), status)
        response.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="lax", path="/i/")
        return response

    def _start_csrf_ok(self, request: Request, form: dict[str, str]) -> bool:
        cookie = request.cookies.get(CSRF_COOKIE) or ""
        sent = form.get("csrf", "")
        return bool(cookie) and secrets.compare_digest(cookie.encode(), sent.encode())

    # -- a session's page ------------------------------------------------------------------

    async def session_page(self, request: Request) -> Response:
        progress = interviewing.load(self.store, request.path_params["page"])
        if progress is None:
            return not_found_page()
        if request.method in ("GET", "HEAD"):
            return self._conversation(progress)
        form = await self._form(request)
        if form is None:
            return _unsupported()
        if not secrets.compare_digest(form.get("csrf", "").encode(), progress.csrf.encode()):
            return self._conversation(progress, form, stale=True)
        try:
            step = int(form.get("step", ""))
        except ValueError:
            return self._conversation(
                progress, form, error="The form was incomplete; send your answer again."
            )
        if step < progress.answered or progress.current is None:
            return _see(progress.page_id)  # sent twice, or the session ended: show where it stands
        text, error = _answer_text(progress.current, form)
        if error is not None:
            return self._conversation(progress, form, error=error)
        try:
            interviewing.answer(self.store, progress.page_id, step, text)
        except Refused as exc:
            return self._conversation(progress, form, error=str(exc))
        return _see(progress.page_id)

    def _conversation(
        self,
        progress: Progress,
        form: dict[str, str] | None = None,
        *,
        error: str | None = None,
        stale: bool = False,
    ) -> Response:
        title = _title(progress.interview)
        session = progress.session
        total = len(progress.questions)
        if session.get("status") == "COMPLETED":
            name = esc(session.get("participantName") or "")
            body = (
                f"<h1>{esc(title)}</h1><h2>Thank you, {name}</h2>"
                f"<p>Your {progress.answered} answer{'s' if progress.answered != 1 else ''} "
                "were recorded and the interview is complete. You can close this page.</p>"
            )
            return page(f"Thank you: {title}", body)
        if session.get("status") != "IN_PROGRESS":
            return page(title, f"<h1>{esc(title)}</h1><p class='notice'>This session has ended.</p>")
        question = progress.current
        if question is None:  # not reached: the last answer completes the session in its transaction
            return page(
                title, f"<h1>{esc(title)}</h1><p class='notice'>This session takes no more answers.</p>"
            )
        number = progress.answered + 1
        parts = [
            f"<h1>{esc(title)}</h1>",
            f"<p id='progress'>Question {number} of {total}</p>",
            "<h2 class='visually-hidden'>Conversation</h2>",
            "<div id='log' role='log' aria-live='polite' aria-label='Conversation'>",
            *self._turns(progress),
            "</div>",
            self._answer_form(progress, question, number, form or {}, error, stale),
        ]
        status = 403 if stale else 422 if error else 200
        return page(f"Question {number} of {total}: {title}", "".join(parts), status)

    def _turns(self, progress: Progress) -> list[str]:
        """The interviewer's and the candidate's messages so far (SYSTEM lines are not shown)."""
        ai = esc(progress.interview.get("aiName") or "Aural")
        you = esc(progress.session.get("participantName") or "You")
        types = {q["id"]: q.get("type") for q in progress.questions}
        out = []
        for m in self.store.messages_of(progress.session["id"]):
            if m["role"] == "ASSISTANT":
                out.append(
                    f"<div class='turn interviewer'><p class='who'>{ai}</p><p>{esc(m['content'])}</p></div>"
                )
            elif m["role"] == "USER":
                content = esc(m["content"])
                shown = (
                    f"<pre>{content}</pre>"
                    if types.get(m.get("questionId")) == "CODING"
                    else f"<p>{content}</p>"
                )
                out.append(f"<div class='turn candidate'><p class='who'>{you} (you)</p>{shown}</div>")
        return out

    def _answer_form(
        self,
        progress: Progress,
        question: dict[str, Any],
        number: int,
        form: dict[str, str],
        error: str | None,
        stale: bool,
    ) -> str:
        qtype = question.get("type")
        options = option_labels(question.get("options"))
        problem = f"<p class='error' id='answer-error'>{esc(error)}</p>" if error else ""
        invalid = " aria-invalid='true' aria-describedby='answer-error'" if error else ""
        parts = [
            f"<form id='turn' method='post' action='/i/s/{esc(progress.page_id)}' novalidate data-chat>",
            f"<input type='hidden' name='csrf' value='{esc(progress.csrf)}'>",
            f"<input type='hidden' name='step' value='{progress.answered}'>",
        ]
        if stale:
            parts.append(
                "<p class='error' role='alert'>This page had expired. Your answer is kept below: send it again.</p>"
            )
        if qtype in ("SINGLE_CHOICE", "MULTIPLE_CHOICE") and options:
            multiple = qtype == "MULTIPLE_CHOICE"
            kind, name = ("checkbox", "choices") if multiple else ("radio", "choice")
            chosen = set(form.get(name, "").split("\n")) if form.get(name) else set()
            hint = "Choose one or more." if multiple else "Choose one."
            described = " aria-describedby='answer-error'" if error else ""
            parts.append(
                f"<fieldset{described}><legend>Your answer to question {number}: {esc(hint)}</legend>"
            )
            for i, label in enumerate(options):
                checked = " checked" if str(i) in chosen else ""
                parts.append(
                    f"<div class='option'><input type='{kind}' id='opt-{i}' name='{name}' value='{i}'{checked}>"
                    f"<label for='opt-{i}'>{esc(label)}</label></div>"
                )
            parts.append(f"{problem}</fieldset>")
        else:
            coding = qtype == "CODING"
            label = f"Your code for question {number}" if coding else f"Your answer to question {number}"
            note = TEXT_TYPES_NOTE.get(str(qtype), "")
            note_html = f"<p class='note' id='answer-note'>{esc(note)}</p>" if note else ""
            css = "code" if coding else "answer"
            extra = " spellcheck='false' autocapitalize='off' autocomplete='off' wrap='off'" if coding else ""
            typed = form.get("answer", starter_code(question) if coding else "")
            parts.append(
                f"<div class='field'><label for='answer'>{label}</label>{note_html}"
                f"<textarea id='answer' name='answer' class='{css}' rows='{12 if coding else 6}'{extra}{invalid}>"
                f"{esc(typed)}</textarea>{problem}</div>"
            )
        last = number == len(progress.questions)
        parts.append(
            f"<div class='actions'><button type='submit'>{'Send and finish' if last else 'Send answer'}</button>"
            "<p class='hint' id='send-hint' hidden>Ctrl+Enter sends from the answer box.</p></div></form>"
        )
        return "".join(parts)

    # -- requests --------------------------------------------------------------------------

    async def _form(self, request: Request) -> dict[str, str] | None:
        """A urlencoded form's fields (repeated ones joined by newlines), or None for another body."""
        kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if kind != "application/x-www-form-urlencoded":
            return None
        body = (await self.read_body(request)).decode("utf-8", "replace")
        try:
            fields = parse_qs(body, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
        except ValueError:  # more fields than any of these forms has: not one of ours
            return {}
        return {name: "\n".join(values) for name, values in fields.items()}


def starter_code(question: dict[str, Any]) -> str:
    """The code a CODING question starts the box with: `{language, code}` or a map of language to
    source (the first one), whichever the row holds; nothing otherwise."""
    starter = question.get("starterCode")
    if isinstance(starter, dict):
        code = starter.get("code") if "code" in starter else next(iter(starter.values()), None)
        return code if isinstance(code, str) else ""
    return starter if isinstance(starter, str) else ""


def _answer_text(question: dict[str, Any], form: dict[str, str]) -> tuple[str, str | None]:
    """The answer as its transcript message says it, or an error naming what to fix."""
    qtype = question.get("type")
    options = option_labels(question.get("options"))
    if qtype in ("SINGLE_CHOICE", "MULTIPLE_CHOICE") and options:
        multiple = qtype == "MULTIPLE_CHOICE"
        sent = [v for v in form.get("choices" if multiple else "choice", "").split("\n") if v]
        if not sent:
            return "", "Choose one or more of the options." if multiple else "Choose one of the options."
        picked = []
        for value in dict.fromkeys(sent):
            if not value.isdigit() or int(value) >= len(options) or (not multiple and len(sent) > 1):
                return "", "That is not one of the options listed; choose from the list."
            picked.append(options[int(value)])
        return " and ".join(picked), None
    text = form.get("answer", "").replace("\r\n", "\n")
    if not text.strip():
        what = "your code" if qtype == "CODING" else "an answer"
        return "", f"Write {what} before sending."
    if len(text) > MAX_ANSWER:
        return "", f"Your answer is longer than {MAX_ANSWER} characters; shorten it."
    return (text.strip("\n") if qtype == "CODING" else text.strip()), None


def _see(page_id: str) -> Response:
    return RedirectResponse(f"/i/s/{page_id}", 303, headers={"Cache-Control": "no-store"})


def _unsupported() -> Response:
    return page("Unsupported form", "<h1>Unsupported form</h1><p>Send the form from this page.</p>", 415)
