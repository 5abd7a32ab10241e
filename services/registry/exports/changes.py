"""The change feed: every case or report changed since a cursor, paged and resumable.

The audit trail is the change log. Every change to a case appends an
:class:`~services.registry.audit.models.AuditRecord` in the transaction that makes it, and
appends are serialised until commit (the chain's lock on PostgreSQL, the single writer on
SQLite), so a record's ``seq`` orders changes as they became visible: once a reader sees
``seq`` N, no change numbered below N can still appear. A case's position in the feed is the
``seq`` of its latest record; a report's, the latest record of any case that holds it (its
own case, one it was linked or merged into: what the report's API view shows of its case).
Links are never removed and records never deleted, so positions only grow.

Pages are ordered by (position, id) and the cursor is the last item's pair: the next page takes
what lies strictly after it. An item changed while a client pages comes again, later, with its
new state; nothing is skipped or listed twice for one change, and a client that stopped resumes
from the last cursor it kept. The cursor holds no secret: it is opaque so that its form may
change, and every page applies the caller's scope afresh.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, col, func, select

from services.registry.access import report_scope
from services.registry.audit.models import AuditRecord
from services.registry.auth.service import Principal
from services.registry.cases.links import primary_cases
from services.registry.cases.models import Case, CaseReport
from services.registry.cases.workflow import case_scope, to_public
from services.registry.exports.models import (
    CaseChange,
    CaseChangePage,
    ChangeKind,
    ReportChange,
    ReportChangePage,
)
from services.registry.reports.models import Report, ReportPublic

_CURSOR_VERSION = 1


class BadCursor(ValueError):
    """A cursor this feed did not issue, or issued for the other kind."""


@dataclass(frozen=True, order=True)
class Position:
    """Where an item stands in the feed: its latest change, then its id."""

    seq: int
    item_id: uuid.UUID

    @classmethod
    def start(cls) -> Position:
        return cls(0, uuid.UUID(int=0))


def encode_cursor(kind: ChangeKind, position: Position) -> str:
    """The opaque cursor of a position in the feed of ``kind``."""
    raw = json.dumps(
        [_CURSOR_VERSION, kind.value, position.seq, str(position.item_id)], separators=(",", ":")
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(kind: ChangeKind, cursor: str | None) -> Position:
    """The position a cursor of the ``kind`` feed stands for (the start without one)."""
    if cursor is None:
        return Position.start()
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        version, of, seq, item = json.loads(raw)
        position = Position(seq, uuid.UUID(item))
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError) as exc:
        raise BadCursor("not a cursor of this feed") from exc
    if version != _CURSOR_VERSION or not isinstance(seq, int) or isinstance(seq, bool):
        raise BadCursor("not a cursor of this feed")
    if seq < 0 or seq >= 2**63:
        raise BadCursor("not a cursor of this feed")
    if of != kind.value:
        raise BadCursor(f"a cursor of the {of} feed, not of the {kind.value} feed")
    return position


def _after(position: Position, last: Any, item: Any) -> Any:
    return or_(last > position.seq, and_(last == position.seq, item > position.item_id))


def _stamp(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def case_changes(
    session: Session,
    *,
    principal: Principal,
    key: bytes,
    since: str | None,
    limit: int,
    today: date,
) -> CaseChangePage:
    """Cases the principal may read that changed after ``since``, oldest change first."""
    position = decode_cursor(ChangeKind.CASES, since)
    last = func.max(col(AuditRecord.seq)).label("last")
    latest = (
        select(col(AuditRecord.case_id).label("case_id"), last)
        .where(col(AuditRecord.seq) >= position.seq)
        .group_by(col(AuditRecord.case_id))
        .subquery()
    )
    rows = session.exec(
        select(Case, latest.c.last)
        .join(latest, latest.c.case_id == col(Case.case_id))
        .where(case_scope(principal, key=key), _after(position, latest.c.last, col(Case.case_id)))
        .order_by(latest.c.last, col(Case.case_id))
        .limit(limit + 1)
    ).all()
    page = rows[:limit]
    cases = to_public(session, [c for c, _ in page], today=today, viewer=principal, key=key)
    stamps = _change_times(session, [seq for _, seq in page])
    items = [
        CaseChange(
            case=public,
            changed_at=stamps[seq],
            cursor=encode_cursor(ChangeKind.CASES, Position(seq, case.case_id)),
        )
        for (case, seq), public in zip(page, cases, strict=True)
    ]
    return CaseChangePage(
        items=items,
        next_cursor=items[-1].cursor if items else encode_cursor(ChangeKind.CASES, position),
        has_more=len(rows) > limit,
    )


def report_changes(
    session: Session, *, principal: Principal, key: bytes, since: str | None, limit: int
) -> ReportChangePage:
    """Reports the principal may read whose cases changed after ``since``, oldest change
    first (a report recorded opens its case: that is its first change)."""
    position = decode_cursor(ChangeKind.REPORTS, since)
    last = func.max(col(AuditRecord.seq)).label("last")
    latest = (
        select(col(CaseReport.report_id).label("report_id"), last)
        .join(AuditRecord, col(AuditRecord.case_id) == col(CaseReport.case_id))
        .where(col(AuditRecord.seq) >= position.seq)
        .group_by(col(CaseReport.report_id))
        .subquery()
    )
    rows = session.exec(
        select(Report, latest.c.last)
        .join(latest, latest.c.report_id == col(Report.report_id))
        .where(
            report_scope(principal, key=key),
            _after(position, latest.c.last, col(Report.report_id)),
        )
        .order_by(latest.c.last, col(Report.report_id))
        .limit(limit + 1)
    ).all()
    page = rows[:limit]
    cases = primary_cases(session, [r.report_id for r, _ in page])
    stamps = _change_times(session, [seq for _, seq in page])
    items = []
    for report, seq in page:
        case = cases.get(report.report_id)
        public = ReportPublic.model_validate(
            {
                **report.model_dump(),
                "case_id": case.case_id if case else None,
                "case_status": case.status if case else None,
            }
        )
        items.append(
            ReportChange(
                report=public,
                changed_at=stamps[seq],
                cursor=encode_cursor(ChangeKind.REPORTS, Position(seq, report.report_id)),
            )
        )
    return ReportChangePage(
        items=items,
        next_cursor=items[-1].cursor if items else encode_cursor(ChangeKind.REPORTS, position),
        has_more=len(rows) > limit,
    )


def _change_times(session: Session, seqs: list[int]) -> dict[int, datetime]:
    if not seqs:
        return {}
    rows = session.exec(
        select(AuditRecord.seq, AuditRecord.at).where(col(AuditRecord.seq).in_(set(seqs)))
    )
    return {int(seq): _stamp(at) for seq, at in rows if seq is not None}
