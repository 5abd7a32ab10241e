"""Registry API of exports: FHIR, MIR document, CSV."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import Field

from services.registry.cases import workflow as cases
from services.registry.cases.mir import require_mir_reader
from services.registry.deps import PrincipalDep, SessionDep, SettingsDep
from services.registry.exports import changes, service
from services.registry.exports.models import (
    CaseChangePage,
    ChangeKind,
    ReportChangePage,
)
from vigie.contracts import utcnow

router = APIRouter(prefix="/api/v1", tags=["exports"])
_ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "No valid API token"},
    403: {"description": "The caller's role may not read cases"},
    404: {"description": "No such case for this caller"},
}


@router.get("/cases/{case_id}/fhir", responses=_ERRORS)
def case_as_fhir(
    case_id: uuid.UUID, session: SessionDep, settings: SettingsDep, principal: PrincipalDep
) -> dict[str, Any]:
    """The case as a FHIR R5 AdverseEvent resource."""
    case = cases.get_case(
        session,
        case_id,
        principal=principal,
        key=settings.pseudonym_key_bytes,
        today=utcnow().date(),
    )
    return service.fhir_adverse_event(case, service.case_reports(session, case))


@router.get("/cases/{case_id}/mir", responses=_ERRORS)
def case_as_mir(
    case_id: uuid.UUID, session: SessionDep, settings: SettingsDep, principal: PrincipalDep
) -> dict[str, Any]:
    """The case in the structure of the EU MIR form (regulators, administrators and the case's
    manufacturer)."""
    require_mir_reader(principal)
    case = cases.get_case(
        session,
        case_id,
        principal=principal,
        key=settings.pseudonym_key_bytes,
        today=utcnow().date(),
    )
    return service.mir_document(
        case, service.case_reports(session, case), service.mir_rows(session, case)
    )


@router.get("/exports/cases.csv", responses=_ERRORS, response_class=Response)
def cases_as_csv(
    session: SessionDep, settings: SettingsDep, principal: PrincipalDep, open_only: bool = False
) -> Response:
    """The caller's cases as CSV, in queue order."""
    rows = []
    offset: int | None = 0
    while offset is not None:
        page = cases.list_cases(
            session,
            principal=principal,
            key=settings.pseudonym_key_bytes,
            filters=cases.CaseFilter(open_only=open_only),
            limit=500,
            offset=offset,
            today=utcnow().date(),
        )
        rows.extend(page.items)
        offset = page.next_offset
    return Response(
        service.cases_csv(rows, service.index_reports(session, rows)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="vigie-cases.csv"'},
    )


_CHANGE_ERRORS: dict[int | str, dict[str, str]] = {
    400: {"description": "``since`` is not a cursor of this feed (the field is named)"},
    401: {"description": "No valid API token"},
    403: {"description": "The caller's role may not read cases or reports"},
}
ChangePage = Annotated[CaseChangePage | ReportChangePage, Field(discriminator="kind")]


@router.get("/exports/changes", response_model=ChangePage, responses=_CHANGE_ERRORS)
def changes_since(
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    kind: ChangeKind = ChangeKind.CASES,
    since: Annotated[
        str | None,
        Query(
            max_length=200,
            description="The ``next_cursor`` (or an item's ``cursor``) of an earlier page; "
            "none to start from the first change.",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> CaseChangePage | ReportChangePage:
    """Cases or reports the caller may read that changed since a cursor, oldest change first,
    each as it stands now: the incremental export. Follow ``next_cursor`` while ``has_more``;
    keep the last cursor to resume after a stop, and poll from it for later changes. An item
    changed again while a client pages comes again, later; none is skipped. The same scope as
    the case and report APIs: a manufacturer sees its own devices' items, a clinician its own."""
    try:
        if kind is ChangeKind.CASES:
            return changes.case_changes(
                session,
                principal=principal,
                key=settings.pseudonym_key_bytes,
                since=since,
                limit=limit,
                today=utcnow().date(),
            )
        return changes.report_changes(
            session,
            principal=principal,
            key=settings.pseudonym_key_bytes,
            since=since,
            limit=limit,
        )
    except changes.BadCursor as exc:
        raise HTTPException(
            status_code=400,
            detail=[{"loc": ["query", "since"], "msg": str(exc), "type": "cursor"}],
        ) from exc
