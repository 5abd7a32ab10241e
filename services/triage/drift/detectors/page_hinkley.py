"""Page-Hinkley test: a change in the mean of a stream, with a fading memory.

With :math:`\\bar x_t` the mean of the values since the last reset, the test accumulates
deviations, faded by ``alpha`` and less a tolerance ``delta``:

.. math::

    U_t = \\alpha U_{t-1} + (x_t - \\bar x_t - \\delta), \\qquad
    L_t = \\alpha L_{t-1} + (x_t - \\bar x_t + \\delta)

and flags an increase when :math:`U_t - \\min_{s \\le t} U_s` exceeds ``threshold`` (a decrease
when :math:`\\max_{s \\le t} L_s - L_t` does), once ``min_instances`` values have been seen. The
parameters and their defaults are river's (``river.drift.PageHinkley``); on a 0/1 error stream
``mode="up"`` watches only for a rise of the error rate.

``update_many`` runs the same recurrences on whole blocks: the running mean from a cumulative sum,
the faded sums with ``scipy.signal.lfilter`` (a first-order recursive filter that adds in the
same order as :meth:`PageHinkley.update`, so both give bit-identical sums), the running extremes
with ``np.minimum.accumulate``; after a detection the scan starts again from a fresh state.

Examples
--------
An error rate that rises from 10% to 40% at position 1,000:

>>> import numpy as np
>>> from services.triage.drift import PageHinkley

>>> rng = np.random.default_rng(7)
>>> errors = np.concatenate([rng.random(1_000) < 0.1, rng.random(1_000) < 0.4]).astype(float)
>>> ph = PageHinkley(mode="up")
>>> for i, x in enumerate(errors):
...     if ph.update(x).drift_detected:
...         print(f"Change detected at index {i}")
Change detected at index 1144

The vectorised scan finds the same positions:

>>> PageHinkley(mode="up").update_many(errors)
array([1144])

References
----------
Page, E. S. (1954). Continuous inspection schemes. Biometrika, 41(1/2), 100-115.

Sebastião, R., & Fernandes, J. M. (2017). Supporting the Page-Hinkley test with empirical mode
decomposition for change detection. ISMIS 2017, 492-498.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.signal import lfilter

from services.triage.drift.detectors.base import (
    WATCHED_ROWS,
    FloatArray,
    Mode,
    StreamDetector,
    check_count,
    check_mode,
    check_positive,
    first_rise,
)


class PageHinkley(StreamDetector):
    """Page-Hinkley test for a change in the mean of a stream.

    Parameters
    ----------
    min_instances
        Values to see after a reset before any detection.
    delta
        Tolerated deviation from the mean, per value.
    threshold
        Alarm level (lambda) of the accumulated deviation.
    alpha
        Fading factor of the accumulated deviations (1: no fading).
    mode
        Watch for an increase of the mean ("up"), a decrease ("down") or both.
    """

    def __init__(
        self,
        min_instances: int = 30,
        delta: float = 0.005,
        threshold: float = 50.0,
        alpha: float = 1 - 0.0001,
        mode: Mode = "both",
    ) -> None:
        super().__init__()
        check_count("min_instances", min_instances)
        if not (isinstance(delta, int | float) and math.isfinite(delta) and delta >= 0):
            raise ValueError(f"delta must be a number >= 0, got {delta!r}")
        check_positive("threshold", threshold)
        if not (isinstance(alpha, int | float) and 0 < alpha <= 1):
            raise ValueError(f"alpha must lie in (0, 1], got {alpha!r}")
        check_mode(mode)
        self.min_instances = int(min_instances)
        self.delta = float(delta)
        self.threshold = float(threshold)
        self.alpha = float(alpha)
        self.mode: Mode = mode
        self._watch = WATCHED_ROWS[mode]
        self._reset()

    def _reset(self) -> None:
        self._n = 0
        self._total = 0.0
        self._up = 0.0
        self._down = 0.0
        self._min_up = math.inf
        self._max_down = -math.inf

    def _update(self, x: float) -> bool:
        self._n += 1
        self._total += x
        deviation = x - self._total / self._n
        self._up = self.alpha * self._up + (deviation - self.delta)
        self._down = self.alpha * self._down + (deviation + self.delta)
        self._min_up = min(self._min_up, self._up)
        self._max_down = max(self._max_down, self._down)
        if self._n < self.min_instances:
            return False
        rise = self.mode != "down" and self._up - self._min_up > self.threshold
        fall = self.mode != "up" and self._max_down - self._down > self.threshold
        return rise or fall

    def _scan(self, values: FloatArray, start: int) -> int | None:
        feedback = [1.0, -self.alpha]
        for size in self._blocks():
            if start >= values.size:
                return None
            block = values[start : start + size]
            totals = np.cumsum(np.concatenate(([self._total], block)))[1:]
            counts = np.arange(self._n + 1, self._n + 1 + block.size, dtype=np.float64)
            deviation = block - totals / counts
            # Row 0: the sum for increases; row 1: the sum for decreases.
            steps = np.empty((2, block.size))
            np.subtract(deviation, self.delta, out=steps[0])
            np.add(deviation, self.delta, out=steps[1])
            carry = [[self.alpha * self._up], [self.alpha * self._down]]
            sums = lfilter([1.0], feedback, steps, axis=1, zi=carry)[0]
            np.negative(sums[1], out=sums[1])  # a fall is a rise of the negated sum
            skip = max(0, self.min_instances - self._n - 1)
            floors = np.array([self._min_up, -self._max_down])
            found, lows = first_rise(sums, floors, self.threshold, self._watch, skip)
            end = block.size if found is None else found + 1
            self._n += end
            self._total = float(totals[end - 1])
            self._up, self._down = float(sums[0, end - 1]), -float(sums[1, end - 1])
            self._min_up, self._max_down = float(lows[0]), -float(lows[1])
            if found is not None:
                return start + found
            start += block.size
        raise AssertionError("unreachable: block_sizes() never ends")
