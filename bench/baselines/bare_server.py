"""The floor: a one-tool `MCPServer` that does nothing, served over stdio.

Cold start (figure 1) and idle memory (figure 6) of `aural-mcp serve` are measured against it.
"""

from mcp.server.mcpserver import MCPServer

server = MCPServer("bare")


@server.tool()
def noop() -> str:
    """Do nothing."""
    return "ok"


if __name__ == "__main__":
    server.run()
