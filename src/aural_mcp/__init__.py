"""aural-mcp: MCP server, typed SDK and local sandbox for the Aural Developer API."""

__version__ = "0.1.0"
