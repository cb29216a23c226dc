"""High-volume jobs as one call each, safe to re-run: interviews as code (`plan`, `apply`), bulk
invites (`invite`) and exports (`export`). The `aural-mcp` commands and the MCP tools run these
same functions; each takes a progress callback (`progress.Progress`) and returns a `Summary`.
"""

from aural_mcp.pipelines.progress import Progress, ProgressUpdate, Summary

__all__ = ["Progress", "ProgressUpdate", "Summary"]
