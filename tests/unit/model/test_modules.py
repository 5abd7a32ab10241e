"""The runtime predictor stands alone: serving a model loads no training data or training code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[3]
TRAINING_ONLY = (
    "services.triage.model.dataset",
    "services.triage.model.training",
    "services.triage.model.evaluation",
    "services.triage.model.rendering",
    "services.triage.model.card",
)


def _modules_after_importing(module: str) -> set[str]:
    code = (
        f"import json, sys\nimport {module}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('services.'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return set(loaded)


def test_the_predictor_imports_no_training_module() -> None:
    loaded = _modules_after_importing("services.triage.model.predictor")
    assert "services.triage.model.predictor" in loaded
    assert loaded.isdisjoint(TRAINING_ONLY), sorted(loaded & set(TRAINING_ONLY))


def test_the_model_package_imports_no_training_module() -> None:
    loaded = _modules_after_importing("services.triage.model")
    assert loaded.isdisjoint(TRAINING_ONLY), sorted(loaded & set(TRAINING_ONLY))
