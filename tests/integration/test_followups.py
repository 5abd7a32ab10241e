"""Reporters' follow-ups: recorded once on their case, re-timing it when the outcome worsens,
audited and alerted; dead-lettered with a reason when they cannot be; sent through ingest only
with a status link the registry knows, with their text scrubbed. On SQLite and PostgreSQL, in
memory and on the real broker."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from services.ingest.app import create_app as create_ingest
from services.ingest.settings import IngestSettings
from services.registry.app import create_app as create_registry
from services.registry.audit.models import AuditRecord
from services.registry.audit.service import verify
from services.registry.auth.models import Role
from services.registry.auth.service import create_token
from services.registry.cases.models import Case
from services.registry.db import make_engine
from services.registry.followups import handlers
from services.registry.followups.models import FollowUp
from services.registry.followups.service import (
    FOLLOWUP_ID_CONFLICT,
    STATUS_LINK_MISMATCH,
    UNKNOWN_REPORT,
    record_followups,
)
from services.registry.outbox import OutboxEvent
from services.registry.reports.service import record_triaged
from services.registry.settings import RegistrySettings
from tests.support import factories
from tests.support.handlers import MODES, Sink, broker_for, running, wait_until
from tests.support.kafka import fresh_namespace, provision, read_all
from tests.support.servers import serving
from vigie.contracts import (
    ReportedOutcome,
    ReportFollowedUp,
    ReportTriaged,
    Severity,
    utcnow,
)
from vigie.settings import CommonSettings

ALERTS = "vigie.alerts.v1"
TOKEN = "the-reporters-status-secret-0123456789"
TOKEN_HASH = hashlib.sha256(TOKEN.encode()).hexdigest()


def injury_report(**overrides: object) -> ReportTriaged:
    """An injury (a 15-day case) aware today, with the status link ``TOKEN``."""
    return factories.linked(TOKEN_HASH, **{"outcome": ReportedOutcome.INJURY, **overrides})


def followup(report: ReportTriaged, **overrides: object) -> ReportFollowedUp:
    return factories.followup(report, TOKEN_HASH, **overrides)


def test_a_death_re_times_the_case_once_audits_and_alerts(database_url: str) -> None:
    engine = make_engine(database_url)
    report = injury_report()
    today = utcnow().date()
    with Session(engine) as session:
        record_triaged(session, [report], alerts_topic=ALERTS)
        case = session.exec(select(Case)).one()
        assert case.deadline == today + timedelta(days=15) and case.severity is Severity.SERIOUS
    death = followup(report)
    with Session(engine) as session:
        first = record_followups(session, [death, death], alerts_topic=ALERTS)
    assert (first.inserted, first.duplicates, first.retimed, first.alerts) == (1, 1, 1, 1)
    with Session(engine) as session:
        again = record_followups(session, [death], alerts_topic=ALERTS)
        assert (again.inserted, again.duplicates) == (0, 1)
        case = session.exec(select(Case)).one()
        assert case.severity is Severity.DEATH and case.serious_incident
        assert case.deadline == today + timedelta(days=10)
        row = session.exec(select(FollowUp)).one()
        assert (row.severity_before, row.severity_after) == ("serious", "death")
        assert (row.deadline_before, row.deadline_after) == (
            today + timedelta(days=15),
            today + timedelta(days=10),
        )
        records = session.exec(
            select(AuditRecord).where(col(AuditRecord.action) == "follow_up_received")
        ).all()
        assert len(records) == 1
        detail = json.loads(records[0].detail)
        assert detail["deadline"] == str(today + timedelta(days=10))
        assert detail["clock_start"] == str(today)
        assert detail["before"]["deadline"] == str(today + timedelta(days=15))
        assert "The patient" not in records[0].detail  # the text is bound by its hash only
        alerts = [
            json.loads(o.payload)
            for o in session.exec(select(OutboxEvent).where(col(OutboxEvent.topic) == ALERTS))
        ]
        # The injury's alert when the case opened, then the death's.
        assert [a["severity"] for a in alerts] == ["serious", "death"]
        assert alerts[1]["deadline"] == str(today + timedelta(days=10))
        assert alerts[1]["registry_path"] == f"/api/v1/cases/{case.case_id}"
        assert verify(session).ok


def test_a_better_outcome_never_relaxes_the_deadline(database_url: str) -> None:
    engine = make_engine(database_url)
    report = injury_report(outcome=ReportedOutcome.DEATH)
    with Session(engine) as session:
        record_triaged(session, [report], alerts_topic=ALERTS)
        before = session.exec(select(Case)).one()
        deadline, severity = before.deadline, before.severity
    better = followup(report, outcome=ReportedOutcome.NO_HARM, text="Actually recovered.")
    text_only = followup(report, outcome=None, text="More detail on the scan.")
    with Session(engine) as session:
        result = record_followups(session, [better, text_only], alerts_topic=ALERTS)
        assert (result.inserted, result.retimed, result.alerts) == (2, 0, 0)
        case = session.exec(select(Case)).one()
        assert (case.deadline, case.severity) == (deadline, severity)
        assert len(session.exec(select(FollowUp)).all()) == 2


def test_follow_ups_that_cannot_be_recorded_are_refused_with_a_reason(database_url: str) -> None:
    engine = make_engine(database_url)
    report = injury_report()
    other = injury_report(status_token_hash="ab" * 32, tracking_number="VG-0000-0002")
    with Session(engine) as session:
        record_triaged(session, [report, other], alerts_topic=ALERTS)
    recorded = followup(report)
    conflicting = recorded.model_copy(update={"text": "Another text under the same id."})
    unknown = followup(report, report_id=uuid.uuid4())
    # The status link of ``report`` used on ``other``: not that report's link.
    mismatched = followup(other)
    with Session(engine) as session:
        record_followups(session, [recorded], alerts_topic=ALERTS)
    with Session(engine) as session:
        result = record_followups(session, [conflicting, unknown, mismatched], alerts_topic=ALERTS)
    reasons = {r.event.followup_id: r.reason for r in result.refused}
    assert reasons == {
        recorded.followup_id: FOLLOWUP_ID_CONFLICT,
        unknown.followup_id: UNKNOWN_REPORT,
        mismatched.followup_id: STATUS_LINK_MISMATCH,
    }
    assert result.inserted == 0
    with Session(engine) as session:
        assert len(session.exec(select(FollowUp)).all()) == 1


@pytest.fixture
def registry(database_url: str) -> Iterator[tuple[TestClient, ReportTriaged]]:
    app = create_registry(RegistrySettings(database_url=database_url), consume=False)
    with TestClient(app) as client:
        engine = client.app.state.engine  # type: ignore[attr-defined]
        report = injury_report()
        with Session(engine) as session:
            record_triaged(session, [report], alerts_topic=ALERTS)
            record_followups(session, [followup(report)], alerts_topic=ALERTS)
        yield client, report


def test_the_case_api_and_the_status_page_show_the_follow_up(
    registry: tuple[TestClient, ReportTriaged],
) -> None:
    client, report = registry
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        regulator = create_token(session, role=Role.REGULATOR)
        acme = create_token(session, role=Role.MANUFACTURER, manufacturer="Acme")
        globex = create_token(session, role=Role.MANUFACTURER, manufacturer="Globex")
        device = create_token(session, role=Role.DEVICE)
        case_id = session.exec(select(Case.case_id)).one()
    url = f"/api/v1/cases/{case_id}/follow-ups"
    seen = client.get(url, headers={"Authorization": f"Bearer {regulator}"})
    assert seen.status_code == 200, seen.text
    [one] = seen.json()
    assert one["outcome"] == "death" and one["text"] == "The patient died two days later."
    assert one["deadline_after"] == str(utcnow().date() + timedelta(days=10))
    assert client.get(url, headers={"Authorization": f"Bearer {acme}"}).status_code == 200
    assert client.get(url, headers={"Authorization": f"Bearer {globex}"}).status_code == 404
    assert client.get(url, headers={"Authorization": f"Bearer {device}"}).status_code == 403
    assert client.get(url).status_code == 401

    page = client.get(f"/status/{TOKEN}?lang=en")
    assert page.status_code == 200
    assert 'id="followups"' in page.text and "The patient died two days later." in page.text
    assert '<span class="outcome">Death</span>' in page.text
    assert f'href="http://127.0.0.1:8000/follow-up/{TOKEN}?lang=en"' in page.text

    checked = client.post("/api/v1/status-links/check", json={"token": TOKEN})
    assert checked.status_code == 200
    assert checked.json() == {
        "report_id": str(report.report.report_id),
        "tracking_number": report.report.tracking_number,
        "awareness_date": str(report.report.awareness_date),
    }
    assert client.post("/api/v1/status-links/check", json={"token": "nope"}).status_code == 404


@pytest.mark.parametrize("mode", MODES)
def test_the_registry_consumer_records_follow_ups_and_dead_letters_the_rest(
    mode: str, database_url: str, request: pytest.FixtureRequest
) -> None:
    namespace = fresh_namespace()
    if mode == "real":
        bootstrap: str = request.getfixturevalue("kafka_bootstrap")
        provision(CommonSettings(kafka_bootstrap_servers=bootstrap, topic_namespace=namespace))
    else:
        bootstrap = "127.0.0.1:9"
    settings = RegistrySettings(
        kafka_bootstrap_servers=bootstrap,
        topic_namespace=namespace,
        database_url=database_url,
        registry_group_id=f"{namespace}-registry",
    )
    engine = make_engine(database_url)
    report = injury_report()
    with Session(engine) as session:
        record_triaged(session, [report], alerts_topic=settings.topics.alerts)
    topic = settings.topics.report_followups
    woken: list[int] = []
    broker = broker_for(settings, mode)
    broker.include_router(handlers.router(settings, engine, on_commit=lambda: woken.append(1)))
    sink = Sink()
    sink.watch(broker, topic + ".dlq", group_id=f"{namespace}-sink")
    death = followup(report)
    unknown = followup(report, report_id=uuid.uuid4())
    # Valid against the contract, but with an identifier scrubbing removes: a faulty writer.
    unscrubbed = followup(report, text="Patient NIR 1 84 12 75 115 003 42 died.")
    malformed = json.dumps({"followup_id": "not-a-uuid"}).encode()

    def recorded() -> int:
        with Session(engine) as session:
            return len(session.exec(select(FollowUp)).all())

    async def scenario() -> None:
        async with running(broker, mode) as b:
            for event in (death, unknown, unscrubbed, death):
                await b.publish(event.model_dump_json().encode(), topic, key=event.report_id.bytes)
            await b.publish(malformed, topic, key=b"bad")
            await sink.wait(lambda r: len(r.get(topic + ".dlq", [])) >= 3)
            await asyncio.to_thread(wait_until, lambda: recorded() == 1)

    asyncio.run(scenario())
    dead = {r.headers["vigie-dlq-reason"]: r for r in sink.received[topic + ".dlq"]}
    assert set(dead) == {"schema", UNKNOWN_REPORT, "untrusted"}
    assert "scrubbing" in dead["untrusted"].headers["vigie-dlq-error"]
    assert woken
    with Session(engine) as session:
        case = session.exec(select(Case)).one()
        assert case.deadline == utcnow().date() + timedelta(days=10)
        assert session.exec(select(FollowUp.followup_id)).one() == death.followup_id


def test_ingest_checks_the_link_scrubs_the_text_and_publishes_once(
    kafka_bootstrap: str, database_url: str
) -> None:
    registry_app = create_registry(RegistrySettings(database_url=database_url), consume=False)
    report = injury_report()
    with serving(registry_app) as registry_url:
        with Session(registry_app.state.engine) as session:
            record_triaged(session, [report], alerts_topic=ALERTS)
        settings = IngestSettings(
            kafka_bootstrap_servers=kafka_bootstrap,
            topic_namespace=fresh_namespace(),
            registry_internal_url=registry_url,
        )
        provision(settings)
        body = {
            "status_token": TOKEN,
            "text": "Mme Jeanne Dupont, IPP 40012345, est décédée le 24 novembre.",
            "outcome": "death",
            "language": "fr",
        }
        with TestClient(create_ingest(settings)) as client:
            bad = client.post("/api/v1/follow-ups", json={**body, "status_token": "wrong"})
            assert bad.status_code == 422
            assert bad.json()["detail"][0]["loc"] == ["body", "status_token"]
            empty = client.post("/api/v1/follow-ups", json={"status_token": TOKEN})
            assert empty.status_code == 422
            control = client.post("/api/v1/follow-ups", json={**body, "text": "died\x00 later"})
            assert control.status_code == 422
            early = (report.report.awareness_date - timedelta(days=1)).isoformat()
            too_early = client.post("/api/v1/follow-ups", json={**body, "awareness_date": early})
            assert too_early.status_code == 422
            assert too_early.json()["detail"][0]["loc"] == ["body", "awareness_date"]
            key = {"Idempotency-Key": "retry-me"}
            first = client.post("/api/v1/follow-ups", json=body, headers=key)
            retry = client.post("/api/v1/follow-ups", json=body, headers=key)
            assert first.status_code == retry.status_code == 202, first.text
            assert first.json()["followup_id"] == retry.json()["followup_id"]
            receipt = first.json()
            assert "Dupont" not in receipt["text"] and "40012345" not in receipt["text"]
            assert receipt["tracking_number"] == report.report.tracking_number
    records = read_all(kafka_bootstrap, settings.topics.report_followups)
    assert len(records) == 2  # the retry is published again: the registry records it once
    for record in records:
        assert b"Dupont" not in record.value and b"40012345" not in record.value
        assert TOKEN.encode() not in record.value
        assert record.key == report.report.report_id.bytes
    events = [ReportFollowedUp.model_validate_json(r.value) for r in records]
    assert {e.followup_id for e in events} == {uuid.UUID(receipt["followup_id"])}
    assert events[0].status_token_hash == TOKEN_HASH
    engine = make_engine(database_url)
    with Session(engine) as session:
        result = record_followups(session, events, alerts_topic=ALERTS)
        assert (result.inserted, result.duplicates) == (1, 1)
        stored = session.exec(select(FollowUp)).one()
        assert "Dupont" not in stored.payload and "40012345" not in stored.payload
    assert date.fromisoformat(str(stored.deadline_after)) == utcnow().date() + timedelta(days=10)
