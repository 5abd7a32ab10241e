"""KSWIN: a Kolmogorov-Smirnov test between the newest values and a sample of older ones.

KSWIN (Raab et al., 2020) keeps the last ``window_size`` values. Once the window is full, each
value draws ``stat_size`` values at random from the older part of the window (all but the newest
``stat_size``) and compares them with the newest ``stat_size`` by the two-sample KS test; a drift
is flagged when the p-value is at most ``alpha`` and the KS distance above 0.1, and the detector
starts afresh. It needs no assumption on the values' distribution, so it also watches a loss or a
score, not only 0/1 errors. Defaults (``alpha=0.005``, ``window_size=100``, ``stat_size=30``)
are the paper's and river's (``river.drift.KSWIN``); with the same ``seed`` both draw the same
samples with Python's ``random.Random`` and, on the seeded streams of the tests, flag exactly the
same values. The p-value of two samples of equal size depends only on the distance, a multiple
of ``1 / stat_size``: it is computed once per multiple (by ``scipy.stats.ks_2samp``) and kept.

Examples
--------
An error rate that rises from 10% to 40% at position 1,000:

>>> import numpy as np
>>> from services.triage.drift import KSWIN

>>> rng = np.random.default_rng(7)
>>> errors = np.concatenate([rng.random(1_000) < 0.1, rng.random(1_000) < 0.4]).astype(float)
>>> KSWIN(alpha=0.001).update_many(errors)
array([1043])

References
----------
Raab, C., Heusinger, M., & Schleif, F.-M. (2020). Reactive soft prototype computing for concept
drift streams. Neurocomputing, 416, 340-351.
"""

from __future__ import annotations

import collections
import random
import warnings

import numpy as np
from scipy import stats

from services.triage.drift.detectors.base import (
    SequentialStreamDetector,
    check_count,
    check_probability,
)


class KSWIN(SequentialStreamDetector):
    """Kolmogorov-Smirnov windowing: recent values against a random sample of older ones.

    Parameters
    ----------
    alpha
        Alarm level of the KS test's p-value.
    window_size
        Values kept in the sliding window.
    stat_size
        Values in each of the two compared samples (less than half the window).
    seed
        Seed of the random draws of the older sample.
    """

    # The p-values of each number of steps are a cache: a snapshot leaves them out.
    _transient = SequentialStreamDetector._transient | {"_p_values"}

    def __init__(
        self, alpha: float = 0.005, window_size: int = 100, stat_size: int = 30, seed: int = 0
    ) -> None:
        super().__init__()
        check_probability("alpha", alpha)
        check_count("stat_size", stat_size, minimum=2)
        check_count("window_size", window_size, minimum=2 * stat_size)
        check_count("seed", seed, minimum=0)
        self.alpha = float(alpha)
        self.window_size = int(window_size)
        self.stat_size = int(stat_size)
        self.seed = int(seed)
        self._older = range(self.window_size - self.stat_size)
        self._p_values: dict[int, tuple[float, float]] = {}
        self._reset()

    def _reset(self) -> None:
        self._window: collections.deque[float] = collections.deque(maxlen=self.window_size)
        self._rng = random.Random(self.seed)

    def _update(self, x: float) -> bool:
        self._window.append(x)
        if len(self._window) < self.window_size:
            return False
        window = self._window
        older = [window[i] for i in self._rng.sample(self._older, self.stat_size)]
        recent = [window[i] for i in range(self.window_size - self.stat_size, self.window_size)]
        distance, p_value = self._test(older, recent)
        return p_value <= self.alpha and distance > 0.1

    def _test(self, older: list[float], recent: list[float]) -> tuple[float, float]:
        """KS distance and p-value, looked up by the distance in steps of ``1 / stat_size``."""
        first, second = np.sort(older), np.sort(recent)
        both = np.concatenate((first, second))
        below = np.searchsorted(first, both, side="right") - np.searchsorted(
            second, both, side="right"
        )
        steps = int(np.abs(below).max())
        if steps not in self._p_values:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", category=RuntimeWarning)
                result = stats.ks_2samp(older, recent, method="auto")
            self._p_values[steps] = (float(result.statistic), float(result.pvalue))
        return self._p_values[steps]
