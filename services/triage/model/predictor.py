"""The triage model as the service uses it: load once, predict batches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from services.triage.model import artefact
from services.triage.model.category import CategoryModel
from services.triage.model.features import analyse_all, read_all
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
        # The vocabularies ``_reads_pieces`` last checked (held, so that another one is never
        # taken for them), their sizes, and what it found.
        self._checked: list[tuple[dict[str, int], int]] = []
        self._pieces = False

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

    def _reads_pieces(self) -> bool:
        """Whether both vocabularies hold words only, so that ``read_all`` gives the features of
        ``analyse_all``; checked again only when a vocabulary is replaced or grows."""
        features = (self.severity.features, self.category.features)
        seen = [(f.vocabulary, len(f.vocabulary)) for f in features]
        if len(seen) != len(self._checked) or any(
            v is not w or n != m for (v, n), (w, m) in zip(seen, self._checked, strict=True)
        ):
            self._pieces = all(f.holds_words_only() for f in features)
            self._checked = seen
        return self._pieces

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
        analysed = read_all(texts) if self._reads_pieces() else analyse_all(texts)
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
        # Python floats and ints once per batch (``tolist``) rather than a NumPy scalar per cell:
        # the same values, several times cheaper to read.
        out = []
        for i, (row, d) in enumerate(zip(probabilities.tolist(), decided.tolist(), strict=True)):
            category = category_probability = None
            cat_dist: dict[str, float] = {}
            ai_report = i in category_p
            if ai_report:
                cp = category_p[i]
                best = int(np.argmax(cp))
                category, category_probability = CATEGORIES[best], float(cp[best])
                cat_dist = dict(zip(CATEGORIES, cp.tolist(), strict=True))
            out.append(
                TriagePrediction(
                    severity=_SEVERITIES[d],
                    severity_probabilities=dict(zip(SEVERITY_LABELS, row, strict=True)),
                    confidence=row[d],
                    category=category,
                    category_probability=category_probability,
                    category_probabilities=cat_dist,
                    imdrf_codes=suggest(
                        cues[i],
                        ai_report=ai_report,
                        category_probabilities=cat_dist,
                        threshold=self.imdrf_threshold,
                    ),
                )
            )
        return out
