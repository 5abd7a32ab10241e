"""A batch of triaged reports is recorded with one statement per table: every new report gets
its case, primary link and audit record, the chain and the state digests verify, and every
serious case queues its alert for the regulator before any subscription's copy; on SQLite and
PostgreSQL."""

from __future__ import annotations

from sqlmodel import Session, col, select

from services.registry.audit.models import AuditRecord
from services.registry.audit.service import verify
from services.registry.audit.state import case_digests
from services.registry.cases.models import Case, CaseReport, CaseStatus, LinkRole
from services.registry.db import make_engine
from services.registry.outbox import OutboxEvent
from services.registry.reports.service import record_triaged
from services.registry.subscriptions.models import Subscription
from tests.support.factories import triaged
from vigie.contracts import ReportedOutcome

ALERTS = "test.alerts"


def test_a_batch_opens_one_audited_case_per_new_report(database_url: str) -> None:
    engine = make_engine(database_url)
    deaths = [triaged(outcome=ReportedOutcome.DEATH) for _ in range(3)]
    harmless = [triaged(outcome=ReportedOutcome.NO_HARM) for _ in range(4)]
    with Session(engine) as session:
        session.add(Subscription(name="deaths", owner="ansm", topic="test.ansm"))
        session.commit()
        done = record_triaged(session, [*deaths, *harmless, deaths[0]], alerts_topic=ALERTS)
    assert (done.inserted, done.duplicates, done.alerts, done.refused) == (7, 1, 3, ())

    with Session(engine) as session:
        cases = session.exec(select(Case)).all()
        links = session.exec(select(CaseReport)).all()
        assert len(cases) == len(links) == 7
        assert {c.status for c in cases} == {CaseStatus.TRIAGED}
        assert {link.role for link in links} == {LinkRole.PRIMARY}
        reported = {e.report.report_id for e in (*deaths, *harmless)}
        assert {link.report_id for link in links} == reported
        serious = {c.case_id for c in cases if c.serious_incident}
        assert len(serious) == 3

        # The chain holds, and each case's record carries the digest of its rows as stored.
        check = verify(session)
        assert check.ok and check.records == 7 and not check.state_problems, check
        records = session.exec(select(AuditRecord).order_by(col(AuditRecord.seq))).all()
        assert {r.action for r in records} == {"opened"}
        recorded = {r.case_id: r.state_digest for r in records}
        assert recorded == case_digests(session, [c.case_id for c in cases])

        # Each serious case: the regulator's alert first, then the subscription's copy.
        outbox = session.exec(select(OutboxEvent).order_by(col(OutboxEvent.id))).all()
        assert len(outbox) == 6
        for case_id in serious:
            topics = [e.topic for e in outbox if e.key == str(case_id)]
            assert topics == [ALERTS, "test.ansm"]
