"""Case workflow: statuses and their allowed moves, opening cases, reading them and the queue."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, exists, func, insert, not_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from services.registry.access import readable_reports
from services.registry.audit.models import AuditRecord
from services.registry.audit.service import Chain, append
from services.registry.audit.state import opened_case_digest
from services.registry.auth.models import Role
from services.registry.auth.service import Principal
from services.registry.cases.models import (
    Case,
    CasePage,
    CasePublic,
    CaseReport,
    CaseStatus,
    LinkRole,
)
from services.registry.errors import AccessDenied, Conflict, NotFound
from services.registry.reports.models import Report
from vigie.contracts import ReportTriaged, Severity, utcnow

S = CaseStatus
# Allowed moves of the workflow; closing always needs a reason (enforced by the request model).
TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    S.RECEIVED: frozenset({S.TRIAGED, S.UNDER_ASSESSMENT, S.CLOSED}),
    S.TRIAGED: frozenset(
        {S.UNDER_ASSESSMENT, S.AWAITING_MANUFACTURER, S.REPORTED_TO_AUTHORITY, S.CLOSED}
    ),
    S.UNDER_ASSESSMENT: frozenset({S.AWAITING_MANUFACTURER, S.REPORTED_TO_AUTHORITY, S.CLOSED}),
    S.AWAITING_MANUFACTURER: frozenset({S.UNDER_ASSESSMENT, S.CLOSED}),
    S.REPORTED_TO_AUTHORITY: frozenset({S.UNDER_ASSESSMENT, S.CLOSED}),
    S.CLOSED: frozenset({S.UNDER_ASSESSMENT}),
}
# Once reported or closed, the legal reporting deadline no longer runs.
CLOCK_STOPPED = (S.REPORTED_TO_AUTHORITY, S.CLOSED)
# Roles that steer cases: change their status, link, merge, review triage.
SUPERVISORS = (Role.REGULATOR, Role.ADMIN)


def actor(principal: Principal | None) -> str:
    """How the audit trail names whoever made a change."""
    return "system" if principal is None else f"{principal.role.value}:{principal.token_id}"


def open_cases(
    session: Session, opened: Sequence[tuple[ReportTriaged, Mapping[str, Any]]], *, chain: Chain
) -> list[uuid.UUID]:
    """Open the case of each newly recorded report (``opened``: the event and its row as
    stored), with its primary link and its audit record, in three bulk inserts (caller
    commits); returns the case ids in the order of ``opened``.

    Rows, not ORM objects: building a model instance and flushing it cost ten times the
    insert itself, and a batch of reports opens hundreds of cases at once.
    """
    cases: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    records: list[dict[str, Any]] = []
    now = utcnow()
    for event, recorded in opened:
        report, triage = event.report, event.triage
        case_id = uuid.uuid4()
        case = {
            "case_id": case_id,
            "status": S.TRIAGED,
            "status_reason": None,
            "severity": triage.severity,
            "serious_incident": event.regulatory.serious_incident,
            "needs_review": triage.needs_review,
            "deadline": event.regulatory.deadline,
            "device_name": report.device.name,
            "manufacturer": report.device.manufacturer,
            "manufacturer_key": report.device.manufacturer.casefold(),
            "country": report.country,
            "category": triage.category,
            "merged_into": None,
            "opened_at": now,
            "updated_at": now,
        }
        link = {
            "case_id": case_id,
            "report_id": recorded["report_id"],
            "role": LinkRole.PRIMARY,
            "linked_at": now,
        }
        cases.append(case)
        links.append(link)
        records.append(
            chain.row(
                case_id=case_id,
                actor="system",
                action="opened",
                detail={
                    "report_id": str(recorded["report_id"]),
                    "severity": triage.severity.value,
                    "deadline": event.regulatory.deadline,
                    "status": S.TRIAGED.value,
                    "needs_review": triage.needs_review,
                },
                state_digest=opened_case_digest(case, link, recorded),
            )
        )
    if cases:
        session.execute(insert(Case), cases)
        session.execute(insert(CaseReport), links)
        session.execute(insert(AuditRecord), records)
    return [case["case_id"] for case in cases]


def case_scope(principal: Principal, *, key: bytes) -> ColumnElement[bool]:
    """Cases the principal may read."""
    if principal.role in SUPERVISORS:
        return col(Case.case_id).is_not(None)
    if principal.role is Role.MANUFACTURER and principal.manufacturer_key:
        return col(Case.manufacturer_key) == principal.manufacturer_key
    if principal.role is Role.CLINICIAN:
        # The case of the clinician's report, or the one it was merged into (the same incident);
        # not a case it was merely linked to, which is another party's incident.
        own = (
            select(CaseReport.case_id)
            .join(Report, col(Report.report_id) == col(CaseReport.report_id))
            .where(
                col(CaseReport.case_id) == col(Case.case_id),
                col(CaseReport.role) != LinkRole.LINKED,
                col(Report.reporter_ref) == principal.reporter_ref(key=key),
            )
        )
        return exists(own)
    raise AccessDenied(f"role {principal.role.value} may not read cases")


def load_case(session: Session, case_id: uuid.UUID, principal: Principal, key: bytes) -> Case:
    """The case, if the principal may read it (404 otherwise)."""
    case = session.exec(
        select(Case).where(col(Case.case_id) == case_id, case_scope(principal, key=key))
    ).first()
    if case is None:
        raise NotFound(str(case_id))
    return case


def days_left(deadline: date | None, status: CaseStatus, *, today: date) -> int | None:
    """Days before the legal deadline (negative once overdue); None when no clock runs."""
    if deadline is None or status in CLOCK_STOPPED:
        return None
    return (deadline - today).days


def count_overdue(session: Session, *, today: date) -> int:
    """Cases past their legal deadline while their clock runs, across every tenant."""
    query = (
        select(func.count())
        .select_from(Case)
        .where(col(Case.status).not_in(list(CLOCK_STOPPED)), col(Case.deadline) < today)
    )
    return int(session.exec(query).one())


def to_public(
    session: Session,
    cases: Sequence[Case],
    *,
    today: date,
    viewer: Principal | None = None,
    key: bytes = b"",
) -> list[CasePublic]:
    """API view of cases with their report ids and time left; with a ``viewer``, only the
    reports that viewer may read are listed."""
    ids = [c.case_id for c in cases]
    links: dict[uuid.UUID, list[uuid.UUID]] = {i: [] for i in ids}
    if ids:
        for link in session.exec(
            select(CaseReport)
            .where(col(CaseReport.case_id).in_(ids))
            .order_by(col(CaseReport.linked_at))
        ):
            links[link.case_id].append(link.report_id)
    if viewer is not None:
        every = {r for linked in links.values() for r in linked}
        readable = readable_reports(session, every, principal=viewer, key=key)
        links = {i: [r for r in linked if r in readable] for i, linked in links.items()}
    out = []
    for case in cases:
        left = days_left(case.deadline, case.status, today=today)
        out.append(
            CasePublic.model_validate(
                {
                    **case.model_dump(),
                    "status_reason": _reason_for(viewer, case),
                    "days_left": left,
                    "overdue": left is not None and left < 0,
                    "report_ids": links[case.case_id],
                }
            )
        )
    return out


def _reason_for(viewer: Principal | None, case: Case) -> str | None:
    """The reason of the case's status as ``viewer`` may read it: the authority's reasons are
    its own, except the request a case awaiting its manufacturer addresses to that manufacturer."""
    if viewer is None or viewer.role in SUPERVISORS:
        return case.status_reason
    if viewer.role is Role.MANUFACTURER and case.status is S.AWAITING_MANUFACTURER:
        return case.status_reason
    return None


def get_case(
    session: Session, case_id: uuid.UUID, *, principal: Principal, key: bytes, today: date
) -> CasePublic:
    """One case the principal may read."""
    case = load_case(session, case_id, principal, key)
    return to_public(session, [case], today=today, viewer=principal, key=key)[0]


@dataclass(frozen=True)
class CaseFilter:
    """Filters of the case queue."""

    status: CaseStatus | None = None
    open_only: bool = False
    severity: Severity | None = None
    manufacturer: str | None = None
    needs_review: bool | None = None


def list_cases(
    session: Session,
    *,
    principal: Principal,
    key: bytes,
    filters: CaseFilter,
    limit: int,
    offset: int,
    today: date,
) -> CasePage:
    """The queue: overdue cases first, then by deadline (none last), then oldest first."""
    conditions: list[ColumnElement[bool]] = [case_scope(principal, key=key)]
    if filters.status is not None:
        conditions.append(col(Case.status) == filters.status)
    if filters.open_only:
        conditions.append(col(Case.status) != S.CLOSED)
    if filters.severity is not None:
        conditions.append(col(Case.severity) == filters.severity)
    if filters.manufacturer is not None:
        conditions.append(col(Case.manufacturer_key) == filters.manufacturer.casefold())
    if filters.needs_review is not None:
        conditions.append(col(Case.needs_review) == filters.needs_review)
    # Overdue cases are the running ones with the earliest deadlines, so "overdue first, then by
    # deadline" is one index walk over running cases; the cases without a running clock follow.
    # Two queries rather than one ORDER BY on an expression, which no index can serve.
    running = [col(Case.status).not_in(list(CLOCK_STOPPED)), col(Case.deadline).is_not(None)]
    first = (
        select(Case)
        .where(*conditions, *running)
        .order_by(col(Case.deadline), col(Case.opened_at), col(Case.case_id))
        .offset(offset)
        .limit(limit + 1)
    )
    rows = list(session.exec(first))
    if len(rows) <= limit:
        if rows:
            skip = 0
        else:
            in_first = session.exec(
                select(func.count()).select_from(Case).where(*conditions, *running)
            ).one()
            skip = max(0, offset - int(in_first))
        rest = (
            select(Case)
            .where(*conditions, not_(and_(*running)))
            .order_by(col(Case.opened_at), col(Case.case_id))
            .offset(skip)
            .limit(limit + 1 - len(rows))
        )
        rows += list(session.exec(rest))
    return CasePage(
        items=to_public(session, rows[:limit], today=today, viewer=principal, key=key),
        next_offset=offset + limit if len(rows) > limit else None,
    )


def transition(
    session: Session,
    case_id: uuid.UUID,
    *,
    to: CaseStatus,
    reason: str,
    principal: Principal,
    key: bytes,
) -> Case:
    """Move a case along the workflow (regulators and administrators)."""
    if principal.role not in SUPERVISORS:
        raise AccessDenied(f"role {principal.role.value} may not change a case's status")
    case = load_case(session, case_id, principal, key)
    if case.merged_into is not None:
        raise Conflict(f"case was merged into {case.merged_into}")
    if to not in TRANSITIONS[case.status]:
        raise Conflict(f"a case cannot go from {case.status.value} to {to.value}")
    before = case.status
    case.status, case.status_reason, case.updated_at = to, reason, utcnow()
    session.add(case)
    append(
        session,
        case_id=case.case_id,
        actor=actor(principal),
        action="status_changed",
        detail={"from": before.value, "to": to.value, "reason": reason},
    )
    session.commit()
    session.refresh(case)
    return case
