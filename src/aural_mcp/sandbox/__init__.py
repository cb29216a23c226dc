"""The embedded Aural API sandbox: /api/v1 as the real API behaves, on Starlette and SQLite.

from aural_mcp.sandbox import Sandbox
sb = Sandbox()                      # in memory; Sandbox("file.db") persists
key = sb.create_key()               # dlv_... (OWNER of the default organization)
app = sb.app                        # ASGI: serve with uvicorn or httpx2.ASGITransport
pages = sb.pages_app                # ASGI: only the candidate pages, for a separate listener
sb.seed_file("dashboard-seed.json") # rows the API never writes (aural-mcp sandbox --seed FILE)

Seed files hold rows as Aural's dashboard, templates and AI question generator make them, which
the API itself never writes (`options` as `{"options": [...], "allowMultiple": true}` or
`[{"label", "value"}]`, `starterCode` as `{"language", "code"}`, enum values newer than the
API's, nulls anywhere), so the project's own tests can read them back through the API:

    {"key": "dlv_...",                          # optional: whose first project gets the rows
     "interviews": [
       {"id": "<uuid, optional>", "title": "...", "aiTone": "PLAYFUL", ...any interview column,
        "questions":  [{"id": "...", "text": "...", "options": {"options": ["A", "B"]}, ...}],
        "candidates": [{"name": "...", "email": "...", "inviteToken": "...", ...}],
        "sessions":   [{"status": "COMPLETED", "createdAt": "...", ...any session column,
                        "messages": [{"role": "SYSTEM", "content": "...", "timestamp": "..."}]}]}]}

Every value is stored verbatim; the only checks are the containers (objects and lists of
objects where rows belong) and that given ids are UUIDs. Columns left out get the database's
defaults (a seeded interview has no publicSlug until published). Without `key`, rows belong to
the default organization's first project, the one `create_key()` keys reach. A row whose id
already exists is left untouched and rows without an id get one derived from their place and
content, so re-seeding the same file (every restart with the same --db) adds nothing.
examples/dashboard-seed.json is a small example.
"""

from aural_mcp.sandbox.app import Sandbox
from aural_mcp.sandbox.faults import DroppedConnection, FaultSpec
from aural_mcp.sandbox.seed import SeedError

__all__ = ["DroppedConnection", "FaultSpec", "Sandbox", "SeedError"]
