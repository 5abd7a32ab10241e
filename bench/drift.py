"""Drift detectors: throughput against river and scipy, detection quality on river's streams.

1. Throughput, single-threaded (numpy's element-wise operations and the scipy routines used here
   do not start threads). Distribution statistics score windows of 1,000 values against a
   reference of 5,000; the baseline is the straightforward call in the same run (scipy's
   ``ks_2samp``, ``wasserstein_distance``, ``jensenshannon`` on ``np.histogram`` counts, and
   ``np.histogram`` plus the formula for PSI, which scipy does not have). Stream detectors take
   a 0/1 error stream whose rate changes every 100,000 values; ``update_many`` is compared with
   river's detectors fed value by value (river has no CUSUM: the baseline is this package's own
   ``update()`` loop). Each figure is the median of ``--repeats`` runs.
2. Detection quality: a Hoeffding tree learns river's synthetic streams prequentially (SEA,
   Agrawal, two hyperplanes and STAGGER, each with an abrupt concept change at mid-stream
   joined by ``ConceptDriftStream``) and its 0/1 errors go to this package's detectors and to
   river's, the same error stream for all. Per stream and detector: the delay of the first
   detection at or after the change, the false alarms before it, and whether the change was
   missed (no detection within ``--horizon`` values after it), medians over the seeds.

``python -m bench.drift`` takes about a minute on 2 cores; ``--quick`` a fraction of that.
The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray
from river import drift as river_drift
from river import tree
from river.datasets import synth
from scipy import stats
from scipy.spatial import distance

from bench.common import finish, machine, median, say
from services.triage.drift import (
    ADWIN,
    CUSUM,
    PSI,
    JensenShannon,
    KolmogorovSmirnov,
    PageHinkley,
    StreamDetector,
    Wasserstein,
)
from services.triage.drift.detectors.ks import ks_p_value

Floats = NDArray[np.float64]

# river has no type hints.
RIVER_ADWIN: Any = river_drift.ADWIN
RIVER_PAGE_HINKLEY: Any = river_drift.PageHinkley


def cusum_for_errors() -> CUSUM:
    """CUSUM as documented for a 0/1 error stream: the means of batches of 50 predictions.

    The spread of a batch mean is floored at that of a 1% error rate, so that an error-free
    warm-up does not make the next error a huge deviation.
    """
    return CUSUM(batch=50, min_std=0.015)


def timed(run: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median seconds of ``repeats`` runs, and the last run's result."""
    seconds = []
    result = None
    for _ in range(repeats):
        started = time.perf_counter()
        result = run()
        seconds.append(time.perf_counter() - started)
    return median(seconds), result


# --- 1. throughput ---------------------------------------------------------------------------


def distribution_throughput(windows: int, repeats: int) -> dict[str, Any]:
    rng = np.random.default_rng(20070101)
    reference = rng.normal(0.0, 1.0, 5_000)
    batch = [rng.normal(0.3 if i % 2 else 0.0, 1.0, 1_000) for i in range(windows)]
    edges = PSI(reference).edges
    inner = edges[1:-1]
    reference_counts = np.bincount(np.searchsorted(inner, reference, side="right"), minlength=10)
    reference_share = np.maximum(reference_counts / reference.size, 1e-4)
    outer = np.concatenate(([-np.inf], inner, [np.inf]))

    def psi_baseline(window: Floats) -> float:
        share = np.maximum(np.histogram(window, bins=outer)[0] / window.size, 1e-4)
        return float(np.sum((share - reference_share) * np.log(share / reference_share)))

    def js_baseline(window: Floats) -> float:
        counts = np.histogram(window, bins=outer)[0]
        return float(distance.jensenshannon(reference_counts, counts, base=2))

    def ks_baseline(window: Floats) -> float:
        return float(stats.ks_2samp(reference, window, method="asymp").pvalue)

    scale = float(reference.std())

    def wasserstein_baseline(window: Floats) -> float:
        return float(stats.wasserstein_distance(reference, window)) / scale

    cases: list[tuple[str, Any, Callable[[Floats], float], str]] = [
        ("psi", PSI, psi_baseline, "np.histogram + formula"),
        ("ks", KolmogorovSmirnov, ks_baseline, "scipy ks_2samp(asymp)"),
        ("jensen_shannon", JensenShannon, js_baseline, "np.histogram + scipy jensenshannon"),
        ("wasserstein", Wasserstein, wasserstein_baseline, "scipy wasserstein_distance"),
    ]
    say(
        f"distribution statistics: {windows} windows of 1,000 values vs a reference of 5,000, "
        f"median of {repeats}"
    )
    say(
        f"  {'detector':<15} {'ours windows/s':>15} {'baseline windows/s':>19} {'ratio':>6}"
        f"  {'ours values/s':>14}  {'max |diff|':>10}  baseline"
    )
    figures: dict[str, Any] = {}
    for name, detector_class, baseline, label in cases:
        detector = detector_class(reference)

        def ours(detector: Any = detector) -> list[float]:
            # Each timed run starts without the KS p-values memoised by the previous one.
            ks_p_value.cache_clear()
            results = [detector.update(window) for window in batch]
            return [r.p_value if r.p_value is not None else r.statistic for r in results]

        def theirs(baseline: Callable[[Floats], float] = baseline) -> list[float]:
            return [baseline(window) for window in batch]

        ours_s, ours_values = timed(ours, repeats)
        base_s, base_values = timed(theirs, repeats)
        gap = float(np.max(np.abs(np.asarray(ours_values) - np.asarray(base_values))))
        rate, base_rate = windows / ours_s, windows / base_s
        say(
            f"  {name:<15} {rate:>15,.0f} {base_rate:>19,.0f} {rate / base_rate:>5.1f}x"
            f"  {rate * 1_000:>14,.0f}  {gap:>10.1e}  {label}"
        )
        figures[name] = {
            "windows_per_s": rate,
            "values_per_s": rate * 1_000,
            "baseline": label,
            "baseline_windows_per_s": base_rate,
            "ratio": rate / base_rate,
            "max_abs_diff": gap,
        }
    return figures


def error_stream(length: int, period: int, seed: int) -> Floats:
    """0/1 errors whose rate alternates between 10% and 30% every ``period`` values."""
    rng = np.random.default_rng(seed)
    rates = np.where((np.arange(length) // period) % 2 == 0, 0.1, 0.3)
    return (rng.random(length) < rates).astype(np.float64)


def loop_detections(detector: Any, values: list[float]) -> list[int]:
    found = []
    for i, x in enumerate(values):
        detector.update(x)
        if detector.drift_detected:
            found.append(i)
    return found


def stream_throughput(length: int, repeats: int) -> dict[str, Any]:
    values = error_stream(length, period=min(100_000, length // 10), seed=7)
    as_list = values.tolist()
    started = time.perf_counter()
    ADWIN().update_many(values[:200_000])  # builds ADWIN's cached split layout once
    warm_up = time.perf_counter() - started
    own = "own CUSUM.update() loop"
    cases: list[tuple[str, Callable[[], StreamDetector], Callable[[], Any], str]] = [
        ("adwin", ADWIN, RIVER_ADWIN, "river ADWIN (Rust core)"),
        ("page_hinkley", PageHinkley, RIVER_PAGE_HINKLEY, "river PageHinkley"),
        ("cusum", CUSUM, CUSUM, own),
        ("cusum_batch50", cusum_for_errors, cusum_for_errors, own),
    ]
    say(
        f"stream detectors: {length:,} 0/1 errors, rate 10%/30% alternating every "
        f"{min(100_000, length // 10):,}; median of {repeats}; values/s"
    )
    say(f"  (one untimed update_many run first: ADWIN's split-layout cache, {warm_up:.2f} s)")
    say(
        f"  {'detector':<14} {'update_many':>12} {'baseline':>11} {'ratio':>6}"
        f" {'own update()':>13} {'detections':>10}  same as baseline  baseline"
    )
    figures: dict[str, Any] = {}
    for name, ours, baseline, label in cases:

        def vectorised(ours: Callable[[], StreamDetector] = ours) -> list[int]:
            return list(ours().update_many(values).tolist())

        def one_by_one(make: Callable[[], Any]) -> Callable[[], list[int]]:
            return lambda: loop_detections(make(), as_list)

        ours_s, found = timed(vectorised, repeats)
        base_s, expected = timed(one_by_one(baseline), repeats)
        loop_s = base_s if label == own else timed(one_by_one(ours), 1)[0]
        rate, base_rate, loop_rate = length / ours_s, length / base_s, length / loop_s
        say(
            f"  {name:<14} {rate:>12,.0f} {base_rate:>11,.0f} {rate / base_rate:>5.1f}x"
            f" {loop_rate:>13,.0f} {len(found):>10}  {'yes' if found == expected else 'NO':<16}"
            f"  {label}"
        )
        figures[name] = {
            "values_per_s": rate,
            "baseline": label,
            "baseline_values_per_s": base_rate,
            "ratio": rate / base_rate,
            "own_update_loop_values_per_s": loop_rate,
            "detections": len(found),
            "same_detections_as_baseline": found == expected,
        }
    figures["adwin_layout_warm_up_s"] = warm_up
    return figures


# --- 2. detection quality --------------------------------------------------------------------


def concept_streams(seed: int, change: int) -> dict[str, Any]:
    """River's synthetic streams with an abrupt change of concept at ``change``."""

    def joined(before: Any, after: Any) -> Any:
        # A narrow sigmoid (width 100) is an abrupt change; narrower overflows river's exp().
        return synth.ConceptDriftStream(before, after, position=change, width=100, seed=seed)

    return {
        "sea": joined(synth.SEA(variant=0, seed=seed), synth.SEA(variant=3, seed=seed)),
        "agrawal": joined(
            synth.Agrawal(classification_function=0, seed=seed),
            synth.Agrawal(classification_function=2, seed=seed),
        ),
        "hyperplane": joined(
            synth.Hyperplane(seed=seed, mag_change=0.001),
            synth.Hyperplane(seed=seed + 1_000, mag_change=0.001),
        ),
        "stagger": joined(
            synth.STAGGER(classification_function=0, seed=seed),
            synth.STAGGER(classification_function=2, seed=seed),
        ),
    }


def prequential_errors(stream: Any, length: int) -> Floats:
    """Test-then-train a Hoeffding tree; 1 where it was wrong."""
    model: Any = tree.HoeffdingTreeClassifier()
    errors = np.empty(length)
    for i, (x, y) in enumerate(stream.take(length)):
        errors[i] = model.predict_one(x) != y
        model.learn_one(x, y)
    return errors


QUALITY_DETECTORS: dict[str, Callable[[Floats], list[int]]] = {
    "adwin": lambda e: list(ADWIN().update_many(e).tolist()),
    "river_adwin": lambda e: loop_detections(RIVER_ADWIN(), e.tolist()),
    "page_hinkley": lambda e: list(PageHinkley().update_many(e).tolist()),
    "river_page_hinkley": lambda e: loop_detections(RIVER_PAGE_HINKLEY(), e.tolist()),
    "page_hinkley_up": lambda e: list(PageHinkley(mode="up").update_many(e).tolist()),
    "cusum_batch50": lambda e: list(cusum_for_errors().update_many(e).tolist()),
}


def quality(seeds: int, length: int, horizon: int) -> dict[str, Any]:
    change = length // 2
    say(
        f"detection quality: Hoeffding tree errors, {length:,} values per stream, concept change "
        f"at {change:,}, {seeds} seeds; medians (missed: no detection within {horizon:,})"
    )
    runs: dict[str, dict[str, list[tuple[int | None, int]]]] = {}
    for seed in range(seeds):
        for stream_name, stream in concept_streams(seed, change).items():
            errors = prequential_errors(stream, length)
            for detector_name, detect in QUALITY_DETECTORS.items():
                found = detect(errors)
                after = [i - change for i in found if i >= change]
                delay = after[0] if after and after[0] < horizon else None
                false_alarms = sum(1 for i in found if i < change)
                runs.setdefault(stream_name, {}).setdefault(detector_name, []).append(
                    (delay, false_alarms)
                )
    say(
        f"  {'stream':<11} {'detector':<19} {'median delay':>12} {'false alarms':>12} {'missed':>7}"
    )
    figures: dict[str, Any] = {}
    for stream_name, by_detector in runs.items():
        for detector_name, results in by_detector.items():
            delays = [d for d, _ in results if d is not None]
            median_delay = float(statistics.median(delays)) if delays else None
            alarms = statistics.median([a for _, a in results])
            missed = sum(1 for d, _ in results if d is None)
            shown = "-" if median_delay is None else f"{median_delay:,.0f}"
            say(
                f"  {stream_name:<11} {detector_name:<19} {shown:>12} {alarms:>12.1f}"
                f" {missed:>4}/{len(results)}"
            )
            figures.setdefault(stream_name, {})[detector_name] = {
                "median_delay": median_delay,
                "median_false_alarms": alarms,
                "missed": missed,
                "runs": len(results),
                "delays": [d for d, _ in results],
                "false_alarms": [a for _, a in results],
            }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller runs, under a minute")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    quick = args.quick
    started = time.perf_counter()
    say(f"machine: {machine()}")
    figures: dict[str, Any] = {"machine": machine(), "quick": quick, "repeats": args.repeats}
    figures["distribution"] = distribution_throughput(300 if quick else 2_000, args.repeats)
    say()
    figures["stream"] = stream_throughput(200_000 if quick else 1_000_000, args.repeats)
    say()
    figures["quality"] = quality(
        seeds=2 if quick else 5, length=10_000 if quick else 20_000, horizon=2_000
    )
    figures["seconds"] = time.perf_counter() - started
    say()
    say(f"total {figures['seconds']:.0f} s")
    finish(figures)


if __name__ == "__main__":
    main()
