"""HDDM_A: a rise of a bounded stream's mean, tested with Hoeffding's inequality on averages.

HDDM_A (Frías-Blanco et al., 2015) keeps the mean :math:`\\bar z` of the :math:`n` values since
the last reset and a cut point: the prefix of :math:`n_c` values whose mean plus its Hoeffding
bound :math:`\\varepsilon(k) = \\sqrt{\\ln(1/\\delta) / 2k}` was the lowest. The mean rose when

.. math::

    \\bar z - \\bar x_c \\ge \\sqrt{\\frac{n - n_c}{2\\, n_c\\, n} \\ln \\frac{2}{\\delta}}

with :math:`\\delta` = ``drift_confidence`` (0.001, the paper's and river's default: a false alarm
at a given test with probability at most 0.1%). With ``two_sided=True`` a fall is tested the same
way against the prefix of highest mean minus its bound. Values must lie in [0, 1] (0/1 errors,
error probabilities): Hoeffding's bound is for bounded values. The recurrences and defaults are
river's (``river.drift.binary.HDDM_A``, without its warning level); on the seeded streams of the
tests both flag exactly the same values.

Examples
--------
An error rate that rises from 10% to 40% at position 1,000:

>>> import numpy as np
>>> from services.triage.drift import HDDM_A

>>> rng = np.random.default_rng(7)
>>> errors = np.concatenate([rng.random(1_000) < 0.1, rng.random(1_000) < 0.4]).astype(float)
>>> HDDM_A().update_many(errors)
array([1040])

References
----------
Frías-Blanco, I., del Campo-Ávila, J., Ramos-Jiménez, G., Morales-Bueno, R., Ortiz-Díaz, A., &
Caballero-Mota, Y. (2015). Online and non-parametric drift detection methods based on
Hoeffding's bounds. IEEE Transactions on Knowledge and Data Engineering, 27(3), 810-823.
"""

from __future__ import annotations

import math

from services.triage.drift.detectors.base import (
    SequentialStreamDetector,
    check_probability,
    check_unit_interval,
)


class HDDM_A(SequentialStreamDetector):
    """Hoeffding drift detection on averages, for values in [0, 1].

    Parameters
    ----------
    drift_confidence
        Probability of a false alarm at one test (delta).
    two_sided
        Also flag a fall of the mean (an error rate that drops), not only a rise.
    """

    def __init__(self, drift_confidence: float = 0.001, two_sided: bool = False) -> None:
        super().__init__()
        check_probability("drift_confidence", drift_confidence)
        self.drift_confidence = float(drift_confidence)
        self.two_sided = bool(two_sided)
        self._log_one = math.log(1.0 / self.drift_confidence)
        self._log_two = math.log(2.0 / self.drift_confidence)
        self._reset()

    def _reset(self) -> None:
        self._n = 0.0
        self._mean = 0.0
        self._low_n, self._low_mean = 0.0, 0.0
        self._high_n, self._high_mean = 0.0, 0.0

    def _bound(self, n: float) -> float:
        return math.sqrt(1.0 / (2 * n) * self._log_one)

    def _update(self, x: float) -> bool:
        check_unit_interval(x)
        self._n += 1.0
        self._mean += (1.0 / self._n) * (x - self._mean)
        if self._low_n == 0:
            self._low_n, self._low_mean = self._n, self._mean
        if self._high_n == 0:
            self._high_n, self._high_mean = self._n, self._mean
        bound = self._bound(self._n)
        if self._low_mean + self._bound(self._low_n) >= self._mean + bound:
            self._low_n, self._low_mean = self._n, self._mean
        if self._high_mean - self._bound(self._high_n) <= self._mean - bound:
            self._high_n, self._high_mean = self._n, self._mean
        if self._changed(self._low_n, self._mean - self._low_mean):
            return True
        return self.two_sided and self._changed(self._high_n, self._high_mean - self._mean)

    def _changed(self, cut: float, rise: float) -> bool:
        if cut == self._n:
            return False
        m = (self._n - cut) / cut * (1.0 / self._n)
        return rise >= math.sqrt(m / 2 * self._log_two)
