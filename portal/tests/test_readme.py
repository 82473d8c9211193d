"""The README guides a newcomer without leaving the repository."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_links_only_to_files_in_the_repository():
    readme = (ROOT / "README.md").read_text()
    assert "../" not in readme
    targets = re.findall(r"\]\(([^)]+)\)", readme)
    assert targets, "the README links to the design document"
    for target in targets:
        assert not re.match(r"[a-z]+:", target), target
        assert (ROOT / target.split("#")[0]).exists(), target


def test_the_readme_names_the_three_demo_logins():
    readme = (ROOT / "README.md").read_text()
    for login in ("dm429850-OVH", "ss000001-OVH", "sa000002-OVH"):
        assert login in readme
    assert (ROOT / "docs" / "DESIGN.md").exists()
