"""Category of an inappropriate AI suggestion, learned from AI Incident Database incidents."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from services.triage.model.features import Analysed, NarrativeFeatures
from services.triage.model.labels import CATEGORIES


@dataclass(frozen=True)
class CategoryParams:
    """Everything that shapes the category model (part of the model version)."""

    cue_weight: float = 1.0
    svm_c: float = 0.1
    calibration_folds: int = 5
    feedback_weight: float = 5.0

    def as_dict(self) -> dict[str, float | int]:
        """Plain dictionary for the manifest."""
        return asdict(self)


def category_index(labels: Sequence[str] | NDArray[np.str_]) -> NDArray[np.intp]:
    """Category labels as indices into ``CATEGORIES``."""
    lookup = {label: i for i, label in enumerate(CATEGORIES)}
    return np.asarray([lookup[str(label)] for label in labels], dtype=np.intp)


def cv_folds(y: NDArray[np.intp], wanted: int) -> int:
    """Folds for stratified cross-validation: at most the size of the smallest class."""
    counts = np.bincount(y)
    smallest = int(counts[counts > 0].min()) if len(y) else 2
    return max(2, min(wanted, smallest))


class CategoryModel:
    """Features and a calibrated classifier over the vigilance categories."""

    def __init__(self, features: NarrativeFeatures, classifier: CalibratedClassifierCV) -> None:
        self.features = features
        self.classifier = classifier

    def probabilities_of(self, x: sp.csr_matrix) -> NDArray[np.float64]:
        """Calibrated probability of each category, columns in ``CATEGORIES`` order."""
        out = np.zeros((x.shape[0], len(CATEGORIES)))
        out[:, np.asarray(self.classifier.classes_, dtype=np.intp)] = self.classifier.predict_proba(
            x
        )
        return out

    def probabilities(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """Calibrated probability of each category for each narrative."""
        return self.probabilities_of(self.features.transform(texts))

    def probabilities_analysed(self, analysed: Sequence[Analysed]) -> NDArray[np.float64]:
        """Calibrated probability of each category for narratives already analysed."""
        return self.probabilities_of(self.features.transform_analysed(analysed))


def fit_category(
    texts: Sequence[str],
    y: NDArray[np.intp],
    weights: NDArray[np.float64],
    params: CategoryParams,
) -> CategoryModel:
    """Fit features and a sigmoid-calibrated linear SVM (one model, cross-validated calibration).

    Strong regularisation keeps the weight on the lexicon cues, which carry over from AIID's
    mostly non-clinical incidents to clinicians' reports, rather than on AIID's topics.
    """
    features = NarrativeFeatures(cue_weight=params.cue_weight)
    x = features.fit_transform(texts)
    # Every category weighs the same in the fit *and* in the calibration: AIID's mix (a third
    # "other", mostly deepfakes and scams) is not the mix of clinicians' reports, so the
    # probabilities are those of a uniform prior over categories.
    counts = np.bincount(y, minlength=len(CATEGORIES)).astype(float)
    balanced = weights * (len(y) / (np.count_nonzero(counts) * counts[y]))
    base = LinearSVC(C=params.svm_c, random_state=0)
    folds = StratifiedKFold(cv_folds(y, params.calibration_folds), shuffle=True, random_state=0)
    classifier = CalibratedClassifierCV(base, method="sigmoid", cv=folds, ensemble=False)
    classifier.fit(x, y, sample_weight=balanced)
    return CategoryModel(features, classifier)
