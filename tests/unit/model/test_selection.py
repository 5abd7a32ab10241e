"""Candidates of the severity recipe, their operating points, and the nested choice among them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from services.triage.model.dataset import MAUDE_FILE, load_maude
from services.triage.model.evaluation import ShippedRecipe
from services.triage.model.features import NarrativeFeatures
from services.triage.model.selection import NestedSelection, candidates, selection_score
from services.triage.model.severity import (
    DEATH,
    SeverityParams,
    death_threshold_at_precision,
    fit_severity,
    label_index,
)


def test_death_threshold_keeps_the_precision_floor_and_finds_the_most_deaths() -> None:
    p_death = np.asarray([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    y = np.asarray([DEATH, 1, DEATH, 1, 1, DEATH], dtype=np.intp)
    probabilities = np.zeros((6, 4))
    probabilities[:, DEATH] = p_death
    probabilities[:, 1] = 1 - p_death
    # Cutting at 0.7 gives 2 deaths in 3 calls; lower cuts fall under one in two... until 0.4.
    assert death_threshold_at_precision(probabilities, y, 0.6) == 0.7
    assert death_threshold_at_precision(probabilities, y, 0.5) == 0.4
    assert death_threshold_at_precision(probabilities, y, 1.0) == 0.9


def test_selection_score_takes_off_the_missing_critical_recall() -> None:
    assert selection_score({"macro_f1_3": 0.8, "critical_recall": 0.95}) == 0.8
    assert round(selection_score({"macro_f1_3": 0.8, "critical_recall": 0.7}), 6) == 0.6


def _tiny(tiny_data: Path) -> tuple[NarrativeFeatures, object, object, np.ndarray, np.ndarray]:
    maude = load_maude(tiny_data / MAUDE_FILE)
    counter = NarrativeFeatures(cue_weight=0.5)
    counts, cues = counter.counts(maude.texts)
    return counter, counts, cues, label_index(maude.labels), maude.groups


def test_the_boosted_calibrator_gives_probabilities_for_every_severity(tiny_data: Path) -> None:
    counter, counts, cues, y, groups = _tiny(tiny_data)
    params = replace(SeverityParams(), calibrator="boosting", death_precision_floor=0.5)
    model, held = fit_severity(counter.vocabulary, counts, cues, y, groups, np.ones(len(y)), params)
    p = model.probabilities(["The patient died after the pump stopped.", "Alarm, no harm."])
    assert p.shape == (2, 4)
    assert np.allclose(p.sum(axis=1), 1.0)
    assert p[0, DEATH] > p[1, DEATH]
    assert held.probabilities.shape == (len(y), 4)


def test_nested_choice_picks_on_training_rows_only(tiny_data: Path) -> None:
    counter, counts, cues, y, groups = _tiny(tiny_data)
    options = candidates(SeverityParams())
    shipped = ShippedRecipe(
        counter.vocabulary, counts, cues, y, groups, np.ones(len(y)), SeverityParams()
    )
    chooser = NestedSelection(shipped, options)
    test = groups == "pumps"
    predicted, _ = chooser.fit_predict(~test, test)
    assert len(predicted) == int(test.sum())
    (winner,) = chooser.chosen
    assert winner in options
    # The choice depends on the training rows alone: the same rows choose the same candidate.
    assert chooser.pick(~test) == winner
    assert chooser.tally() == {winner: 1}
