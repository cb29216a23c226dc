"""High-volume jobs as one call each, safe to re-run: interviews as code (`plan`, `apply`), bulk
invites (`invite`) and exports (`export`). The `aural-mcp` commands and the MCP tools run these
same functions; each takes a progress callback (`progress.Progress`) and returns a `Summary`.
"""

from aural_mcp.pipelines.apply import apply, plan
from aural_mcp.pipelines.export import export
from aural_mcp.pipelines.invite import invite, read_people
from aural_mcp.pipelines.progress import Progress, ProgressUpdate, Summary
from aural_mcp.pipelines.spec import load_spec

__all__ = [
    "Progress", "ProgressUpdate", "Summary", "apply", "export", "invite", "load_spec", "plan", "read_people",
]  # fmt: skip
