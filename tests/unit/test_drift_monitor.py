"""The drift monitor: references per device and model version, one signal per drift."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from services.triage.drift import PSI, JensenShannon
from services.triage.drift.monitor import DriftMonitor, MonitorPolicy
from services.triage.drift.store import MemoryStore
from vigie.contracts import DeviceRef, SignalSeverity, TelemetryWindow
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


class SharedStore(MemoryStore):
    """What a compacted topic gives every instance: the latest record of each key."""

    def __init__(self) -> None:
        super().__init__()
        self.flushes = 0

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


@pytest.mark.parametrize("detector", ["psi", "ks", "jensen_shannon", "wasserstein"])
def test_a_batch_raises_what_window_by_window_raises(detector: str) -> None:
    """Devices interleaved, shifts, rising errors, a window sent twice, a new explicit
    reference mid-batch: one batch gives the signals (ids too) of one window at a time."""
    devices = [DEVICE.model_copy(update={"name": f"Sepsis Watch {d}"}) for d in range(3)]
    stream: list[TelemetryWindow] = []
    for i in range(24):
        for d, device in enumerate(devices):
            mean = 60.0 if i < 8 + 4 * d else 72.0
            errors = 10 if i < 12 else 30 + 40 * d
            stream.append(
                window(i, mean, device=device, errors=errors, reference=(d, i) == (2, 17))
            )
    stream.insert(40, stream[31])  # re-sent by a device's spool
    policy = MonitorPolicy(distribution_detector=detector, stream_detector="page_hinkley")
    alone = DriftMonitor(policy)
    expected = [s for w in stream for s in alone.observe(w)]
    batched = DriftMonitor(policy, store=MemoryStore())
    got = [s for k in range(0, len(stream), 25) for s in batched.observe_many(stream[k : k + 25])]
    envelope = {"event_id", "occurred_at"}  # each signal event is new; its signal_id is not
    assert [s.model_dump(exclude=envelope) for s in got] == [
        s.model_dump(exclude=envelope) for s in expected
    ]
    assert {s.subject for s in got} >= {"error_rate", "feature:age"}


@pytest.mark.parametrize("detector", [PSI, JensenShannon])
def test_binning_windows_together_changes_no_figure(detector: type[PSI | JensenShannon]) -> None:
    rng = np.random.default_rng(5)
    reference = rng.normal(0, 1, 2000)
    windows = [rng.normal(shift, 1, size) for shift, size in [(0, 300), (0.5, 800), (2, 60)]]
    one_by_one, together = detector(reference), detector(reference)
    assert together.update_each(windows) == [one_by_one.update(w) for w in windows]


def test_a_state_written_whole_by_an_earlier_release_is_carried_on() -> None:
    """Earlier releases wrote the whole state (the reference inside) at every window."""
    from services.triage.drift.monitor import device_key
    from services.triage.drift.store import LIVE
    from vigie.contracts import DriftMonitorState, DriftReference

    learnt = [window(i, 60) for i in range(3)]
    samples = {
        "score": [v for w in learnt for v in w.score_sample or []],
        "feature:age": [v for w in learnt for v in w.features[0].sample or []],
    }
    first = DriftMonitor(MonitorPolicy())
    for w in learnt:
        first.observe(w)
    shifted = window(3, 75)
    [signal] = first.observe(shifted)
    store = MemoryStore()
    key = device_key(DEVICE)
    whole = DriftMonitorState(
        device=DEVICE,
        version=4,
        reference=DriftReference(
            samples=samples,
            start=learnt[0].window_start,
            end=learnt[-1].window_end,
            windows=3,
        ),
        latched={"feature:age": 0, "score": 0},
        seen=[w.event_id for w in [*learnt, shifted]],
        raised={str(shifted.event_id): signal},
    )
    store.put(key, LIVE, whole.model_dump_json().encode(), version=4)

    upgraded = DriftMonitor(MonitorPolicy(), store=store)
    assert upgraded.observe_many([shifted]) == [signal]  # redelivered: its signal again
    assert upgraded.observe_many([window(4, 75)]) == []  # still latched
    # From now on the reference is a record of its own, and a next owner carries on from it.
    assert "ref\x1f1\x1f0" in store.records(key)
    then = DriftMonitor(MonitorPolicy(), store=store)
    assert then.observe_many([window(5, 75)]) == []
    assert then.observe_many([window(i, 60) for i in range(6, 10)]) == []
    [again] = then.observe_many([window(10, 75)])
    assert again.reference_window == (learnt[0].window_start, learnt[-1].window_end)


@pytest.mark.parametrize("damage", ["unreadable", "reference window missing"])
def test_a_damaged_state_is_learnt_again_without_stalling(damage: str) -> None:
    from services.triage.drift.monitor import device_key
    from services.triage.drift.store import LIVE

    store = MemoryStore()
    key = device_key(DEVICE)
    DriftMonitor(MonitorPolicy(), store=store).observe_many([window(i, 60) for i in range(4)])
    if damage == "unreadable":
        store.put(key, LIVE, b'{"version": "many"}', version=9)
    else:
        store.put(key, "ref\x1f1\x1f1", None)
    again = DriftMonitor(MonitorPolicy(), store=store)
    # The next three windows are the new reference, under a generation of its own.
    assert again.observe_many([window(i, 75) for i in range(4, 7)]) == []
    live = json.loads(store.records(key)[LIVE])
    assert live["reference_generation"] > 1 and live["reference"]["windows"] == 3
    assert len(again.observe_many([window(7, 60)])) == 1
