"""Choosing the severity recipe by nested validation: inner folds pick, outer folds score.

Each candidate is a set of ``SeverityParams``. Inside every outer fold of a transfer split, the
candidates are compared on the outer fold's training rows alone, by device families held out
(``GroupKFold``, ``INNER_FOLDS`` folds, on a stratified sample of at most ``INNER_ROWS`` reports to
keep two shared cores busy for minutes, not hours); the winner is refitted on all the outer
training rows and scores the outer test rows, which no choice ever saw. The score that picks is
macro-F1 of death, serious and malfunction, less every shortfall below a target (critical recall
0.9, death recall 0.95, death precision 0.5): a candidate that finds fewer critical reports, or
calls death where there is none, cannot win on F1 alone. The same inner folds on every report
give the choice a new model would take (``chosen_on_all`` in the evaluation's ``selection``).

Word and character n-gram candidates are left out of the shipped choice on purpose: hashing the
character 3-5-grams of a report alone runs near 1,000 reports/s on one core (``bench.triage``
needs 10,000), so they stay the baseline's.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray
from sklearn.model_selection import GroupKFold

from services.triage.model.evaluation import ShippedRecipe, transfer_figures
from services.triage.model.severity import SeverityParams

INNER_FOLDS = 3
INNER_ROWS = 4000
# The targets a candidate is held to: each shortfall below one is taken off its macro-F1.
FLOORS = {"critical_recall": 0.9, "death_recall": 0.95, "death_precision": 0.5}


def candidates(base: SeverityParams) -> dict[str, SeverityParams]:
    """The recipes compared: classifier, calibrator, and the two operating points.

    The critical threshold is set on held-out families for a recall target (0.9, 0.95, 0.97);
    the death threshold for the best F-beta (beta 4 or 8), or where further death calls would be
    right less than 0.5 or 0.1 of the time (``death_threshold_at_precision``).
    The classifier is a LinearSVC (class-balanced or not) or NB-SVM, its calibrator a logistic
    map of its scores or gradient boosting on the scores and cues; the narrative is read whole
    or field by field (MAUDE's event description and manufacturer's narrative apart).
    """
    # Every dimension a candidate varies is set, so that the list is the same whatever the
    # shipped parameters are (``base`` gives the others: C, cue weight, family weighting...).
    plain = replace(
        base,
        critical_recall=0.9,
        death_beta=4.0,
        death_precision_floor=0.0,
        calibrator="logistic",
        classifier="svm",
        class_balance=False,
        per_field=False,
    )
    crit95 = replace(plain, critical_recall=0.95)
    per_field = replace(crit95, per_field=True)
    return {
        "crit 0.9": plain,
        "crit 0.95": crit95,
        "crit 0.97": replace(plain, critical_recall=0.97),
        "crit 0.95, death beta 8": replace(crit95, death_beta=8.0),
        "crit 0.95, death P>=0.5": replace(crit95, death_precision_floor=0.5),
        "crit 0.97, death P>=0.5": replace(plain, critical_recall=0.97, death_precision_floor=0.5),
        "crit 0.97, death P>=0.1": replace(plain, critical_recall=0.97, death_precision_floor=0.1),
        "NB-SVM, crit 0.95": replace(crit95, classifier="nbsvm"),
        "balanced classes, crit 0.95": replace(crit95, class_balance=True),
        "boosted cues, crit 0.95": replace(crit95, calibrator="boosting"),
        "per field, crit 0.95": per_field,
        "per field, crit 0.97": replace(per_field, critical_recall=0.97),
    }


def selection_score(figures: dict[str, float]) -> float:
    """Macro-F1 (3 classes) less every shortfall below a target (``FLOORS``): critical recall,
    death recall and death precision, so that no candidate wins on F1 while it finds fewer
    critical reports or calls death where there is none."""
    return figures["macro_f1_3"] - sum(
        max(0.0, floor - figures[key]) for key, floor in FLOORS.items()
    )


def _inner_sample(rows: NDArray[np.intp], y: NDArray[np.intp], limit: int) -> NDArray[np.intp]:
    if len(rows) <= limit:
        return rows
    rng = np.random.default_rng(0)
    chosen = []
    for label in np.unique(y[rows]):
        of_label = rows[y[rows] == label]
        k = max(min(len(of_label), 3), round(limit * len(of_label) / len(rows)))
        chosen.append(rng.choice(of_label, size=k, replace=False))
    return np.sort(np.concatenate(chosen))


@dataclass
class NestedSelection:
    """A recipe that picks among ``candidates`` inside each outer training set, then refits."""

    shipped: ShippedRecipe
    options: dict[str, SeverityParams]
    inner_rows: int = INNER_ROWS
    name: str = "selected"
    title: str = "nested choice among the candidates (inner folds pick, outer folds score)"
    chosen: list[str] = field(default_factory=list)

    def _recipe(self, params: SeverityParams) -> ShippedRecipe:
        return replace(self.shipped, params=params)

    def pick(self, train: NDArray[np.bool_]) -> str:
        """The candidate with the best inner score on ``train`` rows (families held out)."""
        y = self.shipped.y
        rows = _inner_sample(np.flatnonzero(train), y, self.inner_rows)
        families = self.shipped.groups[rows]
        folds = min(INNER_FOLDS, len(set(families.tolist())))
        if folds < 2:
            return next(iter(self.options))
        scores = {}
        for name, params in self.options.items():
            predicted = np.full(len(rows), -1, dtype=np.intp)
            for fit_at, test_at in GroupKFold(folds).split(rows, groups=families):
                fit_mask = np.zeros(len(y), dtype=bool)
                test_mask = np.zeros(len(y), dtype=bool)
                fit_mask[rows[fit_at]] = True
                test_mask[rows[test_at]] = True
                predicted[test_at], _ = self._recipe(params).fit_predict(fit_mask, test_mask)
            scores[name] = selection_score(transfer_figures(y[rows], predicted))
        return max(scores, key=lambda k: scores[k])

    def fit_predict(
        self, train: NDArray[np.bool_], test: NDArray[np.bool_]
    ) -> tuple[NDArray[np.intp], NDArray[np.float64] | None]:
        """Pick on ``train`` alone, refit the winner on all of ``train``, predict ``test``."""
        winner = self.pick(train)
        self.chosen.append(winner)
        return self._recipe(self.options[winner]).fit_predict(train, test)

    def tally(self) -> dict[str, int]:
        """How often each candidate won an outer fold."""
        return dict(Counter(self.chosen).most_common())
