"""Kafka handler of the registry for triaged reports: recorded once, offsets after the commit."""

from __future__ import annotations

from collections.abc import Callable

from faststream.kafka import KafkaRouter
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services.registry.db import DATABASE_UNAVAILABLE
from services.registry.reports.service import Recorded, record_triaged
from services.registry.settings import RegistrySettings
from vigie import metrics
from vigie.contracts import ReportTriaged
from vigie.processing import BatchStep, RetryPolicy, subscribe
from vigie.rules.integrity import triage_violations

SERVICE = "registry"


def router(
    settings: RegistrySettings, engine: Engine, *, on_commit: Callable[[], None]
) -> KafkaRouter:
    """Record every report of ``vigie.reports.triaged.v1`` in the registry.

    Each event must satisfy the rules of :mod:`vigie.rules.integrity` (outcome floor, legal
    deadline, scrubbed narrative); one that does not is dead-lettered, never recorded. An event
    whose report id is already recorded with other content is dead-lettered with reason
    ``report_id_conflict`` (counted by ``vigie_events_refused_total``, logged at error level):
    it is another submission, which must not vanish into the first, nor replace it.
    The batch's offsets are committed only once its rows (and the alerts queued in the same
    transaction's outbox) are committed and its dead letters acknowledged; an exception rewinds
    the batch, and the upsert on ``report_id`` makes the redelivery harmless. ``on_commit``
    wakes the outbox relay when alerts were queued.
    """

    key = settings.pseudonym_key_bytes

    def trusted(event: ReportTriaged, topic: str) -> list[str]:
        # The same rules triage applied, re-applied: the topic is only as safe as its writers.
        return triage_violations(event, key=key)

    def record(events: list[ReportTriaged]) -> Recorded:
        with Session(engine) as session:
            return record_triaged(session, events, alerts_topic=settings.topics.alerts)

    def after(result: Recorded) -> None:
        metrics.REGISTRY_UPSERTS.labels(result="inserted").inc(result.inserted)
        metrics.REGISTRY_UPSERTS.labels(result="duplicate").inc(result.duplicates)
        if result.alerts:
            on_commit()

    reports = KafkaRouter()
    subscribe(
        reports,
        settings.topics.reports_triaged,
        BatchStep(
            SERVICE,
            ReportTriaged,
            record,
            after=after,
            check=trusted,
            retry=RetryPolicy(transient=DATABASE_UNAVAILABLE),
            refusals=lambda result: result.refused,
        ),
        group_id=settings.registry_group_id,
        max_records=settings.registry_max_records,
    )
    return reports
