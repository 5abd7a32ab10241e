"""The layers hold: import contracts (import-linter) over the real tree, and proof they bite."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PARTS = ("core", "sdk", "tools", "services")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """Run the contracts of ``root/pyproject.toml`` over the packages under ``root``."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(str(root / p) for p in ("core", "sdk", "tools", ".")),
        "NO_COLOR": "1",
    }
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(root / "pyproject.toml")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture()
def tree_copy(tmp_path: Path) -> Path:
    """The packages and their contracts, copied so that a test can add a forbidden arrow."""
    for part in PARTS:
        shutil.copytree(
            ROOT / part,
            tmp_path / part,
            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "artefact", "*.csv*"),
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_tree_keeps_every_contract() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "arrow", "broken"),
    [
        # The bottom of the house reaching up into a service, even inside a function.
        (
            "core/vigie/topics.py",
            "def _up() -> None:\n    from services.registry import db  # noqa\n",
            ["Tools above services above the SDK above the core BROKEN"],
        ),
        # A rule importing the Kafka runtime: contracts, topics and rules must stay pure.
        (
            "core/vigie/rules/deadlines.py",
            "import faststream  # noqa\n",
            ["Contracts, topics and rules import no runtime, web, database or ML library BROKEN"],
        ),
        # The registry reaching into triage's internals.
        (
            "services/registry/cases/models.py",
            "from services.triage.model import predictor  # noqa\n",
            [
                "Services share only the core (and services.common), "
                "never each other's modules BROKEN"
            ],
        ),
        # The SDK importing a service.
        (
            "sdk/vigie_sdk/spool.py",
            "import services.triage.app  # noqa\n",
            ["Tools above services above the SDK above the core BROKEN"],
        ),
    ],
)
def test_an_arrow_back_down_breaks_a_contract(
    tree_copy: Path, module: str, arrow: str, broken: list[str]
) -> None:
    path = tree_copy / module
    path.write_text(path.read_text() + "\n" + arrow)
    result = lint_imports(tree_copy)
    assert result.returncode != 0
    for contract in broken:
        assert contract in result.stdout, result.stdout


def test_the_core_names_no_module_above_it() -> None:
    """Import-linter sees import statements; this catches the dynamic kind (importlib strings)."""
    offenders = []
    for path in (ROOT / "core").rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
                if text.startswith(("services.", "vigie_tools", "vigie_sdk")):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {text!r}")
            if isinstance(node, ast.Name) and node.id in {"__import__", "import_module"}:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.id}")
    assert offenders == []
