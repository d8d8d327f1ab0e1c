"""The authorization server's core is free of the web framework, and authentication has no cycle.

``spiko.auth.oauth`` keeps the server, grants, endpoints, tokens, clients, consent and keys; its
pages live in ``spiko.web`` and its JSON endpoints in ``spiko.api``, which import it, never the
reverse.
"""

from __future__ import annotations

import ast
from pathlib import Path

import spiko

SOURCE = Path(spiko.__file__).parent
HTTP = ("fastapi", "starlette", "spiko.api", "spiko.web", "spiko.app")


def _module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, *, typing_only: bool = True) -> set[str]:
    """Every module imported anywhere in the file, in functions too (a lazy import is an import);
    without ``typing_only``, those imported for annotations only (``if TYPE_CHECKING:``) are left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for_typing = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
        for inner in ast.walk(node)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if not typing_only and id(node) in for_typing:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _graph(package: str) -> dict[str, set[str]]:
    modules = {_module_name(path): path for path in sorted((SOURCE / package).rglob("*.py"))}
    return {name: _imports(path, typing_only=False) & set(modules) - {name} for name, path in modules.items()}


def test_the_oauth_core_imports_no_web_framework():
    offending = sorted(
        (path.name, module)
        for path in (SOURCE / "auth" / "oauth").rglob("*.py")
        for module in _imports(path)
        if module.startswith(HTTP)
    )
    assert offending == []


def test_the_oauth_pages_and_endpoints_live_in_the_web_layers():
    routes = {path.name for path in (SOURCE / "auth" / "oauth").glob("*.py")}
    assert {"routes.py", "authorized_apps.py"}.isdisjoint(routes)
    assert (SOURCE / "web" / "oauth.py").exists()
    assert (SOURCE / "api" / "oauth.py").exists()


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles, state = [], dict.fromkeys(graph, 0)  # 0 unseen, 1 on the path, 2 done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state[target] == 1:
                cycles.append([*path[path.index(target) :], target])
            elif state[target] == 0:
                visit(target)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if state[node] == 0:
            visit(node)
    return cycles


def test_authentication_modules_import_one_another_without_a_cycle_at_run_time():
    graph = _graph("auth")
    assert "spiko.auth.credentials" in graph["spiko.auth.bearer"]
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_the_old_principal_bearer_cycle():
    graph = _graph("auth")
    graph["spiko.auth.bearer"] = graph["spiko.auth.bearer"] | {"spiko.auth.principal"}
    assert ["spiko.auth.bearer", "spiko.auth.principal", "spiko.auth.bearer"] in _cycles(graph)
