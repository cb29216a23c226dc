"""`apply_interview_spec`: whole interviews described in one call, the plan shown before anything is written.

The spec is the one `aural-mcp plan` and `apply` read from a file (`pipelines.spec`; its schema is
served as aural://specs/interview.schema.json), and the engine is theirs (`pipelines.apply`).
Which interview and questions a spec key stands for is remembered per account in
`specs-<account>.json`, in the folder of the watcher state (in memory for the in-memory sandbox),
so calling again with the same spec writes nothing, and a call cut off mid-way is finished by the
next without duplicates. One call applies at a time in a server. dryRun, the default, only reads.
"""

from __future__ import annotations

import math
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, ToolAnnotations

from aural_mcp import operations
from aural_mcp.api.errors import AuralError
from aural_mcp.server.render import specs as render
from aural_mcp.server.subscriptions import publish_changes
from aural_mcp.server.tools.arguments import invalid_arguments_text
from aural_mcp.server.tools.base import SchemaTool, make_tool, text_result
from aural_mcp.server.tools.errors import explain

if TYPE_CHECKING:
    from aural_mcp.api import AuralClient
    from aural_mcp.pipelines.apply import State
    from aural_mcp.server.runtime import Runtime, RuntimeFor
    from aural_mcp.settings import Settings

TOOLSET = operations.INTERVIEWS
APPLY_INTERVIEW_SPEC = "apply_interview_spec"
SPEC_NAME = "mcp"  # the spec name the server's state files record
DESCRIPTION = (
    "Make interviews match a spec: settings, criteria, ordered questions, published. dryRun (default "
    "true) returns the plan only. Keys name interviews across calls: re-applying writes only what "
    "differs. Schema: aural://specs/interview.schema.json."
)
_STR = {"type": "string"}
_ANY: dict[str, Any] = {}  # any other field: the spec's own schema checks it, naming the field
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {"type": "object", "properties": {"interviews": {"type": "array", "minItems": 1, "items": {
            "type": "object", "description": "+ create_interview's fields",
            "properties": {"key": _STR, "title": _STR, "published": {"type": "boolean"},
                           "interviewId": {**_STR, "description": "adopt an existing one"},
                           "questions": {"type": "array", "items": {
                               "type": "object", "description": "+ add_questions' fields, no order",
                               "properties": {"key": _STR, "text": _STR},
                               "required": ["key", "text"], "additionalProperties": _ANY}}},
            "required": ["key", "title"], "additionalProperties": _ANY}}}, "required": ["interviews"]},
        "dryRun": {"type": "boolean", "default": True, "description": "true (default): plan only"},
    },
    "required": ["spec"],
    "additionalProperties": False,
}  # fmt: skip
# The engine's hints, in this tool's terms.
HOW_TO_MAP = "`interviewId` in the spec entry {key}"
HOW_TO_RETRY = "call apply_interview_spec again once fixed: it continues where this call stopped"
_CHANGED = ("aural://interviews/{interviewId}",)
RETRY = "call apply_interview_spec again with the same spec: it looks for what an unfinished call created before creating"


def spec_state_path(settings: Settings, account: str) -> Path | None:
    """Where the server keeps an account's spec state: beside the watcher state; None: in memory."""
    from aural_mcp.watch.state import MEMORY, state_location

    location = state_location(settings, account)
    return None if location == MEMORY else Path(location).parent / f"specs-{account}.json"


class SpecStates:
    """The spec state of each account this server acts for, and the lock one apply of an account holds."""

    def __init__(self) -> None:
        self._locks: dict[str, anyio.Lock] = {}
        self._memory: dict[str, State] = {}

    def lock(self, account: str) -> anyio.Lock:
        return self._locks.setdefault(account, anyio.Lock())

    def open(self, settings: Settings, account: str) -> State:
        """Read afresh from its file at each call (another server on this machine may have written it)."""
        from aural_mcp.pipelines.apply import State

        path = spec_state_path(settings, account)
        if path is None:
            return self._memory.setdefault(
                account, State(None, SPEC_NAME, account, how_to_map=HOW_TO_MAP, how_to_retry=HOW_TO_RETRY)
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        return State.load(path, SPEC_NAME, account, how_to_map=HOW_TO_MAP, how_to_retry=HOW_TO_RETRY)


class _Reporting:
    """The runtime's client as the engine sees it: pacing waits and each write sent are reported
    as progress (the count of writes; a wait repeats it, nudged up, as progress must increase)."""

    def __init__(self, client: AuralClient, context: Any) -> None:
        self._client, self._context = client, context
        self.done, self._last = 0, 0.0
        self.total: int | None = None  # the writes to send, once the plan is known

    def __getattr__(self, name: str) -> Any:  # iter_interviews and the rest, as they are
        return getattr(self._client, name)

    async def _report(self, value: float, message: str) -> None:
        self._last = max(value, math.nextafter(self._last, math.inf))
        with suppress(Exception):  # a client that went away must not fail the call
            await self._context.report_progress(self._last, self.total, message)

    def _sent(self) -> str:
        return f"{self.done} of {self.total} writes sent" if self.total else "reading"

    async def _on_wait(self, seconds_left: float) -> None:
        pacer = self._client.pacer
        await self._report(
            self._last, f"{self._sent()}; waiting {math.ceil(seconds_left)} s for the rate limit "
            f"({pacer.limit} requests per {pacer.window:g} s)"
        )  # fmt: skip

    async def call(self, operation: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        result = await self._client.call(operation, args, on_wait=self._on_wait)
        if not operations.get(operation).read_only and self.total:
            self.done += 1
            await self._report(self.done, self._sent())
        return result


async def apply_interview_spec(runtime: Runtime, states: SpecStates, args: dict[str, Any], context: Any) -> CallToolResult:
    from aural_mcp.pipelines.apply import PlanError, StateError, apply, plan
    from aural_mcp.pipelines.spec import SpecError, parse_spec

    try:
        spec = parse_spec(args["spec"], where="spec")
    except SpecError as exc:
        problems = [f"`{p.field}`: {p.message}" if p.field else p.message for p in exc.problems]
        raise ToolError(invalid_arguments_text(APPLY_INTERVIEW_SPEC, problems)) from None
    dry_run = args.get("dryRun", True)
    try:
        client = runtime.client
        reporting = _Reporting(client, context)
        account = runtime.state_account
        async with states.lock(account):
            state = states.open(runtime.settings, account)
            the_plan = await plan(reporting, spec, state)
            if dry_run:
                result = render.projection(the_plan, dry_run=True)
            else:
                reporting.total = the_plan.writes
                summary, failures = await apply(reporting, spec, state, the_plan=the_plan)
                result = render.projection(the_plan, dry_run=False, summary=summary, failures=failures, state=state)
    except StateError as exc:
        raise ToolError(f"`{APPLY_INTERVIEW_SPEC}` cannot use its state: {exc}") from None
    except PlanError as exc:
        raise ToolError(f"`{APPLY_INTERVIEW_SPEC}` cannot plan this spec:\n" + "\n".join(f"- {p}" for p in exc.problems)) from None
    except AuralError as exc:
        raise ToolError(explain(APPLY_INTERVIEW_SPEC, args, exc, outcome_check=RETRY)) from exc
    if not dry_run:
        for iv in result["interviews"]:
            if iv["action"] != "unchanged" and iv["interviewId"]:
                await publish_changes(runtime.subscriptions, _CHANGED, {"interviewId": iv["interviewId"]}, text_result(""))
    return text_result(render.spec_markdown(result), structured=result)


def apply_interview_spec_tool(runtime_for: RuntimeFor) -> SchemaTool:
    states = SpecStates()

    async def handler(runtime: Runtime, args: dict[str, Any], context: Any) -> CallToolResult:
        return await apply_interview_spec(runtime, states, args, context)

    title = "Apply an interview spec"
    return make_tool(
        name=APPLY_INTERVIEW_SPEC,
        title=title,
        description=DESCRIPTION,
        schema=SCHEMA,
        tool_annotations=ToolAnnotations(
            title=title, read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=True
        ),
        output_schema=render.APPLY_INTERVIEW_SPEC_OUTPUT,
        handler=handler,
        runtime_for=runtime_for,
        with_context=True,
    )
