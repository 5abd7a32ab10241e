"""Features of a narrative: TF-IDF of its words, plus a block of lexicon cues.

Words are looked up in a vocabulary learned from the training narratives (a dictionary lookup
per word is several times cheaper than hashing it); words never seen in training are dropped,
as a linear model would give them no weight anyway. The cue block is appended unnormalised
(scaled by ``cue_weight``) so that a single "died" in a long narrative weighs as much as in a
short one.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain, pairwise, repeat

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from sklearn.feature_extraction.text import TfidfTransformer

from services.triage.model.text import CUE_NAMES, analyse, is_word, read

Analysed = tuple[list[str], list[str]]


def analyse_all(texts: Sequence[str]) -> list[Analysed]:
    """Words and cues of each narrative (see ``text.analyse``)."""
    return [analyse(t) for t in texts]


def read_all(texts: Sequence[str]) -> list[Analysed]:
    """Pieces and cues of each narrative (see ``text.read``): for models whose vocabularies
    ``hold_words_only``, the same features as ``analyse_all``, read faster."""
    return [read(t) for t in texts]


# Words of a MAUDE manufacturer's narrative, kept apart from the event description's.
MANUFACTURER_PREFIX = "mfr_"


def analyse_fields(event: str, manufacturer: str) -> Analysed:
    """A MAUDE report read field by field: the event description as any narrative is read, the
    manufacturer's narrative in words of its own (``mfr_``), cues from both.

    A new report's narrative is read as an event description, so the words a model learns from
    what manufacturers write (their investigation templates, recall wording) never fire on it.
    """
    words, cues = analyse(event)
    if manufacturer.strip():
        theirs, their_cues = analyse(manufacturer)
        words = words + [MANUFACTURER_PREFIX + w for w in theirs]
        cues = cues + their_cues
    return words, cues


class NarrativeFeatures:
    """Vocabulary, IDF weights and cue indicators of narratives."""

    def __init__(self, *, cue_weight: float = 1.0) -> None:
        self.cue_weight = cue_weight
        self.vocabulary: dict[str, int] = {}
        self._tfidf = TfidfTransformer(sublinear_tf=True)
        self._cue_index = {name: i for i, name in enumerate(CUE_NAMES)}
        # Columns with a document frequency in the fitted rows (None: every column).
        self._known: NDArray[np.bool_] | None = None

    @property
    def n_terms(self) -> int:
        """Number of word columns (the cue block follows them)."""
        return len(self.vocabulary)

    def holds_words_only(self) -> bool:
        """Whether no column is a number or a single letter, which ``text.read`` keeps and
        ``text.analyse`` drops: true of every vocabulary learned from ``analyse``."""
        return all("_" in term or is_word(term) for term in self.vocabulary)

    def learn_vocabulary(self, analysed: Sequence[Analysed]) -> None:
        """Add every word of ``analysed`` to the vocabulary, in order of first appearance."""
        vocabulary = self.vocabulary
        for terms, _ in analysed:
            for term in terms:
                if term not in vocabulary:
                    vocabulary[term] = len(vocabulary)

    def counts_of(self, analysed: Sequence[Analysed]) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """Word counts (known words only) and the cue block of analysed narratives."""
        # Every word of the batch is looked up in one pass (-1: unknown) and the rows are cut
        # from cumulative lengths, rather than a Python list of columns grown narrative by
        # narrative; the matrix is the same, element for element. The cues are read the same
        # way: a cue said twice in a narrative is summed, then every cue present set to the
        # weight, which is the indicator of the cue set.
        lengths = [len(t) for t, _ in analysed]
        columns = np.fromiter(
            map(self.vocabulary.get, chain.from_iterable(t for t, _ in analysed), repeat(-1)),
            dtype=np.int32,
            count=sum(lengths),
        )
        known = columns >= 0
        ends = np.cumsum(lengths, dtype=np.int64)
        kept = np.concatenate(([0], np.cumsum(known, dtype=np.int64)))
        indptr = np.concatenate(([0], kept[ends]))
        indices = columns[known]
        counts = sp.csr_matrix(
            (np.ones(len(indices)), indices, indptr), shape=(len(analysed), self.n_terms)
        )
        counts.sum_duplicates()
        cue_lengths = [len(c) for _, c in analysed]
        cue_columns = np.fromiter(
            map(self._cue_index.__getitem__, chain.from_iterable(c for _, c in analysed)),
            dtype=np.int32,
            count=sum(cue_lengths),
        )
        cue_indptr = np.concatenate(([0], np.cumsum(cue_lengths, dtype=np.int64)))
        cue_block = sp.csr_matrix(
            (np.ones(len(cue_columns)), cue_columns, cue_indptr),
            shape=(len(analysed), len(self._cue_index)),
        )
        cue_block.sum_duplicates()
        cue_block.data[:] = self.cue_weight
        return counts, cue_block

    def counts(self, texts: Sequence[str]) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """Learn the vocabulary of ``texts`` and return their counts and cues (for training)."""
        return self.learn_counts(analyse_all(texts))

    def learn_counts(self, analysed: Sequence[Analysed]) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """Learn the vocabulary of analysed narratives and return their counts and cues."""
        self.learn_vocabulary(analysed)
        return self.counts_of(analysed)

    def with_counts(
        self, counts: sp.csr_matrix, cues: sp.csr_matrix, *, fit: bool
    ) -> sp.csr_matrix:
        """Features from counts; ``fit`` learns the IDF weights and which words are known."""
        if fit:
            self._known = np.asarray((counts > 0).sum(axis=0)).ravel() > 0
            weighted = self._tfidf.fit_transform(counts)
        else:
            if self._known is not None and not self._known.all():
                # Words absent from the fitted rows are dropped, as at serving time.
                counts = sp.csr_matrix(counts @ sp.diags(self._known.astype(np.float64)))
                counts.eliminate_zeros()
            weighted = self._tfidf.transform(counts)
        return sp.hstack([weighted, cues], format="csr")

    def fit_transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Learn vocabulary and IDF weights from ``texts`` and return their features."""
        counts, cues = self.counts(texts)
        return self.with_counts(counts, cues, fit=True)

    def transform_analysed(self, analysed: Sequence[Analysed]) -> sp.csr_matrix:
        """Features of analysed narratives."""
        counts, cues = self.counts_of(analysed)
        return self.with_counts(counts, cues, fit=False)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Features of ``texts``."""
        return self.transform_analysed(analyse_all(texts))

    def cue_sets(self, x: sp.csr_matrix) -> list[frozenset[str]]:
        """The lexicon cues present in each row of a feature matrix from ``transform``."""
        block = sp.csr_matrix(x[:, self.n_terms :])
        # Plain Python ints (``tolist``) index the names several times faster than NumPy ones.
        name_of = CUE_NAMES.__getitem__
        columns = block.indices.tolist()
        bounds = block.indptr.tolist()
        return [frozenset(map(name_of, columns[start:end])) for start, end in pairwise(bounds)]
