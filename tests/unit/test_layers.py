"""The layers import one way and nothing imports in a circle.

pages -> components -> state -> services -> models; the app's edges (rxapp.rxapp, api, jobs, live,
web_security) sit beside the state layer and call the services. Shared leaves (clock, settings,
crypto, timezones, permissions, changes, phrases) import no service. The graph is read from the
source with `ast`, imports inside functions included, so a lazy import cannot hide a circle."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "rxapp"


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imports(path: Path, name: str, modules: dict[str, Path]) -> set[str]:
    """Every module (of rxapp, or the top-level name of another package) that `path` imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's own package, `level - 1` packages up
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules and target.startswith("rxapp"):
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target if target.startswith("rxapp") else target.split(".")[0])
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, name, modules) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in graph:
                continue
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _within(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


APP_EDGES = ("rxapp.rxapp", "rxapp.api", "rxapp.jobs", "rxapp.web_security", "rxapp.heartbeat", "rxapp.state_store",
             "rxapp.manage", "rxapp.migrate", "rxapp.backup")
BASE = ("rxapp.models", "rxapp.db", "rxapp.settings", "rxapp.clock", "rxapp.text", "rxapp.redaction")
LEAVES = ("rxapp.services.crypto", "rxapp.services.timezones", "rxapp.services.permissions",
          "rxapp.services.changes", "rxapp.services.phrases")
# (who, what it must never import)
RULES = [
    (BASE, ("rxapp.services", "rxapp.state", "rxapp.components", "rxapp.pages", "rxapp.live", "rxapp.dev",
            *APP_EDGES, "reflex")),
    (("rxapp.services",), ("rxapp.state", "rxapp.components", "rxapp.pages", "rxapp.live", "rxapp.dev", *APP_EDGES,
                           "reflex")),
    (LEAVES, ("rxapp.services",)),
    (("rxapp.state", "rxapp.live"), ("rxapp.components", "rxapp.pages", "rxapp.dev", *APP_EDGES)),
    (("rxapp.components",), ("rxapp.services", "rxapp.pages", "rxapp.dev", *APP_EDGES)),
    (("rxapp.pages",), ("rxapp.services", "rxapp.dev", *APP_EDGES)),
]


def test_no_module_of_the_app_imports_itself_in_a_circle() -> None:
    assert _cycles(_graph()) == []


def test_a_circle_is_found_when_there_is_one() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_each_layer_imports_only_the_layers_below_it() -> None:
    broken = []
    for name, imported in sorted(_graph().items()):
        for who, forbidden in RULES:
            if _within(name, *who):
                broken += [f"{name} -> {target}" for target in sorted(imported) if _within(target, *forbidden)]
    assert broken == []


def test_only_the_management_command_loads_development_data_and_nothing_loads_benchmarks_or_tests() -> None:
    graph = _graph()
    assert sorted(name for name, imported in graph.items() if any(_within(t, "rxapp.dev") for t in imported)
                  and not _within(name, "rxapp.dev")) == ["rxapp.manage"]
    assert [name for name, imported in graph.items() if imported & {"benchmarks", "tests"}] == []


def test_importing_the_models_loads_no_service_module() -> None:
    probe = ("import sys, rxapp.models; "
             "print(sorted(m for m in sys.modules if m.startswith('rxapp.services')))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# What each service package may import besides the leaves, as its `__init__` docstring says. A new
# dependency between concerns is a decision: make it here and in the docstring together.
MAY_IMPORT = {
    "audit": {"notify"},
    "clients": {"audit", "notify", "telehealth"},
    "identity": {"audit", "notify"},
    "notify": {"audit", "telehealth"},
    "practice": {"audit", "clients", "identity", "notify", "telehealth"},
    "scheduling": {"audit", "clients", "identity", "notify", "practice", "telehealth"},
    "telehealth": {"audit", "clients", "identity", "notify", "practice", "scheduling"},
}


def test_each_service_package_imports_only_what_its_docstring_allows() -> None:
    used: dict[str, set[str]] = {}
    for name, imported in _graph().items():
        if _within(name, *(f"rxapp.services.{p}" for p in MAY_IMPORT)):
            package = name.split(".")[2]
            used.setdefault(package, set()).update(
                t.split(".")[2] for t in imported if t.startswith("rxapp.services.") and t.split(".")[2] in MAY_IMPORT
                and t.split(".")[2] != package)
    assert {p: sorted(used.get(p, set()) - allowed) for p, allowed in MAY_IMPORT.items()} == {p: [] for p in MAY_IMPORT}
    for package, allowed in MAY_IMPORT.items():
        docstring = ast.get_docstring(ast.parse((PACKAGE / "services" / package / "__init__.py").read_text())) or ""
        assert all(f"`{other}`" in docstring for other in allowed), package
