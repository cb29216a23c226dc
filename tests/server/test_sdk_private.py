"""Every private access to the `mcp` SDK is in `server/sdk_private.py`, so an SDK upgrade is
checked in one place: no other module of `src/aural_mcp` uses a private name of an object it
does not define itself.

Read from the source with `ast`: `obj._name` and `getattr(obj, "_name", ...)` are private
accesses unless `obj` is `self` or `cls`, or `_name` is defined in our own package (a function,
class, or attribute assigned there, such as a sibling instance's `_close_with`).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "aural_mcp"
SDK_PRIVATE = PACKAGE / "server" / "sdk_private.py"


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _trees() -> dict[Path, ast.AST]:
    return {
        path: ast.parse(path.read_text(encoding="utf-8"), str(path)) for path in sorted(PACKAGE.rglob("*.py"))
    }


def _defined_by_us(trees: dict[Path, ast.AST]) -> set[str]:
    """Private names our own code defines: functions, classes, assigned names and attributes."""
    names: set[str] = set()
    for path, tree in trees.items():
        if path == SDK_PRIVATE:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
    return {name for name in names if _private(name)}


def _private_accesses(tree: ast.AST) -> list[tuple[str, int]]:
    """(name, line) of each `obj._name` read and `getattr(obj, "_name")` on something not self/cls."""
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and _private(node.attr)
            and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
        ):
            found.append((node.attr, node.lineno))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "hasattr", "setattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and _private(node.args[1].value)
        ):
            found.append((node.args[1].value, node.lineno))
    return found


def test_sdk_private_holds_the_known_accesses() -> None:
    names = {name for name, _ in _private_accesses(ast.parse(SDK_PRIVATE.read_text(encoding="utf-8")))}
    assert names == {"_lowlevel_server", "_handle_get_prompt", "_connection", "_subscriptions"}


def test_no_private_sdk_name_outside_sdk_private() -> None:
    trees = _trees()
    ours = _defined_by_us(trees)
    sdk_names = {name for name, _ in _private_accesses(trees[SDK_PRIVATE])}
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{line}: {name}"
        for path, tree in trees.items()
        if path != SDK_PRIVATE
        for name, line in _private_accesses(tree)
        if name in sdk_names or name not in ours
    ]
    assert not offenders, (
        "private names of objects we do not define, used outside server/sdk_private.py; "
        "add a function there (with why no public hook does the job) and call it:\n" + "\n".join(offenders)
    )


def test_the_scan_sees_a_private_access() -> None:
    tree = ast.parse(
        "def f(server, session, self):\n"
        "    server._lowlevel_server.run()\n"
        "    getattr(session, '_connection', None)\n"
        "    self._mine()\n"
    )
    assert sorted(_private_accesses(tree), key=lambda access: access[1]) == [
        ("_lowlevel_server", 2),
        ("_connection", 3),
    ]
