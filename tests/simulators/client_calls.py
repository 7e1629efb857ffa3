"""The ServiceTitan and GoHighLevel operations the product's clients call, read from its code.

ServiceTitan: every export and list the warehouse syncs (its catalog), every write the agent's
`call_st_api` allows, and every call in the product's source whose module is a literal (a
`client.post("crm", f"customers/{id}/notes")`, a `("jpm", f"jobs/{id}/notes")` pair). A new call
site therefore shows up here without anyone listing it. GoHighLevel: every `_call` of its
connector, and its `get_opportunity`.
"""

from __future__ import annotations

import ast
import re

from openapi_specs import REPO, normalized

from perfect_catch.tools.pricebook_tools import PRICEBOOK_PATHS
from perfect_catch.tools.servicetitan import WRITE_ALLOW_LIST
from perfect_catch.warehouse.catalog import ENTITIES

PRODUCT = REPO / "perfect_catch"
ST_MODULES = frozenset(
    {
        "accounting",
        "crm",
        "dispatch",
        "equipmentsystems",
        "jpm",
        "marketing",
        "pricebook",
        "sales",
        "settings",
        "taskmanagement",
        "telecom",
    }
)
# A call's method from the client method it goes through; `None`: the literal pair is passed on.
_CALL_METHODS = {
    "get": "GET",
    "post": "POST",
    "put": "PUT",
    "patch": "PATCH",
    "delete": "DELETE",
    "fetch": "GET",
    "iter_list": "GET",
}
# The GoHighLevel calls that bypass `_call` (a 404 there is an answer, not an error).
GHL_DIRECT_OPERATIONS = {("GET", "/opportunities/{}")}

Operation = tuple[str | None, str, str]


def _template(node: ast.expr) -> str | None:
    """A string literal or f-string as a path template, each interpolation as `{}`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            else:
                parts.append("{}")
        return "".join(parts)
    return None


def _module_path_pairs(args: list[ast.expr], names: dict[str, set[str]]) -> list[tuple[str, str]]:
    """(module, path) wherever a literal module is followed by a literal path (or a variable
    assigned one in the same file)."""
    pairs = []
    for first, second in zip(args, args[1:], strict=False):
        if not (isinstance(first, ast.Constant) and first.value in ST_MODULES):
            continue
        if isinstance(second, ast.Name):
            paths = names.get(second.id, set())
        else:
            template = _template(second)
            paths = set() if template is None else {template}
        for path in paths:
            # A path whose resource is chosen at runtime is listed by its caller's table.
            if not path.startswith("{}") and path not in ST_MODULES:
                pairs.append((first.value, normalized(path.strip("/"))))
    return pairs


def _assigned_paths(tree: ast.AST) -> dict[str, set[str]]:
    names: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            template = _template(node.value)
            if isinstance(target, ast.Name) and template is not None:
                names.setdefault(target.id, set()).add(template)
    return names


def _calls_in_source() -> set[Operation]:
    found: set[Operation] = set()
    for source in PRODUCT.rglob("*.py"):
        if "simulators" in source.parts:
            continue
        tree = ast.parse(source.read_text(), str(source))
        names = _assigned_paths(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                method = _CALL_METHODS.get(name)
                found |= {(method, m, p) for m, p in _module_path_pairs(node.args, names)}
            elif isinstance(node, ast.Tuple) and len(node.elts) <= 3:
                # `module, path = ("jpm", f"jobs/{id}/notes")`, posted further down.
                found |= {(None, m, p) for m, p in _module_path_pairs(node.elts, names)}
    return found


def _expand(pattern: str) -> list[str]:
    """The paths an allow-list pattern matches, `\\d+` as `{}` and each `(?:a|b)` spelled out."""
    group = re.search(r"\(\?:([^()]*)\)", pattern)
    if group is None:
        return [pattern.replace(r"\d+", "{}")]
    return [
        path
        for choice in group.group(1).split("|")
        for path in _expand(pattern[: group.start()] + choice + pattern[group.end() :])
    ]


def servicetitan_client_operations() -> set[Operation]:
    """(method or None, module, path after the tenant with `{}` for ids) of every client call."""
    operations: set[Operation] = set()
    for entity in ENTITIES:
        path = f"export/{entity.resource}" if entity.kind == "export" else entity.resource
        operations.add(("GET", entity.module, path))
    for method, module, pattern, _ in WRITE_ALLOW_LIST:
        operations |= {(method, module, path) for path in _expand(pattern.pattern)}
    for resource in PRICEBOOK_PATHS.values():
        operations.add(("PATCH", "pricebook", f"{resource}/{{}}"))
    operations |= _calls_in_source()
    # A pair found as a tuple and again in a call with its method is that call.
    known = {(module, path) for method, module, path in operations if method is not None}
    return {op for op in operations if op[0] is not None or (op[1], op[2]) not in known}


def gohighlevel_client_operations() -> set[tuple[str, str]]:
    """(method, spec path with `{}` for ids) of every GoHighLevel connector call."""
    source = PRODUCT / "connectors" / "gohighlevel.py"
    operations = set(GHL_DIRECT_OPERATIONS)
    for node in ast.walk(ast.parse(source.read_text(), str(source))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "_call"
            and len(node.args) >= 2
            and isinstance(node.args[0], ast.Constant)
        ):
            path = _template(node.args[1])
            if path is not None:
                operations.add((str(node.args[0].value), normalized("/" + path.lstrip("/"))))
    return operations
