"""The team server: OAuth 2.1 for MCP clients, every user acting with their own Aural key.

`secrets` seals keys and hashes tokens; `store` keeps grants, tokens and the shared rate budget
(SQLite for one replica, Redis for many); `grants` makes and resolves grants and their tokens.
"""
