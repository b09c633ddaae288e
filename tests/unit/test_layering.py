"""Dependencies point inward: domain imports only the standard library, adapters never workers."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STDLIB = set(sys.stdlib_module_names)


def imported_top_levels(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", python_files("domain"), ids=lambda p: p.name)
def test_domain_imports_only_the_standard_library_and_itself(path: Path) -> None:
    foreign = imported_top_levels(path) - STDLIB - {"domain", "__future__"}
    assert not foreign, f"{path.relative_to(ROOT)} imports {sorted(foreign)}"


@pytest.mark.parametrize("path", python_files("adapters"), ids=lambda p: p.name)
def test_adapters_never_import_workers(path: Path) -> None:
    assert "workers" not in imported_top_levels(path), f"{path.relative_to(ROOT)} imports workers"


def test_the_layering_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    # Given a module that imports a third-party package
    bad = tmp_path / "bad.py"
    bad.write_text("import sqlmodel\nfrom domain.money import Money\n")
    # When its imports are read
    names = imported_top_levels(bad)
    # Then the third-party import is seen
    assert names - STDLIB - {"domain"} == {"sqlmodel"}
