"""`make bench` runs `pytest benchmarks`: collect the bench_*.py files here (pytest.ini
only collects test_*.py, and benchmarks are not in its testpaths)."""

import pytest


def pytest_collect_file(file_path, parent):
    if file_path.name.startswith("bench_") and file_path.suffix == ".py":
        return pytest.Module.from_parent(parent, path=file_path)
    return None
