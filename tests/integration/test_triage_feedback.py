"""Reviewers' decisions are read back from the real feedback topic for training."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from kafka import KafkaProducer

from services.triage.feedback import fetch_feedback
from tests.support.kafka import client_kwargs, fresh_namespace, provision
from vigie.contracts import Language, ReportKind, Severity, TriageFeedback
from vigie.settings import CommonSettings
from vigie_tools.cli import main


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
    producer = KafkaProducer(**client_kwargs(kafka_bootstrap), acks="all")
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


def test_vigie_train_learns_from_the_feedback_topic(
    kafka_bootstrap: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = CommonSettings(
        kafka_bootstrap_servers=kafka_bootstrap, topic_namespace=fresh_namespace()
    )
    provision(settings)
    producer = KafkaProducer(**client_kwargs(kafka_bootstrap), acks="all")
    for _ in range(3):
        event = decision(uuid.uuid4(), Severity.DEATH)
        producer.send(
            settings.topics.triage_feedback,
            key=event.report_id.bytes,
            value=event.model_dump_json().encode(),
        )
    producer.flush()
    producer.close()
    monkeypatch.setenv("VIGIE_KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    monkeypatch.setenv("VIGIE_TOPIC_NAMESPACE", settings.topic_namespace)
    args = ["train", "--out", str(tmp_path / "model"), "--max-reports", "400", "--skip-evaluation"]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "reviewer feedback: 3 decisions" in captured.err
    with_feedback = json.loads(captured.out.strip().splitlines()[-1])
    assert with_feedback["feedback"] == 3
    assert main([*args, "--no-kafka-feedback"]) == 0
    without = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert without["feedback"] == 0
    assert without["model_version"] != with_feedback["model_version"]
