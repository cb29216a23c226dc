"""The alternative a user would reach for: `FastMCP.from_openapi` on Aural's OpenAPI document.

Runs from its own virtual environment (see bench/requirements-fastmcp.txt), over stdio by
default or Streamable HTTP with `--http PORT`. Reads from the environment:

  BENCH_OPENAPI_FILE  our OpenAPI document, saved to a file by bench/run.py
  AURAL_BASE_URL      the sandbox's API base, e.g. http://127.0.0.1:8401/api/v1
  AURAL_API_KEY       a sandbox key

The banner and the update check are turned off (that only makes FastMCP faster, and keeps
every byte of traffic on loopback).
"""

import json
import os
import sys

os.environ.setdefault("FASTMCP_SHOW_SERVER_BANNER", "false")
os.environ.setdefault("FASTMCP_CHECK_FOR_UPDATES", "off")

import httpx2  # noqa: E402
from fastmcp import FastMCP  # noqa: E402


def build() -> FastMCP:
    with open(os.environ["BENCH_OPENAPI_FILE"], encoding="utf-8") as f:
        spec = json.load(f)
    client = httpx2.AsyncClient(
        base_url=os.environ["AURAL_BASE_URL"],
        headers={"Authorization": f"Bearer {os.environ['AURAL_API_KEY']}"},
        timeout=30.0,
    )
    return FastMCP.from_openapi(spec, client=client, name="Aural (FastMCP.from_openapi)")


if __name__ == "__main__":
    server = build()
    if len(sys.argv) == 3 and sys.argv[1] == "--http":
        server.run(transport="http", host="127.0.0.1", port=int(sys.argv[2]), show_banner=False)
    else:
        server.run(show_banner=False)
