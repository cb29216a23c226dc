"""The MCP Skills extension (SEP-2640): `skills/list`, `skills/get` and the SKILL.md resource.

Served through the SDK's extension seam (`mcp.server.extension.Extension`): the server advertises
`capabilities.extensions["io.modelcontextprotocol/skills"] = {}`, registers the two request methods
as additive `MethodBinding`s, and lists each skill's SKILL.md as an ordinary resource (so clients
without the extension can still read it). No change to the SDK was needed.

`capabilities.extensions` exists from protocol 2026-07-28 on; the SDK leaves it out of the
`initialize` result of the 2025 protocols, whose schema has no such field. Those protocols have
`capabilities.experimental` for capabilities outside the specification, so the same declaration
is made there too (`advertise_in_experimental`), and `skills/list` and `skills/get` answer at every
protocol version.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mcp.server.context import ServerRequestContext
from mcp.server.extension import Extension, MethodBinding, ResourceBinding
from mcp.server.mcpserver.resources import TextResource
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, PaginatedRequestParams, RequestParams

from aural_mcp.server.sdk_private import wrap_initialization_options

IDENTIFIER = "io.modelcontextprotocol/skills"
SKILL_TTL_MS = 300_000  # the skill is fixed for the life of the process
_NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){0,63}$")


def parse_frontmatter(text: str) -> dict[str, Any]:
    """The YAML frontmatter of a SKILL.md, for the simple `key: value` form Agent Skills use.

    Supports scalar values (optionally quoted) and one level of nested mappings
    (`metadata:` followed by indented `key: value` lines). Not a general YAML parser.
    """
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise ValueError("SKILL.md must start with a '---' frontmatter block")
    out: dict[str, Any] = {}
    parent: dict[str, Any] | None = None
    for line in lines[1:]:
        if line.strip() == "---":
            return out
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indented = line[:1] in (" ", "\t")
        key, sep, value = line.strip().partition(":")
        if not sep:
            raise ValueError(f"frontmatter line is not `key: value`: {line!r}")
        key, value = key.strip(), _scalar(value.strip())
        if indented and parent is not None:
            parent[key] = value
        elif value == "":
            parent = out[key] = {}
        else:
            parent = None
            out[key] = value
    raise ValueError("SKILL.md frontmatter is not closed with '---'")


def _scalar(value: str) -> Any:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    if value in ("true", "false"):
        return value == "true"
    return value


@dataclass(frozen=True)
class Skill:
    name: str
    content: bytes  # SKILL.md, byte for byte

    @property
    def uri(self) -> str:
        return f"skill://{self.name}/SKILL.md"

    @property
    def text(self) -> str:
        return self.content.decode("utf-8")

    @property
    def frontmatter(self) -> dict[str, Any]:
        return parse_frontmatter(self.text)

    def entry(self) -> dict[str, Any]:
        return {
            "uri": self.uri,
            "frontmatter": self.frontmatter,
            "resources": [
                {
                    "uri": self.uri,
                    "digest": "sha256:" + hashlib.sha256(self.content).hexdigest(),
                    "size": len(self.content),
                }
            ],
        }


def skill_from_markdown(content: bytes) -> Skill:
    fm = parse_frontmatter(content.decode("utf-8"))
    name = str(fm.get("name", ""))
    if not _NAME_RE.match(name):
        raise ValueError(f"skill name {name!r} must be 1-64 lowercase letters, digits and single hyphens")
    if not fm.get("description"):
        raise ValueError(f"skill {name!r} needs a frontmatter description")
    return Skill(name=name, content=content)


def load_skills() -> list[Skill]:
    from aural_mcp.server.resources import read_doc

    return [skill_from_markdown(read_doc("SKILL.md"))]


def advertise_in_experimental(server: Any, extension: SkillsExtension) -> None:
    """Add the extension's declaration to `capabilities.experimental` of every `initialize` result."""

    def wrap(create: Callable[..., Any]) -> Callable[..., Any]:
        def with_experimental(
            notification_options: Any = None,
            experimental_capabilities: dict[str, dict[str, Any]] | None = None,
            extensions: dict[str, dict[str, Any]] | None = None,
        ) -> Any:
            experimental = {IDENTIFIER: extension.settings(), **(experimental_capabilities or {})}
            return create(notification_options, experimental, extensions)

        return with_experimental

    wrap_initialization_options(server, wrap)


class SkillsGetParams(RequestParams):
    uri: str


class SkillsExtension(Extension):
    identifier = IDENTIFIER

    def __init__(self, skills: Sequence[Skill]) -> None:
        self._skills = {s.uri: s for s in skills}

    def settings(self) -> dict[str, Any]:
        return {}

    def resources(self) -> Sequence[ResourceBinding]:
        return [
            ResourceBinding(
                TextResource(
                    uri=s.uri,
                    name=s.frontmatter["name"],
                    description=s.frontmatter["description"],
                    mime_type="text/markdown",
                    text=s.text,
                )
            )
            for s in self._skills.values()
        ]

    def methods(self) -> Sequence[MethodBinding]:
        return [
            MethodBinding("skills/list", PaginatedRequestParams, self._list),
            MethodBinding("skills/get", SkillsGetParams, self._get),
        ]

    async def _list(
        self, ctx: ServerRequestContext[Any, Any], params: PaginatedRequestParams
    ) -> dict[str, Any]:
        if params is not None and params.cursor:
            raise MCPError(
                code=INVALID_PARAMS, message=f"Invalid cursor {params.cursor!r}: skills/list has one page"
            )
        return {
            "skills": [s.entry() for s in self._skills.values()],
            "ttlMs": SKILL_TTL_MS,
            "cacheScope": "public",
        }

    async def _get(self, ctx: ServerRequestContext[Any, Any], params: SkillsGetParams) -> dict[str, Any]:
        skill = self._skills.get(params.uri)
        if skill is None:
            known = ", ".join(self._skills) or "none"
            raise MCPError(
                code=INVALID_PARAMS,
                message=f"Unknown skill {params.uri!r} (known: {known})",
                data={"uri": params.uri},
            )
        return {"skill": skill.entry(), "ttlMs": SKILL_TTL_MS, "cacheScope": "public"}
