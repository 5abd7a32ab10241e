"""Registry API of cases: the queue, follow-up, MIR reports, links, merges, audit."""

from __future__ import annotations

import json
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from services.registry.audit.models import AuditPublic
from services.registry.audit.service import history
from services.registry.cases import links, mir, review, workflow
from services.registry.cases.models import (
    CasePage,
    CasePublic,
    CaseStatus,
    LinkRequest,
    MergeRequest,
    MirCreate,
    MirPublic,
    Review,
    Transition,
)
from services.registry.deps import PrincipalDep, SessionDep, SettingsDep
from services.registry.paging import MAX_OFFSET
from vigie.contracts import Severity, utcnow

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])

_ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "No valid API token"},
    403: {"description": "The caller's role may not do this"},
    404: {"description": "No such case for this caller"},
}
_CONFLICT: dict[int | str, dict[str, str]] = {
    **_ERRORS,
    409: {"description": "Not allowed in the case's current state"},
}


@router.get("", response_model=CasePage, responses=_ERRORS)
def list_cases(
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    status_: Annotated[CaseStatus | None, Query(alias="status")] = None,
    open_only: bool = False,
    severity: Severity | None = None,
    manufacturer: Annotated[str | None, Query(max_length=200)] = None,
    needs_review: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> CasePage:
    """The caller's case queue: overdue first, then by legal deadline."""
    filters = workflow.CaseFilter(
        status=status_,
        open_only=open_only,
        severity=severity,
        manufacturer=manufacturer,
        needs_review=needs_review,
    )
    return workflow.list_cases(
        session,
        principal=principal,
        key=settings.pseudonym_key_bytes,
        filters=filters,
        limit=limit,
        offset=offset,
        today=utcnow().date(),
    )


@router.get("/{case_id}", response_model=CasePublic, responses=_ERRORS)
def read_case(
    case_id: uuid.UUID, session: SessionDep, settings: SettingsDep, principal: PrincipalDep
) -> CasePublic:
    """One case with its reports and time left."""
    return workflow.get_case(
        session,
        case_id,
        principal=principal,
        key=settings.pseudonym_key_bytes,
        today=utcnow().date(),
    )


@router.post("/{case_id}/transitions", response_model=CasePublic, responses=_CONFLICT)
def change_status(
    case_id: uuid.UUID,
    body: Transition,
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
) -> CasePublic:
    """Move the case along the workflow, with the reason (regulators, administrators)."""
    key = settings.pseudonym_key_bytes
    case = workflow.transition(
        session, case_id, to=body.to, reason=body.reason, principal=principal, key=key
    )
    return workflow.to_public(session, [case], today=utcnow().date())[0]


@router.post("/{case_id}/review", response_model=CasePublic, responses=_CONFLICT)
def review_triage(
    case_id: uuid.UUID,
    body: Review,
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
) -> CasePublic:
    """Confirm or correct the triage of a case in the review queue (regulators, administrators).

    The decision sets the case's severity and legal deadline and is published on
    vigie.triage.feedback.v1 for the next training run.
    """
    case = review.review_triage(
        session,
        case_id,
        severity=body.severity,
        category=body.category,
        reason=body.reason,
        principal=principal,
        key=settings.pseudonym_key_bytes,
        feedback_topic=settings.topics.triage_feedback,
    )
    return workflow.to_public(session, [case], today=utcnow().date())[0]


@router.get("/{case_id}/mir-reports", response_model=list[MirPublic], responses=_ERRORS)
def list_mir_reports(
    case_id: uuid.UUID, session: SessionDep, settings: SettingsDep, principal: PrincipalDep
) -> list[MirPublic]:
    """MIR reports filed on the case."""
    return mir.list_mir(session, case_id, principal=principal, key=settings.pseudonym_key_bytes)


@router.post(
    "/{case_id}/mir-reports",
    response_model=MirPublic,
    status_code=status.HTTP_201_CREATED,
    responses=_CONFLICT,
)
def file_mir_report(
    case_id: uuid.UUID,
    body: MirCreate,
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
) -> MirPublic:
    """File an initial, follow-up, combined or final MIR report (manufacturer of the device)."""
    return mir.file_mir(
        session, case_id, body, principal=principal, key=settings.pseudonym_key_bytes
    )


@router.post("/{case_id}/links", status_code=status.HTTP_204_NO_CONTENT, responses=_CONFLICT)
def link_report(
    case_id: uuid.UUID,
    body: LinkRequest,
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
) -> None:
    """Link another report to this case (it stays in its own case too)."""
    links.link_report(
        session,
        case_id,
        body.report_id,
        reason=body.reason,
        principal=principal,
        key=settings.pseudonym_key_bytes,
    )


@router.post("/{case_id}/merge", response_model=CasePublic, responses=_CONFLICT)
def merge_duplicate(
    case_id: uuid.UUID,
    body: MergeRequest,
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
) -> CasePublic:
    """Merge a duplicate case into this one without losing any report."""
    case = links.merge(
        session,
        case_id,
        body.duplicate_case_id,
        reason=body.reason,
        principal=principal,
        key=settings.pseudonym_key_bytes,
    )
    return workflow.to_public(session, [case], today=utcnow().date())[0]


@router.get("/{case_id}/audit", response_model=list[AuditPublic], responses=_ERRORS)
def case_audit(
    case_id: uuid.UUID, session: SessionDep, settings: SettingsDep, principal: PrincipalDep
) -> list[AuditPublic]:
    """Every change to the case, oldest first, with its chain hash.

    Regulators and administrators see each record whole. Others see who acted by role only and
    the facts of each change (statuses, severity, deadline, MIR type), without regulators'
    identities, their reasons or the ids of other parties' reports and cases.
    """
    workflow.get_case(
        session,
        case_id,
        principal=principal,
        key=settings.pseudonym_key_bytes,
        today=utcnow().date(),
    )
    records = [AuditPublic.model_validate(r.model_dump()) for r in history(session, case_id)]
    if principal.role in workflow.SUPERVISORS:
        return records
    return [_minimal(r) for r in records]


# What a party other than the authority reads of an audit record's detail.
_PUBLIC_DETAIL = ("from", "to", "status", "severity", "deadline", "category", "report_type")


def _minimal(record: AuditPublic) -> AuditPublic:
    """``record`` without its actor's identity, its reasons or other parties' ids."""
    try:
        detail = json.loads(record.detail)
    except ValueError:
        detail = {}
    if not isinstance(detail, dict):
        detail = {}
    kept = {k: detail[k] for k in _PUBLIC_DETAIL if k in detail}
    return record.model_copy(
        update={"actor": record.actor.split(":", 1)[0], "detail": json.dumps(kept)}
    )
