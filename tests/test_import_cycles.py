"""No import cycle inside `src/aural_mcp`, counting every import: top level, inside functions
(lazy) and under `if TYPE_CHECKING:` (type-only).

A cycle, even a lazy or type-only one, means two modules each need the other, so neither can be
read, tested or moved alone. The graph is built from the source with `ast`, not by importing it:

- `import a.b.c` is an edge to the module `a.b.c`;
- `from a.b import c` is an edge to the module `a.b.c` when there is one, else to `a.b` (a name
  defined or re-exported by the package's `__init__`);
- relative imports are resolved against the importing module's package;
- importing `a.b.c` runs the `__init__` of `a` and `a.b` too, but that is not counted as an edge:
  a package's `__init__` re-exporting its own submodules (`pkg -> pkg.sub`) is normal, and becomes
  a cycle only when `pkg.sub` imports a name from `pkg` itself (`from pkg import X`).
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = "aural_mcp"


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted((SRC / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imported(module: str, path: Path, known: dict[str, Path]) -> list[tuple[str, int]]:
    """(module of the package, line) for every import statement in `module`."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    edges: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            edges += [(alias.name, node.lineno) for alias in node.names if alias.name in known]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                if f"{source}.{alias.name}" in known:
                    edges.append((f"{source}.{alias.name}", node.lineno))
                elif source in known:
                    edges.append((source, node.lineno))
    return [(target, line) for target, line in edges if target != module]


def _graph() -> dict[str, dict[str, int]]:
    known = _modules()
    graph: dict[str, dict[str, int]] = {}
    for module, path in known.items():
        targets: dict[str, int] = {}
        for target, line in _imported(module, path, known):
            targets.setdefault(target, line)
        graph[module] = targets
    return graph


def _cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def _describe(component: list[str], graph: dict[str, dict[str, int]]) -> str:
    members = set(component)
    edges = [
        f"  {source} -> {target} (line {line})"
        for source in component
        for target, line in sorted(graph[source].items())
        if target in members
    ]
    return "\n".join([" <-> ".join(component), *edges])


def test_the_graph_sees_the_package() -> None:
    graph = _graph()
    assert "aural_mcp.server.app" in graph and "aural_mcp.operations" in graph
    # a lazy import inside a function counts: build_server imports the tools only when called
    assert "aural_mcp.server.tools" in graph["aural_mcp.server.app"]
    # a type-only import counts: prompts needs Runtime only under `if TYPE_CHECKING:`
    assert "aural_mcp.server.runtime" in graph["aural_mcp.server.prompts"]
    # relative imports are resolved: `from .pacing import Pacer`, `from .. import operations`
    assert {"aural_mcp.api.pacing", "aural_mcp.operations"} <= set(graph["aural_mcp.api.client"])


def test_a_cycle_is_found() -> None:
    graph = {"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3}, "d": {"a": 4}}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"a": {"b": 1}, "b": {}}) == []


def test_no_import_cycle_in_the_package() -> None:
    graph = _graph()
    cycles = _cycles(graph)
    assert not cycles, "import cycles in src/aural_mcp (lazy and type-only imports count):\n" + "\n".join(
        _describe(component, graph) for component in cycles
    )
