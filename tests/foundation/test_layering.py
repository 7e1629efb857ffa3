"""The house's layering, read from the code's own imports (those inside functions too).

A lower layer never imports a higher one, and two packages of the same layer do not import each
other, so every package can be understood, tested and changed with only what is below it. The
simulators stand for the outside world and import nothing of the product.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Top-level parts of the product, lowest layer first. A part may import its own modules and any
#: part of a lower layer; nothing else.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"settings", "streaming"}),
    frozenset({"tenants"}),
    frozenset({"phones"}),
    frozenset({"connectors"}),
    frozenset({"warehouse"}),
    frozenset({"integrations", "messaging"}),
    frozenset({"tools"}),
    frozenset({"workflows"}),
    # Monitoring is plain Python that Dagster (defs) wires in, so it sits just under defs.
    frozenset({"monitoring"}),
    frozenset({"defs", "webhooks", "instance"}),
    frozenset(
        {
            "cli",
            "demo",
            "run_once",
            "sync_cli",
            "health_cli",
            "outbox_cli",
            "suppliers_cli",
            "instance_cli",
            "definitions",
            "mcp_server",
        }
    ),
)
#: Parts that stand outside the layers: they import only themselves, and only the top layer (the
#: commands that start them) imports them.
ISOLATED = frozenset({"simulators"})
PRODUCT = ("perfect_catch", "mcp_server")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _imports(path: Path) -> set[str]:
    """Every product module `path` imports, wherever in the file the import stands."""
    module = _module_name(path)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            # `from pkg import module` imports the module; `from module import name`, the module.
            names = [
                f"{target}.{alias.name}" if _is_module(f"{target}.{alias.name}") else target
                for alias in node.names
            ]
        found.update(name for name in names if name.split(".")[0] in PRODUCT)
    return found


def _part(module: str) -> str | None:
    """The layered part a module belongs to (`perfect_catch.tools.lookup` -> `tools`)."""
    parts = module.split(".")
    if parts[0] == "mcp_server":
        return "mcp_server"
    return parts[1] if len(parts) > 1 else None


def _rank(part: str) -> int:
    for rank, layer in enumerate(LAYERS):
        if part in layer:
            return rank
    raise AssertionError(f"{part!r} is in no layer: add it to LAYERS in {Path(__file__).name}")


def _edges() -> set[tuple[str, str]]:
    edges: set[tuple[str, str]] = set()
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            module = _module_name(path)
            edges.update((module, target) for target in _imports(path))
    return edges


def _breaks(source: str, target: str) -> str | None:
    """Why the import `source -> target` breaks the layering, or None when it does not."""
    mine, theirs = _part(source), _part(target)
    if mine is None or theirs is None or mine == theirs:
        return None
    if mine in ISOLATED:
        return f"{mine} import nothing of the product"
    if theirs in ISOLATED and _rank(mine) < len(LAYERS) - 1:
        return f"only the commands start {theirs}; the rest reaches them over HTTP"
    if theirs in ISOLATED:
        return None
    if _rank(theirs) > _rank(mine):
        return f"{mine} is below {theirs}"
    if _rank(theirs) == _rank(mine) and _rank(mine) < len(LAYERS) - 1:
        return f"{mine} and {theirs} are of one layer"
    return None


def test_no_import_breaks_the_layering() -> None:
    broken = sorted(
        f"{source} -> {target}: {why}"
        for source, target in _edges()
        if (why := _breaks(source, target))
    )
    assert not broken, "imports that break the layering:\n" + "\n".join(broken)


def _cycles(edges: set[tuple[str, str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    graph: dict[str, set[str]] = {}
    for source, target in edges:
        graph.setdefault(source, set()).add(target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_no_import_cycles() -> None:
    edges = {(s, t) for s, t in _edges() if s != t and not s.startswith(t + ".")}
    cycles = _cycles(edges)
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


@pytest.mark.parametrize(
    ("source", "target", "broken"),
    [
        ("perfect_catch.tools.lookup", "perfect_catch.workflows.running", True),
        ("perfect_catch.simulators.server", "perfect_catch.streaming", True),
        ("perfect_catch.messaging.outbox", "perfect_catch.integrations.ghl_sync", True),
        ("perfect_catch.messaging.outbox", "perfect_catch.phones", False),
        ("perfect_catch.phones", "perfect_catch.settings", False),
        ("perfect_catch.phones", "perfect_catch.connectors.http", True),
        ("perfect_catch.warehouse.sync", "perfect_catch.defs.servicetitan", True),
        ("perfect_catch.workflows.running", "perfect_catch.tools.registry", False),
        ("mcp_server.server", "perfect_catch.tools", False),
        ("perfect_catch.cli", "perfect_catch.simulators", False),
        ("perfect_catch.cli", "perfect_catch.run_once", False),
        ("perfect_catch.tools.lookup", "perfect_catch.simulators.app", True),
    ],
)
def test_the_rule_itself(source: str, target: str, broken: bool) -> None:
    assert (_breaks(source, target) is not None) is broken


def test_the_circle_finder_itself() -> None:
    edges = {("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "e")}
    assert _cycles(edges) == [["a", "b", "c"]]
    assert _cycles(edges - {("c", "a")}) == []
