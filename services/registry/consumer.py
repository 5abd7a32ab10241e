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
from vigie import telemetry
from vigie.consumers import raw_records
from vigie.contracts import ReportTriaged
from vigie.kafka import dead_letter, decode_records

log = logging.getLogger(__name__)
SERVICE = "registry"


def register_consumer(
    broker: KafkaBroker,
    settings: RegistrySettings,
    engine: Engine,
    on_commit: Callable[[], None],
) -> None:
    """Subscribe the registry to triaged reports."""
    topic = settings.topics.reports_triaged

    def record(events: list[ReportTriaged]) -> Recorded:
        with Session(engine) as session:
            return record_triaged(session, events, alerts_topic=settings.topics.alerts)

    # AckPolicy: the batch's offsets are committed only once its rows are committed and its
    # dead letters acknowledged; an exception rewinds the batch, and the upsert on report_id
    # makes the redelivery harmless.
    @broker.subscriber(
        topic,
        group_id=settings.registry_group_id,
        batch=True,
        max_records=settings.registry_max_records,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=raw_records,
    )
    async def on_triaged(records: list[Any], message: KafkaMessage) -> None:
        started = time.perf_counter()
        batch = raw_records(message)
        telemetry.CONSUMED.labels(service=SERVICE, topic=topic).inc(len(batch))
        good, bad = decode_records(batch, ReportTriaged)
        result = await asyncio.to_thread(record, [d.event for d in good])
        await dead_letter(broker, bad, service=SERVICE, group=settings.registry_group_id)
        telemetry.REGISTRY_UPSERTS.labels(result="inserted").inc(result.inserted)
        telemetry.REGISTRY_UPSERTS.labels(result="duplicate").inc(result.duplicates)
        telemetry.BATCH_SECONDS.labels(service=SERVICE).observe(time.perf_counter() - started)
        if result.alerts:
            on_commit()
