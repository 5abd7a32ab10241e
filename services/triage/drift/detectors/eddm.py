"""EDDM: the distance between errors shrinks when a model starts to err more often.

EDDM (Baena-García et al., 2006) watches the number of values between two consecutive errors of
a 0/1 error stream rather than the error rate, which makes it sensitive to slow, gradual rises.
With :math:`p'_i` and :math:`s'_i` the mean and standard deviation of those distances after the
:math:`i`-th error, it keeps the maximum :math:`(p' + 2s')_{\\max}` and flags a drift at an error
when

.. math::

    \\frac{p'_i + 2 s'_i}{(p' + 2 s')_{\\max}} < \\beta

once more than ``warm_start`` values and more than ``warm_start`` errors have been seen.
``beta=0.9`` (and ``warm_start=30``) are the paper's and river's defaults
(``river.drift.binary.EDDM``, without its warning level ``alpha``); on the seeded streams of the
tests both flag exactly the same values. Values must be 0 or 1.

Examples
--------
An error rate that rises from 10% to 40% at position 1,000:

>>> import numpy as np
>>> from services.triage.drift import EDDM

>>> rng = np.random.default_rng(7)
>>> errors = np.concatenate([rng.random(1_000) < 0.1, rng.random(1_000) < 0.4]).astype(float)
>>> EDDM().update_many(errors)
array([1007])

References
----------
Baena-García, M., del Campo-Ávila, J., Fidalgo, R., Bifet, A., Gavaldà, R., & Morales-Bueno, R.
(2006). Early drift detection method. Fourth International Workshop on Knowledge Discovery from
Data Streams, 77-86.
"""

from __future__ import annotations

from services.triage.drift.detectors.base import (
    SequentialStreamDetector,
    check_count,
    check_probability,
)


class EDDM(SequentialStreamDetector):
    """Early drift detection: the spacing of errors in a 0/1 error stream.

    Parameters
    ----------
    warm_start
        Values, and errors, to see after a reset before any detection.
    beta
        Alarm level of the ratio of the current to the largest ``mean + 2 sd`` of the distances.
    """

    def __init__(self, warm_start: int = 30, beta: float = 0.9) -> None:
        super().__init__()
        check_count("warm_start", warm_start)
        check_probability("beta", beta)
        self.warm_start = int(warm_start)
        self.beta = float(beta)
        self._reset()

    def _reset(self) -> None:
        self._n = 0
        self._last_error = 0
        self._errors = 0
        # Welford's mean and sum of squares of the distances, as river's stats.Var.
        self._count = 0.0
        self._mean = 0.0
        self._squares = 0.0
        self._highest = -1.0

    def _update(self, x: float) -> bool:
        if x not in (0.0, 1.0):
            raise ValueError(f"EDDM takes 0/1 errors, got {x!r}")
        self._n += 1
        if x == 0.0:
            return False
        self._errors += 1
        distance = float(self._n - self._last_error)
        self._last_error = self._n
        before = self._mean
        self._count += 1.0
        self._mean += (1.0 / self._count) * (distance - self._mean)
        self._squares += (distance - before) * (distance - self._mean)
        if self._n <= self.warm_start:
            return False
        variance = self._squares / (self._count - 1) if self._count > 1 else 0.0
        level = self._mean + 2 * variance**0.5
        if level > self._highest:
            self._highest = level
            return False
        return self._errors > self.warm_start and level / self._highest < self.beta
