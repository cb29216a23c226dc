"""`aural-mcp plan` and `aural-mcp apply` as a user runs them (the real console script), against a
real sandbox on a loopback port with the default 60-per-60-seconds limiter. Writes are counted by
the sandbox itself (`/sandbox/stats` `by_route`)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from tests.support.processes import AURAL_MCP, env_without_aural
from tests.watch.bridge_helpers import SandboxWorld, sandbox

from aural_mcp.api import AuralClient

SPEC = """\
interviews:
  - key: backend
    title: Backend engineer screen
    objective: Find people who can run Postgres in production
    aiTone: FRIENDLY
    timeLimitMinutes: 30
    assessmentCriteria:
      - {name: Depth, description: Knows why, not only how}
    published: true
    questions:
      - key: intro
        text: Tell me about a system you ran in production.
      - key: db
        text: Which database would you pick for a ledger?
        type: SINGLE_CHOICE
        options: [Postgres, MySQL, SQLite]
      - key: code
        text: Write a function that merges two sorted lists.
        type: CODING
        required: false
        starterCode: {language: python, code: "def merge(a, b):"}
  - key: research
    title: Customer research
    followUpDepth: DEEP
    questions:
      - key: pains
        text: What slows your team down?
        type: RESEARCH
      - key: tools
        text: Which tools do you use daily?
        type: MULTIPLE_CHOICE
        options: [Jira, Linear, GitHub]
  - key: sales
    title: Sales screen
    published: true
    questions:
      - key: pitch
        text: Pitch me this pen.
"""


@pytest.fixture
def world() -> Iterator[SandboxWorld]:
    with sandbox(rate_limit=60, rate_window=60.0) as w:
        yield w


def run(world: SandboxWorld, *args: str) -> subprocess.CompletedProcess[str]:
    env = env_without_aural(AURAL_API_KEY=world.key, AURAL_BASE_URL=world.url)
    return subprocess.run(
        [*AURAL_MCP, *args], env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )


def writes(world: SandboxWorld) -> dict[str, int]:
    return {route: n for route, n in world.stats()["by_route"].items() if not route.startswith("GET ")}


def interviews(world: SandboxWorld) -> list[dict[str, Any]]:
    async def read() -> list[dict[str, Any]]:
        async with AuralClient(world.key, base_url=world.url) as client:
            out = []
            async for item in client.iter_interviews():
                detail = (await client.call("get_interview", {"interviewId": item.id}))["data"]
                out.append(detail)
            return out

    return anyio.run(read)


def write_spec(tmp_path: Path, text: str = SPEC, name: str = "interviews.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_apply_then_reapply_makes_zero_writes(world: SandboxWorld, tmp_path: Path) -> None:
    spec = write_spec(tmp_path)
    first = run(world, "apply", str(spec))
    assert first.returncode == 0, first.stderr
    assert "Apply: created 9, updated 0, unchanged 0, skipped 0, failed 0, deleted 0." in first.stdout
    assert writes(world) == {
        "POST /api/v1/interviews": 3,
        "POST /api/v1/interviews/{id}/questions": 3,
        "POST /api/v1/interviews/{id}/publish": 2,
    }
    rows = {i["title"]: i for i in interviews(world)}
    assert sorted(rows) == ["Backend engineer screen", "Customer research", "Sales screen"]
    backend = rows["Backend engineer screen"]
    assert backend["aiTone"] == "FRIENDLY" and backend["timeLimitMinutes"] == 30 and backend["requireInvite"] is False
    assert [q["text"] for q in backend["questions"]][1] == "Which database would you pick for a ledger?"
    assert backend["questions"][1]["options"] == ["Postgres", "MySQL", "SQLite"]
    assert backend["questions"][2]["isRequired"] is False
    assert rows["Customer research"]["requireInvite"] is True  # not published
    state = json.loads((tmp_path / "aural.state.json").read_text())
    assert state["interviews"]["backend"]["id"] == backend["id"]
    assert set(state["interviews"]["backend"]["questions"]) == {"intro", "db", "code"}

    before = writes(world)
    again = run(world, "apply", str(spec))
    assert again.returncode == 0, again.stderr
    assert writes(world) == before  # zero write requests the second time
    assert "Apply: created 0, updated 0, unchanged 9, skipped 0, failed 0, deleted 0." in again.stdout
    plan = run(world, "plan", str(spec))
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "Plan: 0 to create, 0 to update, 0 to delete, 9 unchanged." in plan.stdout


def test_one_changed_question_text_is_one_patch_and_prune_deletes(world: SandboxWorld, tmp_path: Path) -> None:
    spec = write_spec(tmp_path)
    assert run(world, "apply", str(spec)).returncode == 0
    before = writes(world)
    changed = write_spec(tmp_path, SPEC.replace("Pitch me this pen.", "Sell me this pen."))
    plan = run(world, "plan", str(changed))
    assert plan.returncode == 2, plan.stdout + plan.stderr
    assert '~ text: "Pitch me this pen." → "Sell me this pen."' in plan.stdout
    assert writes(world) == before  # plan writes nothing
    applied = run(world, "apply", str(changed))
    assert applied.returncode == 0, applied.stderr
    after = writes(world)
    assert after.pop("PATCH /api/v1/questions/{id}") == 1
    assert after == before
    sales = next(i for i in interviews(world) if i["title"] == "Sales screen")
    assert [q["text"] for q in sales["questions"]] == ["Sell me this pen."]

    # the research interview's "tools" question leaves the spec
    removed = SPEC.replace("Sell me this pen.", "Pitch me this pen.").replace(
        "      - key: tools\n        text: Which tools do you use daily?\n        type: MULTIPLE_CHOICE\n"
        "        options: [Jira, Linear, GitHub]\n",
        "",
    )
    spec = write_spec(tmp_path, removed.replace("Pitch me this pen.", "Sell me this pen."))
    kept = run(world, "apply", str(spec))
    assert kept.returncode == 0 and "not in the spec (kept; --prune deletes it)" in kept.stdout
    assert "DELETE /api/v1/questions/{id}" not in writes(world)
    pruned = run(world, "apply", str(spec), "--prune")
    assert pruned.returncode == 0, pruned.stderr
    assert writes(world)["DELETE /api/v1/questions/{id}"] == 1
    research = next(i for i in interviews(world) if i["title"] == "Customer research")
    assert [q["text"] for q in research["questions"]] == ["What slows your team down?"]
    assert run(world, "plan", str(spec), "--prune").returncode == 0


def test_validation_errors_name_file_line_and_field_and_send_nothing(world: SandboxWorld, tmp_path: Path) -> None:
    bad = SPEC.replace("type: CODING", "type: CODE").replace("aiTone: FRIENDLY", "aiTone: FRIENDLY\n    titel: x")
    bad = bad.replace("        options: [Jira, Linear, GitHub]\n", "")
    spec = write_spec(tmp_path, bad)
    for command in ("plan", "apply"):
        result = run(world, command, str(spec))
        assert result.returncode == 1
        lines = result.stderr.splitlines()
        assert f"{spec}:6: interviews[0].titel: is not a field of this entry" in lines[0] or any(
            line.startswith(f"{spec}:6: interviews[0].titel: is not a field") for line in lines
        ), result.stderr
        assert any(line.startswith(f"{spec}:20: interviews[0].questions[2].type: \"CODE\" is not one of") for line in lines), result.stderr
        assert any(
            line.startswith(f"{spec}:") and "interviews[1].questions[1].options: is required for" in line for line in lines
        ), result.stderr
        assert "nothing was sent" in result.stderr
    assert world.stats()["api_requests"] == 0

    as_json = tmp_path / "spec.json"
    as_json.write_text('{\n  "interviews": [\n    {"key": "a",\n     "title": "A",\n     "aiTone": "LOUD"}\n  ]\n}\n')
    result = run(world, "plan", str(as_json))
    assert result.returncode == 1
    assert f"{as_json}:5: interviews[0].aiTone: \"LOUD\" is not one of" in result.stderr
    assert world.stats()["api_requests"] == 0


def test_a_lost_state_file_is_recovered_with_adopt(world: SandboxWorld, tmp_path: Path) -> None:
    one = "interviews:\n" + SPEC.split("  - key: sales\n")[1].join(["  - key: sales\n", ""])
    spec = write_spec(tmp_path, one)
    assert run(world, "apply", str(spec)).returncode == 0
    state = tmp_path / "aural.state.json"
    iid = json.loads(state.read_text())["interviews"]["sales"]["id"]
    state.unlink()
    before = writes(world)
    plan = run(world, "plan", str(spec), "--adopt", iid)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    applied = run(world, "apply", str(spec), "--adopt", f"sales={iid}")
    assert applied.returncode == 0, applied.stderr
    assert writes(world) == before  # nothing created twice
    recovered = json.loads(state.read_text())["interviews"]["sales"]
    assert recovered["id"] == iid and set(recovered["questions"]) == {"pitch"}
    assert run(world, "plan", str(spec)).returncode == 0


ONE = """\
interviews:
  - key: sales
    title: Sales screen
    questions:
      - key: pitch
        text: Pitch me this pen.
      - key: close
        text: How do you close?
"""


class DropFirstAnswer:
    """Fault injection for the sandbox: the first keyed request is processed and committed, then its
    connection breaks with no answer (the write exists although the client saw a failure)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def pick(self) -> str | None:
        if self.counts:
            return None
        self.counts["drop_after"] = 1
        return "drop_after"


def test_a_create_whose_answer_is_lost_is_found_by_listing_not_sent_twice(world: SandboxWorld, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, ONE)
    world.sb.faults = DropFirstAnswer()  # the first request of this run is the interview's create
    applied = run(world, "apply", str(spec))
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert world.stats()["faults_total"] == 1
    assert writes(world) == {"POST /api/v1/interviews": 1, "POST /api/v1/interviews/{id}/questions": 1}
    assert [i["title"] for i in interviews(world)] == ["Sales screen"]
    assert run(world, "plan", str(spec)).returncode == 0


def test_a_run_killed_after_a_create_reached_the_api_finishes_without_duplicates(tmp_path: Path) -> None:
    import signal
    import threading

    from tests.support.servers import LiveServer

    from aural_mcp.sandbox import Sandbox

    sb = Sandbox(":memory:")
    committed = threading.Event()
    hang = {"on": True}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        # The questions create is committed, then its answer never comes: the run is killed waiting.
        if hang["on"] and scope["type"] == "http" and scope["method"] == "POST" and scope["path"].endswith("/questions"):

            async def swallow(message: Any) -> None:
                return None

            await sb.app(scope, receive, swallow)
            committed.set()
            await anyio.sleep(30)
            return
        await sb.app(scope, receive, send)

    try:
        with LiveServer(app) as live:
            world = SandboxWorld(sb, live.url + "/api/v1", live.url, sb.create_key())
            spec = write_spec(tmp_path, ONE)
            env = env_without_aural(AURAL_API_KEY=world.key, AURAL_BASE_URL=world.url)
            proc = subprocess.Popen([*AURAL_MCP, "apply", str(spec)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                assert committed.wait(60), "the questions create never reached the sandbox"
            finally:
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)
                assert proc.stdout is not None and proc.stderr is not None
                proc.stdout.close()
                proc.stderr.close()
            state = json.loads((tmp_path / "aural.state.json").read_text())["interviews"]["sales"]
            assert state["pendingQuestions"] == {"pitch": "Pitch me this pen.", "close": "How do you close?"}
            hang["on"] = False
            again = run(world, "apply", str(spec))
            assert again.returncode == 0, again.stdout + again.stderr
            assert writes(world) == {"POST /api/v1/interviews": 1, "POST /api/v1/interviews/{id}/questions": 1}
            (sales,) = interviews(world)
            assert [q["text"] for q in sales["questions"]] == ["Pitch me this pen.", "How do you close?"]
            state = json.loads((tmp_path / "aural.state.json").read_text())["interviews"]["sales"]
            assert set(state["questions"]) == {"pitch", "close"} and "pendingQuestions" not in state
            assert run(world, "plan", str(spec)).returncode == 0
    finally:
        sb.close()


def test_questions_are_reordered_only_when_the_order_differs(world: SandboxWorld, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, ONE)
    assert run(world, "apply", str(spec)).returncode == 0
    before = writes(world)
    swapped = ONE.split("    questions:\n")[0] + (
        "    questions:\n      - key: close\n        text: How do you close?\n"
        "      - key: pitch\n        text: Pitch me this pen.\n      - key: open\n        text: How do you open?\n"
    )
    applied = run(world, "apply", str(write_spec(tmp_path, swapped)))
    assert applied.returncode == 0, applied.stderr
    assert "~ order: 1 → 0" in applied.stdout and "~ order: 0 → 1" in applied.stdout
    after = writes(world)
    assert after.pop("PATCH /api/v1/questions/{id}") == 2
    assert after.pop("POST /api/v1/interviews/{id}/questions") == before.pop("POST /api/v1/interviews/{id}/questions") + 1
    assert after == before
    (sales,) = interviews(world)
    assert [q["text"] for q in sales["questions"]] == ["How do you close?", "Pitch me this pen.", "How do you open?"]
    assert run(world, "plan", str(tmp_path / "interviews.yaml")).returncode == 0
