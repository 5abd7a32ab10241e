"""Severity classifier: linear model, calibration on held-out device families, operating points.

Probabilities are calibrated on device families the classifier did not see (GroupKFold over
families, then a multinomial logistic map of the four decision scores): a new device family is
what triage meets in service, so that is the distribution the probabilities must be honest on.
The same held-out predictions choose the two operating thresholds:

- *critical* (death or serious): the highest threshold on P(death) + P(serious) whose recall on
  held-out families is at least ``critical_recall``;
- *death*: the threshold on P(death) with the best F-beta score on held-out families (beta 4:
  recall weighs sixteen times precision). A recall target would put it in the tail of Death
  reports whose text never says so, where it flags every report.

The linear classifier sees each device family with a weight growing as the square root of its
size (``family_power``), not linearly: Philips CPAP is over half the reports, and with plain
weights its templated recall narratives decide what a death or an injury reads like for every
other family. The calibrator is fitted with the rows' own weights, so the probabilities stay
those of the training mix.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TypeAlias

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

from services.triage.model.features import NarrativeFeatures
from services.triage.model.labels import SEVERITY_LABELS

DEATH, SERIOUS, MALFUNCTION, OTHER = range(4)
# Missing classes in a calibration fold score far below any observed decision value.
_ABSENT_SCORE = -10.0

Progress = Callable[[str], None]


@dataclass(frozen=True)
class SeverityParams:
    """Everything that shapes the severity model (part of the model version)."""

    cue_weight: float = 0.5
    svm_c: float = 0.1
    calibration_folds: int = 3
    calibration_c: float = 100.0
    critical_recall: float = 0.9
    death_beta: float = 4.0
    feedback_weight: float = 5.0
    # Each family weighs (its size) ** family_power in the classifier's fit; 1.0: every row alike.
    family_power: float = 0.5
    # > 0: the death threshold past which further held-out death calls are right less than this
    # share of the time (``death_threshold_at_precision``) instead of the best F-beta.
    death_precision_floor: float = 0.0
    # "logistic": multinomial logistic map of the four scores; "boosting": gradient boosting on
    # the four scores and the lexicon cues (harm cues read alike whatever the device).
    calibrator: str = "logistic"
    # "svm": one LinearSVC on the features; "nbsvm": one-vs-rest LinearSVCs on the features
    # scaled by each class's naive Bayes log-count ratio (Wang and Manning 2012).
    classifier: str = "svm"
    # Classes weighted inversely to their frequency in the classifier's fit.
    class_balance: bool = False
    # MAUDE's event description and manufacturer's narrative read apart (``analyse_fields``).
    per_field: bool = False

    def as_dict(self) -> dict[str, float | int]:
        """Plain dictionary for the manifest."""
        return asdict(self)


def label_index(labels: Sequence[str] | NDArray[np.str_]) -> NDArray[np.intp]:
    """Severity labels as indices into ``SEVERITY_LABELS``."""
    lookup = {label: i for i, label in enumerate(SEVERITY_LABELS)}
    return np.asarray([lookup[str(label)] for label in labels], dtype=np.intp)


def _scores(classifier: LinearSVC | NBSVM, x: sp.csr_matrix) -> NDArray[np.float64]:
    """Decision scores in the four severity columns (absent classes get a very low score)."""
    out = np.full((x.shape[0], len(SEVERITY_LABELS)), _ABSENT_SCORE)
    raw = classifier.decision_function(x)
    classes = np.asarray(classifier.classes_, dtype=np.intp)
    if raw.ndim == 1:  # two classes: sklearn returns the score of the second one
        out[:, classes[1]] = raw
        out[:, classes[0]] = -raw
    else:
        out[:, classes] = raw
    return out


Calibrator: TypeAlias = LogisticRegression | HistGradientBoostingClassifier


def _one_thread() -> threadpool_limits:
    # Gradient boosting's OpenMP threads spin against each other on a busy machine (a fit forty
    # times slower on two shared cores); one thread is fast and predictable.
    return threadpool_limits(limits=1, user_api="openmp")


def _calibration_input(
    calibrator: Calibrator, scores: NDArray[np.float64], cues: sp.csr_matrix
) -> NDArray[np.float64]:
    if isinstance(calibrator, HistGradientBoostingClassifier):
        return np.hstack([scores, cues.toarray()])
    return scores


def _probabilities(
    calibrator: Calibrator, scores: NDArray[np.float64], cues: sp.csr_matrix
) -> NDArray[np.float64]:
    out = np.zeros((scores.shape[0], len(SEVERITY_LABELS)))
    if isinstance(calibrator, HistGradientBoostingClassifier):
        with _one_thread():  # a few milliseconds a call: only where OpenMP runs
            p = calibrator.predict_proba(_calibration_input(calibrator, scores, cues))
    else:
        p = calibrator.predict_proba(scores)
    out[:, np.asarray(calibrator.classes_, dtype=np.intp)] = p
    return out


def _calibrator(params: SeverityParams) -> Calibrator:
    if params.calibrator == "boosting":
        return HistGradientBoostingClassifier(
            max_iter=80, learning_rate=0.1, max_leaf_nodes=15, random_state=0
        )
    if params.calibrator != "logistic":
        raise ValueError(f"unknown calibrator {params.calibrator!r}")
    return LogisticRegression(C=params.calibration_c, max_iter=2000)


def critical_threshold(
    probabilities: NDArray[np.float64], y: NDArray[np.intp], recall: float
) -> float:
    """Highest threshold on P(death) + P(serious) keeping critical recall at least ``recall``."""
    critical = probabilities[:, DEATH] + probabilities[:, SERIOUS]
    positives = np.sort(critical[y <= SERIOUS])[::-1]
    if len(positives) == 0:
        return 0.5
    k = min(len(positives) - 1, max(0, int(np.ceil(recall * len(positives))) - 1))
    return float(positives[k])


def death_threshold(probabilities: NDArray[np.float64], y: NDArray[np.intp], beta: float) -> float:
    """Threshold on P(death) with the best F-beta on the given held-out predictions."""
    p = probabilities[:, DEATH]
    is_death = y == DEATH
    total = int(is_death.sum())
    if total == 0:
        return 0.5
    order = np.argsort(-p, kind="stable")
    tp = np.cumsum(is_death[order])
    predicted = np.arange(1, len(p) + 1)
    precision = tp / predicted
    recall_ = tp / total
    b2 = beta * beta
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(tp > 0, (1 + b2) * precision * recall_ / (b2 * precision + recall_), 0.0)
    # Only cut between distinct probabilities.
    distinct = np.r_[p[order][1:] < p[order][:-1], True]
    f = np.where(distinct, f, -1.0)
    best = int(np.argmax(f))
    return float(p[order][best])


def death_threshold_at_precision(
    probabilities: NDArray[np.float64], y: NDArray[np.intp], floor: float
) -> float:
    """Threshold on P(death) past which further death calls are right under ``floor`` of the time.

    The threshold maximises hits less ``floor / (1 - floor)`` per false call on the held-out
    predictions: every stretch of calls it takes in is at least ``floor`` right, so the precision
    of all the calls is at least ``floor`` too. The lowest threshold whose cumulative precision
    just reaches the floor would instead take in a long tail of reports that are mostly wrong, as
    long as the first calls were right enough to carry them: on reports of another source that
    tail became thousands of death calls at a precision of 0.05.
    """
    p = probabilities[:, DEATH]
    if not (y == DEATH).any():
        return 0.5
    order = np.argsort(-p, kind="stable")
    cost = min(floor, 0.999) / (1.0 - min(floor, 0.999))  # a floor of 1: no false call at all
    gain = np.cumsum(np.where(y[order] == DEATH, 1.0, -cost))
    distinct = np.flatnonzero(np.r_[p[order][1:] < p[order][:-1], True])  # cut between values
    top = gain[distinct].max()
    if top <= 0:  # no cut is right often enough: call only the likeliest report death
        return float(p[order][0])
    best = distinct[np.flatnonzero(gain[distinct] == top)[-1]]  # ties: more calls
    return float(p[order][best])


def decide(
    probabilities: NDArray[np.float64], *, death_at: float, critical_at: float
) -> NDArray[np.intp]:
    """Severity index of each row under the two operating thresholds."""
    p = probabilities
    out = np.where(p[:, MALFUNCTION] >= p[:, OTHER], MALFUNCTION, OTHER)
    out = np.where(p[:, DEATH] + p[:, SERIOUS] >= critical_at, SERIOUS, out)
    return np.where(p[:, DEATH] >= death_at, DEATH, out).astype(np.intp)


def family_weights(groups: NDArray[np.str_], power: float) -> NDArray[np.float64]:
    """Row weights giving each group a total weight of (its size) ** ``power``, mean 1."""
    if power == 1.0 or len(groups) == 0:
        return np.ones(len(groups))
    _, inverse, sizes = np.unique(groups, return_inverse=True, return_counts=True)
    per_row = sizes.astype(np.float64) ** (power - 1.0)
    w = per_row[inverse]
    return np.asarray(w * len(w) / w.sum(), dtype=np.float64)


@dataclass
class HeldOut:
    """Calibrated predictions for training rows from models that did not see their family."""

    probabilities: NDArray[np.float64]
    y: NDArray[np.intp]


class SeverityModel:
    """Features, linear classifier, calibrator and the two operating thresholds."""

    def __init__(
        self,
        features: NarrativeFeatures,
        classifier: LinearSVC | NBSVM,
        calibrator: Calibrator,
        *,
        death_at: float,
        critical_at: float,
    ) -> None:
        self.features = features
        self.classifier = classifier
        self.calibrator = calibrator
        self.death_at = death_at
        self.critical_at = critical_at

    def probabilities_of(self, x: sp.csr_matrix) -> NDArray[np.float64]:
        """Calibrated probabilities of featurised rows."""
        cues = x[:, self.features.n_terms :]
        return _probabilities(self.calibrator, _scores(self.classifier, x), cues)

    def probabilities(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """Calibrated probabilities of each severity, columns in ``SEVERITY_LABELS`` order."""
        return self.probabilities_of(self.features.transform(texts))

    def decide(self, probabilities: NDArray[np.float64]) -> NDArray[np.intp]:
        """Severity index of each row at this model's operating point."""
        return decide(probabilities, death_at=self.death_at, critical_at=self.critical_at)


class NBSVM:
    """One-vs-rest linear SVMs on naive-Bayes-scaled features (NB-SVM, Wang and Manning 2012).

    For each class, every column is scaled by the log ratio of its smoothed presence in that
    class's rows to its presence in the other rows, and a binary ``LinearSVC`` is fitted on the
    scaled rows. The scaling folds into the weights (``coef_``), so a prediction costs one sparse
    product, as a plain linear model does.
    """

    def __init__(self, *, c: float, alpha: float = 1.0, class_weight: str | None = None) -> None:
        self.c = c
        self.alpha = alpha
        self.class_weight = class_weight
        self.classes_: NDArray[np.intp] = np.zeros(0, dtype=np.intp)
        self.coef_: NDArray[np.float64] = np.zeros((0, 0))
        self.intercept_: NDArray[np.float64] = np.zeros(0)

    def fit(
        self, x: sp.csr_matrix, y: NDArray[np.intp], sample_weight: NDArray[np.float64]
    ) -> NBSVM:
        """Fit one scaled binary SVM per class present in ``y``."""
        self.classes_ = np.unique(y)
        present = sp.csr_matrix(x, copy=True)
        present.data = np.ones_like(present.data)
        coefs, intercepts = [], []
        for k in self.classes_:
            mine = y == k
            p = self.alpha + np.asarray(present[mine].sum(axis=0)).ravel()
            q = self.alpha + np.asarray(present[~mine].sum(axis=0)).ravel()
            r = np.log((p / p.sum()) / (q / q.sum()))
            svm = LinearSVC(C=self.c, class_weight=self.class_weight, random_state=0)
            svm.fit(
                sp.csr_matrix(x @ sp.diags(r)), mine.astype(np.intp), sample_weight=sample_weight
            )
            coefs.append(svm.coef_.ravel() * r)
            intercepts.append(float(svm.intercept_[0]))
        self.coef_ = np.vstack(coefs)
        self.intercept_ = np.asarray(intercepts)
        return self

    def decision_function(self, x: sp.csr_matrix) -> NDArray[np.float64]:
        """One score per class (columns in ``classes_`` order)."""
        return np.asarray(x @ self.coef_.T) + self.intercept_


def _classifier(params: SeverityParams) -> LinearSVC | NBSVM:
    balance = "balanced" if params.class_balance else None
    if params.classifier == "nbsvm":
        return NBSVM(c=params.svm_c, class_weight=balance)
    if params.classifier != "svm":
        raise ValueError(f"unknown classifier {params.classifier!r}")
    return LinearSVC(C=params.svm_c, class_weight=balance, random_state=0)


def fit_severity(
    vocabulary: dict[str, int],
    counts: sp.csr_matrix,
    cues: sp.csr_matrix,
    y: NDArray[np.intp],
    groups: NDArray[np.str_],
    weights: NDArray[np.float64],
    params: SeverityParams,
    *,
    progress: Progress | None = None,
) -> tuple[SeverityModel, HeldOut]:
    """Fit on precomputed word counts and cues over ``vocabulary`` (``NarrativeFeatures.counts``).

    Returns the model and its held-out-family predictions on the training rows, which chose the
    calibration and the thresholds.
    """
    features = NarrativeFeatures(cue_weight=params.cue_weight)
    features.vocabulary = vocabulary
    x = features.with_counts(counts, cues, fit=True)
    fit_weights = weights * family_weights(groups, params.family_power)
    n_groups = len(set(groups.tolist()))
    folds = min(params.calibration_folds, n_groups)
    scores = np.full((len(y), len(SEVERITY_LABELS)), _ABSENT_SCORE)
    if folds >= 2:
        for k, (fit_rows, held_rows) in enumerate(GroupKFold(folds).split(x, y, groups)):
            if progress:
                progress(f"calibration fold {k + 1}/{folds}")
            if len(set(y[fit_rows].tolist())) < 2:
                continue
            clf = _classifier(params).fit(
                x[fit_rows], y[fit_rows], sample_weight=fit_weights[fit_rows]
            )
            scores[held_rows] = _scores(clf, x[held_rows])
    if progress:
        progress("final fit")
    classifier = _classifier(params).fit(x, y, sample_weight=fit_weights)
    if folds < 2:  # a single family: nothing is held out, calibrate in-sample
        scores = _scores(classifier, x)
    calibrator = _calibrator(params)
    cue_block = x[:, features.n_terms :]
    with _one_thread():
        calibrator.fit(_calibration_input(calibrator, scores, cue_block), y, sample_weight=weights)
    held = _probabilities(calibrator, scores, cue_block)
    death_at = (
        death_threshold_at_precision(held, y, params.death_precision_floor)
        if params.death_precision_floor > 0
        else death_threshold(held, y, params.death_beta)
    )
    model = SeverityModel(
        features,
        classifier,
        calibrator,
        death_at=death_at,
        critical_at=critical_threshold(held, y, params.critical_recall),
    )
    return model, HeldOut(probabilities=held, y=y)
