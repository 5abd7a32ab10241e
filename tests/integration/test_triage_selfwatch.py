"""The triage classifier watched like any device: its own telemetry, on the real broker, drifts
when what clinicians report changes."""

from __future__ import annotations

from pathlib import Path

from services.triage.drift.monitor import DriftMonitor, MonitorPolicy
from services.triage.model import DEFAULT_MODEL_DIR, TriageModel
from services.triage.reports.service import TriagePolicy, triage_batch
from services.triage.selfwatch import TRIAGE_DEVICE_NAME, SelfWatch
from tests.support.factories import report
from tests.support.kafka import drain, fresh_namespace, operator, provision
from vigie.contracts import ReportedOutcome, TelemetryWindow
from vigie.settings import CommonSettings
from vigie_sdk import DeviceReporter

ROUTINE = [
    "The pump displayed an occlusion alarm; the line was replaced and therapy resumed. "
    "No patient harm.",
    "Software froze during the night shift and was restarted; no consequence for the patient.",
    "The score was displayed late on the ward screen; no injury reported.",
    "Battery warning on the monitor, device swapped, no adverse effect on the patient.",
]
GRAVE = [
    "The algorithm missed the bleed and the patient died the next morning.",
    "Patient went into cardiac arrest after the AI recommended the wrong dose; death.",
    "No alert was raised; the patient was found dead in the ward.",
    "The model ranked the patient low risk; septic shock and death followed.",
]


def test_self_telemetry_reaches_kafka_and_shows_drift(kafka_bootstrap: str, tmp_path: Path) -> None:
    settings = CommonSettings(
        kafka_bootstrap_servers=kafka_bootstrap, topic_namespace=fresh_namespace()
    )
    provision(settings)
    model = TriageModel.load(DEFAULT_MODEL_DIR)
    reporter = DeviceReporter(
        credentials=operator(kafka_bootstrap),
        spool_path=tmp_path / "spool",
        topic=settings.topics.telemetry,
    )
    watch = SelfWatch(reporter, model_version=model.version, window_reports=60)

    def batch(texts: list[str]) -> None:
        reports = [
            report(narrative=texts[i % len(texts)] + f" Ref {i}.", outcome=ReportedOutcome.UNKNOWN)
            for i in range(60)
        ]
        watch.observe(triage_batch(reports, classifier=model, key=b"k", policy=TriagePolicy()))

    for _ in range(5):
        batch(ROUTINE)
    for _ in range(2):
        batch(GRAVE)
    watch.close()

    records = drain(kafka_bootstrap, settings.topics.telemetry, until=lambda r: len(r) >= 7)
    windows = [TelemetryWindow.model_validate_json(r.value) for r in records]
    assert len(windows) == 7
    assert {w.device.name for w in windows} == {TRIAGE_DEVICE_NAME}
    assert {w.device.model_version for w in windows} == {model.version}
    assert all(w.n_predictions == 60 for w in windows)
    assert {f.name for f in windows[0].features} >= {"p_death", "narrative_length", "french"}

    monitor = DriftMonitor(MonitorPolicy())
    fired = [(i, s) for i, w in enumerate(windows) for s in monitor.observe(w)]
    assert [i for i, _ in fired] == [5]
    assert "feature:p_death" in {fired[0][1].subject, *fired[0][1].also_drifted}
