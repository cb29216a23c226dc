"""The embedded Aural API sandbox: a contract-faithful /api/v1 on Starlette and SQLite.

from aural_mcp.sandbox import Sandbox
sb = Sandbox()                      # in memory; Sandbox("file.db") persists
key = sb.create_key()               # dlv_... (OWNER of the default organization)
app = sb.app                        # ASGI: serve with uvicorn or httpx2.ASGITransport
"""

from aural_mcp.sandbox.app import Sandbox
from aural_mcp.sandbox.faults import DroppedConnection, FaultSpec

__all__ = ["DroppedConnection", "FaultSpec", "Sandbox"]
