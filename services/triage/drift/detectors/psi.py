"""Population Stability Index: how far a window's bin proportions moved from the reference's.

.. math::

    \\mathrm{PSI} = \\sum_i (a_i - e_i) \\ln(a_i / e_i)

where :math:`e_i` is the reference's share of bin :math:`i` and :math:`a_i` the window's. PSI is
the symmetrised Kullback-Leibler divergence of the two binned distributions. The bins are the
reference's deciles by default (or the device's own histogram bins, see
:meth:`~services.triage.drift.detectors.base.HistogramDetector.from_histogram`).

The industry reading, used in credit scoring since the 1990s and by most model-monitoring tools:
below 0.1 the population is stable, 0.1 to 0.25 a moderate shift worth a look, above 0.25 a
significant shift; hence the default alarm ``threshold=0.25``. An empty bin would make the
logarithm infinite, so shares are floored at ``epsilon`` (1e-4, one value in 10,000) first.
Sampling noise alone gives about ``(bins - 1) * (1/n + 1/m)`` for samples of ``n`` and ``m``
values: windows of a few hundred values are enough for the default threshold.

Examples
--------
>>> import numpy as np
>>> from services.triage.drift import PSI

>>> rng = np.random.default_rng(42)
>>> psi = PSI(rng.normal(0.0, 1.0, 5_000))
>>> stable = psi.update(rng.normal(0.0, 1.0, 1_000))
>>> round(stable.statistic, 3), stable.drift
(0.009, False)
>>> shifted = psi.update(rng.normal(0.8, 1.0, 1_000))
>>> round(shifted.statistic, 3), shifted.drift, psi.drift_detected
(0.647, True, True)

A device that only sends histograms:

>>> psi = PSI.from_histogram([0, 1, 2, 3], [50, 30, 20])
>>> round(psi.update_histogram([20, 30, 50]).statistic, 3)
0.55

References
----------
Yurdakul, B. (2018). Statistical properties of population stability index. PhD thesis, Western
Michigan University.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from services.triage.drift.detectors.base import (
    FloatArray,
    Histogram,
    HistogramDetector,
    check_positive,
)


class PSI(HistogramDetector):
    """Population Stability Index of each window against the reference.

    Parameters
    ----------
    reference
        Values seen at validation, or a :class:`Histogram` of them.
    threshold
        Alarm when the PSI exceeds it (0.25: significant shift; 0.1 for an early warning).
    bins
        Number of quantile bins built from a reference sample (ignored for a histogram).
    epsilon
        Floor of a bin's share, so that empty bins keep the index finite.
    """

    def __init__(
        self,
        reference: ArrayLike | Histogram,
        *,
        threshold: float = 0.25,
        bins: int = 10,
        epsilon: float = 1e-4,
    ) -> None:
        check_positive("epsilon", epsilon)
        self.epsilon = float(epsilon)
        super().__init__(reference, threshold=threshold, bins=bins)
        self._floored_reference = np.maximum(self._reference, self.epsilon)
        self._log_reference = np.log(self._floored_reference)

    def _compare(self, current: FloatArray) -> tuple[float, float | None]:
        actual = np.maximum(current, self.epsilon)
        gap = actual - self._floored_reference
        return float(np.dot(gap, np.log(actual) - self._log_reference)), None
