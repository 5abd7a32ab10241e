"""Triage service: triages submitted reports, and watches devices' telemetry for drift."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import uvicorn
from fastapi import FastAPI
from faststream import FastStream
from faststream.kafka import KafkaBroker
from prometheus_client import start_http_server

from services.common import ops
from services.common.edges import SecurityHeaders
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
            multiple_testing=settings.drift_multiple_testing,
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


def health_app(broker: KafkaBroker, classifier: Classifier | None) -> FastAPI:
    """``/healthz`` and ``/readyz`` of triage, which has no API of its own.

    Ready once the model is loaded (it is before the broker starts, or triage refuses to
    start) and every consumer is subscribed and running on a broker that answers.
    """

    async def ready() -> tuple[bool, dict[str, Any]]:
        # By consumer group: each of triage's consumers has its own.
        consumers = {str(getattr(sub, "group_id", sub)): sub.running for sub in broker.subscribers}
        running = bool(consumers) and all(consumers.values())
        kafka = running and await broker.ping(timeout=2.0)
        model = classifier.version if classifier is not None else None
        return kafka, {"model": model, "consumers": consumers, "kafka": kafka}

    app = FastAPI(title="Vigie triage", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(SecurityHeaders)
    app.include_router(
        ops.router(
            ready,
            ready_doc="The model is loaded and every consumer is subscribed, on a broker that "
            "answers.",
            not_ready_doc="A consumer is not running yet, or Kafka does not answer",
            service=SERVICE,
        )
    )
    return app


class HealthServer(uvicorn.Server):
    """Uvicorn for the health endpoints, leaving SIGINT and SIGTERM to the FastStream
    application, which stops this server when it stops."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def run(app: FastStream, health: HealthServer | None) -> None:
    """The consumers and, beside them on the same loop, the health listener."""
    if health is None:
        await app.run()
        return
    serving = asyncio.create_task(health.serve())
    # A health listener that cannot start (its port taken) stops the service rather than
    # leaving it unobservable.
    serving.add_done_callback(lambda _: app.exit())
    try:
        await app.run()
    finally:
        health.should_exit = True
        await serving


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
    broker = build_broker(settings, classifier, monitor=monitor, self_watch=self_watch)
    app = FastStream(broker, logger=log)
    health = None
    if settings.triage_health_port:
        health = HealthServer(
            uvicorn.Config(
                health_app(broker, classifier),
                host=settings.triage_health_host,
                port=settings.triage_health_port,
                log_config=None,
            )
        )
    try:
        asyncio.run(run(app, health))
    finally:
        if self_watch is not None:
            self_watch.close()
