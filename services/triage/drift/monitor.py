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

import json
import logging
import uuid
from collections import OrderedDict, deque
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
from services.triage.drift.detectors.base import compare_together
from services.triage.drift.multiple import benjamini_hochberg, bonferroni
from services.triage.drift.store import LIVE, SEP, FileStore, StateStore
from vigie import metrics
from vigie.contracts import (
    DeviceRef,
    DriftDetected,
    DriftMonitorState,
    DriftReference,
    DriftStreamState,
    SignalSeverity,
    TelemetryWindow,
)

log = logging.getLogger(__name__)

# Namespace of signal ids: a redelivered window yields the same signal id (registry upserts).
_SIGNAL_NAMESPACE = uuid.UUID("6f1c2a8e-5b0d-4f57-9a43-2c7d0c6e9b11")
SCORE = "score"
# Windows remembered per device (with the signal each raised, to send again when that window
# is redelivered or re-sent by a device's spool).
_SEEN_KEPT = 1000
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


def _part(window: TelemetryWindow, *, explicit: bool = False) -> DriftReference:
    """What ``window`` adds to a reference: its samples and histograms."""
    samples: dict[str, list[float]] = {}
    histograms: dict[str, tuple[list[float], list[float]]] = {}
    for subject, value in _subjects(window).items():
        if isinstance(value, Histogram):
            histograms[subject] = (value.edges.tolist(), value.counts.tolist())
        else:
            samples[subject] = value.tolist()
    return DriftReference(
        samples=samples,
        histograms=histograms,
        start=window.window_start,
        end=window.window_end,
        windows=1,
        explicit=explicit,
    )


def _merged(ref: DriftReference, part: DriftReference) -> DriftReference:
    """``ref`` with ``part`` added: samples appended, histograms on the same bins summed."""
    if ref.windows == 0:
        return part
    samples = dict(ref.samples)
    for subject, values in part.samples.items():
        samples[subject] = samples.get(subject, []) + values
    histograms = dict(ref.histograms)
    for subject, (edges, counts) in part.histograms.items():
        known = histograms.get(subject)
        if known is None:
            histograms[subject] = (edges, counts)
        elif known[0] == edges:
            histograms[subject] = (edges, [a + b for a, b in zip(known[1], counts, strict=True)])
    assert ref.start is not None and ref.end is not None
    assert part.start is not None and part.end is not None
    return DriftReference(
        samples=samples,
        histograms=histograms,
        start=min(ref.start, part.start),
        end=max(ref.end, part.end),
        windows=ref.windows + part.windows,
        explicit=ref.explicit,
    )


def _reference_key(generation: int, index: int) -> str:
    return f"ref{SEP}{generation}{SEP}{index}"


def _seen_key(event_id: uuid.UUID) -> str:
    return f"seen{SEP}{event_id}"


@dataclass
class _DeviceState:
    device: DeviceRef
    # Immutable: replaced (not changed) while it is being learned.
    reference: DriftReference = field(default_factory=DriftReference)
    generation: int = 1
    parts: int = 0  # records of the reference in this generation
    detectors: dict[str, DistributionDetector] = field(default_factory=dict)
    stream: StreamDetector | None = None
    latched: dict[str, int] = field(default_factory=dict)  # subject -> calm windows since
    error_rates: deque[float] = field(default_factory=lambda: deque(maxlen=20))
    # Recent windows, oldest first, with the signal each raised.
    seen: OrderedDict[uuid.UUID, DriftDetected | None] = field(default_factory=OrderedDict)
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
        self._fresh_stream: dict[str, Any] | None = None
        self._dirty: set[str] = set()  # devices whose live state is not written yet
        # Windows of the batch measured ahead: their subjects and distribution results.
        self._ahead: dict[
            uuid.UUID, tuple[dict[str, np.ndarray | Histogram], dict[str, DistributionResult]]
        ] = {}

    # --- persistence -------------------------------------------------------------------------
    # What changed is written, and only that: a window of the reference once, a window taken
    # (with its signal), the live state (latches, error rates, the stream detector); see
    # :mod:`services.triage.drift.store`.

    def _put(self, key: str, name: str, value: bytes | None, version: int = 0) -> None:
        if self._store is not None:
            self._store.put(key, name, value, version=version)

    def _save(self, key: str, state: _DeviceState) -> None:
        """Count a change; the live state is written by :meth:`_write_live`, once a batch."""
        state.version += 1
        if self._store is not None:
            self._dirty.add(key)

    def _write_live(self) -> None:
        for key in self._dirty:
            state = self._devices[key]
            ref = state.reference
            live: dict[str, Any] = {
                "device": state.device.model_dump(mode="json", exclude_none=True),
                "version": state.version,
                # Where the reference stands; its windows are stored apart.
                "reference": {
                    "start": ref.start.isoformat() if ref.start else None,
                    "end": ref.end.isoformat() if ref.end else None,
                    "windows": ref.windows,
                    "explicit": ref.explicit,
                },
                "reference_generation": state.generation,
                "reference_parts": state.parts,
                "latched": state.latched,
                # Six significant digits: they only say what the error rate was before a drift.
                "error_rates": [float(f"{rate:.6g}") for rate in state.error_rates],
            }
            if state.stream is not None:
                live["stream"] = self._stream_state(state.stream)
            value = json.dumps(live, separators=(",", ":"), allow_nan=False).encode()
            self._put(key, LIVE, value, state.version)
        self._dirty.clear()

    def _stream_state(self, stream: StreamDetector) -> dict[str, Any]:
        name = self.policy.stream_detector
        if self._fresh_stream is None:
            self._fresh_stream = self._new_stream().snapshot()
        fresh = self._fresh_stream
        return {
            "detector": name,
            "parameters": dict(self.policy.stream_params.get(name, {})),
            # What differs from a detector just built (parameters and untouched parts do not).
            "snapshot": {
                attribute: value
                for attribute, value in stream.snapshot().items()
                if attribute not in fresh or fresh[attribute] != value
            },
        }

    def _remember(
        self, key: str, state: _DeviceState, event: uuid.UUID, signal: DriftDetected | None
    ) -> None:
        state.seen[event] = signal
        self._put(
            key, _seen_key(event), b"" if signal is None else signal.model_dump_json().encode()
        )
        while len(state.seen) > _SEEN_KEPT:
            old, _ = state.seen.popitem(last=False)
            self._put(key, _seen_key(old), None)

    def _restore(self, device: DeviceRef, records: Mapping[str, bytes]) -> _DeviceState | None:
        """A device's state from its records; None (learn afresh) when they are incomplete."""
        stored = DriftMonitorState.model_validate_json(records[LIVE])
        state = _DeviceState(device=stored.device, version=stored.version)
        state.latched = dict(stored.latched)
        state.error_rates.extend(stored.error_rates)
        if stored.reference_generation == 0:
            # A version-1 record: the reference, windows and signals all inside it. The
            # reference is stored apart from now on, as one record.
            state.reference = stored.reference
            state.seen.update((event, stored.raised.get(str(event))) for event in stored.seen)
            key = device_key(device)
            self._put(
                key,
                _reference_key(state.generation, 0),
                stored.reference.model_dump_json().encode(),
            )
            state.parts = 1
            self._dirty.add(key)
        else:
            state.generation = stored.reference_generation
            state.parts = stored.reference_parts
            reference = DriftReference()
            for index in range(stored.reference_parts):
                part = records.get(_reference_key(stored.reference_generation, index))
                if part is None:
                    log.error(
                        "drift reference incomplete: learnt again",
                        extra={"device": device_key(device), "missing": index},
                    )
                    return None
                reference = _merged(reference, DriftReference.model_validate_json(part))
            state.reference = reference
            seen = [
                (uuid.UUID(name.partition(SEP)[2]), value)
                for name, value in records.items()
                if name.startswith(f"seen{SEP}")
            ]
            for event, value in seen:
                state.seen[event] = DriftDetected.model_validate_json(value) if value else None
        state.stream = self._stream_from(stored.stream, device)
        return state

    def _stream_from(
        self, stored: DriftStreamState | None, device: DeviceRef
    ) -> StreamDetector | None:
        """The stream detector carried on from ``stored`` when it was built as the policy builds
        it now; otherwise a fresh one starts at the next errors."""
        name = self.policy.stream_detector
        if stored is None:
            return None
        if stored.detector != name or stored.parameters != dict(
            self.policy.stream_params.get(name, {})
        ):
            log.warning(
                "stream detector changed: it starts afresh",
                extra={"device": device_key(device), "was": stored.detector, "now": name},
            )
            return None
        detector = self._new_stream()
        try:
            return detector.restore(stored.snapshot)
        except (ValueError, TypeError, KeyError):
            log.error(
                "stream detector state unreadable: it starts afresh",
                extra={"device": device_key(device)},
            )
            return self._new_stream()

    def _new_stream(self) -> StreamDetector:
        name = self.policy.stream_detector
        return STREAM_DETECTORS[name](**self.policy.stream_params.get(name, {}))

    # --- monitoring --------------------------------------------------------------------------

    def _state(self, device: DeviceRef) -> tuple[str, _DeviceState]:
        key = device_key(device)
        state = self._devices.get(key)
        store = self._store
        if store is not None and (
            state is None or (store.shared and store.version(key) > state.version)
        ):
            # Another instance may have owned the device since: its newer state wins.
            records = store.records(key)
            if LIVE in records:
                try:
                    restored = self._restore(device, records)
                except ValueError as exc:  # pydantic's ValidationError included
                    log.error(
                        "drift state unreadable: the reference is learnt again",
                        extra={"device": key, "error": str(exc)[:300]},
                    )
                    restored = None
                if restored is None:
                    # Afresh, under a generation of its own after every version stored.
                    version = max(store.version(key), state.version if state else 0)
                    restored = _DeviceState(device=device, version=version, generation=version + 1)
                state = self._devices[key] = restored
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
        [signals] = self._take_device([window])
        self._write_live()
        return signals

    def observe_many(self, windows: Iterable[TelemetryWindow]) -> list[DriftDetected]:
        """Take windows in order; returns the signals they raise. The store is brought up to
        date first and its writes made durable last, before the caller commits offsets.

        Each device's windows are taken together: its state is looked up once, and the windows
        it compares in a row go through each detector in one call (samples binned together,
        errors as one stream), with the same results as one window at a time.
        """
        if self._store is not None:
            self._store.refresh()
        batch = list(windows)
        by_device: dict[str, list[int]] = {}
        for i, window in enumerate(batch):
            by_device.setdefault(device_key(window.device), []).append(i)
        self._measure_ahead([[batch[i] for i in indices] for indices in by_device.values()])
        raised: list[list[DriftDetected]] = [[] for _ in batch]
        for indices in by_device.values():
            taken = self._take_device([batch[i] for i in indices])
            for i, signals in zip(indices, taken, strict=True):
                raised[i] = signals
        self._ahead.clear()
        # A device's live state once for the whole batch, however many of its windows it held.
        self._write_live()
        if self._store is not None:
            self._store.flush()
        return [signal for signals in raised for signal in signals]

    def _measure_ahead(self, devices: list[list[TelemetryWindow]]) -> None:
        """Compare the batch's samples with their references in one pass, for every device
        whose windows this batch only compares (no reference learnt or registered in it), so
        that :meth:`_compare` finds them measured."""
        pairs: list[tuple[DistributionDetector, np.ndarray]] = []
        owners: list[tuple[uuid.UUID, str]] = []
        for windows in devices:
            if any(window.reference for window in windows):
                continue
            _, state = self._state(windows[0].device)
            if not self._reference_ready(state):
                continue
            for window in windows:
                if window.event_id in state.seen or window.event_id in self._ahead:
                    continue
                found = _subjects(window)
                self._ahead[window.event_id] = (found, {})
                for subject, value in found.items():
                    if isinstance(value, Histogram) or value.size < self.policy.min_sample:
                        continue
                    detector = self._detector(state, subject)
                    if detector is not None:
                        pairs.append((detector, value))
                        owners.append((window.event_id, subject))
        for (event, subject), result in zip(owners, compare_together(pairs), strict=True):
            self._ahead[event][1][subject] = result

    def _take_device(self, windows: list[TelemetryWindow]) -> list[list[DriftDetected]]:
        """Windows of one device, in order: the signals each raises."""
        key, state = self._state(windows[0].device)
        out: list[list[DriftDetected]] = []
        i = 0
        while i < len(windows):
            window = windows[i]
            if window.event_id in state.seen:
                # Redelivered or re-sent by a device's spool: the same signal again, if it
                # raised one (the registry upserts on its id), so a crash before publishing
                # loses nothing.
                raised = state.seen[window.event_id]
                out.append([] if raised is None else [raised])
                i += 1
            elif window.reference:
                self._register(key, state, window)
                out.append([])
                i += 1
            elif not self._reference_ready(state):
                self._learn(key, state, window)
                out.append([])
                i += 1
            else:
                # The windows compared in a row: up to a reference or a window seen before.
                run: list[TelemetryWindow] = []
                ids: set[uuid.UUID] = set()
                while i < len(windows):
                    window = windows[i]
                    if window.reference or window.event_id in state.seen or window.event_id in ids:
                        break
                    run.append(window)
                    ids.add(window.event_id)
                    i += 1
                for window, signals in zip(run, self._compare(state, run), strict=True):
                    self._remember(key, state, window.event_id, signals[0] if signals else None)
                    self._save(key, state)
                    out.append(signals)
        return out

    def _register(self, key: str, state: _DeviceState, window: TelemetryWindow) -> None:
        """An explicit reference replaces the one before, whose windows are deleted."""
        for index in range(state.parts):
            self._put(key, _reference_key(state.generation, index), None)
        state.generation += 1
        state.parts = 1
        state.reference = _part(window, explicit=True)
        self._put(
            key, _reference_key(state.generation, 0), state.reference.model_dump_json().encode()
        )
        state.detectors.clear()
        state.stream = None
        state.latched.clear()
        self._remember(key, state, window.event_id, None)
        self._save(key, state)
        log.info("drift reference registered", extra={"device": key})

    def _learn(self, key: str, state: _DeviceState, window: TelemetryWindow) -> None:
        """A window of the reference being learnt, stored once."""
        part = _part(window)
        self._put(
            key,
            _reference_key(state.generation, state.parts),
            part.model_dump_json().encode(),
        )
        state.parts += 1
        state.reference = _merged(state.reference, part)
        self._remember(key, state, window.event_id, None)
        self._save(key, state)

    def _compare(
        self, state: _DeviceState, windows: list[TelemetryWindow]
    ) -> list[list[DriftDetected]]:
        """Windows compared in a row with the reference: the signal each raises."""
        ahead = [self._ahead.get(window.event_id) for window in windows]
        subjects = [
            _subjects(w) if a is None else a[0] for w, a in zip(windows, ahead, strict=True)
        ]
        measured: list[dict[str, DistributionResult]] = [
            {} if a is None else dict(a[1]) for a in ahead
        ]
        names = list(dict.fromkeys(name for found in subjects for name in found))
        for subject in names:
            detector = self._detector(state, subject)
            if detector is None:
                continue
            samples: list[tuple[int, np.ndarray]] = []
            for i, found in enumerate(subjects):
                value = found.get(subject)
                if value is None:
                    continue
                if isinstance(value, Histogram):
                    # Histograms compare bin by bin: only in the reference's own bins.
                    if isinstance(detector, HistogramDetector) and np.array_equal(
                        detector.edges, value.edges
                    ):
                        measured[i][subject] = detector.update_histogram(value.counts)
                elif value.size >= self.policy.min_sample and subject not in measured[i]:
                    samples.append((i, value))
            if samples:
                results = detector.update_each([value for _, value in samples])
                for (i, _), result in zip(samples, results, strict=True):
                    measured[i][subject] = result
        errors = [_errors(window) for window in windows]
        hit = self._stream_hits(state, errors)
        return [
            self._decide(
                state,
                window,
                [(name, measured[i][name]) for name in subjects[i] if name in measured[i]],
                errors[i],
                hit[i],
            )
            for i, window in enumerate(windows)
        ]

    def _stream_hits(self, state: _DeviceState, errors: list[np.ndarray | None]) -> list[bool]:
        """Whether the stream detector flagged a change in each window's errors; the windows'
        errors go through it as one stream (the same detections as window by window)."""
        hit = [False] * len(errors)
        given = [(i, e) for i, e in enumerate(errors) if e is not None]
        if not given:
            return hit
        if state.stream is None:
            state.stream = self._new_stream()
        positions = state.stream.update_many(np.concatenate([e for _, e in given]))
        ends = np.cumsum([e.size for _, e in given])
        for j in np.unique(np.searchsorted(ends, positions, side="right")).tolist():
            hit[given[j][0]] = True
        return hit

    def _decide(
        self,
        state: _DeviceState,
        window: TelemetryWindow,
        results: list[tuple[str, DistributionResult]],
        errors: np.ndarray | None,
        stream_hit: bool,
    ) -> list[DriftDetected]:
        drifted: list[tuple[float, str, str, float, float, float | None]] = []
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
        if errors is not None:
            rate = float(errors.mean())
            if stream_hit:
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
