"""The consent page: where a user allows an MCP client to act with their own Aural key.

`GET /consent?request=ID` shows a pending authorization request (`oauth.TeamOAuthProvider.authorize`
made it): the client's name (third-party text, escaped) and id, what it will be able to do (every
tool, or read-only: scope `aural:read`), and a password field for the user's `dlv_` key. Plain HTML
forms, no JavaScript.

`POST /consent` checks the CSRF token: the random value stored with the request, which the form
carries and a `SameSite=Strict` cookie set by the GET carries too, both compared in constant time,
so another site can neither post the form nor replay it from its own browser. Allow checks the key
with `GET /usage` before anything is stored; a malformed, refused or unchecked key shows the page
again (400) with what to do, never the key. Then the grant (the key sealed) and an authorization
code are made and the browser goes back to the client with `code`, `state` and `iss` (RFC 9207);
Deny goes back with `error=access_denied`.

Every answer forbids framing (`X-Frame-Options`, CSP `frame-ancestors 'none'`), caching and referrers.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import urlsplit

from mcp.server.auth.provider import construct_redirect_uri
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from aural_mcp.api import AuralClient
from aural_mcp.api import errors as api_errors
from aural_mcp.team.grants import SCOPE_ALL, SCOPE_READ, GrantBook
from aural_mcp.team.oauth import CONSENT_PATH
from aural_mcp.team.store import TeamStore

KEY_CHECK_TIMEOUT = 15.0
MAX_FORM_BYTES = 16 * 1024
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}

KEY_MALFORMED = "That is not an Aural API key: keys start with dlv_ and contain no spaces. Copy the whole key from Settings → API Keys."
KEY_REFUSED = "Aural refused this key (revoked, expired or mistyped). Create a new one under Settings → API Keys and paste it here."
KEY_UNCHECKED = "The Aural API could not be reached to check the key. Nothing was saved; try again in a minute."
KEY_RATE_LIMITED = "The Aural API is rate limiting this key right now. Nothing was saved; wait a minute and try again."
EXPIRED = "This sign-in request has expired or was already used. Go back to your MCP client and connect again."
CSRF_FAILED = "This form could not be verified (it was sent from elsewhere, or cookies are off). Reload the page and try again."
SCOPE_NOT_ASKED = "Choose what the client may do: all tools, or read-only."


async def check_key(key: str, base_url: str) -> str | None:
    """None when the API accepts `key` (`GET /usage`); else the message for the page."""
    try:
        client = AuralClient(key, base_url=base_url, timeout=KEY_CHECK_TIMEOUT, max_retries=1, max_retry_wait=5.0)
    except api_errors.ConfigurationError:
        return KEY_MALFORMED
    try:
        async with client:
            await client.get_usage()
    except (api_errors.UnauthorizedError, api_errors.ForbiddenError):
        return KEY_REFUSED
    except api_errors.RateLimitedError:
        return KEY_RATE_LIMITED
    except api_errors.AuralError:
        return KEY_UNCHECKED
    return None


@dataclass
class ConsentPage:
    store: TeamStore
    book: GrantBook
    issuer: str
    resource: str
    base_url: str  # the Aural API the users' keys are for

    @property
    def _secure(self) -> bool:
        return self.issuer.startswith("https://")

    def _cookie(self, request_id: str) -> str:
        return ("__Host-" if self._secure else "") + "aural_csrf_" + request_id[:16]

    async def _pending(self, request_id: str) -> dict[str, Any] | None:
        if not request_id or len(request_id) > 100:
            return None
        return await self.store.get("pending", request_id)

    async def get(self, request: Request) -> Response:
        request_id = request.query_params.get("request", "")
        pending = await self._pending(request_id)
        if pending is None:
            return _page(_message_page(EXPIRED), 400)
        response = _page(_form_page(request_id, pending, error=None), 200)
        response.set_cookie(
            self._cookie(request_id), str(pending["csrf"]), max_age=int(max(1, pending["expires_at"] - time.time())),
            path="/", secure=self._secure, httponly=True, samesite="strict",
        )  # fmt: skip
        return response

    async def post(self, request: Request) -> Response:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
            return _page(_message_page("The form is too large."), 413)
        form = await request.form()
        field = {name: value for name, value in form.items() if isinstance(value, str)}
        request_id = field.get("request", "")
        pending = await self._pending(request_id)
        if pending is None:
            return _page(_message_page(EXPIRED), 400)
        expected = str(pending["csrf"]).encode()
        sent, cookie = field.get("csrf", "").encode(), request.cookies.get(self._cookie(request_id), "").encode()
        if not (hmac.compare_digest(sent, expected) and hmac.compare_digest(cookie, expected)):
            return _page(_form_page(request_id, pending, error=CSRF_FAILED), 400)
        if field.get("action") == "deny":
            if await self.store.take("pending", request_id) is None:
                return _page(_message_page(EXPIRED), 400)
            return self._back(pending, error="access_denied")
        scope = field.get("scope", "")
        if scope not in _choices(pending):
            return _page(_form_page(request_id, pending, error=SCOPE_NOT_ASKED), 400)
        key = field.get("key", "").strip()
        problem = await check_key(key, self.base_url)
        if problem is not None:
            return _page(_form_page(request_id, pending, error=problem, scope=scope), 400)
        if await self.store.take("pending", request_id) is None:  # the same form sent twice
            return _page(_message_page(EXPIRED), 400)
        grant = await self.book.create_grant(
            kind="oauth", name=pending.get("client_name") or pending["client_id"], scopes=[scope],
            resource=self.resource, key=key, client_id=pending["client_id"],
        )  # fmt: skip
        code = await self.book.new_code(
            grant, client_id=pending["client_id"], code_challenge=pending["code_challenge"],
            redirect_uri=pending["redirect_uri"], redirect_uri_provided_explicitly=pending["redirect_uri_provided_explicitly"],
            resource=self.resource, scopes=[scope],
        )  # fmt: skip
        return self._back(pending, code=code)

    def _back(self, pending: dict[str, Any], **params: str) -> Response:
        """The browser back to the client's redirect URI with `params`, `state` and `iss`."""
        url = construct_redirect_uri(pending["redirect_uri"], **params, state=pending.get("state"), iss=self.issuer)
        response = RedirectResponse(url, status_code=302)
        response.headers.update(SECURITY_HEADERS)
        return response


def _choices(pending: dict[str, Any]) -> list[str]:
    """The scopes the user may pick: what was asked, or less (never more)."""
    return [SCOPE_ALL, SCOPE_READ] if SCOPE_ALL in pending["scopes"] else [SCOPE_READ]


def _page(body: str, status: int) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)


_STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}"
    "fieldset{border:1px solid #ccc;border-radius:6px;margin:1rem 0}"
    "input[type=password]{width:100%;padding:.5rem;font:inherit;box-sizing:border-box}"
    "button{font:inherit;padding:.5rem 1.2rem;margin-right:.5rem}"
    ".error{border-left:4px solid #b00020;background:#fdecea;padding:.5rem 1rem}"
    "code{word-break:break-all}"
)


def _document(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>{body}</body></html>"
    )


def _message_page(message: str) -> str:
    return _document("Aural MCP", f'<h1>Aural MCP</h1><p class="error" role="alert">{escape(message)}</p>')


def _form_page(request_id: str, pending: dict[str, Any], *, error: str | None, scope: str | None = None) -> str:
    client_id = str(pending["client_id"])
    name = str(pending.get("client_name") or "An unnamed client")
    back_to = urlsplit(str(pending["redirect_uri"]))
    chosen = scope or (SCOPE_ALL if SCOPE_ALL in pending["scopes"] else SCOPE_READ)
    labels = {
        SCOPE_ALL: "All tools: read and change interviews, questions and candidates",
        SCOPE_READ: "Read-only: look at interviews, sessions and reports, change nothing",
    }
    radios = "".join(
        f'<div><input type="radio" id="scope-{i}" name="scope" value="{escape(s)}"{" checked" if s == chosen else ""}>'
        f' <label for="scope-{i}">{escape(labels[s])}</label></div>'
        for i, s in enumerate(_choices(pending))
    )
    alert = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    body = (
        "<h1>Connect to Aural</h1>"
        f"<p><strong>{escape(name)}</strong> asks to use your Aural account.</p>"
        f"<p>Client id: <code>{escape(client_id)}</code><br>"
        f"After you answer you return to <code>{escape(back_to.scheme)}://{escape(back_to.netloc)}</code>.</p>"
        f"{alert}"
        f'<form method="post" action="{CONSENT_PATH}">'
        f'<input type="hidden" name="request" value="{escape(request_id)}">'
        f'<input type="hidden" name="csrf" value="{escape(str(pending["csrf"]))}">'
        f"<fieldset><legend>What it may do</legend>{radios}</fieldset>"
        '<p><label for="key">Your Aural API key (starts with dlv_; Settings → API Keys)</label><br>'
        '<input type="password" id="key" name="key" required autocomplete="off" spellcheck="false"></p>'
        "<p>The key is checked with Aural, then stored encrypted; the client never sees it.</p>"
        '<button type="submit" name="action" value="allow">Allow</button>'
        '<button type="submit" name="action" value="deny" formnovalidate>Deny</button>'
        "</form>"
    )
    return _document("Connect to Aural", body)
