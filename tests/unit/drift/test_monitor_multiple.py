"""The drift monitor corrects the p-values of one window's features together."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from services.triage.drift.monitor import DriftMonitor, MonitorPolicy, MultipleTesting
from services.triage.settings import TriageSettings
from vigie.contracts import DeviceRef, TelemetryWindow
from vigie_sdk import summarise_window

DEVICE = DeviceRef(name="Chest X-ray triage", manufacturer="Acme", model_version="3.1")
T0 = datetime(2026, 11, 1, tzinfo=UTC)
FEATURES = 20


def window(seed: int, hour: int, shifted: int = 0, shift: float = 0.0) -> TelemetryWindow:
    """Twenty independent standard normal features (the first ``shifted`` moved by ``shift``)."""
    rng = np.random.default_rng(seed)
    features = {
        f"f{i:02d}": rng.normal(shift if i < shifted else 0.0, 1.0, 400).tolist()
        for i in range(FEATURES)
    }
    return summarise_window(
        DEVICE,
        T0 + timedelta(hours=hour),
        T0 + timedelta(hours=hour + 1),
        scores=[],
        features=features,
        seed=seed,
    )


def flagged(correction: MultipleTesting, seeds: range, shifted: int = 0) -> list[set[str]]:
    """For each seed, a fresh monitor (KS at 0.01) over three reference windows, then the
    subjects of the signal raised by one more window."""
    found = []
    for seed in seeds:
        policy = MonitorPolicy(distribution_detector="ks", multiple_testing=correction)
        monitor = DriftMonitor(policy)
        for hour in range(3):
            assert monitor.observe(window(1_000 * seed + hour, hour)) == []
        signals = monitor.observe(window(1_000 * seed + 3, 3, shifted, 0.5))
        found.append({s for signal in signals for s in (signal.subject, *signal.also_drifted)})
    return found


def test_corrections_quiet_windows_of_many_features() -> None:
    # 20 features at 0.01 each: about 1 - 0.99**20 = 18% of windows flag some feature.
    none = flagged("none", range(40))
    assert sum(bool(subjects) for subjects in none) == 6
    for correction in ("bonferroni", "benjamini_hochberg"):
        assert sum(bool(subjects) for subjects in flagged(correction, range(40))) == 0


@pytest.mark.parametrize("correction", ["none", "bonferroni", "benjamini_hochberg"])
def test_corrected_monitor_still_flags_moved_features(correction: MultipleTesting) -> None:
    for subjects in flagged(correction, range(5), shifted=2):
        assert {"feature:f00", "feature:f01"} <= subjects


def test_setting_and_policy_default_to_benjamini_hochberg() -> None:
    assert TriageSettings().drift_multiple_testing == "benjamini_hochberg"
    assert MonitorPolicy().multiple_testing == "benjamini_hochberg"
    with pytest.raises(ValueError, match="multiple-testing"):
        MonitorPolicy(multiple_testing="holm")  # type: ignore[arg-type]
