"""Making Aural match an interview spec: `plan` reads and compares, `apply` writes what differs.

Which interview (and which questions) a spec key stands for is recorded in a state file,
`aural.state.json` beside the spec (`State`), never guessed from titles. Before every create the
state records it as pending and is written (atomically: a temporary file, then a rename), so a
run killed at any point leaves a state the next run finishes from: a pending create is looked for
with the list operation (the same title, made since it was sent, not mapped to another key)
before it is sent again. The same check runs at once when a create's answer is lost
(`OutcomeUnknownError`). A field the spec leaves out is not managed: apply never changes it.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aural_mcp.pipelines.progress import Progress, ProgressUpdate, Summary, no_progress
from aural_mcp.pipelines.spec import InterviewSpec, QuestionSpec, Spec

STATE_NAME = "aural.state.json"
STATE_VERSION = 1
CLOCK_SLACK = timedelta(minutes=10)  # a pending create is looked for among rows made since it was sent, minus this
CREATE_ATTEMPTS = 3
# Request names of question fields -> the names the API stores and returns.
STORED_AS = {"required": "isRequired", "followUpEnabled": "probeOnShort"}
CHOICE_TYPES = ("SINGLE_CHOICE", "MULTIPLE_CHOICE")


class StateError(Exception):
    """The state file cannot be used; the message says why and the fix."""


class PlanError(Exception):
    """The spec cannot be applied as the account stands; `problems` says each reason and fix."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# -- the state file ----------------------------------------------------------------------------


@dataclass
class State:
    """Spec key -> interview id and question ids. `path` None keeps it in memory only."""

    path: Path | None = None
    spec: str = ""
    account: str = ""
    interviews: dict[str, dict[str, Any]] = field(default_factory=dict)

    # How the user of this state maps an entry to an interview, and carries on after a failure:
    # the CLI's words by default; the MCP tool says them in its own terms.
    how_to_map: str = "--adopt {key}=ID"
    how_to_retry: str = "run apply again once fixed: it continues from the state file"

    @classmethod
    def for_spec(cls, spec_path: Path, account: str) -> State:
        """The state beside a spec file (`aural.state.json`); one spec per folder."""
        return cls.load(spec_path.parent / STATE_NAME, spec_path.name, account)

    @classmethod
    def load(
        cls, path: Path, spec: str, account: str, *, how_to_map: str = how_to_map, how_to_retry: str = how_to_retry
    ) -> State:
        """The state at `path` (empty when there is none yet) of the spec named `spec`."""
        state = cls(path, spec, account, how_to_map=how_to_map, how_to_retry=how_to_retry)
        if not path.exists():
            return state
        fix = state.how_to_map.format(key="KEY")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or not isinstance(data.get("interviews"), dict):
                raise ValueError("no interviews object")
        except (OSError, ValueError) as exc:
            raise StateError(f"{path} is not a usable state file ({exc}); move it away and map interviews with {fix}") from None
        if data.get("spec") not in (None, spec):
            raise StateError(f"{path} belongs to the spec {data.get('spec')!r}, not {spec!r}: keep one spec per folder")
        if data.get("account") not in (None, account):
            raise StateError(
                f"{path} was made with another API key or base URL; use those, or move the file away and map interviews with {fix}"
            )
        state.interviews = {k: v for k, v in data["interviews"].items() if isinstance(v, dict)}
        return state

    def entry(self, key: str) -> dict[str, Any]:
        return self.interviews.setdefault(key, {"id": None, "questions": {}})

    def interview_id(self, key: str) -> str | None:
        value = self.interviews.get(key, {}).get("id")
        return value if isinstance(value, str) else None

    def adopt(self, key: str, interview_id: str) -> None:
        """Map `key` to an existing interview; its questions are matched by text on the next plan."""
        self.interviews[key] = {"id": interview_id.lower(), "questions": None}

    def mapped_ids(self) -> set[str]:
        return {e["id"] for e in self.interviews.values() if isinstance(e.get("id"), str)}

    def save(self) -> None:
        if self.path is None:
            return
        text = json.dumps(
            {"version": STATE_VERSION, "spec": self.spec, "account": self.account, "interviews": self.interviews},
            indent=2,
            sort_keys=True,
        )
        fd, tmp = tempfile.mkstemp(prefix=".aural.state.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text + "\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


# -- the plan ----------------------------------------------------------------------------------


@dataclass
class Change:
    field: str
    old: Any
    new: Any


@dataclass
class QuestionPlan:
    key: str | None  # None: a question the spec does not declare
    action: str  # "+", "~", "-", "="
    id: str | None
    text: str
    changes: list[Change] = field(default_factory=list)
    body: dict[str, Any] = field(default_factory=dict)  # what a create or update sends


@dataclass
class InterviewPlan:
    key: str
    action: str  # "+", "~", "-", "="
    id: str | None
    title: str
    changes: list[Change] = field(default_factory=list)
    questions: list[QuestionPlan] = field(default_factory=list)
    publish: bool = False
    recovered: dict[str, Any] = field(default_factory=dict)  # mappings found by reading, recorded by apply
    notes: list[str] = field(default_factory=list)
    spec: InterviewSpec | None = None

    @property
    def writes(self) -> int:
        if self.action == "-":
            return 1
        n = (1 if self.action == "+" or self.changes else 0) + (1 if self.publish else 0)
        n += sum(1 for q in self.questions if q.action in ("~", "-"))
        return n + (1 if any(q.action == "+" for q in self.questions) else 0)

    @property
    def pending(self) -> bool:
        return self.action != "=" or self.publish or any(q.action != "=" for q in self.questions)


@dataclass
class Plan:
    interviews: list[InterviewPlan]

    @property
    def has_changes(self) -> bool:
        return any(i.pending for i in self.interviews)

    @property
    def writes(self) -> int:
        return sum(i.writes for i in self.interviews)

    def counts(self) -> dict[str, int]:
        out = {"+": 0, "~": 0, "-": 0, "=": 0}
        for i in self.interviews:
            changed = i.action if i.action != "=" else ("~" if i.publish else "=")
            out[changed] += 1
            for q in i.questions:
                out[q.action] += 1
        return out

    def lines(self) -> list[str]:
        out: list[str] = []
        for i in self.interviews:
            mark = i.action if i.action != "=" or not i.pending else "~"
            ident = f" `{i.id}`" if i.id else ""
            out.append(f"{mark} interview {i.key}{ident} {_show(i.title)}" + (" (archive)" if i.action == "-" else ""))
            for c in i.changes:
                out.append(_change_line(c, "    "))
            for q in i.questions:
                qid = f" `{q.id}`" if q.id else ""
                name = q.key or "(not in the spec)"
                out.append(f"    {q.action} question {name}{qid} {_show(q.text, 60)}")
                for c in q.changes:
                    out.append(_change_line(c, "        "))
            if i.publish:
                out.append("    ~ publish (open the public link)")
            for note in i.notes:
                out.append(f"    ! {note}")
        n = self.counts()
        out.append(f"Plan: {n['+']} to create, {n['~']} to update, {n['-']} to delete, {n['=']} unchanged.")
        return out


def _show(value: Any, limit: int = 80) -> str:
    # JSON-quoted: control characters from third-party text cannot reach the terminal raw.
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _change_line(c: Change, indent: str) -> str:
    if c.old is None and c.new is not None:
        return f"{indent}+ {c.field}: {_show(c.new)}"
    return f"{indent}~ {c.field}: {_show(c.old)} → {_show(c.new)}"


def _stored_question_value(row: dict[str, Any], name: str) -> Any:
    return row.get(STORED_AS.get(name, name))


def _desired_question(q: QuestionSpec) -> dict[str, Any]:
    body = dict(q.fields)
    qtype = body.get("type")
    if qtype is not None and qtype not in CHOICE_TYPES:
        body["options"] = None  # a declared non-choice type holds no options
    return body


def _question_changes(q: QuestionSpec, row: dict[str, Any]) -> list[Change]:
    return [
        Change(name, _stored_question_value(row, name), value)
        for name, value in _desired_question(q).items()
        if _stored_question_value(row, name) != value
    ]


def _created_at(row: dict[str, Any]) -> datetime | None:
    try:
        value = datetime.fromisoformat(str(row.get("createdAt")).replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def _find_created_interview(client: Any, pending: dict[str, Any], taken: set[str]) -> list[str]:
    """Interviews that a pending create of `pending['title']` may have made."""
    since = datetime.fromisoformat(pending["startedAt"]) - CLOCK_SLACK
    found = []
    async for item in client.iter_interviews():
        row = item.model_dump()
        made = _created_at(row)
        if row.get("title") == pending["title"] and row["id"] not in taken and (made is None or made >= since):
            found.append(row["id"])
    return found


def _match_by_text(wanted: dict[str, str], rows: list[dict[str, Any]], taken: set[str]) -> dict[str, str]:
    """qkey -> question id, for unmapped stored questions whose text is the wanted text (each used once)."""
    out: dict[str, str] = {}
    for qkey, text in wanted.items():
        for row in rows:
            if row.get("id") not in taken and row.get("text") == text:
                out[qkey] = row["id"]
                taken.add(row["id"])
                break
    return out


async def plan(client: Any, spec: Spec, state: State, *, prune: bool = False) -> Plan:
    """What `apply` would do; reads only. Raises `PlanError` when a mapping cannot be used."""
    from aural_mcp.api import errors

    plans: list[InterviewPlan] = []
    problems: list[str] = []
    taken = state.mapped_ids()
    for entry in spec.interviews:
        st = state.interviews.get(entry.key, {})
        iid = state.interview_id(entry.key)
        if iid and entry.interview_id and iid != entry.interview_id:
            problems.append(
                f"{entry.key}: the spec's interviewId {entry.interview_id} differs from the state's {iid}; fix one of them"
            )
            continue
        recovered: dict[str, Any] = {}
        if iid is None and entry.interview_id:
            iid = entry.interview_id
            recovered["adopt"] = iid
        pending = st.get("pendingCreate")
        if iid is None and isinstance(pending, dict):
            found = await _find_created_interview(client, pending, taken)
            if len(found) > 1:
                problems.append(
                    f"{entry.key}: an unfinished create may have made any of {', '.join(found)}; "
                    f"map the right one with {state.how_to_map.format(key=entry.key)}"
                )
                continue
            if found:
                iid = found[0]
                recovered["id"] = iid
                taken.add(iid)
        title = entry.settings["title"]
        if iid is None:
            ip = InterviewPlan(entry.key, "+", None, title, spec=entry)
            ip.changes = [Change(k, None, v) for k, v in entry.settings.items()]
            ip.questions = [
                QuestionPlan(q.key, "+", None, q.fields["text"], [Change(k, None, v) for k, v in q.fields.items()], q.fields)
                for q in entry.questions
            ]
            ip.publish = bool(entry.published)
            plans.append(ip)
            continue
        try:
            detail = (await client.call("get_interview", {"interviewId": iid}))["data"]
        except errors.NotFoundError:
            problems.append(
                f"{entry.key}: interview {iid} was not found with this key; map another with "
                f"{state.how_to_map.format(key=entry.key)} or remove the key from {state.path or 'the state'}"
            )
            continue
        ip = InterviewPlan(entry.key, "=", iid, title, recovered=recovered, spec=entry)
        ip.changes = [Change(k, detail.get(k), v) for k, v in entry.settings.items() if detail.get(k) != v]
        if ip.changes:
            ip.action = "~"
        if entry.published and (detail.get("requireInvite") is not False or detail.get("isActive") is False):
            ip.publish = True
        if entry.published is False and detail.get("requireInvite") is False and detail.get("isActive") is not False:
            ip.notes.append("published: false, but the interview is already public and the API cannot unpublish it")
        _plan_questions(ip, entry, st, detail, prune)
        plans.append(ip)
    if prune:
        wanted = {e.key for e in spec.interviews}
        for key, st in state.interviews.items():
            if key not in wanted and isinstance(st.get("id"), str):
                plans.append(InterviewPlan(key, "-", st["id"], key))
    if problems:
        raise PlanError(problems)
    return Plan(plans)


def _plan_questions(ip: InterviewPlan, entry: InterviewSpec, st: dict[str, Any], detail: dict[str, Any], prune: bool) -> None:
    rows = [r for r in detail.get("questions") or [] if isinstance(r, dict) and isinstance(r.get("id"), str)]
    by_id = {r["id"]: r for r in rows}
    known = st.get("questions")
    mapping: dict[str, str] = {k: v for k, v in (known or {}).items() if v in by_id}
    taken = set(mapping.values())
    unmapped = {q.key: q.fields["text"] for q in entry.questions if q.key not in mapping}
    pending: dict[str, Any] = st["pendingQuestions"] if isinstance(st.get("pendingQuestions"), dict) else {}
    if known is None:  # adopted: its questions are matched by text, once
        found = _match_by_text(unmapped, rows, taken)
    else:
        found = _match_by_text({k: v for k, v in unmapped.items() if k in pending}, rows, taken)
    if found or known is None:
        ip.recovered["questions"] = found
    mapping.update(found)
    if not entry.manages_questions:
        return
    existing = [q for q in entry.questions if q.key in mapping]
    orders = [by_id[mapping[q.key]].get("order") for q in existing]
    numbers = [o for o in orders if isinstance(o, int)]
    in_order = len(numbers) == len(orders) and all(a < b for a, b in zip(numbers, numbers[1:], strict=False))
    new_at_end = all(q.key in mapping for q in entry.questions[: len(existing)])
    reorder = not (in_order and new_at_end)
    for position, q in enumerate(entry.questions):
        if q.key in mapping:
            row = by_id[mapping[q.key]]
            changes = _question_changes(q, row)
            if reorder and row.get("order") != position:
                changes.append(Change("order", row.get("order"), position))
            body = {c.field: c.new for c in changes}
            if "options" in body or "type" in body:  # they travel together on update
                desired = _desired_question(q)
                body.update({k: desired[k] for k in ("type", "options") if k in desired})
            ip.questions.append(QuestionPlan(q.key, "~" if changes else "=", row["id"], q.fields["text"], changes, body))
        else:
            body = dict(q.fields)
            if reorder:
                body["order"] = position
            ip.questions.append(QuestionPlan(q.key, "+", None, q.fields["text"], [Change(k, None, v) for k, v in body.items()], body))
    declared = {mapping[q.key] for q in entry.questions if q.key in mapping}
    for row in rows:
        if row["id"] not in declared:
            if prune:
                ip.questions.append(QuestionPlan(None, "-", row["id"], str(row.get("text") or "")))
            else:
                ip.notes.append(f"question `{row['id']}` {_show(row.get('text'), 50)} is not in the spec (kept; --prune deletes it)")


# -- applying ----------------------------------------------------------------------------------


@dataclass
class ApplySummary(Summary):
    """The counts, per interview and question, plus the deletions (archives) `--prune` made."""

    deleted: int = 0


class _Writes:
    def __init__(self, total: int, progress: Progress) -> None:
        self.done, self.total, self.progress = 0, total, progress

    def step(self, message: str) -> None:
        self.done += 1
        with contextlib.suppress(Exception):  # the callback must not stop the job
            self.progress(ProgressUpdate("apply", self.done, self.total, "changes", message))


async def apply(
    client: Any, spec: Spec, state: State, progress: Progress = no_progress, *, prune: bool = False, the_plan: Plan | None = None
) -> tuple[ApplySummary, list[str]]:
    """Make Aural match `spec`; returns the counts and one line per failure (each with its fix)."""
    from aural_mcp.api import errors

    p = the_plan or await plan(client, spec, state, prune=prune)
    summary = ApplySummary()
    failures: list[str] = []
    writes = _Writes(p.writes, progress)
    for ip in p.interviews:
        try:
            await _apply_interview(client, ip, state, summary, writes)
        except errors.AuralError as exc:
            summary.failed += 1
            failures.append(f"{ip.key}: {exc} ({state.how_to_retry})")
    return summary, failures


async def _apply_interview(client: Any, ip: InterviewPlan, state: State, summary: ApplySummary, writes: _Writes) -> None:
    from aural_mcp.api import errors

    if ip.action == "-":
        await client.call("archive_interview", {"interviewId": ip.id})
        state.interviews.pop(ip.key, None)
        state.save()
        summary.deleted += 1
        writes.step(f"archived {ip.key}")
        return
    entry = state.entry(ip.key)
    if ip.recovered:
        if "adopt" in ip.recovered:
            entry["id"] = ip.recovered["adopt"]
        if "id" in ip.recovered:
            entry["id"] = ip.recovered["id"]
            entry.pop("pendingCreate", None)
        if "questions" in ip.recovered:
            entry["questions"] = {**(entry.get("questions") or {}), **ip.recovered["questions"]}
            pending = entry.get("pendingQuestions") or {}
            for k in ip.recovered["questions"]:
                pending.pop(k, None)
            if not pending:
                entry.pop("pendingQuestions", None)
        state.save()
    if entry.get("questions") is None:
        entry["questions"] = {}
    assert ip.spec is not None
    if ip.action == "+":
        entry["id"] = await _create_interview(client, ip, state, entry)
        summary.created += 1
        writes.step(f"created {ip.key}")
    elif ip.changes:
        await client.call("update_interview", {"interviewId": entry["id"], **{c.field: c.new for c in ip.changes}})
        summary.updated += 1
        writes.step(f"updated {ip.key}")
    elif not ip.publish:
        summary.unchanged += 1
    iid = entry["id"]
    for q in ip.questions:
        if q.action == "-":
            with contextlib.suppress(errors.NotFoundError):  # already gone
                await client.call("delete_question", {"questionId": q.id})
            for k, v in list(entry["questions"].items()):
                if v == q.id:
                    del entry["questions"][k]
            state.save()
            summary.deleted += 1
            writes.step(f"deleted a question of {ip.key}")
        elif q.action == "~":
            await client.call("update_question", {"questionId": q.id, **q.body})
            summary.updated += 1
            writes.step(f"updated question {q.key}")
        elif q.action == "=":
            summary.unchanged += 1
    new = [q for q in ip.questions if q.action == "+"]
    if new:
        await _create_questions(client, iid, new, state, entry)
        summary.created += len(new)
        writes.step(f"created {len(new)} question(s) of {ip.key}")
    if ip.publish:
        await client.call("publish_interview", {"interviewId": iid})
        if ip.action == "=":
            summary.updated += 1
        writes.step(f"published {ip.key}")


def _now() -> str:
    return datetime.now(UTC).isoformat()


async def _create_interview(client: Any, ip: InterviewPlan, state: State, entry: dict[str, Any]) -> str:
    from aural_mcp.api import errors

    assert ip.spec is not None
    body = {k: v for k, v in ip.spec.settings.items() if v is not None}  # create takes no nulls: absent is the same
    pending = {"title": body["title"], "startedAt": _now()}
    entry["pendingCreate"] = pending
    state.save()
    for attempt in range(CREATE_ATTEMPTS):
        try:
            row = (await client.call("create_interview", body))["data"]
            iid = str(row["id"])
            break
        except errors.OutcomeUnknownError:
            found = await _find_created_interview(client, pending, state.mapped_ids())
            if len(found) == 1:
                iid = found[0]
                break
            if attempt == CREATE_ATTEMPTS - 1 or found:
                raise
    entry["id"] = iid
    entry.pop("pendingCreate", None)
    entry["questions"] = {}
    state.save()
    return iid


async def _create_questions(client: Any, iid: str, new: list[QuestionPlan], state: State, entry: dict[str, Any]) -> None:
    from aural_mcp.api import errors

    wanted = {q.key: q.body["text"] for q in new if q.key}
    entry["pendingQuestions"] = dict(wanted)
    state.save()
    todo = list(new)
    for attempt in range(CREATE_ATTEMPTS):
        try:
            rows = (await client.call("add_questions", {"interviewId": iid, "questions": [q.body for q in todo]}))["data"]
            for q, row in zip(todo, rows, strict=False):
                entry["questions"][q.key] = row["id"]
            break
        except errors.OutcomeUnknownError:
            stored = (await client.call("list_questions", {"interviewId": iid}))["data"]
            found = _match_by_text({q.key: q.body["text"] for q in todo if q.key}, stored, set(entry["questions"].values()))
            entry["questions"].update(found)
            todo = [q for q in todo if q.key not in found]
            state.save()
            if not todo:
                break
            if attempt == CREATE_ATTEMPTS - 1:
                raise
    entry.pop("pendingQuestions", None)
    state.save()
