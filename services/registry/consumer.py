"""Kafka side of the registry: records triaged reports, offsets committed after the database."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services.registry.reports.service import Recorded, record_triaged
from services.registry.settings import RegistrySettings
from services.registry.signals.drift import SignalsRecorded, record_drift
from services.registry.signals.usage import record_usage
from vigie import metrics
from vigie.contracts import DriftDetected, ReportTriaged, TelemetryWindow
from vigie.kafka import dead_letter, decode_records
from vigie.processing import batch_subscriber, raw_records

log = logging.getLogger(__name__)
SERVICE = "registry"


def register_consumer(
    broker: KafkaBroker,
    settings: RegistrySettings,
    engine: Engine,
    on_commit: Callable[[], None],
) -> None:
    """Subscribe the registry to triaged reports, drift signals and device usage."""
    topic = settings.topics.reports_triaged

    def record(events: list[ReportTriaged]) -> Recorded:
        with Session(engine) as session:
            return record_triaged(session, events, alerts_topic=settings.topics.alerts)

    # AckPolicy: the batch's offsets are committed only once its rows are committed and its
    # dead letters acknowledged; an exception rewinds the batch, and the upsert on report_id
    # makes the redelivery harmless.
    @batch_subscriber(
        broker,
        topic,
        group_id=settings.registry_group_id,
        max_records=settings.registry_max_records,
        ack_policy=AckPolicy.NACK_ON_ERROR,
    )
    async def on_triaged(records: list[Any], message: KafkaMessage) -> None:
        started = time.perf_counter()
        batch = raw_records(message)
        metrics.CONSUMED.labels(service=SERVICE, topic=topic).inc(len(batch))
        good, bad = decode_records(batch, ReportTriaged)
        result = await asyncio.to_thread(record, [d.event for d in good])
        await dead_letter(broker, bad, service=SERVICE, group=settings.registry_group_id)
        metrics.REGISTRY_UPSERTS.labels(result="inserted").inc(result.inserted)
        metrics.REGISTRY_UPSERTS.labels(result="duplicate").inc(result.duplicates)
        metrics.BATCH_SECONDS.labels(service=SERVICE).observe(time.perf_counter() - started)
        if result.alerts:
            on_commit()

    signals_topic = settings.topics.signals

    def record_signals(events: list[DriftDetected]) -> SignalsRecorded:
        with Session(engine) as session:
            return record_drift(
                session,
                events,
                alerts_topic=settings.topics.alerts,
                country=settings.registry_country,
            )

    # Same guarantees as for reports: offsets after the commit, upsert on signal_id.
    @batch_subscriber(
        broker,
        signals_topic,
        group_id=f"{settings.registry_group_id}-signals",
        max_records=settings.registry_max_records,
        ack_policy=AckPolicy.NACK_ON_ERROR,
    )
    async def on_signals(records: list[Any], message: KafkaMessage) -> None:
        batch = raw_records(message)
        metrics.CONSUMED.labels(service=SERVICE, topic=signals_topic).inc(len(batch))
        good, bad = decode_records(batch, DriftDetected)
        result = await asyncio.to_thread(record_signals, [d.event for d in good])
        await dead_letter(
            broker, bad, service=SERVICE, group=f"{settings.registry_group_id}-signals"
        )
        log.info(
            "drift signals recorded", extra={"inserted": result.inserted, "alerts": result.alerts}
        )
        if result.alerts:
            on_commit()

    telemetry_topic = settings.topics.telemetry

    def record_windows(events: list[TelemetryWindow]) -> int:
        with Session(engine) as session:
            return record_usage(session, events)

    # Usage is the denominator of trend reports; its own group so that it never slows drift.
    @batch_subscriber(
        broker,
        telemetry_topic,
        group_id=f"{settings.registry_group_id}-usage",
        max_records=settings.registry_max_records,
        ack_policy=AckPolicy.NACK_ON_ERROR,
    )
    async def on_telemetry(records: list[Any], message: KafkaMessage) -> None:
        batch = raw_records(message)
        metrics.CONSUMED.labels(service=SERVICE, topic=telemetry_topic).inc(len(batch))
        # Invalid windows are the drift monitor's to dead-letter: skipping them here keeps one
        # dead letter per bad message.
        good, _ = decode_records(batch, TelemetryWindow)
        await asyncio.to_thread(record_windows, [d.event for d in good])
