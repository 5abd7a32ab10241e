"""The plain baseline every split compares with: word and character TF-IDF, balanced LinearSVC.

Word 1-2-grams and character 3-5-grams (within word boundaries), sublinear TF-IDF, and a
class-balanced ``LinearSVC`` predicting the highest decision score: what a careful first model
would be. The n-grams are hashed (2**20 columns per block) once for the whole corpus, so that a
fold costs its IDF weights and its fit only; hashing learns nothing from the rows, and the IDF
weights are learned from the training rows alone, so a fold sees nothing of its test rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.svm import LinearSVC

from services.triage.model.labels import SEVERITY_LABELS

_COLUMNS = 2**20


def ngram_counts(texts: Sequence[str]) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Hashed word 1-2-gram and character 3-5-gram counts of ``texts``."""
    words = HashingVectorizer(
        ngram_range=(1, 2), n_features=_COLUMNS, alternate_sign=False, norm=None
    )
    chars = HashingVectorizer(
        analyzer="char_wb",
        ngram_range=(3, 5),
        n_features=_COLUMNS,
        alternate_sign=False,
        norm=None,
    )
    return sp.csr_matrix(words.transform(texts)), sp.csr_matrix(chars.transform(texts))


class WordCharBaseline:
    """Fold after fold over one corpus: TF-IDF on the training rows, balanced LinearSVC."""

    name = "baseline"
    title = "word(1-2)+char(3-5) TF-IDF, balanced LinearSVC"

    def __init__(self, texts: Sequence[str], y: NDArray[np.intp], *, c: float = 1.0) -> None:
        self.words, self.chars = ngram_counts(texts)
        self.y = y
        self.c = c

    def fit_predict(
        self, train: NDArray[np.bool_], test: NDArray[np.bool_]
    ) -> tuple[NDArray[np.intp], NDArray[np.float64] | None]:
        """Severity index of each test row (no probabilities: the baseline is not calibrated)."""
        fitted = FittedBaseline(self.words[train], self.chars[train], self.y[train], c=self.c)
        return fitted.predict_counts(self.words[test], self.chars[test]), None


class FittedBaseline:
    """The baseline fitted once, to classify new narratives (``bench.triage`` times it)."""

    def __init__(
        self, words: sp.csr_matrix, chars: sp.csr_matrix, y: NDArray[np.intp], *, c: float = 1.0
    ) -> None:
        self.tfidf = [TfidfTransformer(sublinear_tf=True).fit(m) for m in (words, chars)]
        x = sp.hstack([t.transform(m) for t, m in zip(self.tfidf, (words, chars), strict=True)])
        self.classifier = LinearSVC(C=c, class_weight="balanced", random_state=0)
        self.classifier.fit(sp.csr_matrix(x), y)

    @classmethod
    def on_texts(cls, texts: Sequence[str], y: NDArray[np.intp]) -> FittedBaseline:
        """The baseline fitted on ``texts``."""
        return cls(*ngram_counts(texts), y)

    def predict_counts(self, words: sp.csr_matrix, chars: sp.csr_matrix) -> NDArray[np.intp]:
        """Severity index of rows given their hashed n-gram counts."""
        x = sp.hstack([t.transform(m) for t, m in zip(self.tfidf, (words, chars), strict=True)])
        scores = np.asarray(self.classifier.decision_function(sp.csr_matrix(x)))
        classes = np.asarray(self.classifier.classes_, dtype=np.intp)
        if scores.ndim == 1:
            return np.asarray(classes[(scores > 0).astype(np.intp)], dtype=np.intp)
        full = np.full((x.shape[0], len(SEVERITY_LABELS)), -np.inf)
        full[:, classes] = scores
        return np.asarray(full.argmax(axis=1), dtype=np.intp)

    def predict(self, texts: Sequence[str]) -> NDArray[np.intp]:
        """Severity index of each narrative."""
        return self.predict_counts(*ngram_counts(texts))
