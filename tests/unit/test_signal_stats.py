"""Statistical signals: disproportionality against scipy, trend tests on known series."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
from scipy.stats import chi2_contingency, poisson

from services.registry.signals import stats


@pytest.mark.parametrize("seed", range(20))
def test_chi_square_and_ratios_match_their_definitions(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a, b, c, d = (int(x) for x in rng.integers(1, 400, 4))
    r = stats.disproportionality(a, b, c, d)
    assert r.prr is not None and r.ror is not None
    assert r.chi2 == pytest.approx(chi2_contingency([[a, b], [c, d]], correction=True)[0])
    assert r.prr == pytest.approx((a / (a + b)) / (c / (c + d)))
    assert r.ror == pytest.approx(a * d / (b * c))
    se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    assert r.ror_lower == pytest.approx(math.exp(math.log(r.ror) - 1.96 * se))
    assert r.ror_upper == pytest.approx(math.exp(math.log(r.ror) + 1.96 * se))
    assert r.flagged == (r.prr >= 2 and r.chi2 >= 4 and a >= 3)


def test_evans_criteria_need_three_reports() -> None:
    # Strong ratio but only two reports: not a signal yet.
    assert not stats.disproportionality(2, 8, 5, 5000).flagged
    assert stats.disproportionality(3, 7, 5, 5000).flagged
    # Same proportion for the device and for the others: no signal.
    assert not stats.disproportionality(10, 90, 100, 900).flagged


def test_empty_cells_stay_finite() -> None:
    r = stats.disproportionality(5, 0, 0, 100)
    assert r.prr is not None and math.isfinite(r.prr)
    assert r.ror is not None and math.isfinite(r.ror) and r.flagged
    assert stats.disproportionality(0, 10, 3, 100).ror is None
    with pytest.raises(ValueError):
        stats.disproportionality(-1, 1, 1, 1)


def test_trend_flags_a_burst_not_steady_counts() -> None:
    weeks = [f"2026-W{i:02d}" for i in range(1, 13)]
    steady = stats.trend(weeks, [2, 3, 2, 2, 3, 2, 2, 3, 2, 2, 3, 2], [None] * 12)
    assert not any(p.flagged for p in steady)
    burst = stats.trend(weeks, [2, 3, 2, 2, 3, 2, 2, 3, 2, 2, 3, 12], [None] * 12)
    assert [p.week for p in burst if p.flagged] == ["2026-W12"]
    last = burst[-1]
    assert last.expected == pytest.approx(19 / 8)
    assert last.p_value == pytest.approx(poisson.sf(11, 19 / 8))
    # Too little history: no test at all.
    assert burst[0].p_value is None and burst[3].p_value is None and burst[4].p_value is not None


def test_trend_uses_usage_as_denominator() -> None:
    weeks = [f"w{i}" for i in range(10)]
    counts = [2, 2, 2, 2, 2, 2, 2, 2, 2, 10]
    # Five times the use in the last week: ten incidents are what that use predicts.
    usage = [1000] * 9 + [5000]
    points = stats.trend(weeks, counts, usage)  # type: ignore[arg-type]
    assert points[-1].expected == pytest.approx(10.0)
    assert not points[-1].flagged
    assert stats.trend(weeks, counts, [None] * 10)[-1].flagged


def test_doc_examples() -> None:
    assert doctest.testmod(stats).failed == 0
