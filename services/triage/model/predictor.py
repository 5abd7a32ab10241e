"""The triage model as the service uses it: load once, predict batches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from services.triage.model import artefact
from services.triage.model.category import CategoryModel
from services.triage.model.features import analyse_all
from services.triage.model.imdrf import suggest
from services.triage.model.labels import CATEGORIES, SEVERITY_LABELS
from services.triage.model.severity import SeverityModel
from vigie.contracts import CodeSuggestion, ReportKind, Severity

_SEVERITIES = tuple(Severity(label) for label in SEVERITY_LABELS)


@dataclass(frozen=True)
class TriagePrediction:
    """The model's reading of one narrative."""

    severity: Severity
    severity_probabilities: dict[str, float]
    confidence: float
    category: str | None = None
    category_probability: float | None = None
    category_probabilities: dict[str, float] = field(default_factory=dict)
    imdrf_codes: list[CodeSuggestion] = field(default_factory=list)


class TriageModel:
    """Versioned severity, category and IMDRF reader of narratives (French or English)."""

    def __init__(
        self,
        severity: SeverityModel,
        category: CategoryModel,
        *,
        version: str,
        imdrf_threshold: float = 0.5,
        manifest: artefact.Manifest | None = None,
    ) -> None:
        self.severity = severity
        self.category = category
        self._version = version
        self.imdrf_threshold = imdrf_threshold
        self.manifest = manifest

    @property
    def version(self) -> str:
        """Model version: ``triage-`` and the start of the hash of its data and parameters."""
        return self._version

    @classmethod
    def load(cls, directory: Path | str) -> TriageModel:
        """Load a verified artefact; raises ``ModelLoadError`` with a clear message otherwise."""
        path = Path(directory)
        manifest = artefact.read_manifest(path)
        models = artefact.read_models(path, manifest)
        severity, category = models["severity"], models["category"]
        if not isinstance(severity, SeverityModel) or not isinstance(category, CategoryModel):
            raise artefact.ModelLoadError(
                f"{path / artefact.MODEL_FILE} holds unexpected objects: artefact corrupted"
            )
        threshold = float(manifest.params.get("imdrf_threshold", 0.5))
        return cls(
            severity,
            category,
            version=manifest.version,
            imdrf_threshold=threshold,
            manifest=manifest,
        )

    def models(self) -> dict[str, Any]:
        """What ``model.joblib`` holds."""
        return {"severity": self.severity, "category": self.category}

    def predict(
        self, texts: Sequence[str], kinds: Sequence[ReportKind] | None = None
    ) -> list[TriagePrediction]:
        """Read a batch of narratives: one feature transform and one matrix product per model.

        The category (and its probability) is given only for inappropriate-AI-suggestion reports.
        """
        if kinds is not None and len(kinds) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(kinds)} kinds")
        if not texts:
            return []
        analysed = analyse_all(texts)
        x = self.severity.features.transform_analysed(analysed)
        probabilities = self.severity.probabilities_of(x)
        decided = self.severity.decide(probabilities)
        cues = self.severity.features.cue_sets(x)
        ai_rows = [
            i for i, k in enumerate(kinds or ()) if k is ReportKind.INAPPROPRIATE_AI_SUGGESTION
        ]
        category_p: dict[int, np.ndarray[Any, np.dtype[np.float64]]] = {}
        if ai_rows:
            rows = self.category.probabilities_analysed([analysed[i] for i in ai_rows])
            category_p = dict(zip(ai_rows, rows, strict=True))
        out = []
        for i, row in enumerate(probabilities):
            severity = _SEVERITIES[int(decided[i])]
            dist = {label: float(p) for label, p in zip(SEVERITY_LABELS, row, strict=True)}
            category = category_probability = None
            cat_dist: dict[str, float] = {}
            if i in category_p:
                cp = category_p[i]
                best = int(np.argmax(cp))
                category, category_probability = CATEGORIES[best], float(cp[best])
                cat_dist = {c: float(p) for c, p in zip(CATEGORIES, cp, strict=True)}
            out.append(
                TriagePrediction(
                    severity=severity,
                    severity_probabilities=dist,
                    confidence=float(row[int(decided[i])]),
                    category=category,
                    category_probability=category_probability,
                    category_probabilities=cat_dist,
                    imdrf_codes=suggest(
                        cues[i],
                        ai_report=i in category_p,
                        category_probabilities=cat_dist,
                        threshold=self.imdrf_threshold,
                    ),
                )
            )
        return out
