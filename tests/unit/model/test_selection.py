"""Candidates of the severity recipe, their operating points, and the nested choice among them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.svm import LinearSVC

from services.triage.model.dataset import MAUDE_FILE, SeverityData, load_maude
from services.triage.model.evaluation import ShippedRecipe
from services.triage.model.features import NarrativeFeatures, analyse_fields
from services.triage.model.selection import NestedSelection, candidates, selection_score
from services.triage.model.severity import (
    DEATH,
    NBSVM,
    SeverityParams,
    death_threshold_at_precision,
    fit_severity,
    label_index,
)


def test_death_threshold_stops_where_further_calls_fall_under_the_precision_floor() -> None:
    p_death = np.asarray([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    y = np.asarray([DEATH, 1, DEATH, 1, 1, DEATH], dtype=np.intp)
    probabilities = np.zeros((6, 4))
    probabilities[:, DEATH] = p_death
    probabilities[:, 1] = 1 - p_death
    # Past 0.9 the next calls are right one time in two (0.8-0.7), then one in three (0.6-0.4).
    assert death_threshold_at_precision(probabilities, y, 0.6) == 0.9
    assert death_threshold_at_precision(probabilities, y, 0.5) == 0.7
    assert death_threshold_at_precision(probabilities, y, 0.3) == 0.4
    assert death_threshold_at_precision(probabilities, y, 1.0) == 0.9
    # No cut is right often enough (a miss first, then a hit): only the likeliest is called.
    y_missed_first = np.asarray([1, 1, DEATH, 1, 1, 1], dtype=np.intp)
    assert death_threshold_at_precision(probabilities, y_missed_first, 0.5) == 0.9


def test_death_threshold_leaves_out_a_tail_that_the_first_calls_would_carry() -> None:
    # 20 sure deaths, then 60 reports of which one in four is a death: all 80 calls together are
    # right 0.44 of the time, but the last 60 only 0.25 of the time.
    p_death = np.linspace(0.99, 0.01, 80)
    y = np.ones(80, dtype=np.intp)
    y[:20] = DEATH
    y[20::4] = DEATH
    probabilities = np.zeros((80, 4))
    probabilities[:, DEATH] = p_death
    probabilities[:, 1] = 1 - p_death
    assert death_threshold_at_precision(probabilities, y, 0.4) == p_death[20]
    assert death_threshold_at_precision(probabilities, y, 0.2) == p_death[-4]


def test_selection_score_takes_off_every_shortfall_below_a_target() -> None:
    met = {"macro_f1_3": 0.8, "critical_recall": 0.95, "death_recall": 1.0, "death_precision": 0.6}
    assert selection_score(met) == 0.8
    assert round(selection_score({**met, "critical_recall": 0.7}), 6) == 0.6
    assert round(selection_score({**met, "death_precision": 0.05}), 6) == 0.35
    assert round(selection_score({**met, "death_recall": 0.85, "critical_recall": 0.8}), 6) == 0.6


def _tiny(tiny_data: Path) -> tuple[NarrativeFeatures, object, object, np.ndarray, np.ndarray]:
    maude = load_maude(tiny_data / MAUDE_FILE)
    counter = NarrativeFeatures(cue_weight=0.5)
    counts, cues = counter.counts(maude.texts)
    return counter, counts, cues, label_index(maude.labels), maude.groups


def test_nbsvm_folds_each_class_s_log_count_ratio_into_its_weights() -> None:
    rng = np.random.default_rng(3)
    x = sp.csr_matrix(rng.random((60, 8)) * (rng.random((60, 8)) < 0.4))
    y = rng.integers(0, 3, 60).astype(np.intp)
    model = NBSVM(c=0.5).fit(x, y, sample_weight=np.ones(60))
    scores = model.decision_function(x)
    present = (x > 0).astype(np.float64)
    for k in range(3):
        p = 1.0 + np.asarray(present[y == k].sum(axis=0)).ravel()
        q = 1.0 + np.asarray(present[y != k].sum(axis=0)).ravel()
        r = np.log((p / p.sum()) / (q / q.sum()))
        svm = LinearSVC(C=0.5, random_state=0).fit(x @ sp.diags(r), (y == k).astype(np.intp))
        assert np.allclose(scores[:, k], svm.decision_function(x @ sp.diags(r)))


def test_a_per_field_recipe_reads_the_manufacturer_s_words_apart(tiny_data: Path) -> None:
    maude = load_maude(tiny_data / MAUDE_FILE)
    words, _ = analyse_fields("The patient died.", "Device evaluated, no defect found.")
    assert "died" in words and "mfr_evaluated" in words and "evaluated" not in words
    # Without the fields (feedback, another file) a report is read whole, as a new one is.
    whole = SeverityData(
        texts=["The pump alarmed."],
        labels=np.asarray(["malfunction"]),
        groups=np.asarray(["pumps"]),
        weights=np.ones(1),
    )
    assert whole.analysed(per_field=True) == whole.analysed(per_field=False)
    counter, counts, cues, y, groups = _tiny(tiny_data)
    fielded = NarrativeFeatures(cue_weight=0.5)
    by_field = (fielded.vocabulary, *fielded.learn_counts(maude.analysed(per_field=True)))
    params = replace(SeverityParams(), per_field=True)
    recipe = ShippedRecipe(counter.vocabulary, counts, cues, y, groups, np.ones(len(y)), params)
    test = groups == "pumps"
    with pytest.raises(ValueError, match="field by field"):
        recipe.fit_predict(~test, test)
    recipe = replace(recipe, by_field=by_field)
    predicted, p = recipe.fit_predict(~test, test)
    assert p is not None and p.shape == (int(test.sum()), 4)
    assert (predicted == y[test]).mean() > 0.5


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
    fielded = NarrativeFeatures(cue_weight=0.5)
    analysed = load_maude(tiny_data / MAUDE_FILE).analysed(per_field=True)
    shipped = ShippedRecipe(
        counter.vocabulary,
        counts,
        cues,
        y,
        groups,
        np.ones(len(y)),
        SeverityParams(),
        by_field=(fielded.vocabulary, *fielded.learn_counts(analysed)),
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
