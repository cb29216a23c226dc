"""The sandbox application: `Sandbox` (storage, limiter, faults, stats) and its routes.

Every keyed /api/v1 route is an operation of the registry (`aural_mcp.operations`), served by
the handler of the same name (`sandbox.handlers`); the sandbox's own routes are `OWN_ROUTES`,
whose candidate pages' HTML is `sandbox.pages`.

Request flow for a keyed /api/v1 route: a declared Content-Length over the body limit -> 413
before anything else; the key checks (header, known active key, expiry) -> rate limit ->
lastUsedAt -> organization -> the body, read only now and only up to the limit (413 beyond it),
so a caller without a valid key can never make the sandbox buffer a body -> the operation,
inside one transaction committed before the response is sent, which first applies what timed
simulated sessions have due (`simulate.apply_due_plans`). Fault injection, when configured,
wraps the whole app (see faults.py). Like the real (Next.js) server, a trailing slash is
redirected with 308 and OPTIONS answers 204 with an Allow header.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Message

from aural_mcp import operations
from aural_mcp.sandbox import coerce as js
from aural_mcp.sandbox import pages, simulate
from aural_mcp.sandbox import seed as seeding
from aural_mcp.sandbox.auth import Ctx, authenticate
from aural_mcp.sandbox.errors import ApiError
from aural_mcp.sandbox.faults import FaultInjector, FaultSpec, drop
from aural_mcp.sandbox.handlers import Api, Handler, Req, Unhandled, practice_report, session_detail
from aural_mcp.sandbox.ratelimit import FixedWindowLimiter
from aural_mcp.sandbox.store import Store

API = "/api/v1"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
PAGE_ROUTES = ("/i/invite/{token}", "/i/s/{page}", "/i/assets/{name}", "/i/{slug}", "/healthz")

# The sandbox's own routes; every keyed /api/v1 route comes from the operation registry.
# kind: "sandbox" = keyed, not rate-limited or fault-injected; "public" = no key.
OWN_ROUTES: tuple[tuple[str, str, str, str], ...] = (
    # method  path                                  handler                kind
    ("GET", API + "/openapi.json", "openapi", "public"),
    ("POST", "/sandbox/interviews/{id}/simulate", "simulate_session_op", "sandbox"),
    ("POST", "/sandbox/interviews/{id}/practices", "simulate_practice_op", "sandbox"),
    ("GET", "/sandbox/stats", "stats_page", "public"),
    ("GET", "/healthz", "healthz", "public"),
    ("GET", "/i/invite/{token}", "candidate_page", "public"),
    ("POST", "/i/invite/{token}", "candidate_page", "public"),
    ("GET", "/i/s/{page}", "candidate_page", "public"),
    ("POST", "/i/s/{page}", "candidate_page", "public"),
    ("GET", "/i/assets/{name}", "candidate_asset", "public"),
    ("GET", "/i/{slug}", "candidate_page", "public"),
    ("POST", "/i/{slug}", "candidate_page", "public"),
)


LINK_OPERATIONS = ("publish_interview", "add_candidates")


def candidate_links(result: Any) -> list[tuple[str, str]]:
    """(whose, URL) of the links in a publish_interview or add_candidates answer."""
    data = result.get("data") if isinstance(result, dict) else None
    if isinstance(data, dict) and isinstance(data.get("url"), str):
        return [("the public link", data["url"])]
    rows = data if isinstance(data, list) else []
    return [
        (f"the invite link of {row.get('name') or 'a candidate'}", row["inviteUrl"])
        for row in rows
        if isinstance(row, dict) and isinstance(row.get("inviteUrl"), str)
    ]


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    try:
        content = js.stringify(body).encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: escape them, as JSON.stringify does
        content = js.stringify(body, ensure_ascii=True).encode("utf-8")
    return Response(content, status, headers, media_type="application/json")


def _simulated(store: Store, interview: dict[str, Any], opts: dict[str, Any]) -> dict[str, Any]:
    """A simulated session as the simulate route answers: the session as get_session shows it now,
    plus, for a timed one, when it completes (`completesAt`) or is abandoned (`abandonsAt`)."""
    row, ends = simulate.simulate_session(store, interview, opts)
    return {**session_detail(store, row), **ends}


class BodyTooLarge(Exception):  # noqa: N818 - a condition, answered with 413
    pass


def _too_large(limit: int) -> Response:
    body = {
        "error": {
            "code": "PAYLOAD_TOO_LARGE",
            "message": f"Request body is larger than the sandbox's limit of {limit} bytes (--max-body-bytes).",
        }
    }
    # The rest of the body is never read, so the connection cannot be reused.
    return json_response(body, 413, {"Connection": "close"})


def _trailing_slash_redirect(scope: dict[str, Any]) -> Response | None:
    """Next.js redirects `/path/` to `/path` with 308 (the query string kept)."""
    raw = scope.get("raw_path") or scope.get("path", "").encode()
    path = raw.decode("latin-1").split("?", 1)[0]
    if len(path) <= 1 or not path.endswith("/"):
        return None
    location = path.rstrip("/") or "/"
    if scope.get("query_string"):
        location += "?" + scope["query_string"].decode("latin-1")
    return Response(b"", 308, {"Location": location})


class Sandbox:
    """An in-process Aural API. `sb.app` is the ASGI app; see the module docs for the flow."""

    def __init__(
        self,
        db_path: str = ":memory:",
        *,
        rate_limit: int = 60,
        rate_window: float = 60.0,
        plan: str | None = None,
        faults: FaultSpec | str | None = None,
        public_url: str | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        if isinstance(max_body_bytes, bool) or not isinstance(max_body_bytes, int) or max_body_bytes < 1:
            raise ValueError(f"max_body_bytes must be a positive number of bytes, not {max_body_bytes!r}")
        self.max_body_bytes = max_body_bytes
        self.store = Store(db_path)
        self.db_path = db_path
        self.api = Api(self.store, plan)
        self.plan = plan
        self.limiter = FixedWindowLimiter(rate_limit, rate_window)
        if isinstance(faults, str):
            faults = FaultSpec.parse(faults)
        self.faults = FaultInjector(faults) if faults is not None and faults.rate > 0 else None
        self.public_url = public_url
        # Told the candidate links each publish_interview and add_candidates hands out, e.g. to print them.
        self.on_links: Callable[[list[tuple[str, str]]], None] | None = None
        self._stats: dict[str, Any] = {
            "requests": 0, "api_requests": 0, "rate_limited": 0, "by_status": {}, "by_route": {}
        }  # fmt: skip
        self._stats_lock = threading.Lock()
        self._openapi: dict[str, Any] | None = None
        self._candidate_pages = pages.CandidatePages(self.store, self._read_body)
        routes = []
        by_path: dict[str, dict[str, Callable[[Request], Awaitable[Response]]]] = {}
        for op in operations.OPERATIONS:
            handler = self._api_handler(op.name)
            endpoint = self._keyed(handler, rate_limited=True, operation=op.name)
            by_path.setdefault(API + op.path, {})[op.method] = endpoint
        for method, path, name, kind in OWN_ROUTES:
            own = getattr(self, name)
            by_path.setdefault(path, {})[method] = (
                own if kind == "public" else self._keyed(own, rate_limited=False)
            )
        for path, methods in by_path.items():
            routes.append(Route(path, self._dispatch(path, methods), methods=[*methods, "OPTIONS"]))
        self._starlette = Starlette(
            routes=routes,
            exception_handlers={404: pages.not_found_page, 405: self._method_not_allowed},
        )
        self._pages = Starlette(
            routes=[r for r in routes if r.path in PAGE_ROUTES],
            exception_handlers={404: pages.not_found_page, 405: self._method_not_allowed},
        )

    # -- public Python interface ------------------------------------------------------------

    @property
    def app(self) -> Callable[..., Awaitable[None]]:
        """The ASGI 3 application (a plain coroutine function, so every server detects it)."""
        asgi = self._asgi

        async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
            await asgi(scope, receive, send)

        return app

    @property
    def pages_app(self) -> Callable[..., Awaitable[None]]:
        """An ASGI app of only the candidate pages (`/i/<slug>`, `/i/invite/<token>`) and
        `/healthz`: what a listener for the links handed out needs, without the API."""
        pages = self._pages

        async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
            redirect = _trailing_slash_redirect(scope) if scope["type"] == "http" else None
            if redirect is not None:
                await redirect(scope, receive, send)
            else:
                await pages(scope, receive, send)

        return app

    @property
    def public_url(self) -> str | None:
        """The base of every URL the API hands out (published and invite links); None means the
        URL the request came in on. May be set after construction, e.g. once a port is known."""
        return self._public_url

    @public_url.setter
    def public_url(self, value: str | None) -> None:
        self._public_url = value.rstrip("/") if value else None

    @property
    def stats(self) -> dict[str, Any]:
        with self._stats_lock:
            out: dict[str, Any] = json.loads(json.dumps(self._stats))
        out["faults"] = dict(self.faults.counts) if self.faults else {}
        out["faults_total"] = sum(out["faults"].values())
        return out

    def _default_org(self) -> str:
        row = self.store.one("SELECT id FROM organizations ORDER BY rowid LIMIT 1")
        return row["id"] if row else self.create_organization("Sandbox organization")

    def create_organization(self, name: str, *, project: bool = True) -> str:
        """A new organization, with one project open to all its members unless `project=False`."""
        org = self.store.create_organization(name)
        if project:
            self.store.create_project(org, "Default project")
        return org

    def create_project(
        self, organization: str | None = None, name: str = "Project", members: dict[str, str] | None = None
    ) -> str:
        """A project in `organization` (default: the first one). `members` (user id -> role) makes it restricted."""
        pid = self.store.create_project(organization or self._default_org(), name)
        if members:
            self.store.set_project_members(pid, members)
        return pid

    def set_project_members(self, project_id: str, members: dict[str, str]) -> None:
        self.store.set_project_members(project_id, members)

    def create_user(
        self, organization: str | None = None, role: str = "MEMBER", email: str | None = None
    ) -> str:
        """A user; a member of `organization` with `role` unless organization is the empty string."""
        uid = self.store.create_user(email)
        if organization != "":
            self.store.add_member(organization or self._default_org(), uid, role)
        return uid

    def add_member(self, organization: str, user: str, role: str = "MEMBER") -> None:
        self.store.add_member(organization, user, role)

    def create_key(
        self,
        role: str = "OWNER",
        organization: str | None = None,
        *,
        user: str | None = None,
        expires_at: str | None = None,
    ) -> str:
        """Mint a `dlv_` key (stored hashed). Without `user`: the organization's first user with `role`
        (created if needed) — so repeated calls with the same role share one user."""
        if user is None:
            user = self._role_user(organization or self._default_org(), role)
        return self.store.insert_key(user, expires_at=expires_at)

    def _role_user(self, org: str, role: str) -> str:
        """The organization's first user with `role`, created if there is none."""
        row = self.store.one(
            "SELECT user_id FROM memberships WHERE org_id=? AND role=? ORDER BY rowid LIMIT 1", org, role
        )
        return row["user_id"] if row else self.create_user(org, role)

    def revoke_key(self, key: str) -> None:
        self.store.update_key(key, active=0)

    def expire_key(self, key: str, when: str = "2000-01-01T00:00:00.000000+00:00") -> None:
        self.store.update_key(key, expires_at=when)

    def identity(self, key: str) -> dict[str, Any]:
        """The user, organization and accessible projects behind a key (for tests)."""
        row = self.store.key_row(key)
        if row is None:
            raise KeyError("unknown key")
        m = self.store.organization_of(row["user_id"])
        projects = self.store.accessible_projects(m["org_id"], row["user_id"]) if m else []
        return {"userId": row["user_id"], "organizationId": m["org_id"] if m else None, "projects": projects}

    def simulate_session(self, interview_id: str, **options: Any) -> dict[str, Any]:
        """Python twin of POST /sandbox/interviews/{id}/simulate (no key, no scoping)."""
        interview = self.store.get("interviews", interview_id)
        if interview is None:
            raise KeyError(f"no interview {interview_id}")
        with self.store.tx():
            simulate.apply_due_plans(self.store)
            return _simulated(self.store, interview, simulate.validate_options(options))

    def seed(self, data: dict[str, Any]) -> dict[str, Any]:
        """Insert dashboard-made rows (the seed format of the package docs), stored verbatim.

        They go to the first project of the key named in `data["key"]`, or else of the key
        `create_key()` mints (the default organization's OWNER). Ids already present are left
        alone, so applying the same seed again adds nothing. Returns
        `{"interviewIds": [...], "added": {kind: n}, "existing": {kind: n}}` for the kinds
        interviews, questions, candidates, sessions and messages. Raises `SeedError` (a
        ValueError) naming the place and the problem; nothing is stored then."""
        seeding.check(data)
        if "key" in data:
            row = self.store.key_row(data["key"])
            if row is None:
                raise seeding.SeedError("key: not an API key of this sandbox")
            user = row["user_id"]
            membership = self.store.organization_of(user)
            if membership is None:
                raise seeding.SeedError("key: the key's user belongs to no organization")
            org = membership["org_id"]
        else:
            org = self._default_org()
            user = self._role_user(org, "OWNER")
        projects = self.store.accessible_projects(org, user)
        if not projects:
            raise seeding.SeedError("the key's user can reach no project to hold the seeded interviews")
        return seeding.apply(self.store, data, projects[0], user)

    def seed_file(self, path: str | os.PathLike[str]) -> dict[str, Any]:
        """`seed` with the JSON document of a file; a SeedError's message starts with the path."""
        data = seeding.load_file(path)
        try:
            return self.seed(data)
        except seeding.SeedError as e:
            raise seeding.SeedError(f"{path}: {e}") from None

    def seed_sessions(self, interview_id: str, n: int, status: str = "COMPLETED") -> list[str]:
        """Insert `n` small sessions in one transaction (fast; for scale tests)."""
        return simulate.seed_sessions(self.store, interview_id, n, status)

    def close(self) -> None:
        self.store.close()

    # -- ASGI plumbing ----------------------------------------------------------------------

    async def _asgi(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self._starlette(scope, receive, send)
            return
        path = scope.get("path", "")
        keyed = (
            path.startswith(API + "/") and path != API + "/openapi.json" and scope.get("method") != "OPTIONS"
        )
        early = _trailing_slash_redirect(scope)
        if early is None and self._declared_length(scope) > self.max_body_bytes:
            early = _too_large(self.max_body_bytes)
        with self._stats_lock:
            self._stats["requests"] += 1
            if keyed:
                self._stats["api_requests"] += 1

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = str(message["status"])
                with self._stats_lock:
                    self._stats["by_status"][status] = self._stats["by_status"].get(status, 0) + 1
                    if message["status"] == 429:
                        self._stats["rate_limited"] += 1
            await send(message)

        kind = self.faults.pick() if keyed and self.faults and early is None else None
        if early is not None:
            await early(scope, receive, counting_send)
        elif kind is None:
            await self._starlette(scope, receive, counting_send)
        elif kind == "latency":
            await anyio.sleep(self.faults.latency())  # type: ignore[union-attr]
            await self._starlette(scope, receive, counting_send)
        elif kind == "drop_before":
            await drop(send, "before")
        elif kind == "drop_after":

            async def swallow(message: Message) -> None:
                return None

            await self._starlette(scope, receive, swallow)
            await drop(send, "after")
        else:
            if kind == "500":
                body = {"error": {"code": "INTERNAL_ERROR", "message": "Unable to complete request."}}
                response: Response = json_response(body, 500)
            elif kind == "502":
                response = PlainTextResponse("Bad Gateway", 502)
            else:
                response = PlainTextResponse("Service Unavailable", 503, headers={"Retry-After": "1"})
            await response(scope, receive, counting_send)

    @staticmethod
    def _declared_length(scope: dict[str, Any]) -> int:
        for name, value in scope.get("headers") or ():
            if name == b"content-length":
                try:
                    return int(value)
                except ValueError:
                    return 0  # the HTTP server rejects a malformed length itself
        return 0

    async def _read_body(self, request: Request) -> bytes:
        """The body, read at most up to the limit (a chunked body declares no length)."""
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_body_bytes:
                raise BodyTooLarge
            chunks.append(chunk)
        return b"".join(chunks)

    async def _method_not_allowed(self, request: Request, exc: Exception) -> Response:
        headers = getattr(exc, "headers", None) or {}
        return Response(b"", 405, headers=headers)

    def _dispatch(
        self, path: str, methods: dict[str, Callable[[Request], Awaitable[Response]]]
    ) -> Callable[..., Any]:
        allow = {*methods, "OPTIONS", *(["HEAD"] if "GET" in methods else [])}
        allow_header = ", ".join(sorted(allow))

        async def endpoint(request: Request) -> Response:
            if request.method == "OPTIONS":
                return Response(b"", 204, {"Allow": allow_header})
            method = "GET" if request.method == "HEAD" else request.method
            handler = methods.get(method)
            if handler is None:
                raise HTTPException(405, headers={"Allow": ", ".join(methods)})
            route = f"{method} {path}"  # the route's template, e.g. "PATCH /api/v1/questions/{id}"
            with self._stats_lock:
                self._stats["by_route"][route] = self._stats["by_route"].get(route, 0) + 1
            return await handler(request)

        return endpoint

    def _base_url(self, request: Request) -> str:
        return self.public_url or str(request.base_url).rstrip("/")

    def _api_handler(self, name: str) -> Handler:
        handler = self.api.handler(name)
        if handler is None:  # a route that silently 404s would hide the gap
            raise LookupError(f"registry operation {name!r} has no sandbox handler (sandbox/handlers/)")
        return handler

    def _keyed(
        self, handler: Handler, *, rate_limited: bool, operation: str = ""
    ) -> Callable[[Request], Awaitable[Response]]:
        """The endpoint of a keyed route: the key and organization checks, then `handler`."""
        hands_out_links = operation in LINK_OPERATIONS

        async def endpoint(request: Request) -> Response:
            query: dict[str, str] = {}
            for param, value in request.query_params.multi_items():
                query.setdefault(param, value)  # URLSearchParams.get: the first of repeated values
            req = Req(dict(request.path_params), query, b"", self._base_url(request))
            try:
                key, user_id = authenticate(self.store, request.headers.get("authorization"))
                if rate_limited:
                    verdict = self.limiter.hit(key)
                    if not verdict.allowed:
                        raise ApiError(
                            429,
                            "RATE_LIMITED",
                            f"Too many requests. Retry after {verdict.retry_after}s.",
                            headers={
                                "Retry-After": str(verdict.retry_after),
                                "X-RateLimit-Limit": str(self.limiter.limit),
                                "X-RateLimit-Remaining": "0",
                                "X-RateLimit-Reset": str(verdict.reset_epoch),
                            },
                            retry_after=verdict.retry_after,
                        )
                    self.store.update_key(key, last_used_at=self.store.now())
                ctx = Ctx.resolve(self.store, key, user_id, req.base_url)
                req.body = await self._read_body(request)
                with self.store.tx():
                    simulate.apply_due_plans(self.store)  # timed sessions: what is due, before anyone reads
                    result = handler(ctx, req)
                if hands_out_links and self.on_links is not None:
                    self.on_links(candidate_links(result))
                return json_response(result)
            except ApiError as e:
                return json_response(e.body(), e.status, e.headers)
            except BodyTooLarge:
                return _too_large(self.max_body_bytes)
            except Unhandled:
                return PlainTextResponse("Internal Server Error", 500)
            except sqlite3.Error as e:
                return json_response({"error": {"code": "INTERNAL_ERROR", "message": str(e)}}, 500)
            except RecursionError:  # JSON nested deeper than storage can serialise
                return json_response(
                    {"error": {"code": "INTERNAL_ERROR", "message": "stack depth limit exceeded"}}, 500
                )

        return endpoint

    # -- sandbox-only and public routes -----------------------------------------------------

    def simulate_session_op(self, ctx: Ctx, req: Req) -> Any:
        interview = ctx.interview_for_records(req.params["id"])
        opts = simulate.validate_options(req.json("Invalid JSON body.") if req.body.strip() else {})
        self.api.limits.check(ctx, "session_hours")
        return {"data": _simulated(self.store, interview, opts)}

    def simulate_practice_op(self, ctx: Ctx, req: Req) -> Any:
        interview = ctx.interview_for_records(req.params["id"])
        body = req.json("Invalid JSON body.") if req.body.strip() else {}
        row = simulate.simulate_practice(self.store, interview, ctx.user_id, body)
        return {"data": practice_report(self.store, row)}

    async def openapi(self, request: Request) -> Response:
        if self._openapi is None:
            from aural_mcp.openapi import build_openapi

            self._openapi = build_openapi()
        return json_response(self._openapi, headers={"Cache-Control": "public, max-age=3600"})

    async def stats_page(self, request: Request) -> Response:
        return json_response(self.stats)

    async def healthz(self, request: Request) -> Response:
        return PlainTextResponse("ok")

    async def candidate_page(self, request: Request) -> Response:
        """The candidate's side: start screens, a session's page and their form posts (sandbox.pages)."""
        params = request.path_params
        handle = (
            self._candidate_pages.invite_start
            if "token" in params
            else self._candidate_pages.session_page
            if "page" in params
            else self._candidate_pages.public_start
        )
        try:
            return await handle(request)
        except BodyTooLarge:
            return _too_large(self.max_body_bytes)

    async def candidate_asset(self, request: Request) -> Response:
        return pages.asset(request.path_params["name"])
