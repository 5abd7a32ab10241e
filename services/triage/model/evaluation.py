"""Evaluation that means something: what triage meets in service held out, figures people read.

Severity is evaluated leave-one-device-family-out: every MAUDE family is predicted by a model
trained on the other families only, whose calibration and thresholds were chosen on held-out
families inside its own training data (never on the test family). The figures are pooled over
all families; per-family figures follow. ``evaluate_transfer`` does the same on every split a
deployment faces (``splits``: families, manufacturers, later years, report sources and the
hand-written file), the shipped recipe side by side with the plain baseline (``baseline``). The
figures are plain JSON-ready values; ``rendering`` prints them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from sklearn.metrics import confusion_matrix

from services.triage.model.baseline import WordCharBaseline
from services.triage.model.category import (
    CategoryParams,
    category_index,
    cv_folds,
    fit_category,
)
from services.triage.model.dataset import CategoryData, SeverityData
from services.triage.model.features import NarrativeFeatures, analyse_all
from services.triage.model.labels import CATEGORIES, SEVERITY_LABELS
from services.triage.model.severity import (
    DEATH,
    MALFUNCTION,
    SERIOUS,
    SeverityParams,
    fit_severity,
    label_index,
)
from services.triage.model.splits import (
    Split,
    leave_one_group_out,
    manufacturer_split,
    source_split,
    year_split,
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


class Recipe(Protocol):
    """A way of building a severity model, refitted fold after fold over one corpus."""

    name: str
    title: str

    def fit_predict(
        self, train: NDArray[np.bool_], test: NDArray[np.bool_]
    ) -> tuple[NDArray[np.intp], NDArray[np.float64] | None]:
        """Fit on the ``train`` rows; severity index (and probabilities) of the ``test`` rows."""
        ...


# A vocabulary with the word counts and cue blocks of a corpus read over it.
FeatureSet = tuple[dict[str, int], sp.csr_matrix, sp.csr_matrix]


@dataclass
class ShippedRecipe:
    """The shipped model's recipe (``severity.fit_severity``) with the artefact's parameters.

    ``by_field`` holds the same rows read field by field, for parameters with ``per_field``.
    """

    vocabulary: dict[str, int]
    counts: sp.csr_matrix
    cues: sp.csr_matrix
    y: NDArray[np.intp]
    groups: NDArray[np.str_]
    weights: NDArray[np.float64]
    params: SeverityParams
    name: str = "shipped"
    title: str = "shipped: word TF-IDF + cues, LinearSVC, calibrated, thresholds"
    by_field: FeatureSet | None = None

    def features(self) -> FeatureSet:
        """The rows as this recipe's parameters read them."""
        if not self.params.per_field:
            return self.vocabulary, self.counts, self.cues
        if self.by_field is None:
            raise ValueError("a per-field recipe needs the rows read field by field (by_field)")
        return self.by_field

    def fit_predict(
        self, train: NDArray[np.bool_], test: NDArray[np.bool_]
    ) -> tuple[NDArray[np.intp], NDArray[np.float64] | None]:
        """Calibration and thresholds chosen on families held out inside ``train``."""
        vocabulary, counts, cues = self.features()
        model, _ = fit_severity(
            vocabulary,
            counts[train],
            cues[train],
            self.y[train],
            self.groups[train],
            self.weights[train],
            self.params,
        )
        p = model.probabilities_of(model.features.with_counts(counts[test], cues[test], fit=False))
        return model.decide(p), p


def transfer_figures(y: NDArray[np.intp], predicted: NDArray[np.intp]) -> dict[str, Any]:
    """The figures compared on every split; the review queue is every report called critical."""
    m = severity_metrics(y, predicted, None)
    return {
        "n": m["n"],
        "deaths": m["support"]["death"],
        "macro_f1_3": m["macro_f1_3"],
        "death_recall": m["recall"]["death"],
        "death_precision": m["precision"]["death"],
        "critical_recall": m["critical"]["recall"],
        "critical_precision": m["critical"]["precision"],
        "malfunction_recall": m["recall"]["malfunction"],
        "review_share": _ratio(int((predicted <= SERIOUS).sum()), len(predicted)),
    }


# The targets, on folds no choice was made on.
TRANSFER_TARGETS = {
    "family_macro_f1_3": 0.80,
    "family_death_recall": 0.95,
    "family_death_precision": 0.5,
    "critical_recall": 0.9,
}
_EXAMPLES = 3
_EXCERPT = 160

# What a narrative says of its outcome, read from its lexicon cues (``text.analyse``): whether a
# report's label can be read from its words at all. MAUDE labels are the reporters' own, and a
# Death report whose narrative names no death, or an Injury report that names no harm, cannot be
# told from a malfunction by any reading of its text.
_DEATH_STATED = frozenset({"cue_death"})
_DEATH_MENTIONED = frozenset({"cue_death_mention", "cue_arrest"})
_HARM_NAMED = frozenset(
    {
        "cue_death",
        "cue_death_mention",
        "cue_arrest",
        "cue_hospital",
        "cue_surgery",
        "cue_harm",
        "cue_illness",
        "cue_treatment",
    }
)
_HARM_DENIED = frozenset(f"cue_neg_{c.removeprefix('cue_')}" for c in _HARM_NAMED)
DEATH_EVIDENCE = ("states a death", "mentions death", "no death word")
HARM_EVIDENCE = ("names a harm", "only denies harm", "no harm word")


def death_evidence(cues: frozenset[str] | set[str]) -> str:
    """What a narrative with these cues says of a death (one of ``DEATH_EVIDENCE``)."""
    if cues & _DEATH_STATED:
        return DEATH_EVIDENCE[0]
    return DEATH_EVIDENCE[1] if cues & _DEATH_MENTIONED else DEATH_EVIDENCE[2]


def harm_evidence(cues: frozenset[str] | set[str]) -> str:
    """What a narrative with these cues says of harm (one of ``HARM_EVIDENCE``): a harm named
    and not negated ('explanted', 'lung cancer'), harm only denied ('no patient complications'),
    or no word of harm either way."""
    if cues & _HARM_NAMED:
        return HARM_EVIDENCE[0]
    return HARM_EVIDENCE[1] if cues & _HARM_DENIED else HARM_EVIDENCE[2]


def evidence_table(
    y: NDArray[np.intp], predicted: NDArray[np.intp], cue_sets: Sequence[frozenset[str]]
) -> dict[str, dict[str, dict[str, int]]]:
    """Death and critical reports by what their narrative says, and how many were caught.

    ``death``: Death reports by ``DEATH_EVIDENCE``, caught when called death; ``critical``: Death
    and Injury reports by ``HARM_EVIDENCE``, caught when called death or serious.
    """
    out: dict[str, dict[str, dict[str, int]]] = {
        "death": {k: {"n": 0, "caught": 0} for k in DEATH_EVIDENCE},
        "critical": {k: {"n": 0, "caught": 0} for k in HARM_EVIDENCE},
    }
    for i in np.flatnonzero(y <= SERIOUS).tolist():
        cues = cue_sets[i]
        if y[i] == DEATH:
            cell = out["death"][death_evidence(cues)]
            cell["n"] += 1
            cell["caught"] += int(predicted[i] == DEATH)
        cell = out["critical"][harm_evidence(cues)]
        cell["n"] += 1
        cell["caught"] += int(predicted[i] <= SERIOUS)
    return out


def _examples(
    kind: str,
    rows: NDArray[np.intp],
    *,
    y: NDArray[np.intp],
    predicted: NDArray[np.intp],
    fold_of: NDArray[np.str_],
    report_ids: NDArray[np.str_],
    texts: Sequence[str],
) -> list[dict[str, str]]:
    return [
        {
            "why": kind,
            "report": str(report_ids[i]),
            "fold": str(fold_of[i]),
            "expected": SEVERITY_LABELS[int(y[i])],
            "predicted": SEVERITY_LABELS[int(predicted[i])],
            "excerpt": " ".join(texts[i].split())[:_EXCERPT],
        }
        for i in rows[:_EXAMPLES]
    ]


def evaluate_transfer(
    splits: Sequence[Split],
    recipes: Sequence[Recipe],
    y: NDArray[np.intp],
    *,
    report_ids: NDArray[np.str_],
    texts: Sequence[str],
    progress: StepProgress | None = None,
) -> dict[str, Any]:
    """Every recipe on every split: pooled and per-fold figures, targets, blocking reports.

    The first recipe is the one judged against the targets; the others are its comparisons.
    """
    total = sum(len(s.folds) for s in splits) * len(recipes)
    done = 0
    out: list[dict[str, Any]] = []
    judged = recipes[0].name
    targets: list[dict[str, Any]] = []
    blocking: list[dict[str, str]] = []
    evidence: dict[str, Any] = {}
    cue_sets = [frozenset(cues) for _, cues in analyse_all(texts)]
    for split in splits:
        predicted = {r.name: np.full(len(y), -1, dtype=np.intp) for r in recipes}
        fold_of = np.full(len(y), "", dtype=object)
        folds: list[dict[str, Any]] = []
        for fold in split.folds:
            fold_of[fold.test] = fold.name
            row: dict[str, Any] = {"fold": fold.name}
            for recipe in recipes:
                if progress:
                    progress(f"{split.name} splits, {recipe.name}", done, total)
                guess, _ = recipe.fit_predict(fold.train, fold.test)
                predicted[recipe.name][fold.test] = guess
                row[recipe.name] = transfer_figures(y[fold.test], guess)
                done += 1
            folds.append(row)
        tested = predicted[judged] >= 0
        pooled = {r.name: transfer_figures(y[tested], predicted[r.name][tested]) for r in recipes}
        out.append({"split": split.name, "title": split.title, "pooled": pooled, "folds": folds})
        rows = np.flatnonzero(tested)
        evidence[split.name] = evidence_table(
            y[rows], predicted[judged][rows], [cue_sets[i] for i in rows.tolist()]
        )
        mine = pooled[judged]
        goals = [("critical_recall", TRANSFER_TARGETS["critical_recall"])]
        if split.name == "family":
            goals += [
                ("macro_f1_3", TRANSFER_TARGETS["family_macro_f1_3"]),
                ("death_recall", TRANSFER_TARGETS["family_death_recall"]),
                ("death_precision", TRANSFER_TARGETS["family_death_precision"]),
            ]
        for key, goal in goals:
            targets.append(
                {
                    "split": split.name,
                    "figure": key,
                    "value": mine[key],
                    "target": goal,
                    "met": mine[key] >= goal,
                }
            )
        for other in recipes[1:]:
            theirs = pooled[other.name]["macro_f1_3"]
            targets.append(
                {
                    "split": split.name,
                    "figure": f"macro_f1_3 above {other.name}",
                    "value": mine["macro_f1_3"],
                    "target": theirs,
                    "met": mine["macro_f1_3"] > theirs,
                }
            )
        missed = [t for t in targets if t["split"] == split.name and not t["met"]]
        if missed:
            p, idx = predicted[judged], np.flatnonzero(tested)
            where = fold_of.astype(str)
            cases = [
                ("death not called death", idx[(y[idx] == DEATH) & (p[idx] != DEATH)]),
                (
                    "death called on a report that is not one",
                    idx[(p[idx] == DEATH) & (y[idx] != DEATH)],
                ),
                ("harm read as no harm", idx[(y[idx] <= SERIOUS) & (p[idx] > SERIOUS)]),
            ]
            for kind, rows in cases:
                shown = _examples(
                    kind, rows, y=y, predicted=p, fold_of=where, report_ids=report_ids, texts=texts
                )
                for example in shown:
                    blocking.append({"split": split.name, **example})
    if progress:
        progress("transfer splits", total, total)
    return {
        "recipes": {r.name: r.title for r in recipes},
        "splits": out,
        "targets": targets,
        "blocking": blocking,
        "evidence": evidence,
    }


def transfer_on_maude(
    maude: SeverityData,
    params: SeverityParams,
    handwritten: Sequence[Handwritten] = (),
    *,
    candidates: dict[str, SeverityParams] | None = None,
    inner_rows: int | None = None,
    progress: StepProgress | None = None,
) -> dict[str, Any]:
    """The shipped recipe and the baseline on every split of ``maude``, and on ``handwritten``.

    The hand-written narratives are an outside source: tested by models trained on all of MAUDE,
    never trained on. With ``candidates``, a nested choice among them comes first and is the
    recipe judged against the targets (``selection``).
    """
    texts = list(maude.texts) + [h.text for h in handwritten]
    n = len(maude)
    y = label_index(list(maude.labels) + [h.severity for h in handwritten])
    usable = np.r_[np.ones(n, dtype=bool), np.zeros(len(handwritten), dtype=bool)]
    external = {}
    for language in sorted({h.language for h in handwritten}):
        rows = np.r_[np.zeros(n, dtype=bool), [h.language == language for h in handwritten]]
        external[f"hand-written ({language})"] = rows

    def column(name: str, fill: str) -> NDArray[np.str_]:
        values = maude.meta.get(name, np.full(n, "", dtype=str))
        return np.asarray(list(values) + [fill] * len(handwritten), dtype=str)

    groups = np.asarray(list(maude.groups) + ["hand-written"] * len(handwritten), dtype=str)
    ids = np.asarray(
        list(column("report_number", "")[:n])
        + [f"hand-written {h.id} {h.language}" for h in handwritten],
        dtype=str,
    )
    splits = [
        leave_one_group_out("family", "device family left out", groups, usable, min_rows=1),
        manufacturer_split(
            column("manufacturer_name", ""), usable, column("manufacturer_d_name", "")
        ),
        year_split(column("date_received", ""), usable),
        source_split(column("report_source_code", ""), usable, external),
    ]
    counter = NarrativeFeatures(cue_weight=params.cue_weight)
    counts, cues = counter.counts(texts)
    by_field = None
    if params.per_field or any(c.per_field for c in (candidates or {}).values()):
        fielded = NarrativeFeatures(cue_weight=params.cue_weight)
        analysed = maude.analysed(per_field=True) + analyse_all([h.text for h in handwritten])
        by_field = (fielded.vocabulary, *fielded.learn_counts(analysed))
    weights = np.r_[maude.weights, np.ones(len(handwritten))]
    recipes: list[Recipe] = [
        ShippedRecipe(
            counter.vocabulary, counts, cues, y, groups, weights, params, by_field=by_field
        ),
        WordCharBaseline(texts, y),
    ]
    chooser = None
    if candidates:
        from services.triage.model.selection import INNER_ROWS, NestedSelection

        shipped = recipes[0]
        assert isinstance(shipped, ShippedRecipe)
        chooser = NestedSelection(shipped, candidates, inner_rows or INNER_ROWS)
        recipes.insert(0, chooser)
    result = evaluate_transfer(
        [s for s in splits if s.folds], recipes, y, report_ids=ids, texts=texts, progress=progress
    )
    if chooser is not None:
        result["selection"] = {
            "candidates": {k: v.as_dict() for k, v in chooser.options.items()},
            "wins": chooser.tally(),
            "inner_rows": chooser.inner_rows,
            # What the same inner folds pick on every MAUDE report: the recipe to ship, whose
            # figures are the nested choice's above (every choice made without its test fold).
            "chosen_on_all": chooser.pick(usable),
        }
    return result


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
    return {
        "scheme": f"stratified {folds}-fold cross-validation on AIID incidents",
        **category_metrics(y, predicted),
    }


def category_metrics(y: NDArray[np.intp], predicted: NDArray[np.intp]) -> dict[str, Any]:
    """Per-category and macro figures (macro-F1 over the categories present in ``y``)."""
    cm = confusion_matrix(y, predicted, labels=list(range(len(CATEGORIES))))
    support = cm.sum(axis=1)
    precision = [_ratio(cm[k, k], cm[:, k].sum()) for k in range(len(CATEGORIES))]
    recall = [_ratio(cm[k, k], support[k]) for k in range(len(CATEGORIES))]
    f1 = [_f1(p, r) for p, r in zip(precision, recall, strict=True)]
    present = [k for k in range(len(CATEGORIES)) if support[k]]
    return {
        "n": len(y),
        "support": {c: int(s) for c, s in zip(CATEGORIES, support, strict=True)},
        "precision": dict(zip(CATEGORIES, precision, strict=True)),
        "recall": dict(zip(CATEGORIES, recall, strict=True)),
        "f1": dict(zip(CATEGORIES, f1, strict=True)),
        "macro_f1": float(np.mean([f1[k] for k in present])) if present else 0.0,
        "accuracy": _ratio(int(np.trace(cm)), int(cm.sum())),
    }


# The newest incidents tested in the time-ordered split of the category head.
CATEGORY_TEST_SHARE = 0.3
CATEGORY_C_GRID = (0.1, 0.3, 1.0)


def _time_order(data: CategoryData) -> NDArray[np.intp]:
    dates = data.dates or [""] * len(data.texts)
    return np.asarray(np.lexsort((np.asarray(data.incident_ids), np.asarray(dates))), dtype=np.intp)


def _word_char_category(c: float, *, chars: bool) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.svm import LinearSVC

    words = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=2)
    blocks = [words]
    if chars:
        blocks.append(
            TfidfVectorizer(sublinear_tf=True, analyzer="char_wb", ngram_range=(3, 5), min_df=2)
        )
    return make_pipeline(
        make_union(*blocks), LinearSVC(C=c, class_weight="balanced", random_state=0)
    )


def evaluate_categories_over_time(
    data: CategoryData,
    params: CategoryParams,
    *,
    test_share: float = CATEGORY_TEST_SHARE,
    clinical: Sequence[Handwritten] | None = None,
) -> dict[str, Any]:
    """Train on older incidents, test on the newest: shipped recipe, plain baseline, word+char.

    The word+char model's regularisation is chosen on the training incidents alone (the newest
    ``test_share`` of them validate, trained on the older ones), never on the test incidents.
    Each model trained on the older incidents also reads the hand-written clinicians' narratives
    of inappropriate AI suggestions (``clinical``, French and English; the project's own by
    default): AIID's newer incidents are not the reports the category head meets in service.
    """
    if clinical is None:
        clinical = read_handwritten()
    clinical = [r for r in clinical if r.category]
    order = _time_order(data)
    cut = round(len(order) * (1 - test_share))
    train, test = order[:cut], order[cut:]
    y = category_index(data.labels)
    # A category with a single older incident cannot be calibrated: it is not learned.
    counts = np.bincount(y[train], minlength=len(CATEGORIES))
    train = train[counts[y[train]] >= 2]
    texts = np.asarray(data.texts, dtype=object)
    inner_cut = round(len(train) * (1 - test_share))
    inner_fit, inner_val = train[:inner_cut], train[inner_cut:]
    inner = {
        c: category_metrics(
            y[inner_val],
            _word_char_category(c, chars=True)
            .fit(texts[inner_fit], y[inner_fit])
            .predict(texts[inner_val]),
        )["macro_f1"]
        for c in CATEGORY_C_GRID
    }
    chosen_c = max(inner, key=lambda c: inner[c])
    shipped = fit_category(list(texts[train]), y[train], np.ones(len(train)), params)
    baseline = _word_char_category(1.0, chars=False).fit(texts[train], y[train])
    word_char = _word_char_category(chosen_c, chars=True).fit(texts[train], y[train])
    clinical_texts = np.asarray([r.text for r in clinical], dtype=object)
    models: dict[str, Callable[[NDArray[Any]], NDArray[Any]]] = {
        "shipped recipe": lambda t: shipped.probabilities(list(t)).argmax(axis=1),
        "baseline (word TF-IDF, balanced LinearSVC)": baseline.predict,
        f"word+char TF-IDF, balanced LinearSVC (C={chosen_c})": word_char.predict,
    }
    predictions = {name: predict(texts[test]) for name, predict in models.items()}
    dates = data.dates or [""] * len(order)
    return {
        "scheme": "time-ordered: trained on older incidents, tested on the newest "
        f"{round(100 * test_share)}%",
        "train": len(train),
        "test": len(test),
        "test_from": dates[int(test[0])] if len(test) else "",
        "inner_macro_f1_by_c": {str(c): round(v, 4) for c, v in inner.items()},
        "results": {
            name: category_metrics(y[test], np.asarray(p, dtype=np.intp))
            for name, p in predictions.items()
        },
        "clinical": {
            name: category_metrics(
                category_index([r.category or "" for r in clinical]),
                np.asarray(predict(clinical_texts), dtype=np.intp),
            )
            for name, predict in models.items()
        }
        if clinical
        else {},
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
