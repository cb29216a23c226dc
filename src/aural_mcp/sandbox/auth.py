"""Key authentication, project scoping and the interview access checks.

The errors raised here carry the API's exact statuses and messages (see `sandbox.errors`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aural_mcp.sandbox.errors import ApiError, db_error, forbidden, not_found
from aural_mcp.sandbox.store import ROLES, Store, parse_iso

HEX_DIGITS = frozenset("0123456789abcdefABCDEF")

MISSING_KEY = "Missing or invalid API key. Use: Authorization: Bearer dlv_xxx"
INVALID_KEY = "Invalid or revoked API key."
EXPIRED_KEY = "API key has expired."
NO_ORG = "No organization found for this API key user."


def pg_uuid(value: Any) -> str | None:
    """The stored (canonical, lower-case) form of a PostgreSQL uuid literal, or None.

    PostgreSQL also accepts upper case, braces around the value, and hyphens after any group of
    four digits (so none at all), and the API resolves such ids."""
    if not isinstance(value, str):
        return None
    text = value
    if text.startswith("{"):
        if not text.endswith("}"):
            return None
        text = text[1:-1]
    digits, pos = [], 0
    for byte in range(16):
        pair = text[pos : pos + 2]
        if len(pair) != 2 or not HEX_DIGITS.issuperset(pair):
            return None
        digits.append(pair)
        pos += 2
        if byte % 2 == 1 and byte < 15 and text.startswith("-", pos):
            pos += 1
    if pos != len(text):
        return None
    h = "".join(digits).lower()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def require_uuid(value: str) -> str:
    """Postgres semantics for a uuid column: a non-UUID is a database error (500)."""
    canonical = pg_uuid(value)
    if canonical is None:
        raise db_error(f'invalid input syntax for type uuid: "{value}"')
    return canonical


def authenticate(store: Store, authorization: str | None) -> tuple[str, str]:
    """The key checks, in the API's order: a `Bearer dlv_` header, a known active key, not
    expired (each a 401 with its own message). Returns (key, user id)."""
    if not authorization or not authorization.startswith("Bearer dlv_"):
        raise ApiError(401, "UNAUTHORIZED", MISSING_KEY)
    key = authorization[len("Bearer ") :]
    row = store.key_row(key)
    if row is None or not row["active"]:
        raise ApiError(401, "UNAUTHORIZED", INVALID_KEY)
    if row["expires_at"] and parse_iso(row["expires_at"]) <= datetime.now(UTC):
        raise ApiError(401, "UNAUTHORIZED", EXPIRED_KEY)
    return key, row["user_id"]


@dataclass
class Ctx:
    """Who is calling and what they can reach (resolved after the rate limit check)."""

    store: Store
    key: str
    user_id: str
    org_id: str
    org_role: str
    base_url: str  # public base for built URLs, no trailing slash
    projects: list[str] = field(default_factory=list)

    @classmethod
    def resolve(cls, store: Store, key: str, user_id: str, base_url: str) -> Ctx:
        membership = store.organization_of(user_id)
        if membership is None:
            raise forbidden(NO_ORG)
        org_id = membership["org_id"]
        projects = store.accessible_projects(org_id, user_id)
        return cls(store, key, user_id, org_id, membership["role"], base_url, projects)

    def in_scope(self, project_id: str | None) -> bool:
        return project_id is not None and project_id in self.projects

    def role_in(self, project_id: str | None) -> str:
        roles = [self.org_role]
        if project_id:
            pr = self.store.project_role(project_id, self.user_id)
            if pr:
                roles.append(pr)
        return max(roles, key=ROLES.index)

    # -- interview lookups ----------------------------------------------------------------

    def scoped_interview(self, iid: str) -> dict[str, Any]:
        """GET/PATCH/DELETE /interviews/{id} and publish: query within scope only."""
        if not self.projects:
            raise not_found("Interview not found.")
        iid = require_uuid(iid)
        data = self.store.get("interviews", iid)
        if data is None or not self.in_scope(data.get("projectId")):
            raise not_found("Interview not found.")
        return data

    def interview_for_questions(self, iid: str) -> dict[str, Any]:
        """The interview behind a question route: 404 if it exists nowhere, 403 outside the key's scope."""
        return self._interview_found_then_scoped(iid, "No access to this interview")

    def interview_for_records(self, iid: str) -> dict[str, Any]:
        """The interview behind candidates, sessions, practices, bulk end and reports: the same
        check as for questions, with the API's other 403 wording."""
        return self._interview_found_then_scoped(iid, "You do not have access to this interview")

    def _interview_found_then_scoped(self, iid: str, denied: str) -> dict[str, Any]:
        # Looked up across every organization first, so an id outside the scope is 403, not 404.
        canonical = pg_uuid(iid)
        data = self.store.get("interviews", canonical) if canonical else None
        if data is None:
            raise not_found("Interview not found")
        if not self.in_scope(data.get("projectId")):
            raise forbidden(denied)
        return data

    def row_of_an_interview(self, table: str, row_id: str, missing: str, denied: str) -> dict[str, Any]:
        """A question or session by id: 404 (`missing`) if it exists nowhere, 403 (`denied`) when
        its interview is outside the key's scope."""
        row = self.store.get(table, require_uuid(row_id))
        if row is None:
            raise not_found(missing)
        interview = self.store.get("interviews", row["interviewId"]) or {}
        if not self.in_scope(interview.get("projectId")):
            raise forbidden(denied)
        return row
