"""Forwarding of telemetry windows to Kafka, after checking who sends them."""

from __future__ import annotations

import asyncio
import logging

from faststream.kafka import KafkaBroker
from pydantic import BaseModel, Field

from services.ingest.errors import Forbidden, KafkaUnavailable
from services.ingest.identity import Identities
from services.ingest.settings import IngestSettings
from vigie import metrics
from vigie.contracts import TelemetryWindow
from vigie.kafka import JSON_HEADERS
from vigie_sdk.reporter import window_key

log = logging.getLogger(__name__)

# Roles whose tokens may send telemetry: the device itself or its manufacturer.
SENDER_ROLES = frozenset({"device", "manufacturer"})


class TelemetryReceipt(BaseModel):
    """A window was acknowledged by Kafka."""

    event_id: str = Field(description="The window's event id (consumers de-duplicate on it).")
    status: str = Field(default="accepted", examples=["accepted"])


class TelemetryForwarder:
    """Publishes a device's window to the telemetry topic (acks=all), keyed per model version."""

    def __init__(self, settings: IngestSettings, broker: KafkaBroker, identities: Identities):
        self._settings = settings
        self._broker = broker
        self._identities = identities

    async def forward(self, window: TelemetryWindow, *, token: str) -> TelemetryReceipt:
        """Check that the token may speak for the window's device, then publish it."""
        who = await self._identities.identity(token)
        if who.role not in SENDER_ROLES:
            raise Forbidden(f"role {who.role!r} may not send telemetry")
        if who.manufacturer is None or (
            who.manufacturer.casefold() != window.device.manufacturer.casefold()
        ):
            raise Forbidden("the token does not belong to this device's manufacturer")
        try:
            await asyncio.wait_for(
                self._broker.publish(
                    window.model_dump_json().encode(),
                    topic=self._settings.topics.telemetry,
                    key=window_key(window),
                    headers=JSON_HEADERS,
                ),
                timeout=self._settings.ingest_kafka_timeout_s,
            )
        except Exception as exc:  # any producer failure means the window is not durable
            log.error("telemetry window not acknowledged by Kafka", extra={"error": repr(exc)})
            raise KafkaUnavailable from exc
        metrics.TELEMETRY_ACCEPTED.inc()
        return TelemetryReceipt(event_id=str(window.event_id))
