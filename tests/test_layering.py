"""Data walks one way (shared/style.md): crawlers write the landing zone, flows read it and call the warehouse. The
warehouse imports neither flows nor crawlers, and crawlers import neither; three modules the crawlers need had
been in flows/ and the warehouse read one helper from crawlers/ (style audit)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _imported_packages(package: str) -> dict[str, set[str]]:
    """Each module of `package` and the top-level packages it imports."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize(("package", "forbidden"), [("warehouse", {"flows", "crawlers"}),
                                                    ("crawlers", {"flows", "warehouse"})])
def test_a_package_never_imports_the_packages_downstream_of_it(package: str, forbidden: set[str]) -> None:
    wrong = {module: sorted(names & forbidden) for module, names in _imported_packages(package).items()
             if names & forbidden}
    assert wrong == {}
