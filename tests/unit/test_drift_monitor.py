"""The drift monitor: references per device and model version, one signal per drift."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from services.triage.drift.monitor import DriftMonitor, MonitorPolicy
from vigie.contracts import DeviceRef, DriftMonitorState, SignalSeverity, TelemetryWindow
from vigie_sdk import summarise_window

DEVICE = DeviceRef(name="Sepsis Watch", manufacturer="Acme", model_version="2.4")
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def window(
    i: int,
    mean: float,
    *,
    device: DeviceRef = DEVICE,
    errors: int | None = None,
    reference: bool = False,
) -> TelemetryWindow:
    rng = np.random.default_rng(i)
    age = rng.normal(mean, 10, 500)
    score = 1 / (1 + np.exp(-(age - 65) / 5))
    confusion = None if errors is None else (50, errors // 2, 400, errors - errors // 2)
    w = summarise_window(
        device,
        T0 + timedelta(hours=i),
        T0 + timedelta(hours=i + 1),
        scores=score.tolist(),
        features={"age": age.tolist()},
        confusion=confusion,
        seed=i,
    )
    return w.model_copy(update={"reference": reference})


def run(monitor: DriftMonitor, means: list[float], **kw: object) -> list[tuple[int, str]]:
    out = []
    for i, mean in enumerate(means):
        for s in monitor.observe(window(i, mean, **kw)):  # type: ignore[arg-type]
            out.append((i, s.subject))
    return out


@pytest.mark.parametrize("detector", ["psi", "ks", "jensen_shannon", "wasserstein"])
def test_one_signal_in_the_window_of_the_shift(detector: str) -> None:
    monitor = DriftMonitor(MonitorPolicy(distribution_detector=detector))
    signals = run(monitor, [60.0] * 15 + [72.0] * 15)
    assert [i for i, _ in signals] == [15]


def test_stationary_device_raises_nothing() -> None:
    assert run(DriftMonitor(MonitorPolicy()), [60.0] * 60) == []


def test_signal_fields_and_severity() -> None:
    monitor = DriftMonitor(MonitorPolicy())
    for i in range(3):
        monitor.observe(window(i, 60))
    [signal] = monitor.observe(window(3, 75))
    assert signal.subject in {"feature:age", "score"}
    assert set(signal.also_drifted) | {signal.subject} == {"feature:age", "score"}
    assert signal.statistic > signal.threshold
    assert signal.severity is SignalSeverity.HIGH
    assert signal.reference_window == (T0, T0 + timedelta(hours=3))
    assert signal.current_window == (T0 + timedelta(hours=3), T0 + timedelta(hours=4))
    # A redelivered window gives nothing new; the same window seen by a fresh monitor gives the
    # same signal id (the registry upserts on it).
    assert monitor.observe(window(3, 75)) == []
    again = DriftMonitor(MonitorPolicy())
    for i in range(3):
        again.observe(window(i, 60))
    assert again.observe(window(3, 75))[0].signal_id == signal.signal_id


def test_rearms_after_the_drift_clears() -> None:
    means = [60.0] * 5 + [75.0] * 5 + [60.0] * 5 + [75.0] * 5
    signals = run(DriftMonitor(MonitorPolicy(rearm_windows=3)), means)
    assert [i for i, _ in signals] == [5, 15]


def test_new_model_version_and_explicit_reference() -> None:
    monitor = DriftMonitor(MonitorPolicy())
    for i in range(5):
        monitor.observe(window(i, 60))
    v3 = DEVICE.model_copy(update={"model_version": "3.0"})
    # A new model version learns its own reference: its first windows are not compared.
    assert [monitor.observe(window(10 + i, 75, device=v3)) for i in range(3)] == [[], [], []]
    assert monitor.observe(window(13, 75, device=v3)) == []
    # An explicit reference replaces the learned one.
    assert monitor.observe(window(20, 60, device=v3, reference=True)) == []
    assert len(monitor.observe(window(21, 75, device=v3))) == 1


def test_performance_stream_detects_rising_errors() -> None:
    monitor = DriftMonitor(MonitorPolicy())
    subjects = []
    for i in range(40):
        for s in monitor.observe(window(i, 60, errors=10 if i < 20 else 120)):
            subjects.append((i, s.subject))
    assert subjects and subjects[0][1] == "error_rate"
    assert 20 <= subjects[0][0] <= 21
    assert len(subjects) == 1


def test_state_survives_a_restart(tmp_path: Path) -> None:
    first = DriftMonitor(MonitorPolicy(), state_dir=tmp_path)
    for i in range(5):
        first.observe(window(i, 60))
    shifted = window(5, 75)
    raised = first.observe(shifted)
    assert len(raised) == 1
    second = DriftMonitor(MonitorPolicy(), state_dir=tmp_path)
    # Reference and latch were kept: the continuing drift is not signalled again.
    assert second.observe(window(6, 75)) == []
    # A redelivered window is recognised and gives back its signal, with the same id, in case
    # the first was lost before it was published (the registry upserts on the id).
    assert second.observe(shifted) == raised


class SharedStore:
    """What a compacted topic gives every instance: the latest state per device."""

    shared = True

    def __init__(self) -> None:
        self.states: dict[str, DriftMonitorState] = {}
        self.flushes = 0

    def get(self, key: str) -> DriftMonitorState | None:
        return self.states.get(key)

    def put(self, key: str, state: DriftMonitorState) -> None:
        self.states[key] = state

    def refresh(self) -> None:
        return None

    def flush(self) -> None:
        self.flushes += 1


def test_a_device_handed_to_another_instance_keeps_its_reference() -> None:
    store = SharedStore()
    a, b = DriftMonitor(MonitorPolicy(), store=store), DriftMonitor(MonitorPolicy(), store=store)
    assert a.observe_many([window(i, 60) for i in range(5)]) == []
    # B takes the device over when the drift starts: a monitor without A's state would learn
    # the drifted windows as its reference and never signal.
    raised = b.observe_many([window(i, 75) for i in range(5, 10)])
    assert len(raised) == 1
    assert raised[0].current_window[0] == window(5, 75).window_start
    # Back to A, which must not reuse its stale copy: the drift is latched, not signalled again.
    assert a.observe_many([window(i, 75) for i in range(10, 12)]) == []
    assert store.flushes == 3


def test_policy_refuses_unknown_detectors() -> None:
    with pytest.raises(ValueError, match="unknown distribution detector"):
        MonitorPolicy(distribution_detector="magic")
    with pytest.raises(ValueError, match="unknown stream detector"):
        MonitorPolicy(stream_detector="psi")


def test_the_service_builds_its_monitor_with_the_configured_correction(tmp_path: Path) -> None:
    from services.triage.app import build_monitor
    from services.triage.settings import TriageSettings

    settings = TriageSettings(
        drift_state_store="file", drift_state_dir=tmp_path, drift_multiple_testing="bonferroni"
    )
    assert build_monitor(settings).policy.multiple_testing == "bonferroni"
    default = TriageSettings(drift_state_store="file", drift_state_dir=tmp_path)
    assert build_monitor(default).policy.multiple_testing == "benjamini_hochberg"
