"""Billing's layers run one way (DESIGN.md): views, admin, forms and tasks call services
and selectors, which use the models, which use nothing above them. An import inside a
function counts as much as one at the top of a module."""

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CALLERS = ("views", "admin", "forms", "urls", "tasks", "templatetags", "apps", "management")
APPS = ("accounts", "billing", "notifications")


def module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def billing_modules():
    return {module_name(path): path for path in (ROOT / "billing").rglob("*.py")
            if "tests" not in path.parts and "migrations" not in path.parts}


def imported(path):
    """Every module `path` imports, at any depth of its code."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def layer(name):
    """0 for callers (views, admin, tasks...), 1 for services and selectors, 2 below."""
    app, _, rest = name.partition(".")
    if app not in APPS:
        return None
    first = rest.split(".")[0]
    if first in CALLERS:
        return 0
    if first in ("services", "selectors"):
        return 1
    return 2


@pytest.mark.parametrize("name,path", sorted(billing_modules().items()))
def test_nothing_imports_a_layer_above_its_own(name, path):
    own = layer(name)
    above = sorted(other for other in imported(path)
                   if layer(other) is not None and layer(other) < own)
    assert above == [], f"{name} imports {above}"


def test_billing_has_no_import_cycle():
    modules = billing_modules()
    graph = {name: {other for other in imported(path) if other in modules and other != name}
             for name, path in modules.items()}
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as error:
        pytest.fail(f"Import cycle: {' -> '.join(error.args[1])}")
