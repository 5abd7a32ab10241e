"""EWMA chart: an exponentially weighted moving average against control limits that follow it.

The chart of Roberts (1959), as Ross et al. (2012) run it on a classifier's error stream (ECDD):
the moving average :math:`Z_t = (1 - \\lambda) Z_{t-1} + \\lambda x_t` starts at the first value
after a reset; the stream's mean :math:`\\hat\\mu_t` and variance :math:`\\hat\\sigma^2_t` are
estimated from every value since the reset (for 0/1 errors :math:`\\hat\\sigma^2 = \\hat p (1 -
\\hat p)`), and the exact standard deviation of :math:`Z_t` for independent values is

.. math::

    \\sigma_{Z_t} = \\hat\\sigma_t \\sqrt{\\frac{\\lambda}{2 - \\lambda}
        \\left(1 - (1 - \\lambda)^{2t}\\right)}.

A rise is flagged when :math:`Z_t > \\hat\\mu_t + L\\, \\sigma_{Z_t}` (a fall when
:math:`Z_t < \\hat\\mu_t - L\\, \\sigma_{Z_t}`) once ``min_instances`` values have been seen.
Defaults: ``lambda_=0.05``, a slow average that resists the noise of single 0/1 errors, and
``threshold=5.0`` (L) with ``min_instances=50``, which keeps the chart quiet over the 10,000
stationary errors (rate 0.2) of the contract test, where L = 4 raises one false alarm. Ross et
al. choose L per error rate for a target average run length; the evaluation
(``vigie drift evaluate``) tunes it across stream families.
``min_std`` floors :math:`\\hat\\sigma` so that a constant start does not make every later change
an alarm.

Examples
--------
An error rate that rises from 10% to 40% at position 1,000:

>>> import numpy as np
>>> from services.triage.drift import EWMAChart

>>> rng = np.random.default_rng(7)
>>> errors = np.concatenate([rng.random(1_000) < 0.1, rng.random(1_000) < 0.4]).astype(float)
>>> EWMAChart(mode="up").update_many(errors)
array([1014])

References
----------
Roberts, S. W. (1959). Control chart tests based on geometric moving averages. Technometrics,
1(3), 239-250.

Ross, G. J., Adams, N. M., Tasoulis, D. K., & Hand, D. J. (2012). Exponentially weighted moving
average charts for detecting concept drift. Pattern Recognition Letters, 33(2), 191-198.
"""

from __future__ import annotations

import math

from services.triage.drift.detectors.base import (
    Mode,
    SequentialStreamDetector,
    check_count,
    check_mode,
    check_positive,
    check_probability,
)


class EWMAChart(SequentialStreamDetector):
    """EWMA control chart with limits from the mean and variance since the last reset.

    Parameters
    ----------
    lambda_
        Weight of the newest value in the moving average.
    threshold
        Width of the control limits, in standard deviations of the moving average (L).
    min_instances
        Values to see after a reset before any detection.
    min_std
        Floor of the estimated standard deviation of the values.
    mode
        Watch for an increase of the mean ("up"), a decrease ("down") or both.
    """

    def __init__(
        self,
        lambda_: float = 0.05,
        threshold: float = 5.0,
        min_instances: int = 50,
        min_std: float = 1e-3,
        mode: Mode = "both",
    ) -> None:
        super().__init__()
        check_probability("lambda_", lambda_)
        check_positive("threshold", threshold)
        check_count("min_instances", min_instances, minimum=2)
        check_positive("min_std", min_std)
        check_mode(mode)
        self.lambda_ = float(lambda_)
        self.threshold = float(threshold)
        self.min_instances = int(min_instances)
        self.min_std = float(min_std)
        self.mode: Mode = mode
        self._spread = self.lambda_ / (2.0 - self.lambda_)
        self._decay = (1.0 - self.lambda_) ** 2
        self._reset()

    def _reset(self) -> None:
        self._n = 0
        self._mean = 0.0
        self._squares = 0.0
        self._z = 0.0
        self._fade = 1.0  # (1 - lambda) ** (2 t)

    def _update(self, x: float) -> bool:
        self._n += 1
        before = self._mean
        self._mean += (x - before) / self._n
        self._squares += (x - before) * (x - self._mean)
        self._z = x if self._n == 1 else (1.0 - self.lambda_) * self._z + self.lambda_ * x
        self._fade *= self._decay
        if self._n < self.min_instances:
            return False
        std = max(math.sqrt(self._squares / self._n), self.min_std)
        limit = self.threshold * std * math.sqrt(self._spread * (1.0 - self._fade))
        rise = self.mode != "down" and self._z - self._mean > limit
        fall = self.mode != "up" and self._mean - self._z > limit
        return rise or fall
