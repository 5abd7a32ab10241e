"""HDDM_W: a rise of a bounded stream's mean, tested with McDiarmid's inequality on EWMAs.

HDDM_W (Frías-Blanco et al., 2015) follows exponentially weighted moving averages (weight
``lambda_`` on the newest value) instead of plain averages, so recent values count more and a
change shows sooner. The cut point is where the EWMA of all values since the reset plus its
McDiarmid bound :math:`\\sqrt{c \\ln(1/\\delta) / 2}` was lowest (:math:`c`, the sum of the squared
weights, follows :math:`c_t = \\lambda^2 + (1 - \\lambda)^2 c_{t-1}`); the values after the cut
point keep their own EWMA, and the mean rose when that EWMA exceeds the EWMA up to the cut
point by more than :math:`\\sqrt{(c_1 + c_2) \\ln(1/\\delta) / 2}`, :math:`\\delta` =
``drift_confidence``.
``two_sided=True`` also tests a fall. Values must lie in [0, 1]. The recurrences and defaults
(``drift_confidence=0.001``, ``lambda_=0.05``) are river's (``river.drift.binary.HDDM_W``,
without its warning level); on the seeded streams of the tests both flag exactly the same values.

Examples
--------
An error rate that rises from 10% to 40% at position 1,000:

>>> import numpy as np
>>> from services.triage.drift import HDDM_W

>>> rng = np.random.default_rng(7)
>>> errors = np.concatenate([rng.random(1_000) < 0.1, rng.random(1_000) < 0.4]).astype(float)
>>> HDDM_W().update_many(errors)
array([1037])

References
----------
Frías-Blanco, I., del Campo-Ávila, J., Ramos-Jiménez, G., Morales-Bueno, R., Ortiz-Díaz, A., &
Caballero-Mota, Y. (2015). Online and non-parametric drift detection methods based on
Hoeffding's bounds. IEEE Transactions on Knowledge and Data Engineering, 27(3), 810-823.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from services.triage.drift.detectors.base import (
    SequentialStreamDetector,
    check_probability,
    check_unit_interval,
)


@dataclass
class _Ewma:
    """An EWMA and the sum of its squared weights (river's ``SampleInfo``)."""

    mean: float = 0.0
    squares: float = 1.0
    started: bool = False

    def add(self, x: float, weight: float) -> None:
        # river's EWMean: the first value is the mean; then mean += weight * (x - mean).
        self.mean = x if not self.started else weight * x + (1.0 - weight) * self.mean
        self.started = True
        self.squares = weight * weight + (1.0 - weight) ** 2 * self.squares


class HDDM_W(SequentialStreamDetector):
    """Hoeffding (McDiarmid) drift detection on weighted averages, for values in [0, 1].

    Parameters
    ----------
    drift_confidence
        Probability of a false alarm at one test (delta).
    lambda_
        Weight of the newest value in the moving averages.
    two_sided
        Also flag a fall of the mean, not only a rise.
    """

    def __init__(
        self, drift_confidence: float = 0.001, lambda_: float = 0.05, two_sided: bool = False
    ) -> None:
        super().__init__()
        check_probability("drift_confidence", drift_confidence)
        check_probability("lambda_", lambda_)
        self.drift_confidence = float(drift_confidence)
        self.lambda_ = float(lambda_)
        self.two_sided = bool(two_sided)
        self._log = math.log(1.0 / self.drift_confidence)
        self._reset()

    def _reset(self) -> None:
        self._total = _Ewma()
        self._before_rise, self._after_rise = _Ewma(), _Ewma()
        self._before_fall, self._after_fall = _Ewma(), _Ewma()
        self._rise_cut = math.inf
        self._fall_cut = -math.inf

    def _bound(self, squares: float) -> float:
        return math.sqrt(squares * self._log / 2)

    def _update(self, x: float) -> bool:
        check_unit_interval(x)
        self._total.add(x, self.lambda_)
        bound = self._bound(self._total.squares)
        if self._total.mean + bound < self._rise_cut:
            self._rise_cut = self._total.mean + bound
            self._before_rise, self._after_rise = _Ewma(**vars(self._total)), _Ewma()
        else:
            self._after_rise.add(x, self.lambda_)
        drift = self._changed(self._before_rise, self._after_rise)
        if self.two_sided:
            if self._total.mean - bound > self._fall_cut:
                self._fall_cut = self._total.mean - bound
                self._before_fall, self._after_fall = _Ewma(**vars(self._total)), _Ewma()
            else:
                self._after_fall.add(x, self.lambda_)
            drift = drift or self._changed(self._after_fall, self._before_fall)
        return drift

    def _changed(self, low: _Ewma, high: _Ewma) -> bool:
        if not (low.started and high.started):
            return False
        return high.mean - low.mean > self._bound(low.squares + high.squares)
