"""Rules of the house, checked on the source: where Dagster may be imported, that the pipeline
never imports the simulator, and which way ``models/`` and ``dagster_project`` may depend."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from dagster_project.settings import REPO_ROOT

PACKAGE = REPO_ROOT / "dagster_project"
# The thin Dagster wiring; every other module is plain Python the CLI, tests and API can reuse.
# (run_launcher.py: the instance's run launcher, Dagster wiring by nature)
WIRING = {
    "assets.py",
    "checks.py",
    "sensors.py",
    "jobs.py",
    "definitions.py",
    "resources.py",
    "run_launcher.py",
    "in_process_run.py",
    "automation.py",
}
# Not the pipeline: the simulator and its evaluation, the command line and the benchmark.
NOT_PIPELINE = ("demo", "cli", "bench")
# The one demo module the pipeline may call: evaluation against truth, where truth exists.
DEMO_DOOR = "dagster_project.demo.evaluation"


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts)


def _imports(path: Path, top_level_only: bool = False) -> set[str]:
    """Absolute names of every module ``path`` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_name(path).rsplit(".", 1)[0]
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                prefix = ".".join(base)
                module = f"{prefix}.{node.module}" if node.module else prefix
            else:
                module = node.module or ""
            found.add(module)
            found |= {f"{module}.{alias.name}" for alias in node.names}
    return found


def _python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def dagster_outside_wiring(root: Path = PACKAGE) -> list[str]:
    return [
        f"{p.relative_to(root)} imports {name}"
        for p in _python_files(root)
        if p.name not in WIRING
        for name in sorted(_imports(p))
        if name.split(".")[0] in ("dagster", "dagster_dbt")
    ]


def demo_imports_in_pipeline(root: Path = PACKAGE) -> list[str]:
    pipeline = [
        p for p in _python_files(root) if p.relative_to(root).parts[0] not in NOT_PIPELINE
    ] + _python_files(REPO_ROOT / "models")
    problems = []
    for path in pipeline:
        for name in sorted(_imports(path)):
            if name.startswith("dagster_project.demo") and not name.startswith(DEMO_DOOR):
                problems.append(f"{path.relative_to(REPO_ROOT)} imports {name}")
    return problems


def test_only_the_wiring_imports_dagster() -> None:
    assert dagster_outside_wiring() == []


def test_the_pipeline_never_imports_the_simulator() -> None:
    assert demo_imports_in_pipeline() == []


def test_models_import_only_the_shared_vocabulary_and_warehouse_helpers() -> None:
    allowed = ("dagster_project.settings", "dagster_project.warehouse")
    problems = [
        f"{p.relative_to(REPO_ROOT)} imports {name}"
        for p in _python_files(REPO_ROOT / "models")
        for name in sorted(_imports(p))
        if name.startswith("dagster_project")
        and name != "dagster_project"
        and not name.startswith(allowed)
    ]
    assert problems == []


def test_the_pipeline_does_not_import_models_at_import_time() -> None:
    problems = [
        f"{p.relative_to(REPO_ROOT)} imports {name}"
        for p in _python_files(PACKAGE)
        for name in sorted(_imports(p, top_level_only=True))
        if name == "models" or name.startswith("models.")
    ]
    assert problems == []


def test_the_package_root_holds_only_the_shared_modules() -> None:
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert loose == ["__init__.py", "definitions.py", "resources.py", "settings.py", "warehouse.py"]


def test_importing_the_demo_package_or_its_evaluation_loads_no_simulator() -> None:
    probe = (
        "import sys, dagster_project.demo, dagster_project.demo.evaluation; "
        "print(sorted(m for m in sys.modules if m.startswith('dagster_project.demo.')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    ).stdout.strip()
    assert loaded == "['dagster_project.demo.evaluation']"


def test_the_rules_catch_a_breach(tmp_path: Path) -> None:
    """The checks above fail when the rule is broken, not only pass when it holds."""
    stage = tmp_path / "dagster_project" / "decisioning"
    stage.mkdir(parents=True)
    (stage / "arbitration.py").write_text(
        "import dagster as dg\nfrom ..demo.world import generate_world\n"
        "from dagster_project.demo.evaluation import policy_value\n"
    )
    (stage / "assets.py").write_text("import dagster as dg\n")
    original = REPO_ROOT
    try:
        globals()["REPO_ROOT"] = tmp_path
        assert dagster_outside_wiring(tmp_path / "dagster_project") == [
            "decisioning/arbitration.py imports dagster"
        ]
        (tmp_path / "models").mkdir()
        assert demo_imports_in_pipeline(tmp_path / "dagster_project") == [
            "dagster_project/decisioning/arbitration.py imports dagster_project.demo.world",
            "dagster_project/decisioning/arbitration.py imports "
            "dagster_project.demo.world.generate_world",
        ]
    finally:
        globals()["REPO_ROOT"] = original
