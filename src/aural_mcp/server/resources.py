"""Resources: the agent docs, the OpenAPI document, and interview/session/transcript/invites templates.

The docs are the repository's top-level SKILL.md, llms.txt and llms-full.txt; an installed wheel
carries the same files at `aural_mcp/docs/`. The skill itself is served by `skills.py`.
The interview and session resources read through the request's Runtime (`runtime_for`): in the
team server, with that user's key.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError
from mcp.server.mcpserver.resources import FunctionResource
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS

from aural_mcp.api.errors import AuralError, NotFoundError
from aural_mcp.operations import is_uuid, not_an_id
from aural_mcp.server import render
from aural_mcp.server.tools.errors import explain, redact
from aural_mcp.server.tools.sessions import full_transcript, interview_of

if TYPE_CHECKING:
    from aural_mcp.server.runtime import Runtime, RuntimeFor

_PACKAGE_DOCS = Path(__file__).resolve().parent.parent / "docs"  # aural_mcp/docs in a wheel
_REPO_ROOT = Path(__file__).resolve().parents[3]  # src/aural_mcp/server/resources.py -> repo

DOCS = {
    "llms.txt": (
        "aural://docs/llms.txt",
        "llms.txt",
        "Index of the Aural MCP docs (llmstxt.org format)",
        "text/plain",
    ),
    "llms-full.txt": (
        "aural://docs/llms-full.txt",
        "llms-full.txt",
        "Every tool, argument, resource and prompt in one file",
        "text/plain",
    ),
}


def find_doc(name: str) -> Path:
    """The path of a top-level doc: in the package (wheel install) or at the repository root."""
    for base in (_PACKAGE_DOCS, _REPO_ROOT):
        path = base / name
        if path.is_file():
            return path
    raise FileNotFoundError(f"{name} is neither in {_PACKAGE_DOCS} nor in {_REPO_ROOT}")


def read_doc(name: str) -> bytes:
    return find_doc(name).read_bytes()


def _doc_reader(name: str) -> Any:
    def read() -> str:
        return read_doc(name).decode("utf-8")

    return read


def _check_id(name: str, value: str) -> None:
    if not is_uuid(value):
        raise MCPError(code=INVALID_PARAMS, message=not_an_id(name, value))


def _fail(runtime: Runtime, op: str, args: dict[str, Any], exc: AuralError) -> Exception:
    text = redact(explain(op, args, exc), runtime.api_key)
    if isinstance(exc, NotFoundError):
        return MCPError(code=INVALID_PARAMS, message=text, data=args)
    return ResourceError(text)


async def _read_any(runtime: Runtime, op: str, args: dict[str, Any]) -> Any:
    """The operation's `data`, or the resource error an agent can act on."""
    try:
        return (await runtime.client.call(op, args)).get("data")
    except AuralError as exc:
        raise _fail(runtime, op, args, exc) from None


async def _read(runtime: Runtime, op: str, args: dict[str, Any]) -> dict[str, Any]:
    """The operation's `data` object (a row of any shape renders; a non-object reads as empty)."""
    data = await _read_any(runtime, op, args)
    return data if isinstance(data, dict) else {}


async def openapi_document(runtime: Runtime) -> dict[str, Any]:
    """This package's OpenAPI document (derived from the registry), else the API's own."""
    try:
        from aural_mcp.openapi import build_openapi
    except ImportError:
        return await runtime.client.openapi()
    return build_openapi()


def register(server: MCPServer, server_runtime: Runtime, runtime_for: RuntimeFor) -> None:
    """The resources; `server_runtime` (the server's own) serves what is the same for every user."""
    for name, (uri, title, description, mime) in DOCS.items():
        server.add_resource(
            FunctionResource(
                uri=uri, name=title, description=description, mime_type=mime, fn=_doc_reader(name)
            )
        )

    @server.resource(
        "aural://openapi.json",
        name="openapi.json",
        description="OpenAPI 3.1 document of the Aural Developer API",
        mime_type="application/json",
    )
    async def openapi() -> str:
        return json.dumps(await openapi_document(server_runtime), indent=1, ensure_ascii=False)

    @server.resource(
        "aural://specs/interview.schema.json",
        name="interview.schema.json",
        description="JSON Schema of an interview spec file (aural-mcp plan/apply)",
        mime_type="application/schema+json",
    )
    async def interview_spec_schema() -> str:
        from aural_mcp.pipelines.spec_schema import SPEC_SCHEMA  # not on the start-up path

        return json.dumps(SPEC_SCHEMA, indent=2, ensure_ascii=False)

    @server.resource(
        "aural://interviews/{interviewId}",
        name="interview",
        description="An interview's settings and ordered questions, as markdown",
        mime_type="text/markdown",
    )
    async def interview(interviewId: str, ctx: Context) -> str:  # noqa: N803 - the API's name
        _check_id("interviewId", interviewId)
        runtime = await runtime_for(ctx)
        data = await _read(runtime, "get_interview", {"interviewId": interviewId})
        return redact(render.interview_markdown(data, limit=render.RESOURCE_LIMIT) + "\n", runtime.api_key)

    @server.resource(
        "aural://interviews/{interviewId}/invites.csv",
        name="invites.csv",
        description="Every candidate of an interview with their personal invite link, as CSV "
        "(name, email, candidateId, inviteUrl, sessionId)",
        mime_type="text/csv",
    )
    async def invites(interviewId: str, ctx: Context) -> str:  # noqa: N803
        _check_id("interviewId", interviewId)
        runtime = await runtime_for(ctx)
        data = await _read_any(runtime, "list_candidates", {"interviewId": interviewId})
        return redact(render.invites_csv(data, render.app_url(runtime)), runtime.api_key)

    @server.resource(
        "aural://sessions/{sessionId}",
        name="session",
        description="A candidate session: status, summary, themes, sentiment, scores, as markdown",
        mime_type="text/markdown",
    )
    async def session(sessionId: str, ctx: Context) -> str:  # noqa: N803
        _check_id("sessionId", sessionId)
        runtime = await runtime_for(ctx)
        data = await _read(runtime, "get_session", {"sessionId": sessionId})
        text = render.session_markdown(data, transcript_limit=0)
        return redact(text + f"\n\nTranscript: aural://sessions/{sessionId}/transcript\n", runtime.api_key)

    @server.resource(
        "aural://sessions/{sessionId}/transcript",
        name="transcript",
        description="A session's transcript, speaker-labelled and question by question, as markdown",
        mime_type="text/markdown",
    )
    async def transcript(sessionId: str, ctx: Context) -> str:  # noqa: N803
        _check_id("sessionId", sessionId)
        runtime = await runtime_for(ctx)
        data = await _read(runtime, "get_session", {"sessionId": sessionId})
        # the interviewer's name and the question texts live on the interview (the same as get_transcript full)
        text = full_transcript(data, await interview_of(runtime, data), render.RESOURCE_LIMIT)
        return redact(text, runtime.api_key)  # an API or proxy that echoes the key never leaks it here
