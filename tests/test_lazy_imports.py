"""Imports inside function bodies (kept there so loading the code location stays fast) are only
executed when the function runs: one that names a module that moved fails a benchmark or a CLI
command, not an import. Every such import in the project must name a module that exists."""

from __future__ import annotations

import ast
import importlib.util

from dagster_project.settings import REPO_ROOT

PACKAGES = ("dagster_project", "models")


def _lazy_imports() -> list[tuple[str, int, str]]:
    """(file, line, absolute module) for every import inside a function."""
    found = []
    for package in PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            module = ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts)
            if path.name == "__init__.py":
                module = module.rsplit(".", 1)[0] + ".__init__"
            tree = ast.parse(path.read_text(), filename=str(path))
            for function in ast.walk(tree):
                if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                for node in ast.walk(function):
                    if isinstance(node, ast.ImportFrom):
                        base = module.rsplit(".", node.level)[0] if node.level else ""
                        name = ".".join(p for p in (base, node.module) if p)
                        found.append((str(path.relative_to(REPO_ROOT)), node.lineno, name))
                    elif isinstance(node, ast.Import):
                        found += [
                            (str(path.relative_to(REPO_ROOT)), node.lineno, alias.name)
                            for alias in node.names
                        ]
    return found


def _exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


def test_every_lazy_import_names_a_module_that_exists() -> None:
    imports = _lazy_imports()
    assert len(imports) > 50  # the walk found them
    missing = [
        f"{file}:{line} imports {module}" for file, line, module in imports if not _exists(module)
    ]
    assert not missing, missing
