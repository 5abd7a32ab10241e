"""Stream detectors against river's implementations and the textbook recursions."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from river import drift as river_drift

from services.triage.drift import (
    ADWIN,
    BOCPD,
    CUSUM,
    EDDM,
    FHDDM,
    HDDM_A,
    HDDM_W,
    KSWIN,
    EWMAChart,
    PageHinkley,
    Vote,
)
from services.triage.drift.detectors.adwin import bucket_counts, bucket_layout
from services.triage.drift.detectors.base import Mode

Floats = NDArray[np.float64]


def stream(seed: int) -> Floats:
    """Piecewise stationary: 0/1 errors, normal levels or shifted exponentials."""
    rng = np.random.default_rng(seed)
    kind = seed % 3
    if kind == 0:
        parts = [rng.random(5_000) < rate for rate in rng.uniform(0.02, 0.6, 6)]
        return np.concatenate(parts).astype(np.float64)
    if kind == 1:
        return np.concatenate([rng.normal(mean, 1.0, 4_000) for mean in rng.normal(0, 0.5, 6)])
    return np.concatenate([rng.exponential(s, 3_000) + 100 for s in rng.uniform(0.5, 3.0, 6)])


def river_detections(detector: Any, values: Floats) -> list[int]:
    found = []
    for i, x in enumerate(values.tolist()):
        detector.update(x)
        if detector.drift_detected:
            found.append(i)
    return found


# --- ADWIN -----------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(9))
@pytest.mark.parametrize(
    "parameters",
    [{}, {"clock": 1}, {"delta": 0.05, "min_window_length": 10}, {"max_buckets": 2}],
)
def test_adwin_agrees_with_river(seed: int, parameters: dict[str, Any]) -> None:
    values = stream(seed)
    reference: Any = river_drift.ADWIN  # river has no type hints
    expected = river_detections(reference(**parameters), values)
    assert expected
    assert ADWIN(**parameters).update_many(values).tolist() == expected


@pytest.mark.parametrize("max_buckets", [1, 2, 5])
def test_adwin_bucket_layout_follows_from_the_window_length(max_buckets: int) -> None:
    # A constant stream never drifts, so the window grows value by value.
    detector = ADWIN(max_buckets=max_buckets)
    lengths = np.arange(1, 3_001)
    counts = bucket_counts(lengths, max_buckets)
    for t in lengths.tolist():
        detector.update(1.0)
        expected_counts, expected_ends = bucket_layout(t, max_buckets)
        assert detector._counts[: len(expected_counts)] == expected_counts
        assert detector._ends == expected_ends
        assert counts[t - 1, : len(expected_counts)].tolist() == expected_counts
        assert sum(c << i for i, c in enumerate(expected_counts)) == t
        assert all(c <= max_buckets for c in expected_counts)
    assert detector.n_buckets == len(detector._ends)


def test_adwin_window_statistics() -> None:
    detector = ADWIN()
    values = np.random.default_rng(0).normal(3.0, 2.0, 1_000)
    assert detector.update_many(values).size == 0
    assert detector.width == 1_000
    assert detector.estimation == pytest.approx(values.mean())
    assert detector.variance == pytest.approx(values.var())


def test_adwin_drops_its_window_after_a_detection() -> None:
    detector = ADWIN()
    values = np.concatenate([np.zeros(1_000), np.ones(1_000)])
    (found,) = detector.update_many(values).tolist()
    assert 1_000 <= found < 1_100
    assert detector.width == values.size - found - 1
    detector = ADWIN()
    detector.update_many(values[: found + 1])
    assert detector.drift_detected
    assert detector.width == found + 1
    detector.update(1.0)
    assert detector.width == 1


# --- Page-Hinkley ----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(9))
@pytest.mark.parametrize("mode", ["up", "down", "both"])
def test_page_hinkley_agrees_with_river(seed: int, mode: Mode) -> None:
    values = stream(seed)
    expected = river_detections(river_drift.PageHinkley(mode=mode), values)
    assert PageHinkley(mode=mode).update_many(values).tolist() == expected


def test_page_hinkley_modes() -> None:
    falling = np.concatenate([np.full(200, 10.0), np.full(200, 0.0)])
    assert PageHinkley(mode="up").update_many(falling).size == 0
    assert PageHinkley(mode="down").update_many(falling).tolist() == [205]
    assert PageHinkley(mode="both").update_many(falling).tolist() == [205]
    assert PageHinkley(mode="up").update_many(-falling).tolist() == [205]


def test_page_hinkley_waits_for_min_instances() -> None:
    jump = np.concatenate([np.zeros(5), np.full(100, 1e3)])
    assert PageHinkley(min_instances=50).update_many(jump).tolist() == [49]


# --- CUSUM -----------------------------------------------------------------------------------


def tabular_cusum(values: Floats, mean: float, std: float, k: float, h: float) -> int | None:
    """Montgomery's tabular CUSUM, as printed."""
    high = low = 0.0
    for i, x in enumerate(values.tolist()):
        z = (x - mean) / std
        high = max(0.0, high + z - k)
        low = max(0.0, low - z - k)
        if high > h or low > h:
            return i
    return None


@pytest.mark.parametrize("seed", range(10))
def test_cusum_is_the_tabular_cusum(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = np.concatenate([rng.normal(10.0, 2.0, 300), rng.normal(11.5, 2.0, 300)])
    detector = CUSUM(mean=10.0, std=2.0)
    found = detector.update_many(values).tolist()
    assert found[:1] == [tabular_cusum(values, 10.0, 2.0, 0.5, 5.0)]


def test_cusum_statistics_are_the_tabular_sums() -> None:
    values = np.array([1.0, 2.5, -0.5, 3.0, 0.0, -4.0])
    detector = CUSUM(mean=0.0, std=1.0, h=100.0)
    high = low = 0.0
    for x in values.tolist():
        detector.update(x)
        high, low = max(0.0, high + x - 0.5), max(0.0, low - x - 0.5)
        assert detector.statistics == pytest.approx((high, low))


def test_cusum_learns_the_level_in_its_warm_up() -> None:
    rng = np.random.default_rng(1)
    warm_up = rng.normal(50.0, 5.0, 30)
    detector = CUSUM()
    detector.update_many(warm_up)
    assert detector.level == pytest.approx((warm_up.mean(), warm_up.std(ddof=1)))
    assert detector.update_many(np.full(10, 50.0)).size == 0
    assert detector.update_many(np.full(10, 80.0)).tolist() == [0]
    detector.update(50.0)
    assert detector.level is None


def test_cusum_batches_report_the_value_that_completes_a_batch() -> None:
    rng = np.random.default_rng(2)
    values = np.concatenate([rng.random(1_500) < 0.1, rng.random(1_000) < 0.4]).astype(float)
    (found, *_) = CUSUM(batch=50).update_many(values).tolist()
    assert found % 50 == 49
    assert 1_500 <= found < 1_700


def test_cusum_floors_the_spread_of_a_constant_warm_up() -> None:
    detector = CUSUM(min_std=0.1)
    detector.update_many(np.zeros(30))
    assert detector.level == (0.0, 0.1)
    # Each 0.2 is two floored deviations: the upper sum climbs 1.5 a value and passes 5 at 6.
    assert detector.update_many(np.array([0.0, 0.2, 0.2, 0.2, 0.2])).tolist() == [4]


# --- HDDM_A, HDDM_W, EDDM, FHDDM: river's recurrences ------------------------------------------


def error_stream(seed: int) -> Floats:
    """0/1 errors whose rate changes every 3,000 values."""
    rng = np.random.default_rng(seed)
    parts = [rng.random(3_000) < rate for rate in rng.uniform(0.02, 0.6, 6)]
    return np.concatenate(parts).astype(np.float64)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("two_sided", [False, True])
def test_hddm_agrees_with_river(seed: int, two_sided: bool) -> None:
    values = error_stream(seed)
    for ours, theirs in [(HDDM_A, river_drift.binary.HDDMA), (HDDM_W, river_drift.binary.HDDMW)]:
        expected = river_detections(theirs(two_sided_test=two_sided), values)
        assert expected
        assert ours(two_sided=two_sided).update_many(values).tolist() == expected


@pytest.mark.parametrize("seed", range(6))
def test_eddm_agrees_with_river(seed: int) -> None:
    values = error_stream(seed)
    expected = river_detections(river_drift.binary.EDDM(), values)
    assert expected
    assert EDDM().update_many(values).tolist() == expected


@pytest.mark.parametrize("seed", range(6))
def test_fhddm_on_errors_is_river_on_successes(seed: int) -> None:
    values = error_stream(seed)
    expected = river_detections(river_drift.binary.FHDDM(), 1.0 - values)
    assert expected
    assert FHDDM().update_many(values).tolist() == expected


def test_hddm_w_two_sided_flags_a_fall() -> None:
    rng = np.random.default_rng(4)
    falling = np.concatenate([rng.random(2_000) < 0.3, rng.random(2_000) < 0.05]).astype(float)
    assert HDDM_W(drift_confidence=1e-5).update_many(falling).tolist() == []
    assert HDDM_W(drift_confidence=1e-5, two_sided=True).update_many(falling).tolist() == [2082]


def test_eddm_looks_only_at_errors() -> None:
    detector = EDDM()
    # Correct predictions move nothing but the clock: no detection, however many.
    assert detector.update_many(np.zeros(10_000)).tolist() == []
    with pytest.raises(ValueError, match="0/1"):
        detector.update(0.5)


def test_fhddm_waits_for_a_full_window() -> None:
    # All correct, then all wrong: the first full window with errors above the bound.
    values = np.concatenate([np.zeros(100), np.ones(100)])
    (found,) = FHDDM().update_many(values).tolist()
    assert FHDDM().epsilon == pytest.approx(0.2628, abs=1e-4)
    assert found == 126  # the 27th error: 27 in the last 100 values, 0.27 > epsilon


# --- EWMA chart --------------------------------------------------------------------------------


def textbook_ewma(values: Floats, lambda_: float, threshold: float, start: int) -> int | None:
    """Roberts' chart with the running mean and variance since the first value, as printed."""
    for t in range(start, values.size + 1):
        seen = values[:t]
        z = seen[0]
        for x in seen[1:].tolist():
            z = (1 - lambda_) * z + lambda_ * x
        sd = max(seen.std(), 1e-3) * np.sqrt(
            lambda_ / (2 - lambda_) * (1 - (1 - lambda_) ** (2 * t))
        )
        if abs(z - seen.mean()) > threshold * sd:
            return t - 1
    return None


@pytest.mark.parametrize("seed", range(4))
def test_ewma_chart_is_the_textbook_chart(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = np.concatenate([rng.normal(0.0, 1.0, 200), rng.normal(1.5, 1.0, 100)])
    found = EWMAChart(lambda_=0.2, threshold=3.0, min_instances=20).update_many(values).tolist()
    assert found[:1] == [textbook_ewma(values, 0.2, 3.0, 20)]


def test_ewma_chart_modes() -> None:
    rng = np.random.default_rng(5)
    falling = np.concatenate([rng.normal(10.0, 1.0, 300), rng.normal(8.0, 1.0, 300)])
    assert EWMAChart(mode="up").update_many(falling).tolist() == []
    assert EWMAChart(mode="down").update_many(falling).tolist() == [312]
    assert EWMAChart(mode="up").update_many(-falling).tolist() == [312]


# --- KSWIN ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_kswin_agrees_with_river(seed: int) -> None:
    values = stream(seed)[:9_000] if seed % 3 else error_stream(seed)[:9_000]
    reference: Any = river_drift.KSWIN
    expected = river_detections(reference(seed=seed), values)
    assert expected
    assert KSWIN(seed=seed).update_many(values).tolist() == expected


def test_kswin_waits_for_a_full_window() -> None:
    jump = np.concatenate([np.zeros(60), np.ones(60)])
    # The newest 30 values are all ones once 30 ones have arrived, but the window holds 100
    # values only at the 100th: the first test runs there, with 40 ones among the newest 30.
    assert KSWIN().update_many(jump).tolist() == [99]


# --- Vote ----------------------------------------------------------------------------------------


def test_vote_needs_its_quorum_within_the_window() -> None:
    rng = np.random.default_rng(3)
    values = np.concatenate([rng.random(3_000) < 0.1, rng.random(3_000) < 0.4]).astype(float)
    alone = [
        ADWIN().update_many(values).tolist(),
        PageHinkley(mode="up").update_many(values).tolist(),
        EWMAChart(threshold=3.5, mode="up").update_many(values).tolist(),
    ]
    assert alone == [[3103], [3121], [3008]]
    # A quorum of k members: the k-th earliest member's detection, when they are close enough.
    assert Vote(quorum=1).update_many(values).tolist() == [3008]
    assert Vote().update_many(values).tolist() == [3103]
    assert Vote(quorum=3, window=1_000).update_many(values).tolist() == [3121]
    assert Vote(quorum=3, window=1).update_many(values).tolist() == []


def test_vote_members_start_afresh_together() -> None:
    vote = Vote(quorum=1, members=lambda: [PageHinkley(mode="up", threshold=5.0)])
    jump = np.concatenate([np.zeros(100), np.ones(100)])
    (found,) = vote.update_many(jump).tolist()
    assert found == PageHinkley(mode="up", threshold=5.0).update_many(jump).tolist()[0]
    vote.update(0.0)
    assert not vote.drift_detected


# --- BOCPD -----------------------------------------------------------------------------------


def textbook_bocpd(values: Floats, hazard: float, threshold: float, warm_up: int) -> list[int]:
    """Adams & MacKay's recursion with the whole run-length posterior, a Beta(1, 1) prior, the
    rule of :class:`BOCPD` on a rise, and a fresh start after each detection."""
    found: list[int] = []
    start = 0
    while start < values.size:
        mass, alpha, beta = np.ones(1), np.ones(1), np.ones(1)
        hit = None
        for i in range(start, values.size):
            x = values[i]
            rates = alpha / (alpha + beta)
            joint = mass * (rates if x == 1.0 else 1.0 - rates)
            mass = np.concatenate(([hazard * joint.sum()], joint * (1 - hazard)))
            mass /= mass.sum()
            alpha = np.concatenate(([1.0], alpha + x))
            beta = np.concatenate(([1.0], beta + 1 - x))
            changed = 1.0 - mass[-1]
            if i - start + 1 >= warm_up and changed > threshold:
                rates = alpha / (alpha + beta)
                if mass[:-1] @ rates[:-1] / changed > rates[-1]:
                    hit = i
                    break
        if hit is None:
            break
        found.append(hit)
        start = hit + 1
    return found


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(("hazard", "threshold"), [(1e-4, 0.8), (1e-3, 0.5)])
def test_bocpd_is_the_textbook_recursion_when_no_run_is_truncated(
    seed: int, hazard: float, threshold: float
) -> None:
    rng = np.random.default_rng(seed)
    rates = np.sort(rng.uniform(0.05, 0.6, 3))
    values = np.concatenate([rng.random(600) < rate for rate in rates]).astype(float)
    expected = textbook_bocpd(values, hazard, threshold, warm_up=30)
    assert expected
    detector = BOCPD(hazard=hazard, threshold=threshold, max_run=values.size + 1)
    assert detector.update_many(values).tolist() == expected


def test_bocpd_detections_on_seeded_streams() -> None:
    rising = np.concatenate([np.random.default_rng(3).random(3_000) < 0.1] * 2).astype(float)
    rising[3_000:] = np.random.default_rng(4).random(3_000) < 0.3
    assert BOCPD().update_many(rising).tolist() == [3244]
    assert BOCPD(mode="down").update_many(rising).tolist() == []
    assert BOCPD(mode="down").update_many(rising[::-1].copy()).tolist() == [3100]
    assert BOCPD(mode="both").update_many(rising).tolist() == [3244]


def test_bocpd_memory_is_bounded_by_max_run() -> None:
    detector = BOCPD(max_run=50)
    values = (np.random.default_rng(0).random(5_000) < 0.2).astype(float)
    assert detector.update_many(values).size == 0
    assert detector._mass.size == 50
    assert detector._mass.sum() == pytest.approx(1.0)
    # The longest bucket follows the newest 49 values.
    assert detector._alpha[-1] == 1.0 + values[-49:].sum()


def test_bocpd_takes_error_probabilities() -> None:
    rng = np.random.default_rng(2)
    probabilities = np.concatenate([rng.uniform(0.0, 0.3, 2_000), rng.uniform(0.3, 0.8, 500)])
    assert BOCPD().update_many(probabilities).tolist() == [2022]
