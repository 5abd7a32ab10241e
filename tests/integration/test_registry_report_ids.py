"""One report per id: retries add their status links, a different body under a known id is
refused; on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import delete
from sqlmodel import Session, col, select

from services.registry.db import make_engine
from services.registry.errors import NotFound
from services.registry.reports.models import Report, ReportStatusToken
from services.registry.reports.service import (
    REPORT_ID_CONFLICT,
    record_triaged,
    report_content_hash,
    status_for_token,
)
from tests.support.factories import triaged
from vigie.contracts import ReportTriaged

ALERTS = "test.alerts"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def delivery(report_id: uuid.UUID, token: str, **overrides: object) -> ReportTriaged:
    """A triaged report of ``report_id`` as one ingest replica published it: its own event id,
    time and status token."""
    return triaged(report_id=report_id, status_token_hash=digest(token), **overrides)


def test_the_content_hash_leaves_out_what_differs_between_deliveries() -> None:
    report_id = uuid.uuid4()
    first = delivery(report_id, "a")
    retry = delivery(report_id, "b", occurred_at=first.report.occurred_at + timedelta(seconds=3))
    assert first.report.event_id != retry.report.event_id
    assert report_content_hash(first.report) == report_content_hash(retry.report)
    other = delivery(report_id, "a", narrative="Another incident altogether, same id.")
    assert report_content_hash(other.report) != report_content_hash(first.report)


def test_every_receipt_of_a_report_links_to_it_and_a_collision_is_refused(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    report_id = uuid.uuid4()
    first, retry = delivery(report_id, "token-a"), delivery(report_id, "token-b")
    collision = delivery(report_id, "token-c", narrative="Someone else's report, same id.")
    with Session(engine) as session:
        # One batch: the first delivery, a retry from another replica, and a collision.
        done = record_triaged(session, [first, retry, collision, first], alerts_topic=ALERTS)
    assert (done.inserted, done.duplicates) == (1, 2)
    [refusal] = done.refused
    assert refusal.event is collision and refusal.reason == REPORT_ID_CONFLICT
    assert str(report_id) in refusal.error and "other content" in refusal.error
    assert "Someone else" not in refusal.error  # no report content in logs and headers
    with Session(engine) as session:
        # Later deliveries: another retry adds its link; the collision is refused again.
        later = record_triaged(
            session, [delivery(report_id, "token-d"), collision], alerts_topic=ALERTS
        )
        assert (later.inserted, later.duplicates, len(later.refused)) == (0, 1, 1)
        for token in ("token-a", "token-b", "token-d"):
            assert status_for_token(session, digest(token)).tracking_number == "VG-0000-0001"
        with pytest.raises(NotFound):
            status_for_token(session, digest("token-c"))
        [recorded] = session.exec(select(Report)).all()
        assert recorded.narrative == first.report.narrative
        links = session.exec(
            select(ReportStatusToken).where(col(ReportStatusToken.report_id) == report_id)
        ).all()
        assert len(links) == 3


def test_a_report_recorded_before_links_had_their_table_keeps_its_link(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    event = delivery(uuid.uuid4(), "old-token")
    with Session(engine) as session:
        record_triaged(session, [event], alerts_topic=ALERTS)
        session.execute(delete(ReportStatusToken))  # as an earlier release left it
        session.commit()
        assert status_for_token(session, digest("old-token")).tracking_number == "VG-0000-0001"
        # A retry of it still joins it, and both links work.
        record_triaged(session, [delivery(event.report.report_id, "new")], alerts_topic=ALERTS)
        assert status_for_token(session, digest("new")).tracking_number == "VG-0000-0001"
        assert status_for_token(session, digest("old-token")).tracking_number == "VG-0000-0001"
