"""Runtime dependencies apart from the test and development tools, all pinned: production
installs requirements.txt only, `make test` requirements-dev.txt (both compiled by
pip-tools from the .in files: `make requirements`, `make upgrade`)."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEV_ONLY = {"pytest", "pytest-django", "playwright", "aiosmtpd", "hypothesis", "time-machine",
            "moto", "pypdf", "pip-tools"}
DEV_ONLY_MODULES = {"pytest", "pytest_django", "playwright", "aiosmtpd", "hypothesis",
                    "time_machine", "moto", "pypdf", "piptools"}


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(filename):
    found = {}
    for line in (ROOT / filename).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        assert re.fullmatch(r"[A-Za-z0-9._-]+==[A-Za-z0-9.+!-]+", line), f"{filename}: {line!r}"
        name, version = line.split("==")
        found[canonical(name)] = version
    return found


def wanted(filename):
    names = set()
    for line in (ROOT / filename).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(canonical(re.split(r"[\[<>=!~ ;]", line, maxsplit=1)[0]))
    return names


def test_every_line_of_both_files_is_an_exact_pin():
    assert pins("requirements.txt")
    assert pins("requirements-dev.txt")


def test_the_runtime_installs_no_test_tool():
    assert not DEV_ONLY & set(pins("requirements.txt"))
    assert DEV_ONLY <= set(pins("requirements-dev.txt"))


def test_the_dev_file_has_the_runtime_at_the_same_versions():
    runtime, dev = pins("requirements.txt"), pins("requirements-dev.txt")
    assert {name: dev.get(name) for name in runtime} == runtime


def test_each_in_file_was_compiled():
    # A line added to an .in file without `make requirements` shows here.
    assert wanted("requirements.in") <= set(pins("requirements.txt"))
    assert wanted("requirements-dev.in") <= set(pins("requirements-dev.txt"))


def test_the_code_that_runs_in_production_imports_no_test_tool():
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in {".venv", "benchmarks", "var", "node_modules"} or (
                "tests" in relative.parts or relative.name == "conftest.py"
                or relative == Path("tools/smtp_sink.py")):
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(relative))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                modules = [node.module]
            else:
                continue
            for module in modules:
                assert module.split(".")[0] not in DEV_ONLY_MODULES, f"{relative}: {module}"
