"""Helpers shared by every test group: loopback ports, subprocesses, uvicorn in a thread, tool
result text, JSON-RPC wire constants. One copy of each, imported from here."""
