"""Kafka handler of triage: submitted reports in, triaged reports out."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence

from faststream.kafka import KafkaRouter

from services.triage.reports.service import Classifier, TriagePolicy, triage_batch
from services.triage.selfwatch import SelfWatch
from services.triage.settings import TriageSettings
from vigie import metrics
from vigie.contracts import ReportSubmitted, ReportTriaged
from vigie.processing import BatchStep, Output, subscribe

SERVICE = "triage"


def router(
    settings: TriageSettings,
    classifier: Classifier | None,
    *,
    self_watch: SelfWatch | None = None,
) -> KafkaRouter:
    """Triage every report of ``vigie.reports.v1`` onto ``vigie.reports.triaged.v1``.

    Offsets are committed once the triaged reports and dead letters were acknowledged; any
    failure rewinds the batch. Triage is a pure function of the report and the model version,
    so a redelivered report is triaged the same and the registry de-duplicates it.
    """
    topics = settings.topics
    policy = TriagePolicy(review_confidence=settings.triage_review_confidence)
    key = settings.pseudonym_key_bytes

    def triage(reports: list[ReportSubmitted]) -> list[ReportTriaged]:
        return triage_batch(reports, classifier=classifier, key=key, policy=policy)

    def outputs(triaged: list[ReportTriaged]) -> Sequence[Output]:
        return [Output(topics.reports_triaged, t.report.report_id.bytes, t) for t in triaged]

    async def after(triaged: list[ReportTriaged]) -> None:
        # One increment per label pair of the batch, not per report.
        counts = Counter((t.triage.severity.value, t.triage.needs_review) for t in triaged)
        for (severity, needs_review), count in counts.items():
            metrics.TRIAGED.labels(severity=severity, needs_review=str(needs_review).lower()).inc(
                count
            )
        if self_watch is not None:
            await asyncio.to_thread(self_watch.observe, triaged)

    reports = KafkaRouter()
    subscribe(
        reports,
        topics.reports,
        BatchStep(SERVICE, ReportSubmitted, triage, outputs=outputs, after=after),
        group_id=settings.triage_group_id,
        max_records=settings.triage_max_records,
    )
    return reports
