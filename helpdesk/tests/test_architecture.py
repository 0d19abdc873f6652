"""The app layers hold (.importlinter, docs/architecture.md), and the checks that keep them
bite: an upward import fails `lint-imports`, and no app imports another inside a function
body (the usual way to dodge a cycle, which the import graph alone would not show)."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = [
    "core",
    "accounts",
    "tickets",
    "comms",
    "analytics",
    "integrations",
    "knowledge",
    "printshop",
    "automation",
    "privacy",
    "helpdesk",
]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_layer_contract_is_kept():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


@pytest.fixture(scope="module")
def project_copy(tmp_path_factory) -> Path:
    """The apps' Python sources and the contract, copied so a test may break them."""
    root = tmp_path_factory.mktemp("project")
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            root / package,
            ignore=lambda directory, names: [
                name
                for name in names
                if not (
                    name.endswith(".py")
                    or (Path(directory, name).is_dir() and name != "__pycache__")
                )
            ],
        )
    shutil.copy(ROOT / ".importlinter", root / ".importlinter")
    return root


VIOLATIONS = [
    # tickets reacting to a solve by calling analytics: an upward import.
    ("tickets/violation.py", "from analytics import services\n", "tickets.violation -> analytics"),
    # The shared kernel importing an app.
    ("core/violation.py", "import accounts.models\n", "core.violation -> accounts.models"),
    # Two apps of one layer importing each other.
    (
        "knowledge/violation.py",
        "from printshop import models\n",
        "knowledge.violation -> printshop",
    ),
]


@pytest.mark.parametrize(("module", "source", "reported"), VIOLATIONS)
def test_the_contract_refuses_a_deliberate_violation(project_copy, module, source, reported):
    path = project_copy / module
    path.write_text(source)
    try:
        result = lint_imports(project_copy)
    finally:
        path.unlink()
    assert result.returncode == 1
    assert "1 broken" in result.stdout and reported in result.stdout


def function_level_cross_app_imports(source: str, *, app: str) -> list[str]:
    """`module` of every import of another app made inside a function of `source`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.Import):
                names = [alias.name for alias in inner.names]
            elif isinstance(inner, ast.ImportFrom) and inner.level == 0 and inner.module:
                names = [inner.module]
            else:
                continue
            found += [
                name
                for name in names
                if name.split(".")[0] in PACKAGES and name.split(".")[0] != app
            ]
    return found


def test_the_function_level_check_finds_a_hidden_import():
    source = "import tickets\n\ndef react():\n    from analytics.services import record_event\n"
    assert function_level_cross_app_imports(source, app="tickets") == ["analytics.services"]
    assert function_level_cross_app_imports(source, app="analytics") == []


def test_no_app_imports_another_inside_a_function():
    offenders = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT)
            if {"tests", "migrations"} & set(relative.parts):
                continue
            found = function_level_cross_app_imports(path.read_text(), app=package)
            if found:
                offenders[str(relative)] = found
    assert offenders == {}
