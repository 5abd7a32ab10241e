"""Statistics of pharmaco- and materiovigilance signal detection, as plain functions.

* Disproportionality (Evans et al., 2001, the criteria used by EudraVigilance): for one device and
  one problem category, the 2x2 table of reports (device or not, category or not) gives the
  proportional reporting ratio (PRR) with its Yates-corrected chi-square, and the reporting odds
  ratio (ROR) with its 95% confidence interval. A signal is flagged at PRR >= 2, chi-square >= 4
  and at least 3 reports.
* Trend (EU MDR Art. 88): a week's count of incidents is compared with the rate of the previous
  weeks, per use when the device reports its usage, by a one-sided Poisson test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats as scipy_stats

PRR_MIN = 2.0
CHI2_MIN = 4.0
N_MIN = 3


@dataclass(frozen=True)
class Disproportionality:
    """Disproportionality of one category for one device against all other devices."""

    a: int  # device, category
    b: int  # device, other categories
    c: int  # other devices, category
    d: int  # other devices, other categories
    prr: float | None
    chi2: float
    ror: float | None
    ror_lower: float | None
    ror_upper: float | None
    flagged: bool


def disproportionality(a: int, b: int, c: int, d: int) -> Disproportionality:
    """PRR, Yates chi-square and ROR (95% CI) of a 2x2 table of report counts.

    >>> r = disproportionality(10, 90, 20, 1880)
    >>> round(r.prr, 2), round(r.chi2, 1), r.flagged
    (9.5, 45.6, True)
    """
    if min(a, b, c, d) < 0:
        raise ValueError("counts must not be negative")
    n = a + b + c + d
    device_total, other_total = a + b, c + d
    prr: float | None = None
    if device_total and other_total:
        # Half a report when no other device has the category: finite, and still large.
        prr = (a / device_total) / (max(c, 0.5) / other_total)
    margins = (a + b) * (c + d) * (a + c) * (b + d)
    chi2 = 0.0
    if margins:
        chi2 = n * max(abs(a * d - b * c) - n / 2, 0.0) ** 2 / margins
    ror = lower = upper = None
    if a:
        # Haldane's correction keeps the ratio finite when another cell is empty.
        aa, bb, cc, dd = (a, b, c, d) if min(b, c, d) else (a + 0.5, b + 0.5, c + 0.5, d + 0.5)
        ror = (aa * dd) / (bb * cc)
        se = math.sqrt(1 / aa + 1 / bb + 1 / cc + 1 / dd)
        lower = math.exp(math.log(ror) - 1.96 * se)
        upper = math.exp(math.log(ror) + 1.96 * se)
    flagged = prr is not None and prr >= PRR_MIN and chi2 >= CHI2_MIN and a >= N_MIN
    return Disproportionality(a, b, c, d, prr, chi2, ror, lower, upper, flagged)


@dataclass(frozen=True)
class TrendPoint:
    """One week of a device's incident series, tested against the weeks before it."""

    week: str  # ISO week, e.g. 2026-W47
    reports: int
    usage: int | None  # predictions reported by the device's telemetry that week
    expected: float | None  # reports expected from the baseline weeks
    ratio: float | None  # observed / expected
    p_value: float | None  # P(X >= reports) under the baseline rate
    flagged: bool


def trend(
    weeks: list[str],
    reports: list[int],
    usage: list[int | None],
    *,
    baseline_weeks: int = 8,
    min_baseline: int = 4,
    alpha: float = 0.01,
    min_reports: int = N_MIN,
) -> list[TrendPoint]:
    """Test each week against the ``baseline_weeks`` before it (at least ``min_baseline``).

    With usage known for the week and its whole baseline, the baseline is a rate per use and the
    expectation scales with the week's usage (more use, more incidents expected); otherwise the
    baseline is the mean weekly count. A zero baseline counts as half a report, so a burst after
    quiet weeks can still be flagged without dividing by zero.

    >>> points = trend([f"w{i}" for i in range(10)], [1, 2, 1, 1, 2, 1, 1, 2, 1, 9], [None] * 10)
    >>> points[-1].flagged, points[-2].flagged
    (True, False)
    """
    if not len(weeks) == len(reports) == len(usage):
        raise ValueError("weeks, reports and usage must have the same length")
    # The series starts with the device's first report or use: the silent weeks before a device
    # was on the market (or in the registry) are no baseline.
    active = [i for i in range(len(weeks)) if reports[i] or usage[i]]
    start = active[0] if active else len(weeks)
    points = []
    for i, week in enumerate(weeks):
        base = range(max(start, i - baseline_weeks), i)
        if len(base) < min_baseline:
            points.append(TrendPoint(week, reports[i], usage[i], None, None, None, False))
            continue
        base_reports = sum(reports[j] for j in base)
        base_usage = [usage[j] for j in base]
        current_usage = usage[i]
        if current_usage and all(u for u in base_usage):
            rate = max(base_reports, 0.5) / sum(u for u in base_usage if u)
            expected = rate * current_usage
        else:
            expected = max(base_reports, 0.5) / len(base)
        p_value = float(scipy_stats.poisson.sf(reports[i] - 1, expected))
        points.append(
            TrendPoint(
                week,
                reports[i],
                current_usage,
                expected,
                reports[i] / expected,
                p_value,
                reports[i] >= min_reports and p_value < alpha,
            )
        )
    return points
