"""FHDDM: the error rate of a sliding window, against the lowest it has been, with Hoeffding.

FHDDM (Pesaranghader & Viktor, 2016) slides a window of ``window_size`` values over a 0/1 error
stream and keeps the lowest error rate :math:`p_{\\min}` of a full window since the last reset. It
flags a drift when the current window's rate :math:`p` exceeds it by more than Hoeffding's bound
for a window of :math:`n` values:

.. math::

    p - p_{\\min} > \\varepsilon = \\sqrt{\\frac{\\ln(1/\\delta)}{2n}}

with :math:`\\delta` = ``confidence`` (the paper's and river's defaults: :math:`n = 100`,
:math:`\\delta = 10^{-6}`, so :math:`\\varepsilon \\approx 0.26`). The paper states it on the
accuracy (1 for a correct prediction) and its maximum; this module takes the error (1 for an
error) and its minimum, which is the same test. On the seeded streams of the tests it flags
exactly the values ``river.drift.binary.FHDDM`` flags on ``1 - error``. Values must lie in
[0, 1].

Examples
--------
An error rate that rises from 10% to 40% at position 1,000:

>>> import numpy as np
>>> from services.triage.drift import FHDDM

>>> rng = np.random.default_rng(7)
>>> errors = np.concatenate([rng.random(1_000) < 0.1, rng.random(1_000) < 0.4]).astype(float)
>>> FHDDM().update_many(errors)
array([1046])

References
----------
Pesaranghader, A., & Viktor, H. L. (2016). Fast Hoeffding drift detection method for evolving
data streams. ECML PKDD 2016, LNCS 9852, 96-111.
"""

from __future__ import annotations

import collections
import math

from services.triage.drift.detectors.base import (
    SequentialStreamDetector,
    check_count,
    check_probability,
    check_unit_interval,
)


class FHDDM(SequentialStreamDetector):
    """Fast Hoeffding drift detection on a sliding window of errors.

    Parameters
    ----------
    window_size
        Values in the sliding window.
    confidence
        Probability of a false alarm at one test (delta).
    """

    def __init__(self, window_size: int = 100, confidence: float = 1e-6) -> None:
        super().__init__()
        check_count("window_size", window_size, minimum=2)
        check_probability("confidence", confidence)
        self.window_size = int(window_size)
        self.confidence = float(confidence)
        self.epsilon = math.sqrt(math.log(1 / self.confidence) / (2 * self.window_size))
        self._reset()

    def _reset(self) -> None:
        self._window: collections.deque[float] = collections.deque()
        # Sum of the window's successes (1 - error), as river sums accuracies.
        self._successes = 0.0
        self._best = 0.0

    def _update(self, x: float) -> bool:
        success = 1.0 - check_unit_interval(x)
        self._window.append(success)
        self._successes += success
        if len(self._window) < self.window_size:
            return False
        rate = self._successes / self.window_size
        self._best = max(self._best, rate)
        self._successes -= self._window.popleft()
        return self._best - rate > self.epsilon
