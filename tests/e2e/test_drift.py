"""A device whose inputs shift: one drift signal in the registry and one alert, on `vigie run`."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from kafka import KafkaConsumer

from tests.support.kafka import client_kwargs, operator
from tests.support.platform import REGISTRY, regulator_token
from vigie.contracts import DeviceRef, TelemetryWindow
from vigie_sdk import DeviceReporter, summarise_window

DEVICE = DeviceRef(name="Sepsis Watch", manufacturer="Acme Health", model_version="2.4.0")
START = datetime(2026, 11, 2, tzinfo=UTC)
SHIFT_AT = 8  # windows 0-2 are the reference, 3-7 stable, 8+ shifted


def window(i: int) -> TelemetryWindow:
    rng = np.random.default_rng(i)
    # From window 8 the ward's patients are older and sicker: lactate and age both move.
    shifted = i >= SHIFT_AT
    age = rng.normal(72 if shifted else 61, 12, 800)
    lactate = rng.lognormal(np.log(3.0 if shifted else 1.6), 0.4, 800)
    score = 1 / (1 + np.exp(-(0.04 * (age - 65) + 0.9 * (lactate - 2.2))))
    return summarise_window(
        DEVICE,
        START + timedelta(hours=i),
        START + timedelta(hours=i + 1),
        scores=score.tolist(),
        features={"age": age.tolist(), "lactate": lactate.tolist()},
        seed=i,
    )


def test_input_shift_makes_one_signal_and_one_alert(
    platform: dict[str, str], tmp_path: Path
) -> None:
    env = platform
    namespace = env["VIGIE_TOPIC_NAMESPACE"]
    bootstrap = env["VIGIE_KAFKA_BOOTSTRAP_SERVERS"]
    reporter = DeviceReporter(
        credentials=operator(bootstrap),
        spool_path=tmp_path / "spool",
        topic=f"{namespace}.vigie.telemetry.v1",
    )
    for i in range(14):
        assert reporter.send(window(i))
    reporter.close()

    headers = {"Authorization": f"Bearer {regulator_token(env)}"}
    deadline = time.monotonic() + 60
    signals: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        signals = httpx.get(f"{REGISTRY}/api/v1/signals/drift", headers=headers).json()
        if signals:
            break
        time.sleep(0.5)
    time.sleep(3)  # let every later window through: the drift continues but is not re-signalled
    signals = httpx.get(f"{REGISTRY}/api/v1/signals/drift", headers=headers).json()
    assert len(signals) == 1, signals
    signal = signals[0]
    assert signal["device_name"] == "Sepsis Watch" and signal["model_version"] == "2.4.0"
    # Detected in the first shifted window.
    assert signal["window_start"].startswith("2026-11-02T08:00")
    assert signal["severity"] == "high"
    assert signal["statistic"] > signal["threshold"]
    one = httpx.get(f"{REGISTRY}/api/v1/signals/drift/{signal['signal_id']}", headers=headers)
    assert one.status_code == 200
    # Linked to the device catalogue with its model version.
    device = httpx.get(f"{REGISTRY}/api/v1/devices/{signal['device_id']}", headers=headers).json()
    assert "2.4.0" in device["model_versions"]

    alerts = KafkaConsumer(
        f"{namespace}.vigie.alerts.v1",
        **client_kwargs(bootstrap),
        auto_offset_reset="earliest",
        group_id=None,
        consumer_timeout_ms=8_000,
    )
    drift_alerts = []
    for record in alerts:
        alert = json.loads(record.value)
        if alert["alert_type"] == "drift":
            drift_alerts.append(alert)
    alerts.close()
    assert len(drift_alerts) == 1
    assert drift_alerts[0]["registry_path"] == f"/api/v1/signals/drift/{signal['signal_id']}"
    assert drift_alerts[0]["device"]["name"] == "Sepsis Watch"
