"""Reports and cases: the case a report stands in, linking more reports, merging duplicates."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlmodel import Session, col, select

from services.registry.audit.service import append
from services.registry.auth.service import Principal
from services.registry.cases.models import Case, CaseReport, CaseStatus, LinkRole
from services.registry.cases.workflow import SUPERVISORS, actor, load_case
from services.registry.errors import AccessDenied, Conflict, NotFound
from services.registry.reports.models import Report
from vigie.contracts import utcnow

S = CaseStatus


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
    if principal.role not in SUPERVISORS:
        raise AccessDenied(f"role {principal.role.value} may not link reports")
    load_case(session, case_id, principal, key)
    if session.get(Report, report_id) is None:
        raise NotFound(str(report_id))
    if session.get(CaseReport, (case_id, report_id)) is not None:
        raise Conflict("report already linked to this case")
    session.add(CaseReport(case_id=case_id, report_id=report_id, role=LinkRole.LINKED))
    append(
        session,
        case_id=case_id,
        actor=actor(principal),
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
    if principal.role not in SUPERVISORS:
        raise AccessDenied(f"role {principal.role.value} may not merge cases")
    if target_id == duplicate_id:
        raise Conflict("a case cannot be merged into itself")
    target = load_case(session, target_id, principal, key)
    duplicate = load_case(session, duplicate_id, principal, key)
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
        actor=actor(principal),
        action="merged_in",
        detail={"duplicate_case_id": str(duplicate_id), "reports": moved, "reason": reason},
    )
    append(
        session,
        case_id=duplicate_id,
        actor=actor(principal),
        action="merged_into",
        detail={"target_case_id": str(target_id), "from": before.value, "reason": reason},
    )
    session.commit()
    session.refresh(target)
    return target
