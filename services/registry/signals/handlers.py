"""Kafka handlers of the registry for devices: drift signals and usage (the trends' denominator)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from faststream.kafka import KafkaRouter
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services.registry.db import DATABASE_UNAVAILABLE
from services.registry.settings import RegistrySettings
from services.registry.signals.drift import SignalsRecorded, record_drift
from services.registry.signals.usage import record_usage
from vigie.contracts import DriftDetected, TelemetryWindow
from vigie.processing import (
    BatchStep,
    DeadLetterPolicy,
    InvalidRecords,
    RetryPolicy,
    subscribe,
)
from vigie.rules.integrity import telemetry_check
from vigie.topics import telemetry_pattern

log = logging.getLogger(__name__)
SERVICE = "registry"


def router(
    settings: RegistrySettings, engine: Engine, *, on_commit: Callable[[], None]
) -> KafkaRouter:
    """Record drift signals (``vigie.signals.v1``) and device usage (``vigie.telemetry.v1``).

    Same guarantees as reports: offsets after the commit, upserts on the signal and window ids.
    Usage has its own consumer group so that it never slows drift alerts down.
    """
    topics = settings.topics

    def record_signals(events: list[DriftDetected]) -> SignalsRecorded:
        with Session(engine) as session:
            return record_drift(
                session, events, alerts_topic=topics.alerts, country=settings.registry_country
            )

    def after_signals(result: SignalsRecorded) -> None:
        log.info(
            "drift signals recorded", extra={"inserted": result.inserted, "alerts": result.alerts}
        )
        if result.alerts:
            on_commit()

    def record_windows(events: list[TelemetryWindow]) -> int:
        with Session(engine) as session:
            return record_usage(session, events)

    devices = KafkaRouter()
    subscribe(
        devices,
        topics.signals,
        BatchStep(
            SERVICE,
            DriftDetected,
            record_signals,
            after=after_signals,
            retry=RetryPolicy(transient=DATABASE_UNAVAILABLE),
        ),
        group_id=f"{settings.registry_group_id}-signals",
        max_records=settings.registry_max_records,
    )
    subscribe(
        devices,
        topics.telemetry,
        # Invalid and refused windows are the drift monitor's to dead-letter: skipping them here
        # keeps one dead letter per bad message.
        BatchStep(
            SERVICE,
            TelemetryWindow,
            record_windows,
            dead_letters=DeadLetterPolicy(invalid=InvalidRecords.SKIP),
            check=telemetry_check(topics.telemetry),
            retry=RetryPolicy(transient=DATABASE_UNAVAILABLE),
        ),
        group_id=f"{settings.registry_group_id}-usage",
        max_records=settings.registry_max_records,
        pattern=telemetry_pattern(topics.telemetry),
    )
    return devices
