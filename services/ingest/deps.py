"""The ingest application's long-lived parts: Kafka publisher and idempotency store."""

from __future__ import annotations

import asyncio
import logging
import time

from faststream.kafka import KafkaBroker

from services.ingest.errors import KafkaUnavailable
from services.ingest.identity import Identities
from services.ingest.reports.models import Receipt, ReportCreate
from services.ingest.reports.service import (
    IdempotencyStore,
    body_fingerprint,
    build_event,
    make_receipt,
    report_id_for,
)
from services.ingest.settings import IngestSettings
from vigie import metrics
from vigie.kafka import JSON_HEADERS

log = logging.getLogger(__name__)


class Submitter:
    """Turns a valid submission into a durable event and a receipt."""

    def __init__(
        self, settings: IngestSettings, broker: KafkaBroker, identities: Identities
    ) -> None:
        self._settings = settings
        self._broker = broker
        self._store = IdempotencyStore(settings.ingest_idempotency_entries)
        self._key = settings.pseudonym_key_bytes
        self.identities = identities

    async def submit(
        self, report: ReportCreate, *, idempotency_key: str | None, token: str | None = None
    ) -> Receipt:
        """Publish ``report`` (acks=all) and return its receipt; same key, same receipt.

        With a bearer token the report is attributed to its author (by pseudonym), who can
        then read it in the registry.
        """
        reporter_ref = await self.identities.reporter_ref(token) if token else None
        fingerprint = body_fingerprint(report)
        if idempotency_key is not None:
            known = self._store.get(idempotency_key, fingerprint)
            if known is not None:
                return known
        event = build_event(
            report,
            report_id=report_id_for(idempotency_key, fingerprint=fingerprint, key=self._key),
            key=self._key,
            reporter_ref=reporter_ref,
        )
        started = time.perf_counter()
        try:
            await asyncio.wait_for(
                self._broker.publish(
                    event.model_dump_json().encode(),
                    topic=self._settings.topics.reports,
                    key=event.report_id.bytes,
                    headers=JSON_HEADERS,
                ),
                timeout=self._settings.ingest_kafka_timeout_s,
            )
        except Exception as exc:  # any producer failure means the report is not durable
            log.error("report not acknowledged by Kafka", extra={"error": repr(exc)})
            raise KafkaUnavailable from exc
        metrics.INGEST_PUBLISH_SECONDS.observe(time.perf_counter() - started)
        metrics.REPORTS_ACCEPTED.labels(kind=report.kind.value).inc()
        receipt = make_receipt(
            event, registry_url=self._settings.registry_public_url, key=self._key
        )
        if idempotency_key is not None:
            self._store.put(idempotency_key, fingerprint, receipt)
        log.info(
            "report accepted", extra={"report_id": str(event.report_id), "kind": report.kind.value}
        )
        return receipt

    async def ready(self) -> bool:
        """Kafka answers metadata requests."""
        try:
            return bool(await self._broker.ping(timeout=2.0))
        except Exception:  # noqa: BLE001 - not reachable is an answer, not an error
            return False
