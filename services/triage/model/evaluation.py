"""Evaluation that means something: device families held out, figures a vigilance officer reads.

Severity is evaluated leave-one-device-family-out: every MAUDE family is predicted by a model
trained on the other families only, whose calibration and thresholds were chosen on held-out
families inside its own training data (never on the test family). The figures are pooled over
all families; per-family figures follow. The figures are plain JSON-ready values; ``rendering``
prints them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from sklearn.metrics import confusion_matrix

from services.triage.model.category import (
    CategoryParams,
    category_index,
    cv_folds,
    fit_category,
)
from services.triage.model.dataset import CategoryData
from services.triage.model.labels import CATEGORIES, SEVERITY_LABELS
from services.triage.model.severity import (
    DEATH,
    MALFUNCTION,
    SERIOUS,
    SeverityParams,
    fit_severity,
)
from vigie.contracts import ReportKind

StepProgress = Callable[[str, int, int], None]

HANDWRITTEN_FILE = Path(__file__).parent / "eval" / "handwritten_narratives.csv"


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b else 0.0


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def severity_metrics(
    y: NDArray[np.intp], predicted: NDArray[np.intp], probabilities: NDArray[np.float64] | None
) -> dict[str, Any]:
    """Every severity figure of the evaluation table, as plain JSON-ready values."""
    n_classes = len(SEVERITY_LABELS)
    cm = confusion_matrix(y, predicted, labels=list(range(n_classes)))
    support = cm.sum(axis=1)
    predicted_n = cm.sum(axis=0)
    precision = [_ratio(cm[k, k], predicted_n[k]) for k in range(n_classes)]
    recall = [_ratio(cm[k, k], support[k]) for k in range(n_classes)]
    f1 = [_f1(p, r) for p, r in zip(precision, recall, strict=True)]
    present = [k for k in range(n_classes) if support[k] > 0]
    main = [k for k in (DEATH, SERIOUS, MALFUNCTION) if support[k] > 0]
    critical_true = y <= SERIOUS
    critical_pred = predicted <= SERIOUS
    tp = int((critical_true & critical_pred).sum())
    c_precision = _ratio(tp, int(critical_pred.sum()))
    c_recall = _ratio(tp, int(critical_true.sum()))
    out: dict[str, Any] = {
        "n": len(y),
        "classes": list(SEVERITY_LABELS),
        "support": {c: int(s) for c, s in zip(SEVERITY_LABELS, support, strict=True)},
        "precision": dict(zip(SEVERITY_LABELS, precision, strict=True)),
        "recall": dict(zip(SEVERITY_LABELS, recall, strict=True)),
        "f1": dict(zip(SEVERITY_LABELS, f1, strict=True)),
        "macro_f1": float(np.mean([f1[k] for k in present])) if present else 0.0,
        "macro_f1_4": float(np.mean(f1)),
        "macro_f1_3": float(np.mean([f1[k] for k in main])) if main else 0.0,
        "accuracy": _ratio(int(np.trace(cm)), int(cm.sum())),
        "balanced_accuracy": float(np.mean([recall[k] for k in present])) if present else 0.0,
        "death_recall": recall[DEATH],
        "death_at_least_serious": _ratio(int(cm[DEATH, : SERIOUS + 1].sum()), int(support[DEATH])),
        "critical": {
            "precision": c_precision,
            "recall": c_recall,
            "f1": _f1(c_precision, c_recall),
        },
        "confusion": cm.tolist(),
    }
    if probabilities is not None:
        out["calibration"] = calibration_metrics(y, probabilities)
    return out


def calibration_metrics(
    y: NDArray[np.intp], p: NDArray[np.float64], bins: int = 10
) -> dict[str, float]:
    """Brier score (multi-class and critical), log loss, top-label expected calibration error."""
    onehot = np.eye(p.shape[1])[y]
    brier = float(np.mean(np.sum((p - onehot) ** 2, axis=1)))
    critical_p = p[:, DEATH] + p[:, SERIOUS]
    critical_brier = float(np.mean((critical_p - (y <= SERIOUS)) ** 2))
    log_loss = float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-12, 1.0))))
    top = p.max(axis=1)
    correct = p.argmax(axis=1) == y
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(top, edges[1:-1]), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            ece += mask.mean() * abs(float(top[mask].mean()) - float(correct[mask].mean()))
    return {
        "brier": brier,
        "critical_brier": critical_brier,
        "log_loss": log_loss,
        "ece": float(ece),
    }


@dataclass
class FamilyFold:
    """One held-out device family."""

    family: str
    rows: int
    death_at: float
    critical_at: float


def evaluate_families(
    vocabulary: dict[str, int],
    counts: sp.csr_matrix,
    cues: sp.csr_matrix,
    y: NDArray[np.intp],
    groups: NDArray[np.str_],
    weights: NDArray[np.float64],
    params: SeverityParams,
    *,
    always_train: NDArray[np.bool_] | None = None,
    progress: StepProgress | None = None,
) -> dict[str, Any]:
    """Leave-one-device-family-out evaluation of the severity model.

    Rows flagged ``always_train`` (reviewer feedback) are in every training set and never tested.
    """
    always = always_train if always_train is not None else np.zeros(len(y), dtype=bool)
    families = sorted(set(groups[~always].tolist()))
    probabilities = np.zeros((len(y), len(SEVERITY_LABELS)))
    predicted = np.full(len(y), -1, dtype=np.intp)
    folds: list[FamilyFold] = []
    for k, family in enumerate(families):
        if progress:
            progress("family cross-validation", k, len(families))
        test = (groups == family) & ~always
        train = ~test
        model, _ = fit_severity(
            vocabulary, counts[train], cues[train], y[train], groups[train], weights[train], params
        )
        x = model.features.with_counts(counts[test], cues[test], fit=False)
        p = model.probabilities_of(x)
        probabilities[test] = p
        predicted[test] = model.decide(p)
        folds.append(FamilyFold(family, int(test.sum()), model.death_at, model.critical_at))
    if progress:
        progress("family cross-validation", len(families), len(families))
    tested = ~always
    pooled = severity_metrics(y[tested], predicted[tested], probabilities[tested])
    pooled["argmax"] = severity_metrics(
        y[tested], probabilities[tested].argmax(axis=1).astype(np.intp), None
    )
    per_family = []
    for fold in folds:
        mask = (groups == fold.family) & tested
        m = severity_metrics(y[mask], predicted[mask], None)
        per_family.append(
            {
                "family": fold.family,
                "n": fold.rows,
                "deaths": m["support"]["death"],
                "critical_share": _ratio(int((y[mask] <= SERIOUS).sum()), int(mask.sum())),
                "accuracy": m["accuracy"],
                "critical_recall": m["critical"]["recall"],
                "critical_precision": m["critical"]["precision"],
                "death_recall": m["recall"]["death"] if m["support"]["death"] else None,
                "death_at": fold.death_at,
                "critical_at": fold.critical_at,
            }
        )
    pooled["scheme"] = "leave-one-device-family-out"
    pooled["families"] = per_family
    pooled["thresholds"] = {
        "death_median": float(np.median([f.death_at for f in folds])),
        "critical_median": float(np.median([f.critical_at for f in folds])),
    }
    return pooled


def evaluate_categories(
    data: CategoryData, params: CategoryParams, *, folds: int = 5
) -> dict[str, Any]:
    """Stratified k-fold cross-validation of the category model on AIID incidents."""
    from sklearn.model_selection import StratifiedKFold

    y = category_index(data.labels)
    folds = cv_folds(y, folds)
    predicted = np.zeros(len(y), dtype=np.intp)
    splitter = StratifiedKFold(folds, shuffle=True, random_state=0)
    for fit_rows, test_rows in splitter.split(np.zeros(len(y)), y):
        model = fit_category(
            [data.texts[i] for i in fit_rows], y[fit_rows], np.ones(len(fit_rows)), params
        )
        p = model.probabilities([data.texts[i] for i in test_rows])
        predicted[test_rows] = p.argmax(axis=1)
    cm = confusion_matrix(y, predicted, labels=list(range(len(CATEGORIES))))
    support = cm.sum(axis=1)
    precision = [_ratio(cm[k, k], cm[:, k].sum()) for k in range(len(CATEGORIES))]
    recall = [_ratio(cm[k, k], support[k]) for k in range(len(CATEGORIES))]
    f1 = [_f1(p, r) for p, r in zip(precision, recall, strict=True)]
    present = [k for k in range(len(CATEGORIES)) if support[k]]
    return {
        "scheme": f"stratified {folds}-fold cross-validation on AIID incidents",
        "n": len(y),
        "support": {c: int(s) for c, s in zip(CATEGORIES, support, strict=True)},
        "precision": dict(zip(CATEGORIES, precision, strict=True)),
        "recall": dict(zip(CATEGORIES, recall, strict=True)),
        "f1": dict(zip(CATEGORIES, f1, strict=True)),
        "macro_f1": float(np.mean([f1[k] for k in present])),
        "accuracy": _ratio(int(np.trace(cm)), int(cm.sum())),
    }


# --- hand-written French and English narratives --------------------------------------------


@dataclass(frozen=True)
class Handwritten:
    """One hand-written narrative with its known severity (and category, for AI suggestions)."""

    id: str
    language: str
    kind: ReportKind
    severity: str
    category: str | None
    software: bool
    text: str


def read_handwritten(path: Path = HANDWRITTEN_FILE) -> list[Handwritten]:
    """The hand-written evaluation narratives (French and English translations of each case)."""
    rows = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")))
    return [
        Handwritten(
            id=r["id"],
            language=r["language"],
            kind=ReportKind(r["kind"]),
            severity=r["severity"],
            category=r["category"] or None,
            software=r["software"] == "yes",
            text=r["text"],
        )
        for r in rows
    ]


def evaluate_handwritten(model: Any, rows: Sequence[Handwritten]) -> dict[str, Any]:
    """Severity, negation, category and IMDRF figures per language on the hand-written set."""
    predictions = model.predict([r.text for r in rows], [r.kind for r in rows])
    index = {label: i for i, label in enumerate(SEVERITY_LABELS)}
    out: dict[str, Any] = {}
    for language in sorted({r.language for r in rows}):
        chosen = [(r, p) for r, p in zip(rows, predictions, strict=True) if r.language == language]
        y = np.asarray([index[r.severity] for r, _ in chosen], dtype=np.intp)
        predicted = np.asarray([index[p.severity.value] for _, p in chosen], dtype=np.intp)
        m = severity_metrics(y, predicted, None)
        no_harm = [(r, p) for r, p in chosen if r.severity == "malfunction"]
        with_category = [(r, p) for r, p in chosen if r.category]
        software = [(r, p) for r, p in chosen if r.software]
        plain = [(r, p) for r, p in chosen if not r.software]

        def has_a11(p: Any) -> bool:
            return any(c.code == "A11" for c in p.imdrf_codes)

        out[language] = {
            "n": len(chosen),
            "accuracy": m["accuracy"],
            "macro_f1_3": m["macro_f1_3"],
            "death_recall": m["recall"]["death"],
            "critical_recall": m["critical"]["recall"],
            "critical_precision": m["critical"]["precision"],
            "no_harm_read_as_no_harm": _ratio(
                sum(p.severity.value in ("malfunction", "other") for _, p in no_harm), len(no_harm)
            ),
            "no_harm_n": len(no_harm),
            "category_accuracy": _ratio(
                sum(p.category == r.category for r, p in with_category), len(with_category)
            ),
            "category_n": len(with_category),
            "a11_on_software": _ratio(sum(has_a11(p) for _, p in software), len(software)),
            "a11_on_other": _ratio(sum(has_a11(p) for _, p in plain), len(plain)),
            "confusion": m["confusion"],
            "errors": [
                {"id": r.id, "expected": r.severity, "predicted": p.severity.value}
                for r, p in chosen
                if r.severity != p.severity.value
            ],
        }
    return out
