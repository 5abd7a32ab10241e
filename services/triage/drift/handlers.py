"""Kafka handler of the drift monitor: device telemetry windows in, drift signals out."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from faststream.kafka import KafkaRouter
from kafka.errors import KafkaError

from services.triage.drift.monitor import DriftMonitor, device_key
from services.triage.settings import TriageSettings
from vigie.contracts import DriftDetected, TelemetryWindow
from vigie.kafka import TopicUnavailable
from vigie.processing import BatchStep, Output, RetryPolicy, subscribe
from vigie.rules.integrity import telemetry_check
from vigie.topics import telemetry_pattern

log = logging.getLogger(__name__)
SERVICE = "triage"


def router(settings: TriageSettings, monitor: DriftMonitor) -> KafkaRouter:
    """Compare every window of ``vigie.telemetry.v1`` with its reference; publish signals.

    Windows of one device arrive in order (keyed by device and model version). Signals are
    published before the offsets are committed and carry ids derived from the window, so a
    redelivery publishes the same signal again, which the registry de-duplicates. This group
    owns the telemetry topics' validation: invalid windows are dead-lettered here, once, and so
    are windows a manufacturer's device topic carries for another manufacturer's device.
    """
    topics = settings.topics

    def outputs(signals: list[DriftDetected]) -> Sequence[Output]:
        return [Output(topics.signals, device_key(s.device).encode(), s) for s in signals]

    def after(signals: list[DriftDetected]) -> None:
        for s in signals:
            log.info(
                "drift signal",
                extra={
                    "device": device_key(s.device),
                    "subject": s.subject,
                    "severity": s.severity.value,
                },
            )

    windows = KafkaRouter()
    subscribe(
        windows,
        topics.telemetry,
        BatchStep(
            SERVICE,
            TelemetryWindow,
            monitor.observe_many,
            outputs=outputs,
            after=after,
            check=telemetry_check(topics.telemetry),
            # The state store on Kafka unavailable: pause and retry, never dead-letter windows.
            retry=RetryPolicy(transient=(TopicUnavailable, KafkaError)),
        ),
        group_id=settings.drift_group_id,
        max_records=settings.drift_max_records,
        # The shared topic and every manufacturer's device topic.
        pattern=telemetry_pattern(topics.telemetry),
    )
    return windows
