"""Two-sample Kolmogorov-Smirnov test of each window against the reference.

The statistic is the largest gap between the two empirical distribution functions,
:math:`D = \\sup_x |F_{ref}(x) - F_{win}(x)|`, and the p-value is Smirnov's asymptotic one,
``scipy.stats.kstwo.sf(D, round(n m / (n + m)))``: the same figures as
``scipy.stats.ks_2samp(reference, window, method="asymp")``. The exact p-value, which scipy
computes for samples under 10,000 values, costs far more and differs little at these sizes.

Drift is declared when ``p_value < threshold`` (the significance level, default 0.01): unlike the
other distribution detectors the threshold bounds the p-value, not the statistic. A test has the
usual caveat of large samples: with thousands of values per window, shifts too small to matter
become significant; use :class:`~services.triage.drift.detectors.wasserstein.Wasserstein` or
:class:`~services.triage.drift.detectors.psi.PSI` when the size of the shift matters more than its
certainty.

The reference is sorted once. A window of ``m`` values is then sorted and placed in the reference
with two binary searches: :math:`O(m \\log n)` per window, whatever the reference's size ``n``.
The p-value costs more than the statistic; it is memoised, since windows of one size take a
limited set of statistic values (multiples of ``1 / lcm(n, m)``).
Devices that only send histograms should use PSI or Jensen-Shannon, which work on bins.

Examples
--------
>>> import numpy as np
>>> from services.triage.drift import KolmogorovSmirnov

>>> rng = np.random.default_rng(42)
>>> ks = KolmogorovSmirnov(rng.normal(0.0, 1.0, 5_000))
>>> stable = ks.update(rng.normal(0.0, 1.0, 1_000))
>>> round(stable.statistic, 3), round(stable.p_value, 3), stable.drift
(0.045, 0.064, False)
>>> shifted = ks.update(rng.normal(0.3, 1.0, 1_000))
>>> round(shifted.statistic, 3), shifted.p_value < 1e-6, shifted.drift
(0.128, True, True)

References
----------
Smirnov, N. (1948). Table for estimating the goodness of fit of empirical distributions. Annals of
Mathematical Statistics, 19(2), 279-281.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from services.triage.drift.detectors.base import (
    DistributionDetector,
    FloatArray,
    as_sample,
    check_probability,
)


@functools.lru_cache(maxsize=8_192)
def ks_p_value(statistic: float, effective_n: int) -> float:
    """Smirnov's two-sided p-value; memoised, as windows of one size repeat the same values."""
    return float(np.clip(stats.kstwo.sf(statistic, effective_n), 0.0, 1.0))


def ks_statistic(reference_sorted: FloatArray, window: FloatArray) -> float:
    """:math:`\\sup_x |F_{ref}(x) - F_{win}(x)|` for a sorted reference and any window."""
    n, m = reference_sorted.size, window.size
    ordered = np.sort(window)
    # One entry per distinct window value u_k, with G_k = F_win(u_k).
    last = np.flatnonzero(np.append(ordered[1:] != ordered[:-1], True))
    values = ordered[last]
    win_cdf = (last + 1) / m
    at = np.searchsorted(reference_sorted, values, side="right")
    # F_ref just before u_k differs from F_ref(u_k) only where the reference holds u_k itself:
    # search again for those values alone (none for continuous data).
    before = at.copy()
    tied = np.flatnonzero(reference_sorted[np.maximum(at - 1, 0)] == values)
    if tied.size:
        before[tied] = np.searchsorted(reference_sorted, values[tied], side="left")
    ref_at, ref_before = at / n, before / n
    # On [u_k, u_k+1) F_win stays at G_k while F_ref climbs from F_ref(u_k) to F_ref(u_k+1 -);
    # before u_0 F_win is 0. The supremum is at one of these ends.
    win_before = np.concatenate(([0.0], win_cdf[:-1]))
    gap_at = np.abs(ref_at - win_cdf).max()
    gap_before = np.abs(ref_before - win_before).max()
    return float(max(gap_at, gap_before))


class KolmogorovSmirnov(DistributionDetector):
    """Two-sample Kolmogorov-Smirnov test of each window against the reference.

    Parameters
    ----------
    reference
        Values seen at validation.
    threshold
        Significance level: alarm when the p-value falls below it.
    """

    def __init__(self, reference: ArrayLike, *, threshold: float = 0.01) -> None:
        check_probability("threshold", threshold)
        super().__init__(threshold=threshold)
        self.reference: FloatArray = np.sort(as_sample(reference, name="reference"))

    def _score(self, window: FloatArray) -> tuple[float, float | None]:
        statistic = ks_statistic(self.reference, window)
        n, m = float(self.reference.size), float(window.size)
        return statistic, ks_p_value(statistic, round(n * m / (n + m)))

    def _is_drift(self, statistic: float, p_value: float | None) -> bool:
        return p_value is not None and p_value < self.threshold
