"""Distribution detectors against reference implementations and hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy import stats
from scipy.spatial import distance

from services.triage.drift import PSI, Histogram, JensenShannon, KolmogorovSmirnov, Wasserstein
from services.triage.drift.detectors.base import count_in_bins

Floats = NDArray[np.float64]


def samples(seed: int) -> list[tuple[Floats, Floats]]:
    """Pairs (reference, window) of various sizes, shapes and ties."""
    rng = np.random.default_rng(seed)
    return [
        (rng.normal(0.0, 1.0, 5_000), rng.normal(0.1, 1.0, 1_000)),
        (rng.normal(0.0, 1.0, 700), rng.normal(0.0, 1.3, 333)),
        (rng.exponential(2.0, 2_000), rng.exponential(2.5, 2_000)),
        (rng.integers(0, 5, 1_000).astype(float), rng.integers(0, 6, 250).astype(float)),
        (rng.normal(0.0, 1.0, 50), rng.normal(3.0, 1.0, 7)),
        (np.array([1.0, 2.0, 3.0]), np.array([10.0])),
    ]


# --- PSI -------------------------------------------------------------------------------------


def test_psi_by_hand() -> None:
    # Shares 0.5/0.3/0.2 against 0.2/0.3/0.5: 2 * 0.3 * ln(2.5).
    psi = PSI.from_histogram([0.0, 1.0, 2.0, 3.0], [50, 30, 20])
    result = psi.update_histogram([20, 30, 50])
    assert result.statistic == pytest.approx(0.6 * math.log(2.5), rel=1e-12)
    assert result.drift
    assert result.p_value is None


def test_psi_floors_empty_bins() -> None:
    # Reference 0.5/0.5/0, window 0.25/0.25/0.5; the empty reference bin counts as 1e-4.
    psi = PSI.from_histogram([0.0, 1.0, 2.0, 3.0], [10, 10, 0])
    expected = 2 * (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.5 - 1e-4) * math.log(0.5 / 1e-4)
    assert psi.update_histogram([1, 1, 2]).statistic == pytest.approx(expected, rel=1e-12)
    assert math.isfinite(psi.update_histogram([0, 0, 5]).statistic)


def test_psi_bins_are_the_reference_deciles() -> None:
    reference = np.arange(1_000.0)
    psi = PSI(reference)
    assert psi.n_bins == 10
    assert psi.reference_counts.tolist() == [100.0] * 10
    assert psi.update(reference).statistic == pytest.approx(0.0, abs=1e-15)
    # Values beyond the reference's range land in the outer bins.
    assert psi.histogram(np.array([-5.0, 2_000.0])).tolist() == [1.0] + [0.0] * 8 + [1.0]


@pytest.mark.parametrize("size", [10, 1_000, 50_000])
def test_bin_counts_follow_half_open_bins_for_small_and_large_windows(size: int) -> None:
    # Small windows are binned value by value, large ones by sorting: the counts must agree
    # with the definition, values on an edge counting in the bin that starts there.
    edges = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    rng = np.random.default_rng(size)
    values = np.concatenate([rng.integers(-1, 6, size).astype(float), rng.random(size) * 5])
    expected = [
        np.sum(values < 1.0),
        np.sum((values >= 1.0) & (values < 2.0)),
        np.sum((values >= 2.0) & (values < 3.0)),
        np.sum(values >= 3.0),
    ]
    assert count_in_bins(values, edges).tolist() == [float(n) for n in expected]


def test_psi_of_the_same_sample_as_histogram_or_values() -> None:
    rng = np.random.default_rng(3)
    reference, window = rng.normal(0.0, 1.0, 4_000), rng.normal(0.3, 1.2, 800)
    from_values = PSI(reference)
    from_histogram = PSI.from_histogram(from_values.edges, from_values.reference_counts)
    assert from_histogram.update_histogram(from_values.histogram(window)).statistic == (
        from_values.update(window).statistic
    )


# --- Jensen-Shannon --------------------------------------------------------------------------


@pytest.mark.parametrize("case", range(6))
def test_jensen_shannon_matches_scipy(case: int) -> None:
    reference, window = samples(7)[case]
    js = JensenShannon(reference, bins=8)
    expected = distance.jensenshannon(js.reference_counts, js.histogram(window), base=2)
    assert js.update(window).statistic == pytest.approx(expected, abs=1e-12)


def test_jensen_shannon_is_bounded() -> None:
    js = JensenShannon.from_histogram([0.0, 1.0, 2.0], [10, 0])
    assert js.update_histogram([0, 10]).statistic == pytest.approx(1.0)
    assert js.update_histogram([5, 0]).statistic == pytest.approx(0.0, abs=1e-7)


# --- Kolmogorov-Smirnov ----------------------------------------------------------------------


@pytest.mark.parametrize("case", range(6))
def test_ks_matches_scipy(case: int) -> None:
    reference, window = samples(11)[case]
    expected = stats.ks_2samp(reference, window, method="asymp")
    result = KolmogorovSmirnov(reference).update(window)
    assert result.statistic == pytest.approx(expected.statistic, abs=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
    assert result.drift == (expected.pvalue < 0.01)


def test_ks_statistic_with_heavy_ties() -> None:
    rng = np.random.default_rng(2)
    reference = rng.integers(0, 3, 1_000).astype(float)
    for _ in range(20):
        window = rng.integers(0, 4, int(rng.integers(1, 300))).astype(float)
        expected = stats.ks_2samp(reference, window, method="asymp").statistic
        assert KolmogorovSmirnov(reference).update(window).statistic == pytest.approx(expected)


# --- Wasserstein -----------------------------------------------------------------------------


@pytest.mark.parametrize("case", range(6))
def test_wasserstein_matches_scipy(case: int) -> None:
    reference, window = samples(13)[case]
    w1 = Wasserstein(reference)
    expected = stats.wasserstein_distance(reference, window)
    assert w1.distance(window) == pytest.approx(expected, rel=1e-9)
    assert w1.update(window).statistic == pytest.approx(expected / reference.std(), rel=1e-9)


def test_wasserstein_is_a_shift_in_standard_deviations() -> None:
    rng = np.random.default_rng(4)
    reference = rng.normal(100.0, 20.0, 5_000)
    result = Wasserstein(reference).update(reference + 10.0)
    assert result.statistic == pytest.approx(10.0 / reference.std())
    assert result.drift


def test_wasserstein_scale_can_be_given_and_constant_reference_keeps_units() -> None:
    constant = Wasserstein(np.zeros(10), threshold=0.5).update(np.ones(5))
    assert constant.statistic == pytest.approx(1.0)
    scaled = Wasserstein(np.arange(10.0), scale=2.0).update(np.arange(10.0) + 1)
    assert scaled.statistic == pytest.approx(0.5)


# --- histograms ------------------------------------------------------------------------------


def test_constant_reference_gets_a_bin_either_side() -> None:
    psi = PSI(np.full(100, 3.0))
    assert psi.n_bins == 3
    assert psi.histogram(np.array([2.0, 3.0, 3.0, 4.0])).tolist() == [1.0, 2.0, 1.0]
    assert not psi.update(np.full(50, 3.0)).drift
    assert psi.update(np.full(50, 4.0)).drift


def test_binary_reference_gets_two_bins() -> None:
    reference = np.array([0.0] * 90 + [1.0] * 10)
    psi = PSI(reference)
    assert psi.reference_counts.tolist() == [90.0, 10.0]
    assert psi.histogram(np.array([0.0, 1.0, 1.0])).tolist() == [1.0, 2.0]


@pytest.mark.parametrize(
    ("edges", "counts", "message"),
    [
        ([0.0, 1.0], [5.0], "at least 2 bins"),
        ([0.0, 1.0, 2.0], [5.0, 5.0, 5.0], "len"),
        ([0.0, 2.0, 1.0], [5.0, 5.0], "increasing"),
        ([0.0, 1.0, 2.0], [5.0, -1.0], "negative"),
        ([0.0, 1.0, 2.0], [0.0, 0.0], "empty"),
        ([0.0, float("nan"), 2.0], [1.0, 1.0], "edges"),
    ],
)
def test_bad_histograms_are_refused(edges: list[float], counts: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Histogram(np.asarray(edges), np.asarray(counts))


def test_update_histogram_needs_one_count_per_bin() -> None:
    js = JensenShannon.from_histogram([0.0, 1.0, 2.0, 3.0], [1, 2, 3])
    with pytest.raises(ValueError, match="expected 3 counts"):
        js.update_histogram([1, 2])
    with pytest.raises(ValueError, match="empty"):
        js.update_histogram([0, 0, 0])
