"""Two-sided tabular CUSUM on standardised values, with the in-control level learnt in a warm-up.

The first ``min_instances`` values after a reset estimate the in-control mean :math:`\\mu` and
standard deviation :math:`\\sigma` (unless they are given). Each later value becomes
:math:`z_t = (x_t - \\mu) / \\sigma` and feeds the two cumulative sums of Page's tabular scheme

.. math::

    C^+_t = \\max(0, C^+_{t-1} + z_t - k), \\qquad C^-_t = \\max(0, C^-_{t-1} - z_t - k)

which signal a rise (a fall) when they exceed ``h``. ``k`` and ``h`` are in units of
:math:`\\sigma`: ``k=0.5`` tunes the chart to a shift of one standard deviation and ``h=5`` gives
an in-control average run length of about 465 values for normal data (Montgomery, table 9.2):
on a long stream, a false alarm every few hundred values. ``h=8`` stretches it to about 9,700.

The sums are kept as a random walk and its running minimum, :math:`C_t = S_t - \\min(0,
\\min_{s \\le t} S_s)` with :math:`S_t = \\sum_{s \\le t} (z_s - k)`, which is the same recursion
(Lindley's) written with additions only; ``update_many`` thus computes it with ``np.cumsum`` and
``np.minimum.accumulate`` and gets bit-identical sums to :meth:`CUSUM.update`.

The standardisation assumes roughly normal values. A 0/1 error stream is far from it (one error
among ten predictions is a jump of three standard deviations), so give it ``batch``: the chart
then watches the means of consecutive batches of ``batch`` values (``min_instances`` counts
batches), and a detection is reported at the value that completes the batch.

Examples
--------
An error rate that rises from 10% to 25% at position 3,000, watched in batches of 50 predictions:

>>> import numpy as np
>>> from services.triage.drift import CUSUM

>>> rng = np.random.default_rng(7)
>>> errors = np.concatenate([rng.random(3_000) < 0.1, rng.random(2_000) < 0.25]).astype(float)
>>> cusum = CUSUM(batch=50)
>>> for i, x in enumerate(errors):
...     if cusum.update(x).drift_detected:
...         print(f"Change detected at index {i}")
Change detected at index 3099
>>> CUSUM(batch=50).update_many(errors)
array([3099])

References
----------
Page, E. S. (1954). Continuous inspection schemes. Biometrika, 41(1/2), 100-115.

Montgomery, D. C. (2019). Introduction to Statistical Quality Control, 8th ed., chapter 9.
"""

from __future__ import annotations

import math

import numpy as np

from services.triage.drift.detectors.base import (
    WATCHED_ROWS,
    FloatArray,
    IndexArray,
    Mode,
    StreamDetector,
    check_count,
    check_mode,
    check_positive,
    first_rise,
)


class CUSUM(StreamDetector):
    """Two-sided tabular CUSUM on values standardised by a warm-up.

    Parameters
    ----------
    k
        Allowance (reference value), in standard deviations.
    h
        Decision interval, in standard deviations.
    min_instances
        Warm-up length after each reset (in batches when ``batch > 1``); at least 2.
    mode
        Watch for a rise ("up"), a fall ("down") or both.
    batch
        Watch the means of consecutive batches of this many values (1: the values themselves).
    mean, std
        In-control mean and standard deviation, when known; each one given is not estimated
        (with both given there is no warm-up).
    min_std
        Floor of the estimated standard deviation: a constant warm-up would otherwise make any
        later change infinitely significant.
    """

    def __init__(
        self,
        k: float = 0.5,
        h: float = 5.0,
        min_instances: int = 30,
        mode: Mode = "both",
        batch: int = 1,
        mean: float | None = None,
        std: float | None = None,
        min_std: float = 1e-6,
    ) -> None:
        super().__init__()
        if not (isinstance(k, int | float) and math.isfinite(k) and k >= 0):
            raise ValueError(f"k must be a number >= 0, got {k!r}")
        check_positive("h", h)
        check_count("min_instances", min_instances, minimum=2)
        check_mode(mode)
        check_count("batch", batch)
        if mean is not None and not (isinstance(mean, int | float) and math.isfinite(mean)):
            raise ValueError(f"mean must be a finite number, got {mean!r}")
        if std is not None:
            check_positive("std", std)
        check_positive("min_std", min_std)
        self.k = float(k)
        self.h = float(h)
        self.min_instances = int(min_instances)
        self.mode: Mode = mode
        self.batch = int(batch)
        self.mean = None if mean is None else float(mean)
        self.std = None if std is None else float(std)
        self.min_std = float(min_std)
        self._watch = WATCHED_ROWS[mode]
        self._reset()

    def _reset(self) -> None:
        self._partial_sum = 0.0
        self._partial_count = 0
        self._warm_up: list[float] = []
        self._level: tuple[float, float] | None = None
        if self.mean is not None and self.std is not None:
            self._level = (self.mean, self.std)
        self._up = 0.0
        self._min_up = 0.0
        self._down = 0.0
        self._min_down = 0.0

    @property
    def level(self) -> tuple[float, float] | None:
        """In-control (mean, standard deviation) in use; None during the warm-up."""
        return self._level

    @property
    def statistics(self) -> tuple[float, float]:
        """The current :math:`(C^+, C^-)`."""
        return self._up - self._min_up, self._down - self._min_down

    def _fit(self, warm_up: list[float]) -> tuple[float, float]:
        mean = sum(warm_up) / len(warm_up) if self.mean is None else self.mean
        if self.std is not None:
            return mean, self.std
        spread = math.sqrt(sum((x - mean) ** 2 for x in warm_up) / (len(warm_up) - 1))
        return mean, max(spread, self.min_std)

    def _update(self, x: float) -> bool:
        if self.batch > 1:
            self._partial_sum += x
            self._partial_count += 1
            if self._partial_count < self.batch:
                return False
            x = self._partial_sum / self.batch
            self._partial_sum, self._partial_count = 0.0, 0
        if self._level is None:
            self._warm_up.append(x)
            if len(self._warm_up) == self.min_instances:
                self._level = self._fit(self._warm_up)
            return False
        mean, std = self._level
        z = (x - mean) / std
        self._up += z - self.k
        self._min_up = min(self._min_up, self._up)
        self._down += -z - self.k
        self._min_down = min(self._min_down, self._down)
        rise = self.mode != "down" and self._up - self._min_up > self.h
        fall = self.mode != "up" and self._down - self._min_down > self.h
        return rise or fall

    def _batch_means(self, block: FloatArray) -> tuple[FloatArray, IndexArray]:
        """Means of the batches that ``block`` completes and the block position ending each.

        Leaves the unfinished batch at the end of ``block`` in the partial state.
        """
        if self.batch == 1:
            return block, np.arange(block.size, dtype=np.int64)
        need = self.batch - self._partial_count
        if block.size < need:
            self._partial_sum = float(np.cumsum(np.concatenate(([self._partial_sum], block)))[-1])
            self._partial_count += block.size
            return np.empty(0), np.empty(0, dtype=np.int64)
        first = np.cumsum(np.concatenate(([self._partial_sum], block[:need])))[-1]
        whole = (block.size - need) // self.batch
        rows = block[need : need + whole * self.batch].reshape(whole, self.batch)
        # Row sums by sequential addition, as ``update`` adds (np.sum would add pairwise).
        sums = np.concatenate(([first], np.cumsum(rows, axis=1)[:, -1]))
        rest = block[need + whole * self.batch :]
        self._partial_sum = float(np.cumsum(np.concatenate(([0.0], rest)))[-1])
        self._partial_count = rest.size
        ends = need - 1 + self.batch * np.arange(whole + 1, dtype=np.int64)
        return sums / self.batch, ends

    def _scan(self, values: FloatArray, start: int) -> int | None:
        for size in self._blocks():
            if start >= values.size:
                return None
            block = values[start : start + size]
            means, ends = self._batch_means(block)
            if self._level is None:
                take = min(self.min_instances - len(self._warm_up), means.size)
                self._warm_up.extend(means[:take].tolist())
                means, ends = means[take:], ends[take:]
                if len(self._warm_up) == self.min_instances:
                    self._level = self._fit(self._warm_up)
            if means.size and self._level is not None:
                hit = self._chart(means)
                if hit is not None:
                    return start + int(ends[hit])
            start += block.size
        raise AssertionError("unreachable: block_sizes() never ends")

    def _chart(self, means: FloatArray) -> int | None:
        """Run the chart over ``means``; the first alarm's index, the state left right after it."""
        assert self._level is not None
        mean, std = self._level
        z = (means - mean) / std
        # Row 0 is the upper chart, row 1 the lower one; both start from the current state.
        steps = np.empty((2, means.size + 1))
        steps[:, 0] = self._up, self._down
        np.subtract(z, self.k, out=steps[0, 1:])
        np.subtract(-z, self.k, out=steps[1, 1:])
        sums = np.cumsum(steps, axis=1)[:, 1:]
        floors = np.array([self._min_up, self._min_down])
        found, lows = first_rise(sums, floors, self.h, self._watch)
        end = means.size if found is None else found + 1
        self._up, self._down = float(sums[0, end - 1]), float(sums[1, end - 1])
        self._min_up, self._min_down = float(lows[0]), float(lows[1])
        return found
