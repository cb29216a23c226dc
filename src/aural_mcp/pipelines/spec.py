"""Loading an interview spec file (YAML or JSON) and checking it, with every problem's file, line
and field, before any request is sent.

`load_spec(path)` returns a `Spec` or raises `SpecError` listing every problem; `parse_spec(data)`
checks data that is already parsed (the MCP tool's argument). The rules are the JSON Schema in
`spec_schema.py`, plus what a schema cannot say: keys are unique, among interviews and among each
interview's questions.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aural_mcp.pipelines.spec_schema import SPEC_SCHEMA

MAX_SPEC_BYTES = 5 * 1024 * 1024
MAX_VALUES = 200_000  # a YAML file whose aliases expand beyond this is refused
# Question fields are written under other names than the API reads them back.
RENAMES = {"isRequired": "required", "probeOnShort": "followUpEnabled", "order": "(the position in the list)"}

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    where: str  # file:line, or "spec" for parsed data
    field: str  # interviews[0].questions[2].type
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.field}: {self.message}" if self.field else f"{self.where}: {self.message}"


class SpecError(Exception):
    """The spec cannot be used; `problems` lists every one found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class QuestionSpec:
    key: str
    fields: dict[str, Any]  # the request names (text, type, required, followUpEnabled, options, ...)


@dataclass(frozen=True)
class InterviewSpec:
    key: str
    settings: dict[str, Any]  # the create/update_interview fields the spec declares
    questions: tuple[QuestionSpec, ...]
    published: bool | None = None
    interview_id: str | None = None
    manages_questions: bool = True  # False when the entry has no `questions` list


@dataclass(frozen=True)
class Spec:
    interviews: tuple[InterviewSpec, ...]
    path: Path | None = None
    lines: dict[Path_, int] = field(default_factory=dict, compare=False, repr=False)


def field_name(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# -- reading the file ----------------------------------------------------------------------


def load_spec(path: str | Path) -> Spec:
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_SPEC_BYTES:
            raise SpecError([Problem(str(p), "", f"the file is {size} bytes; a spec may be at most {MAX_SPEC_BYTES}")])
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SpecError([Problem(str(p), "", "no such file; give the path of a .yaml or .json spec")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([Problem(str(p), "", f"cannot read it ({exc}); a spec is UTF-8 text")]) from None
    if p.suffix.lower() == ".json":
        data, lines = _read_json(text, str(p))
    else:
        data, lines = _read_yaml(text, str(p))
    return parse_spec(data, where=str(p), lines=lines, path=p)


def _read_json(text: str, name: str) -> tuple[Any, dict[Path_, int]]:
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in items:
            if k in out:
                duplicates.append(k)
            out[k] = v
        return out

    try:
        data = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        raise SpecError([Problem(f"{name}:{exc.lineno}", "", f"not valid JSON: {exc.msg} (column {exc.colno})")]) from None
    except RecursionError:
        raise SpecError([Problem(name, "", "the JSON is nested too deeply")]) from None
    try:
        lines = _json_lines(text)
    except (RecursionError, ValueError, IndexError):
        lines = {}
    if duplicates:
        raise SpecError([Problem(name, "", f"the key {json.dumps(duplicates[0])} appears twice in one object")])
    return data, lines


_DECODER = json.JSONDecoder()
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null")


def _json_lines(text: str) -> dict[Path_, int]:
    """The line of every key and value of valid JSON, by its path."""
    breaks = [i for i, c in enumerate(text) if c == "\n"]
    lines: dict[Path_, int] = {}

    def line(i: int) -> int:
        return bisect.bisect_left(breaks, i) + 1

    def ws(i: int) -> int:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        return i

    def value(i: int, path: Path_) -> int:
        lines.setdefault(path, line(i))
        c = text[i]
        if c in "{[":
            close = "}" if c == "{" else "]"
            i = ws(i + 1)
            n = 0
            while text[i] != close:
                if c == "{":
                    key, i = _DECODER.raw_decode(text, i)
                    sub: Path_ = (*path, key)
                    lines[sub] = line(i)
                    i = ws(ws(i) + 1)  # past the colon
                else:
                    sub = (*path, n)
                    n += 1
                i = ws(value(i, sub))
                if text[i] == ",":
                    i = ws(i + 1)
            return i + 1
        if c == '"':
            end: int = _DECODER.raw_decode(text, i)[1]
            return end
        m = _NUMBER.match(text, i)
        if m is None:
            raise ValueError(i)
        return m.end()

    value(ws(0), ())
    return lines


def _read_yaml(text: str, name: str) -> tuple[Any, dict[Path_, int]]:
    import yaml  # type: ignore[import-untyped]

    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise SpecError([Problem(name, "", "the file is empty; a spec starts with `interviews:`")])
        lines: dict[Path_, int] = {}
        problems: list[Problem] = []
        count = [0]

        def walk(n: Any, path: Path_) -> None:
            count[0] += 1
            if count[0] > MAX_VALUES:
                raise SpecError([Problem(name, "", f"the spec expands to more than {MAX_VALUES} values (YAML aliases?)")])
            lines.setdefault(path, n.start_mark.line + 1)
            if isinstance(n, yaml.MappingNode):
                seen: set[str] = set()
                for k, v in n.value:
                    key = str(k.value)
                    if key in seen:
                        problems.append(Problem(f"{name}:{k.start_mark.line + 1}", field_name((*path, key)), "appears twice"))
                    seen.add(key)
                    lines[(*path, key)] = k.start_mark.line + 1
                    walk(v, (*path, key))
            elif isinstance(n, yaml.SequenceNode):
                for i, v in enumerate(n.value):
                    walk(v, (*path, i))

        walk(node, ())
        if problems:
            raise SpecError(problems)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{name}:{mark.line + 1}" if mark else name
        raise SpecError([Problem(where, "", f"not valid YAML: {exc.problem or exc.context}")]) from None
    except yaml.YAMLError as exc:
        raise SpecError([Problem(name, "", f"not valid YAML: {exc}")]) from None
    finally:
        loader.dispose()
    return data, lines


# -- checking --------------------------------------------------------------------------------


def _line_of(lines: dict[Path_, int], path: Path_) -> int | None:
    for n in range(len(path), -1, -1):
        if path[:n] in lines:
            return lines[path[:n]]
    return None


def _message(error: Any) -> tuple[Path_, str]:
    """The field and a fix-naming message for one jsonschema error."""
    path: Path_ = tuple(error.absolute_path)
    v = error.validator
    if v == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        name = extra[0] if extra else "?"
        fix = RENAMES.get(name)
        hint = f"write `{fix}` instead" if fix else "the fields here are " + ", ".join(error.schema.get("properties", {}))
        return (*path, name), f"is not a field of this entry; {hint}"
    if v == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "?"
        if missing == "options":
            return (*path, "options"), "is required for SINGLE_CHOICE and MULTIPLE_CHOICE: at least 2 choices"
        return path, f"needs `{missing}`"
    if v == "not" and "else" in error.schema_path:
        return (*path, "options"), "only applies to SINGLE_CHOICE or MULTIPLE_CHOICE; remove it or change `type`"
    if v == "pattern" and path and path[-1] == "key":
        return path, "must be letters, digits, _ . - (at most 64, starting with a letter or digit)"
    if v == "pattern" and error.validator_value == "\\S":
        return path, "must not be blank"
    if v == "pattern" and path and path[-1] == "interviewId":
        return path, "must be an interview id (a UUID) as list_interviews shows it"
    if v == "enum":
        return path, f"{json.dumps(error.instance)[:60]} is not one of {', '.join(map(str, error.validator_value))}"
    if v == "type":
        want = error.validator_value
        want = " or ".join(want) if isinstance(want, list) else want
        return path, f"must be {want}, not {json.dumps(error.instance, default=str)[:60]}"
    return path, error.message[:200]


def parse_spec(
    data: Any, *, where: str = "spec", lines: dict[Path_, int] | None = None, path: Path | None = None
) -> Spec:
    """A `Spec` from parsed data, or `SpecError` with every problem (file:line and field)."""
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

    lines = lines or {}

    def at(p: Path_) -> str:
        n = _line_of(lines, p) if lines else None
        return f"{where}:{n}" if n else where

    problems: list[Problem] = []
    for error in sorted(Draft202012Validator(SPEC_SCHEMA).iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        p, message = _message(error)
        problems.append(Problem(at(p), field_name(p), message))
    if not problems:
        keys: dict[str, int] = {}
        for i, entry in enumerate(data["interviews"]):
            if entry["key"] in keys:
                p = ("interviews", i, "key")
                problems.append(Problem(at(p), field_name(p), f"{entry['key']!r} is already the key of interviews[{keys[entry['key']]}]; keys are unique"))
            keys.setdefault(entry["key"], i)
            qkeys: dict[str, int] = {}
            for j, q in enumerate(entry.get("questions") or []):
                if q["key"] in qkeys:
                    p = ("interviews", i, "questions", j, "key")
                    problems.append(Problem(at(p), field_name(p), f"{q['key']!r} is already the key of questions[{qkeys[q['key']]}]; keys are unique"))
                qkeys.setdefault(q["key"], j)
    # problems sorted by line where known
    if problems:
        raise SpecError(problems)
    interviews = []
    for entry in data["interviews"]:
        settings = {k: _clean(k, v) for k, v in entry.items() if k not in ("key", "interviewId", "published", "questions")}
        questions = tuple(
            QuestionSpec(q["key"], {k: _clean(k, v) for k, v in q.items() if k != "key"}) for q in entry.get("questions") or []
        )
        interviews.append(
            InterviewSpec(
                entry["key"],
                settings,
                questions,
                entry.get("published"),
                entry.get("interviewId", "").lower() or None,
                "questions" in entry,
            )
        )
    return Spec(tuple(interviews), path, lines)


def _clean(name: str, value: Any) -> Any:
    # The API trims these on write; the spec's value is compared and sent as it will be stored.
    if name in ("title", "text", "aiName", "language") and isinstance(value, str):
        return value.strip()
    return value
