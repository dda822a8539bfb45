"""House rules that ruff does not check: a module is imported under its own name, never a one-letter
alias (`from persistence import tables`, then `tables.accounts`, not `t.accounts`)."""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "gql", "persistence", "salesgraph", "tests", "bench")


def _is_module(node: ast.Import | ast.ImportFrom, name: str) -> bool:
    if isinstance(node, ast.Import):
        return True
    try:
        return node.level == 0 and importlib.util.find_spec(f"{node.module}.{name}") is not None
    except ModuleNotFoundError:
        return False


def test_no_module_is_imported_under_a_one_letter_alias():
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    found += [
                        f"{path.relative_to(ROOT)}:{node.lineno} {alias.name} as {alias.asname}"
                        for alias in node.names
                        if alias.asname is not None and len(alias.asname) == 1 and _is_module(node, alias.name)
                    ]
    assert found == []


def test_no_missing_annotation_is_silenced():
    """A missing annotation is annotated, not silenced with `# noqa: ANN…` (ruff's ANN rules)."""
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"#\s*noqa:[A-Z0-9, ]*\bANN\d", line)
    ]
    assert found == []
