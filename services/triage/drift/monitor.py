"""Drift monitoring of devices from their telemetry windows: references, detectors, cool-down.

For each device and model version the monitor keeps a reference (an explicit reference window,
or the first windows of the model version) and compares every later window with it: the output
scores and each input feature with a distribution detector, the errors against confirmed outcomes
with a stream detector. One drift makes one signal: a subject that drifted is latched and signals
again only after it stayed back within its threshold for ``rearm_windows`` windows, and the
subjects that drift in the same window are reported together in a single ``DriftDetected``.
When the distribution detector gives p-values (KS), the p-values of one window's subjects are
corrected together (``MonitorPolicy.multiple_testing``): a window of 50 features tested at 0.01
each would otherwise flag some feature in about one window in three without any drift.
"""

from __future__ import annotations

import logging
import uuid
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from services.triage.drift import DISTRIBUTION_DETECTORS, STREAM_DETECTORS
from services.triage.drift.detectors import (
    DistributionDetector,
    DistributionResult,
    Histogram,
    HistogramDetector,
    StreamDetector,
)
from services.triage.drift.multiple import benjamini_hochberg, bonferroni
from services.triage.drift.store import FileStore, StateStore
from vigie import metrics
from vigie.contracts import (
    DeviceRef,
    DriftDetected,
    DriftMonitorState,
    DriftReference,
    SignalSeverity,
    TelemetryWindow,
)

log = logging.getLogger(__name__)

# Namespace of signal ids: a redelivered window yields the same signal id (registry upserts).
_SIGNAL_NAMESPACE = uuid.UUID("6f1c2a8e-5b0d-4f57-9a43-2c7d0c6e9b11")
SCORE = "score"
# Signals kept per device to send again when their window is redelivered.
_RAISED_KEPT = 100
ERRORS = "error_rate"
MultipleTesting = Literal["none", "bonferroni", "benjamini_hochberg"]
MULTIPLE_TESTING: tuple[MultipleTesting, ...] = ("none", "bonferroni", "benjamini_hochberg")


@dataclass(frozen=True)
class MonitorPolicy:
    """Knobs of the drift monitor."""

    distribution_detector: str = "psi"
    stream_detector: str = "adwin"
    reference_windows: int = 3
    rearm_windows: int = 3
    min_sample: int = 50
    # A statistic this many times its threshold makes a high-severity signal.
    high_ratio: float = 2.0
    # Thresholds for windows of a few hundred values; detectors not named keep their default.
    # Wasserstein's default (a tenth of a standard deviation) is within the sampling noise of
    # such windows; a quarter of a standard deviation is not.
    thresholds: Mapping[str, float] = field(default_factory=lambda: {"wasserstein": 0.25})
    # CUSUM on raw 0/1 errors alarms every few hundred values; on means of 50 it does not.
    stream_params: Mapping[str, Mapping[str, Any]] = field(
        default_factory=lambda: {"cusum": {"batch": 50}}
    )
    # How the p-values of one window's subjects are corrected together (detectors with p-values
    # only): the false discovery rate (Benjamini-Hochberg) or the family-wise error rate
    # (Bonferroni) at the detector's level, or each subject alone ("none").
    multiple_testing: MultipleTesting = "benjamini_hochberg"

    def __post_init__(self) -> None:
        if self.distribution_detector not in DISTRIBUTION_DETECTORS:
            raise ValueError(
                f"unknown distribution detector {self.distribution_detector!r}; "
                f"choose one of {sorted(DISTRIBUTION_DETECTORS)}"
            )
        if self.stream_detector not in STREAM_DETECTORS:
            raise ValueError(
                f"unknown stream detector {self.stream_detector!r}; "
                f"choose one of {sorted(STREAM_DETECTORS)}"
            )
        if self.reference_windows < 1 or self.rearm_windows < 1:
            raise ValueError("reference_windows and rearm_windows must be at least 1")
        if self.multiple_testing not in MULTIPLE_TESTING:
            raise ValueError(
                f"unknown multiple-testing correction {self.multiple_testing!r}; "
                f"choose one of {list(MULTIPLE_TESTING)}"
            )


def device_key(device: DeviceRef) -> str:
    """One device and model version (manufacturer and name compared case-insensitively)."""
    return "|".join((device.manufacturer.casefold(), device.name.casefold(), device.model_version))


def _subjects(window: TelemetryWindow) -> dict[str, np.ndarray | Histogram]:
    """What a window says about each distribution subject: a sample, else a histogram."""
    found: dict[str, np.ndarray | Histogram] = {}
    for name, sample, histogram in [
        (SCORE, window.score_sample, window.score_histogram),
        *((f"feature:{f.name}", f.sample, f.histogram) for f in window.features),
    ]:
        if sample:
            found[name] = np.asarray(sample, dtype=np.float64)
        elif histogram is not None:
            found[name] = Histogram(
                np.asarray(histogram.edges, dtype=np.float64),
                np.asarray(histogram.counts, dtype=np.float64),
            )
    return found


def _errors(window: TelemetryWindow) -> np.ndarray | None:
    """The window's confirmed outcomes as a 0/1 error stream (errors spread evenly)."""
    c = window.confusion
    if c is None:
        return None
    total = c.true_positive + c.false_positive + c.true_negative + c.false_negative
    wrong = c.false_positive + c.false_negative
    if total == 0:
        return None
    # Evenly spread: the order of errors inside a window is unknown, and a deterministic
    # layout keeps replays reproducible.
    positions = np.floor(np.arange(wrong) * total / max(wrong, 1)).astype(int)
    stream = np.zeros(total)
    stream[positions] = 1.0
    return stream


def _with_window(ref: DriftReference, window: TelemetryWindow) -> DriftReference:
    """``ref`` with ``window`` added: samples appended, histograms on the same bins summed."""
    samples = {k: list(v) for k, v in ref.samples.items()}
    histograms = dict(ref.histograms)
    for subject, value in _subjects(window).items():
        if isinstance(value, Histogram):
            edges, counts = histograms.get(subject, (list(value.edges), []))
            if list(value.edges) == edges:
                summed = np.asarray(counts) + value.counts if counts else value.counts
                histograms[subject] = (edges, [float(c) for c in summed])
        else:
            samples.setdefault(subject, []).extend(float(v) for v in value)
    return DriftReference(
        samples=samples,
        histograms=histograms,
        start=min(ref.start or window.window_start, window.window_start),
        end=max(ref.end or window.window_end, window.window_end),
        windows=ref.windows + 1,
        explicit=ref.explicit,
    )


@dataclass
class _DeviceState:
    device: DeviceRef
    # Immutable: replaced (not changed) while it is being learned, so saving it costs nothing.
    reference: DriftReference = field(default_factory=DriftReference)
    detectors: dict[str, DistributionDetector] = field(default_factory=dict)
    stream: StreamDetector | None = None
    latched: dict[str, int] = field(default_factory=dict)  # subject -> calm windows since
    error_rates: deque[float] = field(default_factory=lambda: deque(maxlen=20))
    seen: deque[uuid.UUID] = field(default_factory=lambda: deque(maxlen=1000))
    raised: dict[str, DriftDetected] = field(default_factory=dict)
    version: int = 0


class DriftMonitor:
    """Turns telemetry windows into drift signals; its state lives in a :class:`StateStore`
    (a compacted Kafka topic in the service, a folder with ``state_dir``, memory otherwise)."""

    def __init__(
        self,
        policy: MonitorPolicy,
        *,
        store: StateStore | None = None,
        state_dir: Path | None = None,
    ) -> None:
        self.policy = policy
        self._store = store if store is not None else FileStore(state_dir) if state_dir else None
        self._devices: dict[str, _DeviceState] = {}

    # --- persistence -------------------------------------------------------------------------

    def _save(self, key: str, state: _DeviceState) -> None:
        state.version += 1
        if self._store is None:
            return
        self._store.put(
            key,
            # Built from the monitor's own validated parts: no second validation per window.
            DriftMonitorState.model_construct(
                device=state.device,
                version=state.version,
                reference=state.reference,
                latched=dict(state.latched),
                seen=list(state.seen),
                raised=dict(state.raised),
            ),
        )

    @staticmethod
    def _restore(stored: DriftMonitorState) -> _DeviceState:
        state = _DeviceState(device=stored.device, version=stored.version)
        state.reference = stored.reference
        state.latched = dict(stored.latched)
        state.seen.extend(stored.seen)
        state.raised = dict(stored.raised)
        return state

    # --- monitoring --------------------------------------------------------------------------

    def _state(self, device: DeviceRef) -> tuple[str, _DeviceState]:
        key = device_key(device)
        state = self._devices.get(key)
        if self._store is not None and (state is None or self._store.shared):
            # Another instance may have owned the device since: its newer state wins.
            stored = self._store.get(key)
            if stored is not None and (state is None or stored.version > state.version):
                state = self._devices[key] = self._restore(stored)
        if state is None:
            state = self._devices[key] = _DeviceState(device=device)
        return key, state

    def _reference_ready(self, state: _DeviceState) -> bool:
        ref = state.reference
        return ref.explicit or ref.windows >= self.policy.reference_windows

    def _detector(self, state: _DeviceState, subject: str) -> DistributionDetector | None:
        detector = state.detectors.get(subject)
        if detector is not None:
            return detector
        name = self.policy.distribution_detector
        cls = DISTRIBUTION_DETECTORS[name]
        params = (
            {"threshold": self.policy.thresholds[name]} if name in self.policy.thresholds else {}
        )
        ref = state.reference
        if subject in ref.samples and len(ref.samples[subject]) >= self.policy.min_sample:
            reference = np.asarray(ref.samples[subject], dtype=np.float64)
            detector = cls(reference, **params)  # type: ignore[call-arg, arg-type]
        elif subject in ref.histograms and issubclass(cls, HistogramDetector):
            edges, counts = ref.histograms[subject]
            detector = cls.from_histogram(edges, counts, **params)
        else:
            return None
        state.detectors[subject] = detector
        return detector

    def observe(self, window: TelemetryWindow) -> list[DriftDetected]:
        """Take one window; returns the signal it raises (at most one), if any."""
        key, state = self._state(window.device)
        event = str(window.event_id)
        if window.event_id in state.seen:
            # Redelivered or re-sent by a device's spool: the same signal again, if it raised
            # one (the registry upserts on its id), so a crash before publishing loses nothing.
            return [state.raised[event]] if event in state.raised else []
        state.seen.append(window.event_id)
        if window.reference:
            state.reference = _with_window(DriftReference(explicit=True), window)
            state.detectors.clear()
            state.stream = None
            state.latched.clear()
            self._save(key, state)
            log.info("drift reference registered", extra={"device": key})
            return []
        if not self._reference_ready(state):
            state.reference = _with_window(state.reference, window)
            self._save(key, state)
            return []
        signals = self._compare(state, window)
        for signal in signals:
            state.raised[event] = signal
        for old in list(state.raised)[:-_RAISED_KEPT]:
            del state.raised[old]
        self._save(key, state)
        return signals

    def observe_many(self, windows: Iterable[TelemetryWindow]) -> list[DriftDetected]:
        """Take windows in order; returns the signals they raise. The store is brought up to
        date first and its writes made durable last, before the caller commits offsets."""
        if self._store is not None:
            self._store.refresh()
        signals = [signal for window in windows for signal in self.observe(window)]
        if self._store is not None:
            self._store.flush()
        return signals

    def _compare(self, state: _DeviceState, window: TelemetryWindow) -> list[DriftDetected]:
        drifted: list[tuple[float, str, str, float, float, float | None]] = []
        results: list[tuple[str, DistributionResult]] = []
        for subject, value in _subjects(window).items():
            detector = self._detector(state, subject)
            if detector is None:
                continue
            if isinstance(value, Histogram):
                # Histograms compare bin by bin: only in the reference's own bins.
                if not isinstance(detector, HistogramDetector) or not np.array_equal(
                    detector.edges, value.edges
                ):
                    continue
                results.append((subject, detector.update_histogram(value.counts)))
            elif value.size >= self.policy.min_sample:
                results.append((subject, detector.update(value)))
        for (subject, result), drift in zip(results, self._corrected(results), strict=True):
            if drift:
                if result.p_value is not None:
                    # KS: the alarm is on the p-value, the statistic is the distance.
                    ratio = self.policy.high_ratio if result.p_value < 1e-6 else 1.0
                else:
                    ratio = result.statistic / result.threshold
                drifted.append(
                    (
                        ratio,
                        subject,
                        self.policy.distribution_detector,
                        result.statistic,
                        result.threshold,
                        result.p_value,
                    )
                )
            else:
                self._calm(state, subject)
        errors = _errors(window)
        if errors is not None:
            if state.stream is None:
                name = self.policy.stream_detector
                state.stream = STREAM_DETECTORS[name](**self.policy.stream_params.get(name, {}))
            hits = state.stream.update_many(errors)
            rate = float(errors.mean())
            if len(hits):
                # For a stream detector the "threshold" reported is the error rate before.
                before = float(np.mean(state.error_rates)) if state.error_rates else 0.0
                drifted.append(
                    (
                        self.policy.high_ratio,
                        ERRORS,
                        self.policy.stream_detector,
                        rate,
                        before,
                        None,
                    )
                )
            else:
                state.error_rates.append(rate)
                self._calm(state, ERRORS)
        fresh = [d for d in drifted if d[1] not in state.latched]
        for d in drifted:
            state.latched[d[1]] = 0
        if not fresh:
            for d in drifted:
                metrics.DRIFT_SUPPRESSED.labels(detector=d[2]).inc()
            return []
        fresh.sort(key=lambda d: (-d[0], d[1]))
        ratio, subject, detector_name, statistic, threshold, p_value = fresh[0]
        severity = self._severity(subject, ratio)
        others = [d[1] for d in fresh[1:]]
        ref = state.reference
        assert ref.start is not None and ref.end is not None
        device = window.device
        summary = (
            f"{device.name} {device.model_version}: {subject} drifted from its reference "
            f"({detector_name} {statistic:.3g}, threshold {threshold:.3g})"
        )
        if others:
            summary += f"; also {', '.join(others)}"
        signal = DriftDetected(
            signal_id=uuid.uuid5(
                _SIGNAL_NAMESPACE,
                f"{device_key(device)}|{subject}|{window.window_start.isoformat()}",
            ),
            device=device,
            detector=detector_name,
            subject=subject,
            statistic=statistic,
            threshold=threshold,
            p_value=p_value,
            reference_window=(ref.start, ref.end),
            current_window=(window.window_start, window.window_end),
            severity=severity,
            also_drifted=others,
            summary=summary[:500],
        )
        metrics.DRIFT_SIGNALS.labels(detector=detector_name, severity=severity.value).inc()
        return [signal]

    def _corrected(self, results: list[tuple[str, DistributionResult]]) -> list[bool]:
        """Whether each subject drifted, the p-values of the window's subjects corrected together
        at the detector's level (a single p-value needs no correction)."""
        drifts = [result.drift for _, result in results]
        tested = {
            i: result.p_value for i, (_, result) in enumerate(results) if result.p_value is not None
        }
        if self.policy.multiple_testing == "none" or len(tested) < 2:
            return drifts
        rule = bonferroni if self.policy.multiple_testing == "bonferroni" else benjamini_hochberg
        level = results[next(iter(tested))][1].threshold
        p_values = list(tested.values())
        for i, rejected in zip(tested, rule(p_values, level).tolist(), strict=True):
            drifts[i] = rejected
        return drifts

    def _calm(self, state: _DeviceState, subject: str) -> None:
        if subject in state.latched:
            state.latched[subject] += 1
            if state.latched[subject] >= self.policy.rearm_windows:
                del state.latched[subject]

    def _severity(self, subject: str, ratio: float) -> SignalSeverity:
        """High when far past the threshold; otherwise medium for what reaches patients (outputs,
        errors) and low for an input shift, which is a warning first."""
        if ratio >= self.policy.high_ratio:
            return SignalSeverity.HIGH
        return SignalSeverity.MEDIUM if subject in (SCORE, ERRORS) else SignalSeverity.LOW
