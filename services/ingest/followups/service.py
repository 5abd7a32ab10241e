"""Follow-up submission: check the status link with the registry, scrub the text, publish the
event durably, answer with a receipt."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import date

import httpx
from faststream.kafka import KafkaBroker

from services.common.deid import Scrubber
from services.ingest.errors import KafkaUnavailable, RegistryUnavailable
from services.ingest.followups.models import FollowUpCreate, FollowUpReceipt
from services.ingest.settings import IngestSettings
from vigie.contracts import ReportFollowedUp, utcnow
from vigie.kafka import JSON_HEADERS
from vigie.rules.privacy import scrub

log = logging.getLogger(__name__)


class UnknownStatusLink(Exception):
    """The registry holds no report for this status link."""


class InvalidFollowUp(Exception):
    """A follow-up that cannot be sent on as it is: ``errors`` are (field, message) pairs."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(message for _, message in errors))
        self.errors = errors


@dataclass(frozen=True)
class LinkedReport:
    """The report a status link belongs to, as the registry answers."""

    report_id: uuid.UUID
    tracking_number: str
    awareness_date: date


class StatusLinks:
    """Asks the registry which report a status link belongs to (no cache: a link is checked
    once per follow-up)."""

    def __init__(self, registry_url: str, *, client: httpx.AsyncClient | None = None) -> None:
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(base_url=registry_url, timeout=5.0)

    async def report(self, token: str) -> LinkedReport:
        """The report of ``token``'s status link; raises ``UnknownStatusLink`` if none."""
        try:
            response = await self._client.post("/api/v1/status-links/check", json={"token": token})
        except httpx.HTTPError as exc:
            raise RegistryUnavailable from exc
        if response.status_code in (404, 422):
            raise UnknownStatusLink
        if response.status_code != 200:
            raise RegistryUnavailable
        body = response.json()
        return LinkedReport(
            report_id=uuid.UUID(body["report_id"]),
            tracking_number=str(body["tracking_number"]),
            awareness_date=date.fromisoformat(body["awareness_date"]),
        )

    async def close(self) -> None:
        """Release the HTTP connections (of a client this object created)."""
        if self._owns_client:
            await self._client.aclose()


def followup_fingerprint(body: FollowUpCreate) -> str:
    """Hash of what a follow-up says, without the status link it came through."""
    return hashlib.sha256(body.model_dump_json(exclude={"status_token"}).encode()).hexdigest()


def followup_id_for(
    report_id: uuid.UUID, *, fingerprint: str, idempotency_key: str | None, key: bytes
) -> uuid.UUID:
    """The follow-up's id, derived like a report's from its report, its body and the
    Idempotency-Key: a retry (any replica, any of the report's status links) is the same
    follow-up, which the registry records once. Without a key, the same body on the same report
    is the same follow-up."""
    message = json.dumps(["followup", str(report_id), fingerprint, idempotency_key or ""])
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
    value = int.from_bytes(digest[:16], "big")
    # RFC 9562 version 8 (custom) with the RFC variant, as report ids.
    value = (value & ~(0xF << 76)) | (0x8 << 76)
    value = (value & ~(0x3 << 62)) | (0x2 << 62)
    return uuid.UUID(int=value)


class FollowUps:
    """Turns a follow-up sent through a status link into a durable event and a receipt."""

    def __init__(
        self,
        settings: IngestSettings,
        broker: KafkaBroker,
        links: StatusLinks,
        scrubber: Scrubber,
    ) -> None:
        self._settings = settings
        self._broker = broker
        self._scrubber = scrubber
        self.links = links

    async def submit(self, body: FollowUpCreate, *, idempotency_key: str | None) -> FollowUpReceipt:
        """Publish ``body`` (acks=all) once the registry confirmed its status link; raises
        ``UnknownStatusLink``, ``InvalidFollowUp``, ``RegistryUnavailable`` or
        ``KafkaUnavailable``."""
        linked = await self.links.report(body.status_token)
        if body.awareness_date is not None and body.awareness_date < linked.awareness_date:
            raise InvalidFollowUp(
                [("awareness_date", "cannot be before the day you became aware of the incident")]
            )
        text = await self._scrubbed(body) if body.text is not None else None
        settings = self._settings
        event = ReportFollowedUp(
            followup_id=followup_id_for(
                linked.report_id,
                fingerprint=followup_fingerprint(body),
                idempotency_key=idempotency_key,
                key=settings.report_id_key_bytes,
            ),
            report_id=linked.report_id,
            tracking_number=linked.tracking_number,
            status_token_hash=hashlib.sha256(body.status_token.encode()).hexdigest(),
            language=body.language,
            text=text,
            outcome=body.outcome,
            awareness_date=body.awareness_date,
        )
        try:
            await asyncio.wait_for(
                self._broker.publish(
                    event.model_dump_json().encode(),
                    topic=settings.topics.report_followups,
                    # The report's key: its follow-ups keep their order on one partition.
                    key=event.report_id.bytes,
                    headers=JSON_HEADERS,
                ),
                timeout=settings.ingest_kafka_timeout_s,
            )
        except Exception as exc:  # any producer failure means the follow-up is not durable
            log.error("follow-up not acknowledged by Kafka", extra={"error": repr(exc)})
            raise KafkaUnavailable from exc
        log.info(
            "follow-up accepted",
            extra={"followup_id": str(event.followup_id), "report_id": str(event.report_id)},
        )
        return FollowUpReceipt(
            followup_id=event.followup_id,
            tracking_number=event.tracking_number,
            received_at=utcnow(),
            text=event.text,
            outcome=event.outcome,
        )

    async def _scrubbed(self, body: FollowUpCreate) -> str:
        """The follow-up's text with its identifiers replaced, as a report's narrative is (the
        language model in a worker thread, then the pattern rules the registry re-checks)."""
        assert body.text is not None
        key, version = self._settings.pseudonym_key_bytes, self._settings.pseudonym_key_version
        language = body.language.value

        def clean(text: str) -> str:
            scrubbed = self._scrubber.scrub(text, key=key, language=language, version=version)
            return scrub(scrubbed, key=key, version=version)

        started = time.perf_counter()
        text = await asyncio.to_thread(clean, body.text)
        log.debug("follow-up scrubbed", extra={"seconds": time.perf_counter() - started})
        if not text.strip():
            raise InvalidFollowUp(
                [("text", "nothing is left of the text once identifiers are removed")]
            )
        if len(text) > 5000:
            raise InvalidFollowUp(
                [("text", "the text is longer than 5,000 characters once identifiers are replaced")]
            )
        return text
