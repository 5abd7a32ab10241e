"""Reviewers' decisions are read back from the real feedback topic for training."""

from __future__ import annotations

import uuid

from kafka import KafkaProducer

from services.triage.feedback import fetch_feedback
from tests.support.kafka import fresh_namespace, provision
from vigie.contracts import Language, ReportKind, Severity, TriageFeedback
from vigie.settings import CommonSettings


def decision(report_id: uuid.UUID, decided: Severity) -> TriageFeedback:
    return TriageFeedback(
        report_id=report_id,
        case_id=uuid.uuid4(),
        kind=ReportKind.ADVERSE_EVENT,
        language=Language.FR,
        narrative="Patient décédé après une alerte manquée par le logiciel.",
        model_version="triage-abc",
        predicted_severity=Severity.OTHER,
        decided_severity=decided,
        reviewer_role="regulator",
        reason="death described in the narrative",
    )


def test_latest_decision_per_report_wins(kafka_bootstrap: str) -> None:
    settings = CommonSettings(
        kafka_bootstrap_servers=kafka_bootstrap, topic_namespace=fresh_namespace()
    )
    assert fetch_feedback(settings) == []  # no topic yet: nothing to learn from
    provision(settings)
    assert fetch_feedback(settings) == []
    first, second = uuid.uuid4(), uuid.uuid4()
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    for event in (
        decision(first, Severity.SERIOUS),
        decision(second, Severity.MALFUNCTION),
        decision(first, Severity.DEATH),
    ):
        producer.send(
            settings.topics.triage_feedback,
            key=event.report_id.bytes,
            value=event.model_dump_json().encode(),
        )
    producer.send(settings.topics.triage_feedback, key=b"x", value=b"not json")
    producer.flush()
    producer.close()
    found = {f.report_id: f.decided_severity for f in fetch_feedback(settings)}
    assert found == {first: Severity.DEATH, second: Severity.MALFUNCTION}
