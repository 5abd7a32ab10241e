"""Multiple-testing control for a window that tests many features at once.

A window compared feature by feature makes one test per feature: at a significance level of 0.01
and 50 features, about one window in three (:math:`1 - 0.99^{50}`) flags some feature with no
drift at all. Two corrections:

* **Bonferroni** rejects the tests whose p-value is at most :math:`\\alpha / m` for :math:`m`
  tests: the probability of any false rejection (family-wise error rate) stays at most
  :math:`\\alpha`, whatever the dependence between the features.
* **Benjamini-Hochberg** sorts the :math:`m` p-values, finds the largest :math:`k` with
  :math:`p_{(k)} \\le k q / m` and rejects the :math:`k` smallest: the expected share of false
  rejections among the rejections (false discovery rate) stays at most :math:`q` for independent
  or positively dependent tests. It rejects at least what Bonferroni rejects at the same level.

Examples
--------
The fifteen p-values of Benjamini and Hochberg's (1995) worked example, at 0.05:

>>> from services.triage.drift.multiple import benjamini_hochberg, bonferroni
>>> p = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459,
...      0.3240, 0.4262, 0.5719, 0.6528, 0.7590, 1.0]
>>> int(bonferroni(p, 0.05).sum()), int(benjamini_hochberg(p, 0.05).sum())
(3, 4)

References
----------
Benjamini, Y., & Hochberg, Y. (1995). Controlling the false discovery rate: a practical and
powerful approach to multiple testing. Journal of the Royal Statistical Society B, 57(1),
289-300.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from services.triage.drift.detectors.base import as_stream, check_probability


def _p_values(p_values: ArrayLike) -> NDArray[np.float64]:
    values = as_stream(p_values, name="p_values")
    if np.any((values < 0) | (values > 1)):
        raise ValueError("p-values must lie in [0, 1]")
    return values


def bonferroni(p_values: ArrayLike, alpha: float = 0.05) -> NDArray[np.bool_]:
    """Which tests to reject with the family-wise error rate at most ``alpha``."""
    check_probability("alpha", alpha)
    values = _p_values(p_values)
    return values <= alpha / max(values.size, 1)


def benjamini_hochberg(p_values: ArrayLike, q: float = 0.05) -> NDArray[np.bool_]:
    """Which tests to reject with the false discovery rate at most ``q`` (step-up procedure)."""
    check_probability("q", q)
    values = _p_values(p_values)
    rejected = np.zeros(values.size, dtype=np.bool_)
    if values.size == 0:
        return rejected
    order = np.argsort(values, kind="stable")
    limits = q * np.arange(1, values.size + 1) / values.size
    below = np.flatnonzero(values[order] <= limits)
    if below.size:
        rejected[order[: below[-1] + 1]] = True
    return rejected
