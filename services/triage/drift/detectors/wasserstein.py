"""Wasserstein-1 (earth mover's) distance of each window to the reference, in reference units.

.. math::

    W_1 = \\int |F_{ref}(x) - F_{win}(x)|\\,dx = \\int_0^1 |F_{ref}^{-1}(t) - F_{win}^{-1}(t)|\\,dt

is the mean distance each unit of probability mass has to travel to turn one distribution into the
other: for a pure shift it is the shift itself. It is in the feature's unit, so the detector
divides it by the reference's standard deviation, which makes one threshold fit every feature: the
default ``threshold=0.2`` is a shift of a fifth of a standard deviation. (A constant reference has
no spread; its distances stay in the feature's unit. Pass ``scale`` to choose the unit, e.g. a
clinically meaningful difference.) The unscaled distance equals
``scipy.stats.wasserstein_distance(reference, window)``.

Sampling noise alone is far from negligible: for a normal feature and a reference of 5,000 values,
the scaled distance between two samples of the same distribution has a median of 0.057 and a
99th percentile of 0.13 for windows of 500 values (0.043 and 0.097 for 1,000; 0.088 and 0.22 for
200). Keep windows of at least 500 values with the default threshold.

The reference is sorted once; a window of ``m`` values is sorted and matched with the reference's
quantiles on a grid that depends only on the two sizes and is cached, so a comparison costs
:math:`O(m \\log m + n)`. The detector works on samples: devices that only send histograms should
use PSI or Jensen-Shannon.

Examples
--------
>>> import numpy as np
>>> from services.triage.drift import Wasserstein

>>> rng = np.random.default_rng(42)
>>> w1 = Wasserstein(rng.normal(10.0, 2.0, 5_000))
>>> stable = w1.update(rng.normal(10.0, 2.0, 1_000))
>>> round(stable.statistic, 3), stable.drift
(0.074, False)
>>> shifted = w1.update(rng.normal(10.6, 2.0, 1_000))
>>> round(shifted.statistic, 3), shifted.drift
(0.335, True)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from services.triage.drift.detectors.base import (
    DistributionDetector,
    FloatArray,
    IndexArray,
    as_sample,
    check_positive,
)


def _quantile_grid(n: int, m: int) -> tuple[FloatArray, IndexArray, IndexArray]:
    """Steps of the merged quantile functions of samples of sizes ``n`` and ``m``.

    The quantile function of ``n`` sorted values jumps at t = k/n; in units of 1/(n m) that is
    k m, an integer, so the merged grid is exact. On the step ending at t the quantiles are the
    values of rank ceil(t n) - 1 and ceil(t m) - 1.
    """
    ends = np.union1d(np.arange(1, n + 1, dtype=np.int64) * m, np.arange(1, m + 1) * n)
    widths = np.diff(ends, prepend=0) / float(n * m)
    return widths, -(-ends // m) - 1, -(-ends // n) - 1


class Wasserstein(DistributionDetector):
    """Wasserstein-1 distance of each window to the reference, divided by a scale.

    Parameters
    ----------
    reference
        Values seen at validation.
    threshold
        Alarm when the scaled distance exceeds it.
    scale
        Unit of the distance; the reference's standard deviation by default (1 if it is 0).
    """

    def __init__(
        self, reference: ArrayLike, *, threshold: float = 0.2, scale: float | None = None
    ) -> None:
        super().__init__(threshold=threshold)
        self.reference: FloatArray = np.sort(as_sample(reference, name="reference"))
        if scale is None:
            spread = float(self.reference.std())
            scale = spread if spread > 0 else 1.0
        check_positive("scale", scale)
        self.scale = float(scale)
        self._grids: dict[int, tuple[FloatArray, IndexArray, IndexArray]] = {}

    def distance(self, window: ArrayLike) -> float:
        """The unscaled Wasserstein-1 distance of ``window`` to the reference."""
        return self._distance(as_sample(window, name="window"))

    def _distance(self, window: FloatArray) -> float:
        m = window.size
        grid = self._grids.get(m)
        if grid is None:
            if len(self._grids) >= 8:
                self._grids.clear()
            grid = self._grids[m] = _quantile_grid(self.reference.size, m)
        widths, ref_rank, win_rank = grid
        gaps = np.abs(self.reference[ref_rank] - np.sort(window)[win_rank])
        return float(np.dot(widths, gaps))

    def _score(self, window: FloatArray) -> tuple[float, float | None]:
        return self._distance(window) / self.scale, None
