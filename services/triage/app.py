"""Triage service: triages submitted reports, and watches devices' telemetry for drift."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from prometheus_client import start_http_server

from services.triage.drift.monitor import DriftMonitor, MonitorPolicy, device_key
from services.triage.drift.store import FileStore, KafkaStateStore, StateStore
from services.triage.reports import Classifier, TriagePolicy, triage_batch
from services.triage.selfwatch import SelfWatch
from services.triage.settings import TriageSettings
from vigie import logs, metrics
from vigie.contracts import ReportSubmitted, TelemetryWindow
from vigie.kafka import (
    TopicUnavailable,
    dead_letter,
    decode_records,
    make_broker,
    publish_events,
)
from vigie.processing import batch_subscriber, raw_records

log = logging.getLogger(__name__)
SERVICE = "triage"


def load_classifier(settings: TriageSettings) -> Classifier | None:
    """The model artefact, loaded once; a missing or corrupted artefact stops the service."""
    if not settings.triage_use_model:
        log.warning("triage runs without a model: severity comes from reported outcomes only")
        return None
    from services.triage.model import DEFAULT_MODEL_DIR, TriageModel

    model: Classifier = TriageModel.load(settings.triage_model_dir or DEFAULT_MODEL_DIR)
    log.info("triage model loaded", extra={"model_version": model.version})
    return model


def build_self_watch(settings: TriageSettings, classifier: Classifier | None) -> SelfWatch | None:
    """The classifier's own telemetry reporter (none without a model or when disabled)."""
    if classifier is None or not settings.triage_self_telemetry:
        return None
    from vigie_sdk import DeviceReporter

    reporter = DeviceReporter(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        spool_path=settings.triage_self_spool,
        topic=settings.topics.telemetry,
    )
    return SelfWatch(
        reporter,
        model_version=classifier.version,
        window_reports=settings.triage_self_window_reports,
    )


def build_monitor(settings: TriageSettings) -> DriftMonitor:
    """The drift monitor with its state store (see :mod:`services.triage.drift.store`)."""
    store: StateStore
    if settings.drift_state_store == "kafka":
        store = KafkaStateStore(settings)
    else:
        # Per topic namespace: two platforms sharing a folder must not share references.
        store = FileStore(settings.drift_state_dir / (settings.topic_namespace or "default"))
    return DriftMonitor(
        MonitorPolicy(
            distribution_detector=settings.drift_detector,
            stream_detector=settings.drift_stream_detector,
            reference_windows=settings.drift_reference_windows,
            rearm_windows=settings.drift_rearm_windows,
        ),
        store=store,
    )


def build_broker(
    settings: TriageSettings,
    classifier: Classifier | None,
    *,
    monitor: DriftMonitor | None = None,
    self_watch: SelfWatch | None = None,
) -> KafkaBroker:
    """The triage service's broker with its two subscribers (reports, telemetry)."""
    broker = make_broker(settings, client_id="vigie-triage")
    topics = settings.topics
    policy = TriagePolicy(review_confidence=settings.triage_review_confidence)
    key = settings.pseudonym_key_bytes
    monitor = monitor or build_monitor(settings)

    # Offsets are committed only after the triaged events and dead letters were acknowledged by
    # the broker (AckPolicy.ACK); any failure rewinds the batch (NACK) for another attempt.
    @batch_subscriber(
        broker,
        topics.reports,
        group_id=settings.triage_group_id,
        max_records=settings.triage_max_records,
        ack_policy=AckPolicy.NACK_ON_ERROR,
    )
    async def on_reports(records: list[Any], message: KafkaMessage) -> None:
        started = time.perf_counter()
        batch = raw_records(message)
        metrics.CONSUMED.labels(service=SERVICE, topic=topics.reports).inc(len(batch))
        good, bad = decode_records(batch, ReportSubmitted)
        # The model is CPU-bound: keep the event loop free for the consumer's heartbeats.
        triaged = await asyncio.to_thread(
            triage_batch, [d.event for d in good], classifier=classifier, key=key, policy=policy
        )
        await publish_events(
            broker,
            topics.reports_triaged,
            [(t.report.report_id.bytes, t) for t in triaged],
        )
        await dead_letter(broker, bad, service=SERVICE, group=settings.triage_group_id)
        for t in triaged:
            metrics.TRIAGED.labels(
                severity=t.triage.severity.value, needs_review=str(t.triage.needs_review).lower()
            ).inc()
        metrics.PUBLISHED.labels(service=SERVICE, topic=topics.reports_triaged).inc(len(triaged))
        metrics.BATCH_SECONDS.labels(service=SERVICE).observe(time.perf_counter() - started)
        if self_watch is not None:
            await asyncio.to_thread(self_watch.observe, triaged)

    # Windows of one device arrive in order (keyed by device and model version); signals are
    # published before the offsets are committed, and carry ids derived from the window, so a
    # redelivery publishes the same signal again, which the registry de-duplicates.
    @batch_subscriber(
        broker,
        topics.telemetry,
        group_id=settings.drift_group_id,
        max_records=settings.drift_max_records,
        ack_policy=AckPolicy.NACK_ON_ERROR,
    )
    async def on_telemetry(records: list[Any], message: KafkaMessage) -> None:
        batch = raw_records(message)
        metrics.CONSUMED.labels(service=SERVICE, topic=topics.telemetry).inc(len(batch))
        good, bad = decode_records(batch, TelemetryWindow)
        signals = await asyncio.to_thread(monitor.observe_many, [d.event for d in good])
        await publish_events(
            broker,
            topics.signals,
            [(device_key(s.device).encode(), s) for s in signals],
        )
        await dead_letter(broker, bad, service=SERVICE, group=settings.drift_group_id)
        metrics.PUBLISHED.labels(service=SERVICE, topic=topics.signals).inc(len(signals))
        for s in signals:
            log.info(
                "drift signal",
                extra={
                    "device": device_key(s.device),
                    "subject": s.subject,
                    "severity": s.severity.value,
                },
            )

    return broker


def main() -> None:
    """Entry point of ``vigie serve triage``."""
    settings = TriageSettings()
    logs.configure_logging(settings.log_level)
    from services.triage.model import ModelLoadError

    try:
        classifier = load_classifier(settings)
    except ModelLoadError as exc:
        # Triage without its model would mis-order the queue silently: refuse to start.
        log.critical("triage model not loaded: %s", exc)
        raise SystemExit(f"vigie triage: {exc}") from exc
    start_http_server(settings.triage_metrics_port, addr=settings.triage_metrics_host)
    self_watch = build_self_watch(settings, classifier)
    try:
        monitor = build_monitor(settings)
    except TopicUnavailable as exc:
        # Without its state the drift monitor would learn new references from drifted windows.
        log.critical("drift monitor state unavailable: %s", exc)
        raise SystemExit(f"vigie triage: drift monitor state unavailable: {exc}") from exc
    app = FastStream(
        build_broker(settings, classifier, monitor=monitor, self_watch=self_watch), logger=log
    )
    try:
        asyncio.run(app.run())
    finally:
        if self_watch is not None:
            self_watch.close()
