"""The layers of the code base, read from the source.

`portal` (settings, urls, admin site) -> app views/admin/forms -> app services and
selectors -> app models -> `notifications` (the email outbox) at the ground, importing no
app. A few `portal` modules are utilities anyone may import; they import no app either.
No import cycle between modules, counting imports inside functions: an import hidden in a
function is still a dependency, only a later one.
"""

import ast
from collections import deque
from pathlib import Path


ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("accounts", "billing", "notifications", "portal", "support")
SKIPPED = {"tests", "migrations", "benchmarks", "__pycache__"}
APPS = ("accounts", "billing", "support")
TOP = {"portal", "portal.settings", "portal.test_settings", "portal.urls", "portal.celery",
       "portal.wsgi", "portal.admin", "portal.apps", "portal.views", "portal.outbox_admin",
       "portal.middleware", "portal.uploads", "portal.gunicorn_config",
       "portal.context_processors", "portal.liveness"}
UTILITIES = {"portal.db", "portal.ratelimit", "portal.text", "portal.errors", "portal.links",
             "portal.cache", "portal.requestinfo", "portal.queueing", "portal.formats",
             "portal.templatetags", "portal.templatetags.portal_forms",
             "portal.templatetags.remembered_i18n", "portal.templatetags.remembered_url",
             "portal.templatetags.fragment_cache"}


def project_modules():
    """{dotted name: path} of every project module outside tests and migrations."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if SKIPPED & set(parts):
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def imported_names(name, path, modules):
    """Project modules that module `name` imports, anywhere in its body."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[:len(base) - (node.level - 1)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module
            for alias in node.names:
                # `from package import module` imports the module; `from module import
                # name` imports the module that holds the name.
                candidate = f"{source}.{alias.name}"
                found.add(candidate if candidate in modules else source)
    targets = set()
    for target in found:
        # `import accounts.models.thing` where only `accounts.models` is a module.
        while target and target not in modules:
            target = target.rpartition(".")[0]
        if target and target != name:
            targets.add(target)
    return targets


def import_graph():
    modules = project_modules()
    return {name: imported_names(name, path, modules) for name, path in modules.items()}


def cycles_of(graph):
    """The shortest cycle through each module that is part of one, without repeats:
    Tarjan's strongly connected components, then a breadth-first search in each."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def connect(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            connect(node)
    cycles = set()
    for group in groups:
        for start in group:
            cycle = shortest_cycle(graph, group, start)[:-1]
            turn = cycle.index(min(cycle))
            cycle = cycle[turn:] + cycle[:turn]
            cycles.add((*cycle, cycle[0]))
    return sorted(map(list, cycles))


def shortest_cycle(graph, group, start):
    came_from = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for target in sorted(graph[node] & group):
            if target == start:
                path = [node]
                while came_from[path[-1]] is not None:
                    path.append(came_from[path[-1]])
                return [*reversed(path), start]
            if target not in came_from:
                came_from[target] = node
                queue.append(target)
    raise AssertionError(f"No cycle in {sorted(group)}")


def describe(cycles):
    return "\n".join("  " + " -> ".join(cycle) for cycle in cycles)


def test_the_graph_sees_imports_inside_functions():
    graph = import_graph()
    assert "notifications.models" in graph["notifications.services"]
    # portal.views imports the Celery app only inside the broker check.
    assert "portal.celery" in graph["portal.views"]


def test_the_cycle_finder_reports_each_cycle_once():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"f"}, "f": {"e"},
             "g": {"h"}, "h": {"g", "i"}, "i": {"h"}}
    assert cycles_of(graph) == [["a", "b", "c", "a"], ["e", "f", "e"], ["g", "h", "g"],
                                ["h", "i", "h"]]


def test_every_portal_module_is_either_top_layer_or_a_utility():
    portal = {name for name in import_graph() if name.split(".")[0] == "portal"}
    assert portal - TOP - UTILITIES == set()


def test_notifications_imports_no_app():
    graph = import_graph()
    wrong = sorted(
        f"{name} imports {target}"
        for name, targets in graph.items() if name.split(".")[0] == "notifications"
        for target in targets
        if target.split(".")[0] in APPS or target in TOP
    )
    assert wrong == [], "The outbox imports no app and nothing of portal but its utilities:\n" + (
        "\n".join(wrong))


def test_the_portal_utilities_import_no_app():
    graph = import_graph()
    wrong = sorted(f"{name} imports {target}" for name in UTILITIES & graph.keys()
                   for target in graph[name] if target not in UTILITIES)
    assert wrong == []


def test_no_cycle_anywhere():
    cycles = cycles_of(import_graph())
    assert not cycles, f"Import cycles (imports inside functions count):\n{describe(cycles)}"
