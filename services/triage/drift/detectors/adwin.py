"""ADWIN: an adaptive window that drops its old part when the two parts' means differ.

ADWIN (Bifet & Gavaldà, 2007) keeps the values seen since the last change and, every ``clock``
values, tries every split of that window into an older part :math:`W_0` and a recent part
:math:`W_1` (both at least ``min_window_length`` long). It declares a change when, for a split,

.. math::

    |\\hat\\mu_0 - \\hat\\mu_1| > \\sqrt{2 m \\sigma^2_W \\delta'} + \\tfrac{2}{3} \\delta' m,
    \\quad m = \\frac{1}{n_0 - l + 1} + \\frac{1}{n_1 - l + 1},
    \\quad \\delta' = \\ln \\frac{2 \\ln |W|}{\\delta}

with :math:`\\sigma^2_W` the window's variance and :math:`l` = ``min_window_length``: the
Bernstein-type bound of river's implementation. As in river, the detector starts afresh on the
value after a detection. The parameters and defaults are river's (``river.drift.ADWIN``).

Splits are only tried at bucket boundaries of an exponential histogram (ADWIN2): at most
``max_buckets`` buckets of each size 1, 2, 4, ...; when a size has one bucket too many, its two
oldest merge into one of the next size. A window of :math:`n` values thus has
:math:`O(\\text{max\\_buckets} \\cdot \\log n)` boundaries. Here a bucket is stored as the running
sum at its end, so a merge just forgets a boundary, and a part's sum is a difference of two
running sums (of values minus the window's first value, which keeps the sums small).

Between changes the window only grows, so the bucket layout after :math:`t` values is a fixed
function of :math:`t` (each size's count follows from how many buckets reached it). ``update_many``
uses this: it computes the running sums of a block with ``np.cumsum``, lays out the buckets of
every check of the block at once and tests all splits of all checks together; a check that passes
that test is confirmed by the same scalar code as :meth:`ADWIN.update`, on the same running sums,
so both paths flag exactly the same values. The data-free part of the test (which boundaries
exist after :math:`t` values, and the bound's coefficients) is cached per parameter set for
windows of up to 131,072 values (about 10 MB); longer windows are laid out block by block, which
roughly halves the throughput. On the seeded streams of the tests both paths also flag exactly
the values that ``river.drift.ADWIN`` flags.

Examples
--------
An error rate that rises from 10% to 40% at position 1,000:

>>> import numpy as np
>>> from services.triage.drift import ADWIN

>>> rng = np.random.default_rng(7)
>>> errors = np.concatenate([rng.random(1_000) < 0.1, rng.random(1_000) < 0.4]).astype(float)
>>> adwin = ADWIN()
>>> for i, x in enumerate(errors):
...     if adwin.update(x).drift_detected:
...         print(f"Change detected at index {i}")
Change detected at index 1055
>>> ADWIN().update_many(errors)
array([1055])

References
----------
Bifet, A., & Gavaldà, R. (2007). Learning from time-changing data with adaptive windowing.
Proceedings of the 2007 SIAM International Conference on Data Mining, 443-448.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from services.triage.drift.detectors.base import (
    FloatArray,
    IndexArray,
    StreamDetector,
    check_count,
    check_probability,
)

# The vectorised screen evaluates the cut test in another algebraic form (see _Layout) and with
# numpy's logarithm; it must only ever over-select checks, each of which is then confirmed by the
# exact scalar test, so its bound is lowered by far more than those rounding differences.
_SCREEN_SLACK = 1.0 - 1e-6


def bucket_counts(t: IndexArray, max_buckets: int) -> IndexArray:
    """Buckets of each size 2**i (column i) after ``t`` insertions, for every ``t`` (rows).

    Size 2**i receives one bucket per merge below it; past ``max_buckets`` buckets, every second
    arrival triggers a merge, so after ``a`` arrivals it holds ``a - 2 e`` buckets and has sent
    ``e = (a - max_buckets + 1) // 2`` up.
    """
    levels = max(1, int(t.max()).bit_length()) if t.size else 1
    counts = np.zeros((t.size, levels), dtype=np.int64)
    arrivals = t.astype(np.int64)
    for level in range(levels):
        merges = np.where(arrivals > max_buckets, (arrivals - max_buckets + 1) // 2, 0)
        counts[:, level] = arrivals - 2 * merges
        arrivals = merges
        if not arrivals.any():
            return counts[:, : level + 1]
    return counts


def bucket_layout(t: int, max_buckets: int) -> tuple[list[int], list[int]]:
    """:func:`bucket_counts` of one window length, and the bucket ends (oldest first)."""
    counts = []
    arrivals = t
    while arrivals:
        merges = (arrivals - max_buckets + 1) // 2 if arrivals > max_buckets else 0
        counts.append(arrivals - 2 * merges)
        arrivals = merges
    ends = []
    end = 0
    for level in range(len(counts) - 1, -1, -1):
        for _ in range(counts[level]):
            end += 1 << level
            ends.append(end)
    return counts, ends


def split_distances(counts: IndexArray, max_buckets: int) -> tuple[IndexArray, IndexArray]:
    """Length of the recent part at every bucket boundary, per row of :func:`bucket_counts`.

    Returns (row, n1) pairs in row order; within a row the lengths are increasing, the last one
    being the whole window (the boundary before the oldest bucket).
    """
    levels = counts.shape[1]
    sizes = np.int64(1) << np.arange(levels, dtype=np.int64)
    spans = counts * sizes
    before = np.cumsum(spans, axis=1) - spans
    slots = np.arange(1, max_buckets + 1, dtype=np.int64)
    n1 = before[:, :, None] + slots[None, None, :] * sizes[None, :, None]
    present = slots[None, None, :] <= counts[:, :, None]
    rows = np.broadcast_to(np.arange(counts.shape[0])[:, None, None], n1.shape)
    return rows[present], n1[present]


class ADWIN(StreamDetector):
    """Adaptive windowing change detector (ADWIN2, exponential histogram).

    Parameters
    ----------
    delta
        Confidence of the cut test: lower values detect fewer, surer changes.
    clock
        Test for a change every ``clock`` values (1: after every value).
    max_buckets
        Buckets kept of each size before the two oldest merge.
    min_window_length
        Shortest part, old or recent, a split may leave.
    grace_period
        No test before the window holds more than this many values.
    """

    def __init__(
        self,
        delta: float = 0.002,
        clock: int = 32,
        max_buckets: int = 5,
        min_window_length: int = 5,
        grace_period: int = 10,
    ) -> None:
        super().__init__()
        check_probability("delta", delta)
        check_count("clock", clock)
        check_count("max_buckets", max_buckets)
        check_count("min_window_length", min_window_length)
        check_count("grace_period", grace_period, minimum=0)
        self.delta = float(delta)
        self.clock = int(clock)
        self.max_buckets = int(max_buckets)
        self.min_window_length = int(min_window_length)
        self.grace_period = int(grace_period)
        self._reset()

    def _reset(self) -> None:
        self._n = 0
        self._shift = 0.0
        self._s1 = 0.0
        self._s2 = 0.0
        # Bucket ends, oldest first: position in the window and running sum there.
        self._ends: list[int] = []
        self._sums: list[float] = []
        self._counts: list[int] = []  # buckets of size 2**i at index i

    @property
    def width(self) -> int:
        """Values in the window."""
        return self._n

    @property
    def estimation(self) -> float:
        """Mean of the window."""
        return self._shift + self._s1 / self._n if self._n else 0.0

    @property
    def variance(self) -> float:
        """Variance of the window's values."""
        return self._variance(self._n, self._s1, self._s2) if self._n else 0.0

    @property
    def n_buckets(self) -> int:
        return len(self._ends)

    @staticmethod
    def _variance(width: int, total: float, total_sq: float) -> float:
        return max(total_sq - total * total / width, 0.0) / width

    def _update(self, x: float) -> bool:
        if self._n == 0:
            self._shift = x
        d = x - self._shift
        self._n += 1
        self._s1 += d
        self._s2 += d * d
        self._ends.append(self._n)
        self._sums.append(self._s1)
        counts = self._counts
        if not counts:
            counts.append(0)
        counts[0] += 1
        level = 0
        while counts[level] > self.max_buckets:
            oldest = sum(counts[level + 1 :])
            del self._ends[oldest]
            del self._sums[oldest]
            counts[level] -= 2
            if level + 1 == len(counts):
                counts.append(0)
            counts[level + 1] += 1
            level += 1
        if self._n % self.clock or self._n <= self.grace_period:
            return False
        return self._has_cut(self._ends[:-1], self._sums[:-1], self._n, self._s1, self._s2)

    def _has_cut(
        self,
        ends: Sequence[int],
        sums: Sequence[float],
        width: int,
        total: float,
        total_sq: float,
    ) -> bool:
        """Whether a split at one of ``ends`` (with running sums ``sums``) cuts the window."""
        variance = self._variance(width, total, total_sq)
        log_term = math.log(2.0 * math.log(width) / self.delta)
        shortest = self.min_window_length
        for n0, u0 in zip(ends, sums, strict=True):
            n1 = width - n0
            if n0 < shortest or n1 < shortest:
                continue
            gap = u0 / n0 - (total - u0) / n1
            m = 1.0 / (n0 - shortest + 1) + 1.0 / (n1 - shortest + 1)
            bound = math.sqrt(2.0 * m * variance * log_term) + 2.0 / 3.0 * log_term * m
            if abs(gap) > bound:
                return True
        return False

    def _scan(self, values: FloatArray, start: int) -> int | None:
        if self._n == 0:
            self._shift = float(values[start])
        prefix = _RunningSums(self._n, self._s1, self._s2, self._ends, self._sums)
        prefix.reserve(min(values.size - start, _LAYOUT_LIMIT))
        n = self._n
        for size in self._blocks():
            if start >= values.size:
                self._set_state(n, prefix)
                return None
            block = values[start : start + size]
            prefix.extend(block - self._shift)
            low = max(n + 1, self.grace_period + 1)
            checks = np.arange(-(-low // self.clock) * self.clock, n + block.size + 1, self.clock)
            hit = self._first_cut(checks, prefix) if checks.size else None
            if hit is not None:
                self._set_state(hit, prefix)
                return start + hit - n - 1
            n += block.size
            start += block.size
        raise AssertionError("unreachable: block_sizes() never ends")

    def _first_cut(self, checks: IndexArray, prefix: _RunningSums) -> int | None:
        """The first of ``checks`` (window lengths) whose window has a cut.

        All checks are screened at once by numpy (:meth:`_screen`); each flagged one is then
        confirmed, in order, by :meth:`_has_cut` on the same running sums :meth:`update` holds.
        """
        for t in self._screen(checks, prefix).tolist():
            _, ends = bucket_layout(t, self.max_buckets)
            n0 = np.array(ends[:-1], dtype=np.int64)
            at = t - prefix.origin
            sums = prefix.s1_at(n0).tolist()
            if self._has_cut(ends[:-1], sums, t, float(prefix.s1[at]), float(prefix.s2[at])):
                return int(t)
        return None

    def _screen(self, checks: IndexArray, prefix: _RunningSums) -> IndexArray:
        """The checks that may have a cut: the test of :meth:`_has_cut` at all splits at once.

        With :math:`D = u_0 - n_0 \\bar x_W` the cut test reads :math:`|D| > \\sigma_W a + b`,
        where ``a`` and ``b`` depend only on the split and the window length (see :class:`_Layout`).
        """
        first_row = int(checks[0]) // self.clock - 1
        if int(checks[-1]) <= _LAYOUT_LIMIT:
            layout = _Layout.cached(self, first_row + checks.size)
        else:
            layout = _Layout(self, first_row, checks.size)
            first_row = 0
        columns = layout.columns(int(checks[-1]))
        w = checks.astype(np.float64)
        total, total_sq = prefix.s1[checks - prefix.origin], prefix.s2[checks - prefix.origin]
        mean = total / w
        sigma = np.sqrt(np.maximum(total_sq - total * mean, 0.0) / w)
        flagged = np.zeros(checks.size, dtype=bool)
        # Row chunks keep the temporaries in cache; the work is a handful of passes per split.
        step = max(1, _CHUNK // (columns.stop or 1))
        for low in range(0, checks.size, step):
            high = min(checks.size, low + step)
            rows = slice(first_row + low, first_row + high)
            n0 = layout.n0[rows, columns]
            if prefix.origin == 0:
                gaps = prefix.s1[n0]
            else:
                gaps = prefix.s1_at(n0.ravel()).reshape(n0.shape)
            scratch = np.multiply(layout.n0_float[rows, columns], mean[low:high, None])
            np.subtract(gaps, scratch, out=gaps)
            np.abs(gaps, out=gaps)
            np.multiply(layout.a[rows, columns], sigma[low:high, None], out=scratch)
            np.add(scratch, layout.b[rows, columns], out=scratch)
            flagged[low:high] = np.greater(gaps, scratch).any(axis=1)
        return checks[flagged]

    def _set_state(self, t: int, prefix: _RunningSums) -> None:
        """The state after ``t`` values since the reset, as :meth:`update` would have built it."""
        counts, ends = bucket_layout(t, self.max_buckets)
        at = t - prefix.origin
        self._n = t
        self._counts = counts
        self._ends = ends
        self._sums = prefix.s1_at(np.array(ends, dtype=np.int64)).tolist()
        self._s1 = float(prefix.s1[at])
        self._s2 = float(prefix.s2[at])


# Window lengths up to which the split layout is cached (a few MB per parameter set).
_LAYOUT_LIMIT = 1 << 17
_UNREACHABLE = 1e300
# Splits screened per pass (a few hundred kB of temporaries).
_CHUNK = 16_384


class _Layout:
    """Splits and cut-test coefficients of consecutive checks, for one set of ADWIN parameters.

    Row ``j`` is the check after ``(first_row + j + 1) * clock`` values; column ``i * M + k``
    (``M = max_buckets``) is the boundary before the ``k+1``-th newest bucket of size ``2**i``.
    The cut test at a split into ``n0`` old and ``n1`` recent values of a window of ``W`` is
    ``|u0/n0 - u1/n1| > sqrt(2 m var lt) + 2/3 lt m``; multiplied by ``n0 n1 / W`` it becomes
    ``|u0 - n0 mean| > sigma a + b`` with ``a = (n0 n1 / W) sqrt(2 m lt)`` and
    ``b = (n0 n1 / W) 2/3 lt m``: no data in either, so the layout of the checks from the start
    of a window is computed once and cached. Missing buckets and splits that leave a part
    shorter than ``min_window_length`` point at the window's end (where ``u0 - n0 mean`` is 0)
    and have an unreachable ``b``.
    """

    _cache: ClassVar[dict[tuple[float, int, int, int, int], _Layout]] = {}

    def __init__(self, detector: ADWIN, first_row: int, rows: int) -> None:
        clock, buckets, shortest = detector.clock, detector.max_buckets, detector.min_window_length
        self.rows = rows
        t = np.arange(first_row + 1, first_row + rows + 1, dtype=np.int64) * clock
        counts = bucket_counts(t, buckets)
        self.levels = counts.shape[1]
        sizes = np.int64(1) << np.arange(self.levels, dtype=np.int64)
        spans = counts * sizes
        slots = np.arange(1, buckets + 1, dtype=np.int64)
        n1 = ((np.cumsum(spans, axis=1) - spans)[:, :, None] + slots * sizes[:, None]).reshape(
            rows, -1
        )
        window = t[:, None]
        n0 = window - n1
        valid = (slots <= counts[:, :, None]).reshape(rows, -1)
        valid &= (n0 >= shortest) & (n1 >= shortest) & (window > detector.grace_period)
        self.n0 = np.where(valid, n0, window)
        self.n0_float = self.n0.astype(np.float64)
        w = window.astype(np.float64)
        # Rows of windows within the grace period have no valid split; keep their log finite.
        log_term = np.log(2.0 * np.log(np.maximum(w, 2.0)) / detector.delta)
        n0_safe = np.where(valid, self.n0_float, float(shortest))
        n1_safe = np.where(valid, w - self.n0_float, float(shortest))
        m = 1.0 / (n0_safe - shortest + 1) + 1.0 / (n1_safe - shortest + 1)
        scale = n0_safe * (n1_safe / w) * _SCREEN_SLACK
        self.a = np.where(valid, scale * np.sqrt(2.0 * m * log_term), 0.0)
        self.b = np.where(valid, scale * (2.0 / 3.0 * log_term * m), _UNREACHABLE)

    def columns(self, longest: int) -> slice:
        """The columns that windows of at most ``longest`` values can use."""
        return slice(0, longest.bit_length() * (self.n0.shape[1] // self.levels))

    @classmethod
    def cached(cls, detector: ADWIN, rows: int) -> _Layout:
        """The layout from the start of a window, with at least ``rows`` rows."""
        key = (
            detector.delta,
            detector.clock,
            detector.max_buckets,
            detector.min_window_length,
            detector.grace_period,
        )
        layout = cls._cache.get(key)
        if layout is None or layout.rows < rows:
            limit = _LAYOUT_LIMIT // detector.clock
            grown = min(limit, max(rows, 4 * layout.rows if layout else 1024))
            if len(cls._cache) >= 4:
                cls._cache.clear()
            layout = cls._cache[key] = _Layout(detector, 0, grown)
        return layout


class _RunningSums:
    """Running sums of a scan, by window position, plus the stored bucket ends before the scan."""

    def __init__(
        self, origin: int, s1: float, s2: float, ends: Sequence[int], sums: Sequence[float]
    ) -> None:
        self.origin = origin
        self._old_ends = np.asarray(ends, dtype=np.int64)
        self._old_sums = np.asarray(sums, dtype=np.float64)
        self._s1 = np.empty(4096)
        self._s2 = np.empty(4096)
        self._s1[0], self._s2[0] = s1, s2
        self._size = 1

    @property
    def s1(self) -> FloatArray:
        return self._s1[: self._size]

    @property
    def s2(self) -> FloatArray:
        return self._s2[: self._size]

    def reserve(self, values: int) -> None:
        """Make room for ``values`` more running sums."""
        need = self._size + values
        if need > self._s1.size:
            self._s1 = np.resize(self._s1, need)
            self._s2 = np.resize(self._s2, need)

    def extend(self, deviations: FloatArray) -> None:
        """Append the running sums (sequential, as ``update`` adds) after ``deviations``."""
        need = self._size + deviations.size
        if need > self._s1.size:
            capacity = max(need, 2 * self._s1.size)
            self._s1 = np.resize(self._s1, capacity)
            self._s2 = np.resize(self._s2, capacity)
        end = self._size - 1
        self._s1[end:need] = np.cumsum(np.concatenate(([self._s1[end]], deviations)))
        self._s2[end:need] = np.cumsum(np.concatenate(([self._s2[end]], deviations * deviations)))
        self._size = need

    def s1_at(self, positions: IndexArray) -> FloatArray:
        """Running sum at each window position (a stored bucket end if before the scan)."""
        recent = positions >= self.origin
        if recent.all():
            return self._s1[positions - self.origin]
        out = np.empty(positions.size)
        out[recent] = self._s1[positions[recent] - self.origin]
        old = positions[~recent]
        found = np.searchsorted(self._old_ends, old)
        if np.any(self._old_ends[np.minimum(found, self._old_ends.size - 1)] != old):
            raise AssertionError("bucket end missing from the stored layout")
        out[~recent] = self._old_sums[found]
        return out
