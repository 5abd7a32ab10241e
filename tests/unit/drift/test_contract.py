"""The contract every drift detector keeps, run over every detector of the registry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from services.triage.drift import (
    ADWIN,
    BOCPD,
    CUSUM,
    DETECTORS,
    DISTRIBUTION_DETECTORS,
    EDDM,
    FHDDM,
    HDDM_A,
    HDDM_W,
    KSWIN,
    PSI,
    STREAM_DETECTORS,
    DistributionDetector,
    DistributionResult,
    EWMAChart,
    JensenShannon,
    KolmogorovSmirnov,
    PageHinkley,
    StreamDetector,
    Vote,
    Wasserstein,
)

Floats = NDArray[np.float64]


def errors(rates: list[float], length: int, seed: int) -> Floats:
    """A 0/1 error stream: ``length`` values at each error rate in turn."""
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.random(length) < rate for rate in rates]).astype(np.float64)


def mixed(seed: int) -> Floats:
    """A stream that changes often, in rate, level or shape."""
    rng = np.random.default_rng(seed)
    parts = []
    for _ in range(8):
        kind = rng.integers(3)
        size = int(rng.integers(500, 4000))
        if kind == 0:
            parts.append((rng.random(size) < rng.uniform(0.02, 0.6)).astype(np.float64))
        elif kind == 1:
            parts.append(rng.normal(rng.normal(0.0, 2.0), rng.uniform(0.1, 3.0), size))
        else:
            parts.append(rng.exponential(rng.uniform(0.5, 3.0), size) + 1e3)
    return np.concatenate(parts)


def mixed_errors(seed: int) -> Floats:
    """A 0/1 error stream whose rate goes up and down, for the detectors of bounded values."""
    rng = np.random.default_rng(seed)
    rates = [rng.uniform(0.01, 0.1) if i % 2 == 0 else rng.uniform(0.3, 0.7) for i in range(8)]
    parts = [rng.random(int(rng.integers(500, 4000))) < rate for rate in rates]
    return np.concatenate(parts).astype(np.float64)


# --- stream detectors ------------------------------------------------------------------------

# Each detector as it would watch a 0/1 error stream. The textbook CUSUM (h=5) expects a false
# alarm every ~465 in-control points, so the contract's chart watches batch means with h=8. At
# their published defaults HDDM_A, HDDM_W and FHDDM raise one false alarm, and EDDM a score of
# them, in the 10,000 stationary values of the quiet test: each case here is stricter.
STREAM_CASES: dict[str, Callable[[], StreamDetector]] = {
    "adwin": ADWIN,
    "page_hinkley": PageHinkley,
    "cusum": lambda: CUSUM(batch=25, h=8.0),
    "hddm_a": lambda: HDDM_A(drift_confidence=1e-4),
    "hddm_w": lambda: HDDM_W(drift_confidence=1e-5),
    "eddm": lambda: EDDM(warm_start=300, beta=0.8),
    "fhddm": lambda: FHDDM(window_size=200),
    "ewma": EWMAChart,
    "kswin": KSWIN,
    "vote": Vote,
    "bocpd": BOCPD,
}

# Detectors that take values in [0, 1] only (EDDM: 0 or 1).
BOUNDED = {"hddm_a", "hddm_w", "eddm", "fhddm", "bocpd"}

# How late after the rise the first detection may come. EDDM averages every distance between
# errors since its reset, so a step moves its statistic slowly: it was built for gradual drift.
LATEST = {"eddm": 1_000}

# Detections on errors([0.2, 0.5], 5_000, seed=3): the rate rises at 5,000. (CUSUM learns the
# new level after its reset from only 30 batch means and raises one more alarm.)
EXPECTED_DETECTIONS = {
    "adwin": [5087],
    "page_hinkley": [5176],
    "cusum": [5074, 6424],
    "hddm_a": [5193],
    "hddm_w": [5060],
    "eddm": [5782],
    "fhddm": [5110],
    "ewma": [5055],
    "kswin": [5043, 6759, 9245],
    "vote": [5087],
    "bocpd": [5051],
}

BAD_PARAMETERS: list[tuple[str, dict[str, Any]]] = [
    ("adwin", {"delta": 0.0}),
    ("adwin", {"delta": 1.5}),
    ("adwin", {"clock": 0}),
    ("adwin", {"max_buckets": 0}),
    ("adwin", {"min_window_length": 0}),
    ("adwin", {"grace_period": -1}),
    ("adwin", {"clock": 2.5}),
    ("page_hinkley", {"min_instances": 0}),
    ("page_hinkley", {"delta": -0.1}),
    ("page_hinkley", {"threshold": 0.0}),
    ("page_hinkley", {"alpha": 0.0}),
    ("page_hinkley", {"alpha": 1.5}),
    ("page_hinkley", {"mode": "sideways"}),
    ("cusum", {"k": -1.0}),
    ("cusum", {"h": 0.0}),
    ("cusum", {"min_instances": 1}),
    ("cusum", {"batch": 0}),
    ("cusum", {"std": -1.0}),
    ("cusum", {"mean": float("nan")}),
    ("cusum", {"mode": "sideways"}),
    ("cusum", {"min_std": 0.0}),
    ("hddm_a", {"drift_confidence": 0.0}),
    ("hddm_a", {"drift_confidence": 1.0}),
    ("hddm_w", {"drift_confidence": 1.5}),
    ("hddm_w", {"lambda_": 0.0}),
    ("eddm", {"warm_start": 0}),
    ("eddm", {"beta": 1.0}),
    ("fhddm", {"window_size": 1}),
    ("fhddm", {"confidence": 0.0}),
    ("ewma", {"lambda_": 1.0}),
    ("ewma", {"threshold": 0.0}),
    ("ewma", {"min_instances": 1}),
    ("ewma", {"min_std": -1.0}),
    ("ewma", {"mode": "sideways"}),
    ("kswin", {"alpha": 0.0}),
    ("kswin", {"stat_size": 1}),
    ("kswin", {"window_size": 50, "stat_size": 30}),
    ("kswin", {"seed": -1}),
    ("vote", {"quorum": 0}),
    ("vote", {"quorum": 4}),
    ("vote", {"window": 0}),
    ("bocpd", {"hazard": 0.0}),
    ("bocpd", {"hazard": 1.0}),
    ("bocpd", {"threshold": 1.0}),
    ("bocpd", {"max_run": 1}),
    ("bocpd", {"min_instances": 0}),
    ("bocpd", {"prior_alpha": 0.0}),
    ("bocpd", {"prior_beta": -1.0}),
    ("bocpd", {"mode": "sideways"}),
]


def detections_one_by_one(detector: StreamDetector, values: Floats) -> list[int]:
    return [i for i, x in enumerate(values.tolist()) if detector.update(x).drift_detected]


def test_registries_name_every_detector() -> None:
    assert set(STREAM_DETECTORS) == set(STREAM_CASES)
    assert set(DISTRIBUTION_DETECTORS) == set(DISTRIBUTION_CASES)
    assert DETECTORS == {**DISTRIBUTION_DETECTORS, **STREAM_DETECTORS}


@pytest.mark.parametrize("name", STREAM_CASES)
def test_stream_detector_is_quiet_on_a_stationary_stream(name: str) -> None:
    stream = errors([0.2], 10_000, seed=1)
    assert STREAM_CASES[name]().update_many(stream).tolist() == []
    assert detections_one_by_one(STREAM_CASES[name](), stream) == []


@pytest.mark.parametrize("name", STREAM_CASES)
def test_stream_detector_flags_a_rise_of_the_error_rate(name: str) -> None:
    stream = errors([0.2, 0.5], 5_000, seed=3)
    found = STREAM_CASES[name]().update_many(stream).tolist()
    assert found == EXPECTED_DETECTIONS[name]
    assert 5_000 <= found[0] < 5_000 + LATEST.get(name, 300)


@pytest.mark.parametrize("name", STREAM_CASES)
@pytest.mark.parametrize("seed", range(6))
def test_update_many_flags_exactly_what_update_flags(name: str, seed: int) -> None:
    stream = mixed_errors(seed) if name in BOUNDED else mixed(seed)
    expected = detections_one_by_one(STREAM_CASES[name](), stream)
    assert expected, "the stream should hold changes"
    assert STREAM_CASES[name]().update_many(stream).tolist() == expected

    # In pieces of any size, and mixed with single updates, from the same state.
    rng = np.random.default_rng(seed)
    detector = STREAM_CASES[name]()
    found: list[int] = []
    position = 0
    while position < stream.size:
        size = int(rng.integers(1, 3_000))
        if rng.random() < 0.2:
            for x in stream[position : position + size].tolist():
                if detector.update(x).drift_detected:
                    found.append(position)
                position += 1
        else:
            hits = detector.update_many(stream[position : position + size])
            found.extend((hits + position).tolist())
            position += min(size, stream.size - position)
    assert found == expected
    assert detector.n_detections == len(expected)


@pytest.mark.parametrize("name", STREAM_CASES)
def test_drift_flag_lasts_one_value(name: str) -> None:
    stream = errors([0.2, 0.5], 5_000, seed=3)
    detector = STREAM_CASES[name]()
    first = EXPECTED_DETECTIONS[name][0]
    detector.update_many(stream[: first + 1])
    assert detector.drift_detected
    detector.update(0.0)
    assert not detector.drift_detected


@pytest.mark.parametrize("name", STREAM_CASES)
def test_update_many_of_nothing_changes_nothing(name: str) -> None:
    detector = STREAM_CASES[name]()
    hits = detector.update_many(np.array([]))
    assert hits.dtype == np.int64
    assert hits.size == 0
    assert not detector.drift_detected


@pytest.mark.parametrize("name", STREAM_CASES)
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "high"])
def test_stream_detector_refuses_a_non_finite_value(name: str, bad: Any) -> None:
    with pytest.raises(ValueError):
        STREAM_CASES[name]().update(bad)


@pytest.mark.parametrize("name", STREAM_CASES)
def test_update_many_refuses_bad_arrays(name: str) -> None:
    with pytest.raises(ValueError, match="index 2"):
        STREAM_CASES[name]().update_many([0.0, 1.0, float("nan")])
    with pytest.raises(ValueError, match="one-dimensional"):
        STREAM_CASES[name]().update_many(np.zeros((3, 2)))


@pytest.mark.parametrize("name", sorted(BOUNDED))
@pytest.mark.parametrize("bad", [-0.5, 1.5, 7.0])
def test_bounded_detectors_refuse_values_outside_the_unit_interval(name: str, bad: float) -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\]|0/1"):
        STREAM_CASES[name]().update(bad)
    with pytest.raises(ValueError):
        STREAM_CASES[name]().update_many([0.0, 1.0, bad])


@pytest.mark.parametrize(("name", "parameters"), BAD_PARAMETERS)
def test_stream_detector_parameters_are_checked(name: str, parameters: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        STREAM_DETECTORS[name](**parameters)


# --- distribution detectors ------------------------------------------------------------------

DISTRIBUTION_CASES: dict[str, Callable[[Floats], DistributionDetector]] = {
    "psi": PSI,
    "ks": KolmogorovSmirnov,
    "jensen_shannon": JensenShannon,
    "wasserstein": Wasserstein,
}

BAD_DISTRIBUTION_PARAMETERS: list[tuple[str, dict[str, Any]]] = [
    ("psi", {"threshold": 0.0}),
    ("psi", {"threshold": -1.0}),
    ("psi", {"bins": 1}),
    ("psi", {"epsilon": 0.0}),
    ("ks", {"threshold": 0.0}),
    ("ks", {"threshold": 1.0}),
    ("jensen_shannon", {"threshold": 1.0}),
    ("jensen_shannon", {"bins": 0}),
    ("wasserstein", {"threshold": float("nan")}),
    ("wasserstein", {"scale": 0.0}),
]


def windows(seed: int, shift_from: int) -> tuple[Floats, list[Floats]]:
    """A reference of 5,000 values and ten windows of 1,000; the mean moves 0.8 sd at a window."""
    rng = np.random.default_rng(seed)
    reference = rng.normal(0.0, 1.0, 5_000)
    shifts = [0.0 if i < shift_from else 0.8 for i in range(10)]
    return reference, [rng.normal(shift, 1.0, 1_000) for shift in shifts]


@pytest.mark.parametrize("name", DISTRIBUTION_CASES)
def test_same_distribution_is_not_drift(name: str) -> None:
    rng = np.random.default_rng(11)
    detector = DISTRIBUTION_CASES[name](rng.normal(5.0, 2.0, 5_000))
    for _ in range(20):
        result = detector.update(rng.normal(5.0, 2.0, 1_000))
        assert isinstance(result, DistributionResult)
        assert not result.drift
        assert not detector.drift_detected
        if result.p_value is None:
            assert result.statistic < result.threshold
        else:
            assert result.p_value >= result.threshold


@pytest.mark.parametrize("name", DISTRIBUTION_CASES)
def test_shifted_windows_are_drift(name: str) -> None:
    reference, stream = windows(seed=5, shift_from=6)
    detector = DISTRIBUTION_CASES[name](reference)
    drifted = [i for i, window in enumerate(stream) if detector.update(window).drift]
    assert drifted == [6, 7, 8, 9]
    assert detector.drift_detected
    assert detector.last is not None
    assert detector.last.drift


@pytest.mark.parametrize("name", DISTRIBUTION_CASES)
def test_result_is_frozen_and_complete(name: str) -> None:
    reference, stream = windows(seed=5, shift_from=0)
    result = DISTRIBUTION_CASES[name](reference).update(stream[0])
    assert result.drift
    assert np.isfinite(result.statistic)
    assert (result.p_value is not None) == (name == "ks")
    with pytest.raises(AttributeError):
        result.drift = False  # type: ignore[misc]


@pytest.mark.parametrize("name", DISTRIBUTION_CASES)
@pytest.mark.parametrize(
    ("window", "message"),
    [
        ([], "empty"),
        ([1.0, float("nan"), 2.0], "index 1"),
        ([1.0, 2.0, float("inf")], "index 2"),
        ([[1.0, 2.0], [3.0, 4.0]], "one-dimensional"),
    ],
)
def test_bad_windows_are_refused(name: str, window: list[Any], message: str) -> None:
    detector = DISTRIBUTION_CASES[name](np.arange(100.0))
    with pytest.raises(ValueError, match=message):
        detector.update(window)


@pytest.mark.parametrize("name", DISTRIBUTION_CASES)
@pytest.mark.parametrize("reference", [[], [0.0, float("nan")], [[1.0]]])
def test_bad_references_are_refused(name: str, reference: list[Any]) -> None:
    with pytest.raises(ValueError, match="reference"):
        DISTRIBUTION_CASES[name](np.asarray(reference, dtype=np.float64))


@pytest.mark.parametrize(("name", "parameters"), BAD_DISTRIBUTION_PARAMETERS)
def test_distribution_parameters_are_checked(name: str, parameters: dict[str, Any]) -> None:
    build: Any = DISTRIBUTION_DETECTORS[name]  # every one takes a reference first
    with pytest.raises(ValueError):
        build(np.arange(100.0), **parameters)
