"""The faster batch path reads as the plain one: ``text.read`` against ``text.analyse``, the
shipped model's predictions from either, the cue block, the cue sets and IMDRF suggestions."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest
import scipy.sparse as sp

from services.triage.model import TriageModel, text
from services.triage.model.features import NarrativeFeatures, analyse_all, read_all
from services.triage.model.imdrf import suggest
from services.triage.model.text import CUE_NAMES, is_word
from tests.unit.model.test_text_speed import NARRATIVES, _random_narrative

_PIECES = re.compile(r"[a-z0-9]+")


def _narratives() -> list[str]:
    pick = random.Random(11)
    return [*NARRATIVES, *(_random_narrative(pick) for _ in range(300))]


def _same(a: sp.csr_matrix, b: sp.csr_matrix) -> bool:
    pairs = ((a.indptr, b.indptr), (a.indices, b.indices), (a.data, b.data))
    return a.shape == b.shape and all(np.array_equal(u, v) and u.dtype == v.dtype for u, v in pairs)


def test_is_word_is_two_characters_opening_on_a_letter() -> None:
    for piece in ["a", "b", "z", "0", "7", "12", "3b", "ab", "a0", "x9", "zz", "no", "2023mg"]:
        assert is_word(piece) == (len(piece) > 1 and piece[0].isalpha()), piece


@pytest.mark.parametrize("narrative", _narratives())
def test_read_keeps_the_words_and_cues_of_analyse(narrative: str) -> None:
    words, cues = text.analyse(narrative)
    pieces, read_cues = text.read(narrative)
    assert read_cues == cues
    # The pieces are the words plus numbers and single letters of clauses without a trigger.
    assert [p for p in pieces if "_" in p or is_word(p)] == words
    assert all(_PIECES.fullmatch(p) for p in pieces if "_" not in p)


def test_read_gives_the_features_of_analyse() -> None:
    narratives = _narratives()
    features = NarrativeFeatures(cue_weight=0.5)
    features.fit_transform(narratives[::2])
    assert features.holds_words_only()
    assert _same(
        features.transform_analysed(read_all(narratives)),
        features.transform_analysed(analyse_all(narratives)),
    )


def test_a_vocabulary_with_a_number_is_not_read_from_pieces(shipped_model: TriageModel) -> None:
    narrative = "The pump failed 3 times at 12 ml, no harm to the patient. Alarm b sounded."
    model = TriageModel(shipped_model.severity, shipped_model.category, version="test")
    before = model.predict([narrative])
    assert model._reads_pieces()
    features = model.severity.features
    vocabulary = features.vocabulary
    # The column of a word the narrative does not hold now counts the number "12".
    unused = next(w for w in reversed(vocabulary) if w not in narrative)
    features.vocabulary = {("12" if w == unused else w): j for w, j in vocabulary.items()}
    try:
        assert not features.holds_words_only()
        assert not model._reads_pieces()
        assert model.predict([narrative]) == before  # read as analyse reads: "12" dropped
        assert not _same(
            features.transform_analysed(read_all([narrative])),
            features.transform_analysed(analyse_all([narrative])),
        )
    finally:
        features.vocabulary = vocabulary
    assert model._reads_pieces()


def test_cue_block_is_the_indicator_of_the_cues() -> None:
    features = NarrativeFeatures(cue_weight=0.25)
    cue = CUE_NAMES[0]
    other = CUE_NAMES[-1]
    counts, cues = features.counts_of([([], [cue, other, cue]), ([], []), ([], [other])])
    assert counts.shape == (3, 0)
    assert cues.has_canonical_format
    assert cues.toarray().tolist() == [
        [0.25 if n in {cue, other} else 0.0 for n in CUE_NAMES],
        [0.0] * len(CUE_NAMES),
        [0.25 if n == other else 0.0 for n in CUE_NAMES],
    ]
    assert features.cue_sets(sp.hstack([counts, cues], format="csr")) == [
        frozenset({cue, other}),
        frozenset(),
        frozenset({other}),
    ]


def test_cue_sets_are_those_of_the_narratives(shipped_model: TriageModel) -> None:
    analysed = analyse_all(_narratives())
    features = shipped_model.severity.features
    assert features.cue_sets(features.transform_analysed(analysed)) == [
        frozenset(c) for _, c in analysed
    ]


def test_suggestions_are_a_new_list_each_time() -> None:
    first = suggest(
        frozenset({"cue_software"}), ai_report=True, category_probabilities={}, threshold=0.5
    )
    assert [s.code for s in first] == ["A11"]
    first.clear()
    again = suggest(
        frozenset({"cue_software"}), ai_report=True, category_probabilities={}, threshold=0.5
    )
    assert [s.code for s in again] == ["A11"]
    assert again[0].probability == pytest.approx(0.8)
