"""Triage model: severity, AI-suggestion category and IMDRF suggestions from a narrative.

The service loads the shipped artefact once at start-up (``TriageModel.load(DEFAULT_MODEL_DIR)``);
``vigie train`` rebuilds it from the project's data and ``vigie evaluate`` prints its figures.
"""

from __future__ import annotations

from pathlib import Path

from services.triage.model.artefact import ModelLoadError
from services.triage.model.predictor import TriageModel, TriagePrediction

DEFAULT_MODEL_DIR = Path(__file__).parent / "artefact"

__all__ = ["DEFAULT_MODEL_DIR", "ModelLoadError", "TriageModel", "TriagePrediction"]
