"""Triage service: consumes submitted reports in batches and publishes triaged reports."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from prometheus_client import start_http_server

from services.triage.reports import Classifier, TriagePolicy, triage_batch
from services.triage.settings import TriageSettings
from vigie import telemetry
from vigie.consumers import raw_records
from vigie.contracts import ReportSubmitted
from vigie.kafka import dead_letter, decode_records, make_broker, publish_events

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


def build_broker(settings: TriageSettings, classifier: Classifier | None) -> KafkaBroker:
    """The triage service's broker with its subscriber."""
    broker = make_broker(settings, client_id="vigie-triage")
    topics = settings.topics
    policy = TriagePolicy(review_confidence=settings.triage_review_confidence)
    key = settings.pseudonym_key_bytes

    # Offsets are committed only after the triaged events and dead letters were acknowledged by
    # the broker (AckPolicy.ACK); any failure rewinds the batch (NACK) for another attempt.
    @broker.subscriber(
        topics.reports,
        group_id=settings.triage_group_id,
        batch=True,
        max_records=settings.triage_max_records,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=raw_records,
    )
    async def on_reports(records: list[Any], message: KafkaMessage) -> None:
        started = time.perf_counter()
        batch = raw_records(message)
        telemetry.CONSUMED.labels(service=SERVICE, topic=topics.reports).inc(len(batch))
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
            telemetry.TRIAGED.labels(
                severity=t.triage.severity.value, needs_review=str(t.triage.needs_review).lower()
            ).inc()
        telemetry.PUBLISHED.labels(service=SERVICE, topic=topics.reports_triaged).inc(len(triaged))
        telemetry.BATCH_SECONDS.labels(service=SERVICE).observe(time.perf_counter() - started)

    return broker


def main() -> None:
    """Entry point of ``vigie serve triage``."""
    settings = TriageSettings()
    telemetry.configure_logging(settings.log_level)
    classifier = load_classifier(settings)
    start_http_server(settings.triage_metrics_port, addr=settings.triage_metrics_host)
    app = FastStream(build_broker(settings, classifier), logger=log)
    asyncio.run(app.run())
