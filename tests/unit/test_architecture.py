"""The layers stay one-way and the house stays navigable (issue 13).

- ``domain/`` imports only the standard library, the eventsourcing library and the holiday
  schedule's tables (``chinese_calendar``: ``THIRD_PARTY_IN_DOMAIN`` says why);
- ``projections/`` and ``services/`` import no adapter, and ``domain/`` nothing above it;
- no import circle anywhere, counting imports inside functions too;
- a function-local import only to spare a real start-up cost, said in a comment
  (``# start-up: ...``) on its line or the line above;
- no module in ``services/`` or ``adapters/`` is over 600 lines;
- ``domain/`` holds no rule-parameter constants (the rule catalog is the one place).

Read from the source with ``ast``: nothing is imported, no database is needed.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("domain", "services", "projections", "adapters")
MAX_LINES = 600
# Who may import whom: a layer may import itself and those listed.
MAY_IMPORT = {
    "domain": {"domain"},
    "projections": {"domain", "projections"},
    "services": {"domain", "services"},
    "adapters": {"domain", "services", "projections", "adapters"},
}
# The libraries the domain may import, and why each one.
THIRD_PARTY_IN_DOMAIN = {
    "eventsourcing": "the aggregates and their events are the library's",
    # pure data (the State Council's holiday schedule, two tables of dates: no I/O, no
    # clock, no settings); a working-day count decides what the rules record and what
    # the read models show, so every process must count with the same schedule, which a
    # port plugged in at start-up would not guarantee (domain/calendar.py, issue 17)
    "chinese_calendar": "the holiday schedule that working days are counted by",
}


def modules() -> dict[str, Path]:
    found = {}
    for layer in LAYERS:
        for path in sorted((ROOT / layer).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = modules()


def imports(path: Path) -> list[tuple[str, int, bool]]:
    """(module imported, line, inside a function) for every import of the file."""
    tree = ast.parse(path.read_text(), str(path))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, local: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = local or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                ast.Lambda))
            if isinstance(child, ast.Import):
                found.extend((a.name, child.lineno, local) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[:len(package.split(".")) - child.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                for alias in child.names:  # a submodule imported by name is its own edge
                    candidate = f"{base}.{alias.name}"
                    found.append((candidate if candidate in MODULES else base,
                                  child.lineno, local))
            visit(child, inner)

    visit(tree, False)
    return found


def project_module(name: str) -> str | None:
    """The project module an imported name lands in (its longest known prefix)."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in MODULES:
            return candidate
    return None


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {m: set() for m in MODULES}
    for module, path in MODULES.items():
        for name, _, _ in imports(path):
            target = project_module(name)
            if target is not None and target != module:
                edges[module].add(target)
    return edges


def test_layers_import_downward_only():
    wrong = []
    for module, path in MODULES.items():
        layer = module.split(".")[0]
        for name, line, _ in imports(path):
            top = name.split(".")[0]
            if top in LAYERS and top not in MAY_IMPORT[layer]:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
            if layer == "domain" and top not in LAYERS and top not in THIRD_PARTY_IN_DOMAIN \
                    and top not in sys.stdlib_module_names and top != "__future__":
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {name} (domain: "
                             f"standard library and {', '.join(THIRD_PARTY_IN_DOMAIN)} "
                             f"only)")
    assert not wrong, "\n".join(wrong)


def test_no_import_circles():
    edges = graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(10_000)

    def strongconnect(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            strongconnect(v)
    assert not circles, "import circles:\n" + "\n".join(" <-> ".join(c) for c in circles)


def test_function_local_imports_say_why():
    unexplained = []
    for module, path in MODULES.items():
        lines = path.read_text().splitlines()
        for name, line, local in imports(path):
            if not local:
                continue
            said = lines[line - 1] + (lines[line - 2] if line >= 2 else "")
            if "start-up" not in said:
                unexplained.append(f"{path.relative_to(ROOT)}:{line} imports {name} "
                                   f"inside a function without a '# start-up: ...' reason")
    assert not unexplained, "\n".join(unexplained)


def test_modules_stay_small():
    large = [f"{path.relative_to(ROOT)}: {n} lines"
             for module, path in MODULES.items()
             if module.split(".")[0] in ("services", "adapters")
             and (n := len(path.read_text().splitlines())) > MAX_LINES]
    assert not large, f"over {MAX_LINES} lines:\n" + "\n".join(large)


def test_domain_holds_no_rule_parameter_constants():
    """A number the rule catalog holds as a parameter is read from the rule where it
    applies: a module-level numeric constant of the domain with a catalog parameter's
    value and a name sharing a word with that parameter duplicates it."""
    from domain.rules import CATALOG

    parameters = {(key, value) for _, _, params in CATALOG.values()
                  for key, value in params.items()
                  if isinstance(value, (int, float)) and not isinstance(value, bool)}
    duplicates = []
    for module, path in MODULES.items():
        if not module.startswith("domain."):
            continue
        for node in ast.parse(path.read_text()).body:
            if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)):
                continue
            value = node.value.value
            for target in node.targets:
                if not isinstance(target, ast.Name) or not target.id.isupper():
                    continue
                words = set(target.id.lower().split("_"))
                for key, default in parameters:
                    if value == default and words & (set(key.split("_")) - {"days", "s"}):
                        duplicates.append(f"{path.relative_to(ROOT)}:{node.lineno} "
                                          f"{target.id} = {value} (rule parameter {key})")
    assert not duplicates, "\n".join(duplicates)
