"""MIR reports on a case: filing them in the order the MIR form requires, and reading them."""

from __future__ import annotations

import uuid

from sqlmodel import Session, col, select

from services.registry.audit.service import append
from services.registry.auth.models import Role
from services.registry.auth.service import Principal
from services.registry.cases.models import (
    CaseStatus,
    MirContent,
    MirCreate,
    MirPublic,
    MirReport,
    MirType,
)
from services.registry.cases.workflow import SUPERVISORS, actor, load_case
from services.registry.errors import AccessDenied, Conflict
from vigie.contracts import utcnow

S = CaseStatus


def file_mir(
    session: Session, case_id: uuid.UUID, mir: MirCreate, *, principal: Principal, key: bytes
) -> MirPublic:
    """File a MIR report on a case, enforcing the MIR sequence.

    The first report is initial or combined initial+final; follow-ups and the final one need an
    initial before them; nothing comes after a final. A manufacturer's report answers a case
    awaiting it, which goes back to assessment.
    """
    if principal.role not in (Role.MANUFACTURER, *SUPERVISORS):
        raise AccessDenied(f"role {principal.role.value} may not file MIR reports")
    case = load_case(session, case_id, principal, key)
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
    # Every change before its audit record, which is bound to the state they leave.
    case.updated_at = utcnow()
    session.add(case)
    append(
        session,
        case_id=case_id,
        actor=actor(principal),
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
    session.commit()
    session.refresh(row)
    return mir_public(row)


def require_mir_reader(principal: Principal) -> None:
    """MIR filings are the manufacturer's exchange with the authority: a clinician who can see a
    case through their own report does not read them."""
    if principal.role not in (Role.MANUFACTURER, *SUPERVISORS):
        raise AccessDenied(f"role {principal.role.value} may not read MIR reports")


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
    """MIR reports of a case, oldest first: for regulators, administrators and the case's
    manufacturer (who files them) only."""
    require_mir_reader(principal)
    load_case(session, case_id, principal, key)
    rows = session.exec(
        select(MirReport)
        .where(col(MirReport.case_id) == case_id)
        .order_by(col(MirReport.submitted_at))
    )
    return [mir_public(r) for r in rows]
