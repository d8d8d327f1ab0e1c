"""The presentation layer and the CLI import no HTTP module; services import no presenter."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import spiko

SOURCE = Path(spiko.__file__).parent
HTTP = ("fastapi", "starlette", "spiko.api", "spiko.web", "spiko.app")


def _imports(package: str) -> list[tuple[str, str]]:
    found = []
    for path in sorted((SOURCE / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found += [(path.name, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.append((path.name, node.module))
    return found


@pytest.mark.parametrize("package", ["presenters", "cli"])
def test_no_http_module_is_imported(package):
    # The server command is the one place of the CLI that may start the web application.
    imports = _imports(package)
    offending = [(name, module) for name, module in imports if module.startswith(HTTP)]
    offending = [(name, module) for name, module in offending if name != "server.py"]
    assert offending == []


def test_services_do_not_shape_the_wire():
    imports = _imports("services")
    assert [(name, module) for name, module in imports if module.startswith("spiko.presenters")] == []
