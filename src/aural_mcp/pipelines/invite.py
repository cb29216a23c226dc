"""Bulk invites that never duplicate: `read_people` reads a CSV or JSONL file, `invite` adds the
people an interview does not have yet and returns every invite URL.

Who is "the same person": the lower-cased email. A row without an email (a name only) cannot be
matched against the API's candidates, so it is recognised on a re-run from the journal alone.

The journal is a JSON-lines file (by default beside `--out`: `links.csv.journal.jsonl`). Each
chunk of at most 500 people is recorded as `{"event": "sent", ...}` before its request and
`{"event": "answered", ...}` (with the candidate ids made) after. A chunk with no answer — the
process died, or the API's answer was lost after the write (`OutcomeUnknownError`) — is resolved
by listing the interview's candidates and skipping those now present before anything is re-sent.
"""

from __future__ import annotations

import csv
import json
import os
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from aural_mcp.api import AuralClient
from aural_mcp.api.errors import OutcomeUnknownError
from aural_mcp.operations import EMAIL_RE
from aural_mcp.operations import get as operation
from aural_mcp.pipelines.progress import Progress, ProgressUpdate, Summary, no_progress
from aural_mcp.server.render.candidates import invite_url
from aural_mcp.server.render.context import app_origin

CHUNK = operation("add_candidates").arg("candidates").schema["maxItems"]  # 500: the API's cap per request
STAGE = "invite"
MAX_ATTEMPTS = 4  # sends of one chunk whose answers are lost, before the job stops

# The candidate fields add_candidates takes, by the API's own names.
FIELDS: tuple[str, ...] = tuple(operation("add_candidates").arg("candidates").schema["items"]["properties"])
# A header matches a field ignoring case, spaces, "_" and "-": "Graduation Year" is graduationYear.
_BY_HEADER = {re.sub(r"[\s_-]", "", f).lower(): f for f in FIELDS}
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

OnError = Literal["skip", "abort"]


@dataclass(frozen=True)
class Person:
    """One row to invite: `line` is where it starts in the file, `fields` what add_candidates gets."""

    line: int
    fields: dict[str, Any]

    @property
    def email(self) -> str | None:
        value = self.fields.get("email")
        return value.lower() if isinstance(value, str) and value else None

    @property
    def name(self) -> str:
        value = self.fields.get("name")
        return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class BadRow:
    line: int
    problem: str  # names the field and the fix


@dataclass
class People:
    """What a file holds: the usable rows, the bad ones, and the columns no field matched."""

    rows: list[Person] = field(default_factory=list)
    bad: list[BadRow] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


@dataclass
class InviteResult:
    """The counts (created: added now; unchanged: already on the interview; skipped: repeats in
    the file and bad rows; failed: rows that could not be matched to a candidate) and one row per
    distinct person: the candidate as the API has it, with `inviteUrl`."""

    summary: Summary
    links: list[dict[str, Any]]
    bad: list[BadRow]
    repeats: list[int]  # lines whose email an earlier line already had


class BadRowsError(ValueError):
    """`on_error="abort"` and the file has bad rows: nothing was sent."""

    def __init__(self, bad: list[BadRow]) -> None:
        super().__init__(f"{len(bad)} bad row(s); nothing was sent")
        self.bad = bad


# --- reading ---------------------------------------------------------------------------------


def _problem(values: dict[str, Any]) -> str | None:
    name, email = values.get("name"), values.get("email")
    if not name and not email:
        return "no name and no email: give the row a `name` or an `email` column value"
    if email and not EMAIL_RE.fullmatch(email):
        return f"`email` {email[:80]!r} is not an email address: fix it or leave it empty"
    birthday = values.get("birthday")
    if birthday is not None:
        try:
            ok = bool(_DATE.fullmatch(birthday)) and bool(date.fromisoformat(birthday))
        except ValueError:
            ok = False
        if not ok:
            return f"`birthday` {birthday[:40]!r} is not a real date: write it as YYYY-MM-DD or leave it empty"
    year = values.get("graduationYear")
    if year is not None:
        if not re.fullmatch(r"-?[0-9]{1,6}", year):
            return f"`graduationYear` {year[:40]!r} is not a whole number: write it like 2025 or leave it empty"
        values["graduationYear"] = int(year)
    return None


def _person(line: int, raw: dict[str, Any], people: People) -> None:
    values: dict[str, Any] = {}
    for header, value in raw.items():
        name = _BY_HEADER.get(re.sub(r"[\s_-]", "", str(header)).lower())
        if name is None:
            if header is not None and str(header) not in people.ignored_columns:
                people.ignored_columns.append(str(header))
            continue
        if value is None or isinstance(value, bool) or not isinstance(value, str | int | float):
            if value is not None:
                people.bad.append(BadRow(line, f"`{name}` must be text, not {type(value).__name__}"))
                return
            continue
        text = str(value).strip()
        if text:
            values[name] = text
    problem = _problem(values)
    if problem:
        people.bad.append(BadRow(line, problem))
    else:
        people.rows.append(Person(line, values))


def read_people(path: str | os.PathLike[str]) -> People:
    """The people of a CSV file (a header row, then one person per row) or a JSONL file (`.jsonl`
    or `.ndjson`: one JSON object per line). Columns are matched to add_candidates' fields by
    name, ignoring case; line numbers are the file's own (the CSV header is line 1)."""
    file = Path(path)
    people = People()
    if file.suffix.lower() in (".jsonl", ".ndjson"):
        with file.open(encoding="utf-8-sig") as f:
            for number, text in enumerate(f, start=1):
                if not text.strip():
                    continue
                try:
                    item = json.loads(text)
                except ValueError:
                    people.bad.append(BadRow(number, "not a JSON object: write one {\"name\": …, \"email\": …} per line"))
                    continue
                if not isinstance(item, dict):
                    people.bad.append(BadRow(number, "not a JSON object: write one {\"name\": …, \"email\": …} per line"))
                    continue
                _person(number, item, people)
        return people
    with file.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            return people
        if not {_BY_HEADER.get(re.sub(r"[\s_-]", "", h).lower()) for h in header} & {"name", "email"}:
            people.bad.append(BadRow(1, "the header has neither a `name` nor an `email` column: add one"))
            return people
        start = reader.line_num + 1  # csv.reader returns a blank line as [], so each row is counted
        for cells in reader:
            if len(cells) > len(header):
                people.bad.append(BadRow(start, f"{len(cells)} cells but the header has {len(header)} columns"))
            elif any(c.strip() for c in cells):
                _person(start, dict(zip(header, cells, strict=False)), people)
            start = reader.line_num + 1
    return people


# --- the journal -----------------------------------------------------------------------------


def _key(person: Person, name_seen: dict[str, int]) -> str:
    """The person's identity in the journal: the email, or the name and how many times it came."""
    if person.email:
        return "email:" + person.email
    n = name_seen.get(person.name, 0)
    name_seen[person.name] = n + 1
    return f"name:{person.name}#{n}"


class Journal:
    """The JSON-lines record of chunks sent and answered (see the module's docstring)."""

    def __init__(self, path: str | os.PathLike[str], interview_id: str) -> None:
        self.path = Path(path)
        self.interview_id = interview_id
        self.created: dict[str, str] = {}  # key -> candidate id, from answered chunks
        self.unknown: list[list[str]] = []  # keys of chunks sent with no answer
        sent: dict[str, list[str]] = {}
        if self.path.exists():
            for text in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(text)
                except ValueError:
                    continue  # a line cut off by a crash
                if not isinstance(entry, dict) or entry.get("interviewId") != interview_id:
                    continue
                chunk = str(entry.get("chunk"))
                if entry.get("event") == "sent":
                    sent[chunk] = [str(k) for k in entry.get("keys", [])]
                elif entry.get("event") == "answered":
                    sent.pop(chunk, None)
                    self.created.update({str(k): str(v) for k, v in dict(entry.get("created", {})).items()})
        self.unknown = list(sent.values())

    def write(self, event: str, chunk: str, **data: Any) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"event": event, "interviewId": self.interview_id, "chunk": chunk, **data})
        with self.path.open("a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())


# --- inviting --------------------------------------------------------------------------------


@dataclass
class _Candidates:
    """The interview's candidates as last seen, found by id and by lower-cased email."""

    by_id: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_email: dict[str, str] = field(default_factory=dict)

    def add(self, rows: Iterable[dict[str, Any]]) -> None:
        for row in rows:
            cid = row.get("id")
            if not isinstance(cid, str):
                continue
            self.by_id[cid] = {**self.by_id.get(cid, {}), **{k: v for k, v in row.items() if v is not None}}
            email = row.get("email")
            if isinstance(email, str) and email:
                self.by_email.setdefault(email.lower(), cid)

    def unclaimed_named(self, name: str, claimed: set[str]) -> str | None:
        """A candidate with this name and no email that no other row of the file accounts for."""
        for cid, row in self.by_id.items():
            if cid not in claimed and not row.get("email") and row.get("name") == name:
                return cid
        return None


async def _list(client: AuralClient, interview_id: str, known: _Candidates) -> None:
    known.add(c.model_dump() for c in await client.list_candidates(interview_id))


async def invite(
    client: AuralClient,
    interview_id: str,
    people: People | list[Person],
    *,
    journal_path: str | os.PathLike[str],
    progress: Progress = no_progress,
    on_error: OnError = "skip",
) -> InviteResult:
    """Add every person the interview does not have yet, in chunks of at most 500, and return the
    invite URL of each distinct person (new or already there). Safe to re-run with the same
    journal after a crash or a lost answer: nobody is added twice.

    Raises `BadRowsError` before any request when `on_error="abort"` and the file has bad rows;
    API errors (a rejected chunk, a plan limit) propagate after the journal has recorded them.
    """
    rows = people.rows if isinstance(people, People) else list(people)
    bad = list(people.bad) if isinstance(people, People) else []
    if bad and on_error == "abort":
        raise BadRowsError(bad)
    summary = Summary(skipped=len(bad))

    # One row per distinct person: a repeated email is skipped.
    distinct: list[tuple[str, Person]] = []
    seen: set[str] = set()
    repeats: list[int] = []
    name_seen: dict[str, int] = {}
    for person in rows:
        if person.email and person.email in seen:
            repeats.append(person.line)
            continue
        if person.email:
            seen.add(person.email)
        distinct.append((_key(person, name_seen), person))
    summary.skipped += len(repeats)

    journal = Journal(journal_path, interview_id)
    known = _Candidates()
    await _list(client, interview_id, known)  # also resolves chunks the journal left unknown
    claimed: dict[str, str] = {}  # key -> candidate id of the people already on the interview

    def resolve(keys_people: list[tuple[str, Person]], names_too: bool) -> list[tuple[str, Person]]:
        """Those of `keys_people` not on the interview yet (marking the others as claimed)."""
        missing = []
        for key, person in keys_people:
            cid = journal.created.get(key)
            if cid is None and person.email:
                cid = known.by_email.get(person.email)
            if cid is None and names_too and not person.email:
                cid = known.unclaimed_named(person.name, set(claimed.values()))
            if cid is not None:
                claimed[key] = cid
            else:
                missing.append((key, person))
        return missing

    unknown_keys = {k for chunk in journal.unknown for k in chunk}
    to_send: list[tuple[str, Person]] = []
    for key, person in distinct:
        to_send += resolve([(key, person)], names_too=key in unknown_keys)
    summary.unchanged = len(claimed)
    total = len(distinct)
    progress(ProgressUpdate(STAGE, summary.unchanged, total, "candidates", f"{len(to_send)} to add"))

    run = uuid.uuid4().hex[:8]
    chunks = [to_send[i : i + CHUNK] for i in range(0, len(to_send), CHUNK)]
    made: dict[str, str] = {}
    for number, chunk in enumerate(chunks, start=1):
        pending = chunk
        attempt = 0
        while pending:
            attempt += 1
            tag = f"{run}-{number}-{attempt}"
            journal.write("sent", tag, keys=[k for k, _ in pending])
            try:
                answer = await client.add_candidates(interview_id, [p.fields for _, p in pending])
            except OutcomeUnknownError:
                if attempt >= MAX_ATTEMPTS:
                    raise  # the journal has it: a re-run resolves it by listing first
                # The write may have happened: see who is there now, send only the others.
                await _list(client, interview_id, known)
                sent = [k for k, _ in pending]
                pending = resolve(pending, names_too=True)
                made.update({k: claimed[k] for k in sent if k in claimed})
                continue
            rows_made = [c.model_dump() for c in answer]
            known.add(rows_made)
            created = {key: str(row.get("id")) for (key, _), row in zip(pending, rows_made, strict=False)}
            journal.write("answered", tag, created=created)
            claimed.update(created)
            made.update(created)
            pending = []
        progress(
            ProgressUpdate(
                STAGE, summary.unchanged + len(made), total, "candidates", f"chunk {number} of {len(chunks)} sent"
            )
        )

    summary.created = len(made)
    summary.unchanged = len(claimed) - len(made)
    if any(key not in claimed or claimed[key] not in known.by_id for key, _ in distinct):
        await _list(client, interview_id, known)  # a row the journal names but this run has not seen
    app = app_origin(client.base_url)
    links: list[dict[str, Any]] = []
    for key, _ in distinct:
        row = known.by_id.get(claimed.get(key, ""))
        if row is None:
            summary.failed += 1
            continue
        links.append({**row, "inviteUrl": invite_url(row, app)})
    return InviteResult(summary, links, bad, repeats)
