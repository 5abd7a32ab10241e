"""Registry API of reports: read one, list with filters, reporter status."""

from __future__ import annotations

import hashlib
import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query

from services.registry.deps import PrincipalDep, SessionDep, SettingsDep
from services.registry.reports import service
from services.registry.reports.models import ReportPage, ReportPublic, ReportStatus
from vigie.contracts import ReportKind, Severity

router = APIRouter(prefix="/api/v1", tags=["reports"])

_AUTH_ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "No valid API token"},
    403: {"description": "The caller's role may not read reports"},
}


@router.get(
    "/reports/{report_id}",
    response_model=ReportPublic,
    responses={**_AUTH_ERRORS, 404: {"description": "No such report for this caller"}},
)
def read_report(
    report_id: uuid.UUID, session: SessionDep, settings: SettingsDep, principal: PrincipalDep
) -> ReportPublic:
    """A report with its case, if the caller may read it."""
    return service.get_report(
        session, report_id, principal=principal, key=settings.pseudonym_key_bytes
    )


@router.get("/reports", response_model=ReportPage, responses=_AUTH_ERRORS)
def list_reports(
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    severity: Severity | None = None,
    kind: ReportKind | None = None,
    manufacturer: Annotated[str | None, Query(max_length=200)] = None,
    device_name: Annotated[str | None, Query(max_length=200)] = None,
    country: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$")] = None,
    needs_review: bool | None = None,
    serious_incident: bool | None = None,
    submitted_from: date | None = None,
    submitted_to: date | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> ReportPage:
    """Reports the caller may read, newest first; follow ``next_cursor`` for more."""
    filters = service.ReportFilter(
        severity=severity,
        kind=kind,
        manufacturer=manufacturer,
        device_name=device_name,
        country=country,
        needs_review=needs_review,
        serious_incident=serious_incident,
        submitted_from=submitted_from,
        submitted_to=submitted_to,
    )
    return service.list_reports(
        session,
        principal=principal,
        key=settings.pseudonym_key_bytes,
        filters=filters,
        limit=limit,
        cursor=cursor,
    )


@router.get(
    "/status/{token}",
    response_model=ReportStatus,
    tags=["reporters"],
    responses={404: {"description": "Unknown link, or report not recorded yet"}},
)
def report_status(
    token: Annotated[str, Path(min_length=16, max_length=64)], session: SessionDep
) -> ReportStatus:
    """Where a report stands, for whoever holds its status link (nothing else is shown)."""
    return service.status_for_token(session, hashlib.sha256(token.encode()).hexdigest())
