"""Case workflow: opening, status transitions, MIR reports, linking and merging, queues."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, exists, func, not_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from services.registry.audit.service import Chain, append
from services.registry.auth.models import Role
from services.registry.auth.service import Principal
from services.registry.cases.models import (
    Case,
    CasePage,
    CasePublic,
    CaseReport,
    CaseStatus,
    LinkRole,
    MirContent,
    MirCreate,
    MirPublic,
    MirReport,
    MirType,
)
from services.registry.errors import AccessDenied, Conflict, NotFound
from services.registry.outbox import enqueue
from services.registry.reports.models import Report
from vigie.contracts import ReportTriaged, Severity, TriageFeedback, utcnow
from vigie.rules.deadlines import assess

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
_CLOCK_STOPPED = (S.REPORTED_TO_AUTHORITY, S.CLOSED)
_SUPERVISORS = (Role.REGULATOR, Role.ADMIN)


def _actor(principal: Principal | None) -> str:
    return "system" if principal is None else f"{principal.role.value}:{principal.token_id}"


def open_case(session: Session, event: ReportTriaged, *, chain: Chain | None = None) -> Case:
    """Open the case of a newly recorded report (caller commits); a batch passes its audit
    ``chain`` so that the tail is read once."""
    report, triage = event.report, event.triage
    now = utcnow()
    # Every column given: pydantic's default factories cost more than the insert itself.
    case = Case(
        case_id=uuid.uuid4(),
        opened_at=now,
        updated_at=now,
        status=S.TRIAGED,
        severity=triage.severity,
        serious_incident=event.regulatory.serious_incident,
        needs_review=triage.needs_review,
        deadline=event.regulatory.deadline,
        device_name=report.device.name,
        manufacturer=report.device.manufacturer,
        manufacturer_key=report.device.manufacturer.casefold(),
        country=report.country,
        category=triage.category,
    )
    session.add(case)
    session.add(
        CaseReport(
            case_id=case.case_id, report_id=report.report_id, role=LinkRole.PRIMARY, linked_at=now
        )
    )
    (chain or Chain(session)).append(
        case_id=case.case_id,
        actor="system",
        action="opened",
        detail={
            "report_id": str(report.report_id),
            "severity": triage.severity.value,
            "deadline": event.regulatory.deadline,
            "status": S.TRIAGED.value,
            "needs_review": triage.needs_review,
        },
    )
    return case


def primary_cases(session: Session, report_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Case]:
    """The case each report stands in, following merges to the surviving case."""
    if not report_ids:
        return {}
    rows = session.exec(
        select(CaseReport, Case)
        .join(Case, col(Case.case_id) == col(CaseReport.case_id))
        .where(col(CaseReport.report_id).in_(report_ids), col(CaseReport.role) == LinkRole.PRIMARY)
    ).all()
    found: dict[uuid.UUID, Case] = {}
    for link, case in rows:
        seen = {case.case_id}
        while case.merged_into is not None and case.merged_into not in seen:
            target = session.get(Case, case.merged_into)
            if target is None:
                break
            seen.add(target.case_id)
            case = target
        found[link.report_id] = case
    return found


def case_scope(principal: Principal, *, key: bytes) -> ColumnElement[bool]:
    """Cases the principal may read."""
    if principal.role in _SUPERVISORS:
        return col(Case.case_id).is_not(None)
    if principal.role is Role.MANUFACTURER and principal.manufacturer_key:
        return col(Case.manufacturer_key) == principal.manufacturer_key
    if principal.role is Role.CLINICIAN:
        own = (
            select(CaseReport.case_id)
            .join(Report, col(Report.report_id) == col(CaseReport.report_id))
            .where(
                col(CaseReport.case_id) == col(Case.case_id),
                col(Report.reporter_ref) == principal.reporter_ref(key=key),
            )
        )
        return exists(own)
    raise AccessDenied(f"role {principal.role.value} may not read cases")


def _load(session: Session, case_id: uuid.UUID, principal: Principal, key: bytes) -> Case:
    case = session.exec(
        select(Case).where(col(Case.case_id) == case_id, case_scope(principal, key=key))
    ).first()
    if case is None:
        raise NotFound(str(case_id))
    return case


def days_left(deadline: date | None, status: CaseStatus, *, today: date) -> int | None:
    """Days before the legal deadline (negative once overdue); None when no clock runs."""
    if deadline is None or status in _CLOCK_STOPPED:
        return None
    return (deadline - today).days


def to_public(session: Session, cases: Sequence[Case], *, today: date) -> list[CasePublic]:
    """API view of cases with their report ids and time left."""
    ids = [c.case_id for c in cases]
    links: dict[uuid.UUID, list[uuid.UUID]] = {i: [] for i in ids}
    if ids:
        for link in session.exec(
            select(CaseReport)
            .where(col(CaseReport.case_id).in_(ids))
            .order_by(col(CaseReport.linked_at))
        ):
            links[link.case_id].append(link.report_id)
    out = []
    for case in cases:
        left = days_left(case.deadline, case.status, today=today)
        out.append(
            CasePublic.model_validate(
                {
                    **case.model_dump(),
                    "days_left": left,
                    "overdue": left is not None and left < 0,
                    "report_ids": links[case.case_id],
                }
            )
        )
    return out


def get_case(
    session: Session, case_id: uuid.UUID, *, principal: Principal, key: bytes, today: date
) -> CasePublic:
    """One case the principal may read."""
    return to_public(session, [_load(session, case_id, principal, key)], today=today)[0]


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
    running = [col(Case.status).not_in(list(_CLOCK_STOPPED)), col(Case.deadline).is_not(None)]
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
        items=to_public(session, rows[:limit], today=today),
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
    if principal.role not in _SUPERVISORS:
        raise AccessDenied(f"role {principal.role.value} may not change a case's status")
    case = _load(session, case_id, principal, key)
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
        actor=_actor(principal),
        action="status_changed",
        detail={"from": before.value, "to": to.value, "reason": reason},
    )
    session.commit()
    session.refresh(case)
    return case


def file_mir(
    session: Session, case_id: uuid.UUID, mir: MirCreate, *, principal: Principal, key: bytes
) -> MirPublic:
    """File a MIR report on a case, enforcing the MIR sequence.

    The first report is initial or combined initial+final; follow-ups and the final one need an
    initial before them; nothing comes after a final. A manufacturer's report answers a case
    awaiting it, which goes back to assessment.
    """
    if principal.role not in (Role.MANUFACTURER, *_SUPERVISORS):
        raise AccessDenied(f"role {principal.role.value} may not file MIR reports")
    case = _load(session, case_id, principal, key)
    filed = [
        m.report_type
        for m in session.exec(select(MirReport).where(col(MirReport.case_id) == case_id))
    ]
    kind = mir.report_type
    if MirType.FINAL in filed or MirType.COMBINED_INITIAL_FINAL in filed:
        raise Conflict("a final report was already filed on this case")
    if not filed and kind not in (MirType.INITIAL, MirType.COMBINED_INITIAL_FINAL):
        raise Conflict("the first MIR report must be initial or combined initial and final")
    if filed and kind in (MirType.INITIAL, MirType.COMBINED_INITIAL_FINAL):
        raise Conflict("an initial report was already filed on this case")
    row = MirReport(
        case_id=case_id,
        report_type=kind,
        author_role=principal.role.value,
        author=principal.token_id,
        content=mir.content.model_dump_json(),
    )
    session.add(row)
    append(
        session,
        case_id=case_id,
        actor=_actor(principal),
        action="mir_filed",
        detail={"report_type": kind.value, "mir_id": str(row.mir_id)},
    )
    if case.status is S.AWAITING_MANUFACTURER and principal.role is Role.MANUFACTURER:
        case.status, case.status_reason = S.UNDER_ASSESSMENT, f"manufacturer filed {kind.value}"
        append(
            session,
            case_id=case_id,
            actor="system",
            action="status_changed",
            detail={
                "from": S.AWAITING_MANUFACTURER.value,
                "to": S.UNDER_ASSESSMENT.value,
                "reason": case.status_reason,
            },
        )
    case.updated_at = utcnow()
    session.add(case)
    session.commit()
    session.refresh(row)
    return mir_public(row)


def mir_public(row: MirReport) -> MirPublic:
    """API view of a MIR report."""
    return MirPublic(
        mir_id=row.mir_id,
        case_id=row.case_id,
        report_type=row.report_type,
        author_role=row.author_role,
        content=MirContent.model_validate_json(row.content),
        submitted_at=row.submitted_at,
    )


def list_mir(
    session: Session, case_id: uuid.UUID, *, principal: Principal, key: bytes
) -> list[MirPublic]:
    """MIR reports of a case, oldest first."""
    _load(session, case_id, principal, key)
    rows = session.exec(
        select(MirReport)
        .where(col(MirReport.case_id) == case_id)
        .order_by(col(MirReport.submitted_at))
    )
    return [mir_public(r) for r in rows]


def link_report(
    session: Session,
    case_id: uuid.UUID,
    report_id: uuid.UUID,
    *,
    reason: str,
    principal: Principal,
    key: bytes,
) -> None:
    """Add an existing report to a case; it stays in its other cases."""
    if principal.role not in _SUPERVISORS:
        raise AccessDenied(f"role {principal.role.value} may not link reports")
    _load(session, case_id, principal, key)
    if session.get(Report, report_id) is None:
        raise NotFound(str(report_id))
    if session.get(CaseReport, (case_id, report_id)) is not None:
        raise Conflict("report already linked to this case")
    session.add(CaseReport(case_id=case_id, report_id=report_id, role=LinkRole.LINKED))
    append(
        session,
        case_id=case_id,
        actor=_actor(principal),
        action="report_linked",
        detail={"report_id": str(report_id), "reason": reason},
    )
    session.commit()


def merge(
    session: Session,
    target_id: uuid.UUID,
    duplicate_id: uuid.UUID,
    *,
    reason: str,
    principal: Principal,
    key: bytes,
) -> Case:
    """Merge a duplicate case into ``target``: reports are linked to the target, none lost.

    The duplicate keeps its own links (history stays readable) and is closed with
    ``merged_into``; the target takes the worse severity and the earlier deadline.
    """
    if principal.role not in _SUPERVISORS:
        raise AccessDenied(f"role {principal.role.value} may not merge cases")
    if target_id == duplicate_id:
        raise Conflict("a case cannot be merged into itself")
    target = _load(session, target_id, principal, key)
    duplicate = _load(session, duplicate_id, principal, key)
    if duplicate.merged_into is not None or target.merged_into is not None:
        raise Conflict("one of the cases was already merged")
    moved = []
    for link in session.exec(select(CaseReport).where(col(CaseReport.case_id) == duplicate_id)):
        if session.get(CaseReport, (target_id, link.report_id)) is None:
            session.add(
                CaseReport(case_id=target_id, report_id=link.report_id, role=LinkRole.MERGED)
            )
            moved.append(str(link.report_id))
    target.severity = target.severity.worst(duplicate.severity)
    target.serious_incident = target.serious_incident or duplicate.serious_incident
    deadlines = [d for d in (target.deadline, duplicate.deadline) if d is not None]
    target.deadline = min(deadlines) if deadlines else None
    target.updated_at = duplicate.updated_at = utcnow()
    before = duplicate.status
    duplicate.status, duplicate.merged_into = S.CLOSED, target_id
    duplicate.status_reason = f"merged into {target_id}: {reason}"
    session.add(target)
    session.add(duplicate)
    append(
        session,
        case_id=target_id,
        actor=_actor(principal),
        action="merged_in",
        detail={"duplicate_case_id": str(duplicate_id), "reports": moved, "reason": reason},
    )
    append(
        session,
        case_id=duplicate_id,
        actor=_actor(principal),
        action="merged_into",
        detail={"target_case_id": str(target_id), "from": before.value, "reason": reason},
    )
    session.commit()
    session.refresh(target)
    return target


def review_triage(
    session: Session,
    case_id: uuid.UUID,
    *,
    severity: Severity,
    category: str | None,
    reason: str,
    principal: Principal,
    key: bytes,
    feedback_topic: str,
) -> Case:
    """A reviewer's decision on a triage: it becomes the case's severity and deadline, and is
    published (through the outbox) as feedback for the next training run."""
    if principal.role not in _SUPERVISORS:
        raise AccessDenied(f"role {principal.role.value} may not review triage")
    case = _load(session, case_id, principal, key)
    link = session.exec(
        select(CaseReport).where(
            col(CaseReport.case_id) == case_id, col(CaseReport.role) == LinkRole.PRIMARY
        )
    ).first()
    if link is None:
        raise Conflict("case has no primary report")
    report = session.get(Report, link.report_id)
    assert report is not None
    event = ReportTriaged.model_validate_json(report.payload)
    regulatory = assess(event.report, severity)
    feedback = TriageFeedback(
        event_id=uuid.uuid5(case_id, f"feedback:{utcnow().isoformat()}"),
        report_id=report.report_id,
        case_id=case_id,
        kind=event.report.kind,
        language=event.report.language,
        narrative=event.report.narrative,
        model_version=event.triage.model_version,
        predicted_severity=event.triage.severity,
        decided_severity=severity,
        predicted_category=event.triage.category,
        decided_category=category,
        reviewer_role=principal.role.value,
        reason=reason,
    )
    enqueue(
        session,
        event_id=str(feedback.event_id),
        topic=feedback_topic,
        key=str(report.report_id),
        event_type="triage_feedback",
        payload=feedback.model_dump_json(),
    )
    before = {"severity": case.severity.value, "deadline": case.deadline, "category": case.category}
    case.severity, case.needs_review = severity, False
    case.category = category if category is not None else case.category
    case.deadline = regulatory.deadline
    case.serious_incident = regulatory.serious_incident
    case.updated_at = utcnow()
    session.add(case)
    append(
        session,
        case_id=case_id,
        actor=_actor(principal),
        action="triage_reviewed",
        detail={
            "before": before,
            "severity": severity.value,
            "category": case.category,
            "deadline": case.deadline,
            "reason": reason,
        },
    )
    session.commit()
    session.refresh(case)
    return case
