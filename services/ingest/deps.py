"""The ingest application's long-lived parts: Kafka publisher, idempotency store, nonces."""

from __future__ import annotations

import asyncio
import logging
import time

from fastapi.exceptions import RequestValidationError
from faststream.kafka import KafkaBroker

from services.common.deid import Scrubber
from services.ingest.errors import KafkaUnavailable
from services.ingest.identity import Identities
from services.ingest.reports.models import Receipt, ReportCreate
from services.ingest.reports.nonces import SubmissionNonces
from services.ingest.reports.scrubbing import TextScrubber
from services.ingest.reports.service import (
    NONCE_SCOPE,
    IdempotencyStore,
    body_fingerprint,
    build_event,
    make_receipt,
    new_status_token,
    principal_scope,
    report_id_for,
)
from services.ingest.settings import IngestSettings
from vigie import metrics
from vigie.kafka import JSON_HEADERS

log = logging.getLogger(__name__)


def submission_nonces(settings: IngestSettings) -> SubmissionNonces:
    """The deployment's submission nonces (the same on every replica with the same secret)."""
    return SubmissionNonces(
        key=settings.submission_nonce_key_bytes, ttl_s=settings.ingest_submission_nonce_ttl_s
    )


class Submitter:
    """Turns a valid submission into a durable event and a receipt."""

    def __init__(
        self,
        settings: IngestSettings,
        broker: KafkaBroker,
        identities: Identities,
        scrubber: Scrubber,
    ) -> None:
        self._settings = settings
        self._texts = TextScrubber(
            scrubber,
            key=settings.pseudonym_key_bytes,
            version=settings.pseudonym_key_version,
            processes=settings.ingest_scrub_processes,
        )
        self._broker = broker
        self._store = IdempotencyStore(settings.ingest_idempotency_entries)
        self._key = settings.pseudonym_key_bytes
        self._report_id_key = settings.report_id_key_bytes
        self._nonces = submission_nonces(settings)
        self.identities = identities

    async def submit(
        self, report: ReportCreate, *, idempotency_key: str | None, token: str | None = None
    ) -> Receipt:
        """Publish ``report`` (acks=all) and return its receipt; same key, same receipt.

        With a bearer token the report is attributed to its author (by pseudonym), who can
        then read it in the registry, and its idempotency key is the author's own. Without
        one, the idempotency key must be a submission nonce this deployment issued
        (:class:`~services.ingest.reports.nonces.InvalidNonce` otherwise): an anonymous key
        of the caller's choosing could be anyone's.
        """
        reporter_ref = await self.identities.reporter_ref(token) if token else None
        scope = principal_scope(reporter_ref) if reporter_ref else NONCE_SCOPE
        fingerprint = body_fingerprint(report)
        if idempotency_key is not None:
            known = self._store.get(scope, idempotency_key, fingerprint)
            if known is not None:
                return known
            if reporter_ref is None:
                self._nonces.check(idempotency_key)
        report = await self._scrubbed(report)
        status_token = new_status_token()
        event = build_event(
            report,
            report_id=report_id_for(
                idempotency_key, scope=scope, fingerprint=fingerprint, key=self._report_id_key
            ),
            key=self._key,
            reporter_ref=reporter_ref,
            status_token=status_token,
            pseudonym_version=self._settings.pseudonym_key_version,
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
            event, registry_url=self._settings.registry_public_url, status_token=status_token
        )
        if idempotency_key is not None:
            self._store.put(scope, idempotency_key, fingerprint, receipt)
        log.info(
            "report accepted", extra={"report_id": str(event.report_id), "kind": report.kind.value}
        )
        return receipt

    async def start(self) -> None:
        """Start what scrubs the reports' free texts (its processes, when it has some)."""
        await self._texts.start()

    async def close(self) -> None:
        """Stop what :meth:`start` started."""
        await self._texts.close()

    async def _scrubbed(self, report: ReportCreate) -> ReportCreate:
        """``report`` with the identifiers of its free text (narrative, establishment, the AI's
        output) replaced, off the event loop: the language model must not hold it up."""
        started = time.perf_counter()
        # The establishment and the AI's output repeat from report to report; the narrative
        # is the report's own.
        narrative, establishment, ai_output = await self._texts.scrub(
            [
                report.narrative,
                report.establishment or None,
                (report.ai.output or None) if report.ai is not None else None,
            ],
            language=report.language.value,
            repeated={1, 2},
        )
        assert narrative is not None
        metrics.INGEST_SCRUB_SECONDS.observe(time.perf_counter() - started)
        errors = []
        if len(narrative) < 10:
            errors.append(
                (
                    "narrative",
                    "nothing is left of the narrative once identifiers are removed: "
                    "describe what happened",
                )
            )
        if len(narrative) > 20_000:
            errors.append(
                (
                    "narrative",
                    "the narrative is longer than 20,000 characters once identifiers are replaced",
                )
            )
        if establishment is not None and len(establishment) > 200:
            errors.append(
                (
                    "establishment",
                    "the establishment is longer than 200 characters once identifiers are replaced",
                )
            )
        if ai_output is not None and len(ai_output) > 2000:
            errors.append(
                (
                    "ai.output",
                    "the AI's output is longer than 2,000 characters once identifiers are replaced",
                )
            )
        if errors:
            raise RequestValidationError(
                [
                    {
                        "type": "value_error",
                        "loc": ("body", *field.split(".")),
                        "msg": message,
                        "input": None,
                    }
                    for field, message in errors
                ]
            )
        scrubbed: dict[str, object] = {"narrative": narrative, "establishment": establishment}
        if report.ai is not None:
            scrubbed["ai"] = report.ai.model_copy(update={"output": ai_output})
        return report.model_copy(update=scrubbed)

    async def ready(self) -> bool:
        """Kafka answers metadata requests."""
        try:
            return bool(await self._broker.ping(timeout=2.0))
        except Exception:  # noqa: BLE001 - not reachable is an answer, not an error
            return False
