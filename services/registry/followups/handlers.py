"""Kafka handler of the registry for reporters' follow-ups: recorded once, offsets after the
commit."""

from __future__ import annotations

from collections.abc import Callable

from faststream.kafka import KafkaRouter
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services.registry.db import DATABASE_UNAVAILABLE
from services.registry.followups.service import RecordedFollowUps, record_followups
from services.registry.settings import RegistrySettings
from vigie.contracts import ReportFollowedUp
from vigie.processing import BatchStep, RetryPolicy, subscribe
from vigie.rules.privacy import scrub

SERVICE = "registry"


def router(
    settings: RegistrySettings, engine: Engine, *, on_commit: Callable[[], None]
) -> KafkaRouter:
    """Record every follow-up of ``vigie.reports.followups.v1`` on its report's case.

    Only ingest writes the topic, after checking the status link with the registry; the
    registry still re-checks what it can: the text must be scrubbed (``untrusted`` otherwise),
    the report must be recorded (``unknown_report``) and the status link must be that report's
    (``status_link_mismatch``); a follow-up id recorded with other content is
    ``followup_id_conflict``. Each of these is dead-lettered with its reason, and the rest of
    the batch goes on. Offsets are committed once the rows, the audit records and the alerts
    queued in the same transaction are committed; ``on_commit`` wakes the outbox relay.
    """
    key = settings.pseudonym_key_bytes

    def trusted(event: ReportFollowedUp, topic: str) -> list[str]:
        if event.text is not None and scrub(event.text, key=key) != event.text:
            return ["follow-up text carries identifiers that scrubbing removes"]
        return []

    def record(events: list[ReportFollowedUp]) -> RecordedFollowUps:
        with Session(engine) as session:
            return record_followups(session, events, alerts_topic=settings.topics.alerts)

    def after(result: RecordedFollowUps) -> None:
        # Consumed, refused and dead-lettered records are counted by the step itself.
        if result.alerts:
            on_commit()

    followups = KafkaRouter()
    subscribe(
        followups,
        settings.topics.report_followups,
        BatchStep(
            SERVICE,
            ReportFollowedUp,
            record,
            after=after,
            check=trusted,
            retry=RetryPolicy(transient=DATABASE_UNAVAILABLE),
            refusals=lambda result: result.refused,
        ),
        group_id=f"{settings.registry_group_id}-followups",
        max_records=settings.registry_max_records,
    )
    return followups
