"""Triage service: triages submitted reports, and watches devices' telemetry for drift."""

from __future__ import annotations

import asyncio
import logging

from faststream import FastStream
from faststream.kafka import KafkaBroker
from prometheus_client import start_http_server

from services.triage.drift import handlers as drift_handlers
from services.triage.drift.monitor import DriftMonitor, MonitorPolicy
from services.triage.drift.store import FileStore, KafkaStateStore, StateStore
from services.triage.reports import handlers as reports_handlers
from services.triage.reports.service import Classifier
from services.triage.selfwatch import SelfWatch
from services.triage.settings import TriageSettings
from vigie import logs
from vigie.kafka import TopicUnavailable, make_broker, require_credentials

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
        credentials=settings.kafka_client,
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
    """The triage service's broker with its two routers: reports, and device telemetry."""
    broker = make_broker(settings, client_id="vigie-triage")
    broker.include_router(reports_handlers.router(settings, classifier, self_watch=self_watch))
    broker.include_router(drift_handlers.router(settings, monitor or build_monitor(settings)))
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
    require_credentials(settings, "triage")
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
