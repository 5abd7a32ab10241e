"""Registry API of signals: drift from devices, trends and disproportionality over reports."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query

from services.registry.deps import PrincipalDep, SessionDep
from services.registry.signals import drift, statistics
from services.registry.signals.models import (
    Breakdown,
    DeviceTrend,
    DisproportionalityRow,
    DriftSignalPublic,
)
from vigie.contracts import SignalSeverity

router = APIRouter(prefix="/api/v1/signals", tags=["signals"])
_READ: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid token"},
    403: {"description": "Role may not read signals (regulators, administrators, manufacturers)"},
}


@router.get("/drift", response_model=list[DriftSignalPublic], responses=_READ)
def list_drift(
    session: SessionDep,
    principal: PrincipalDep,
    severity: SignalSeverity | None = None,
    device_name: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[DriftSignalPublic]:
    """Newest drift signals (a manufacturer sees its own devices' only)."""
    return drift.list_drift(
        session, principal=principal, severity=severity, device_name=device_name, limit=limit
    )


@router.get(
    "/drift/{signal_id}",
    response_model=DriftSignalPublic,
    responses={**_READ, 404: {"description": "Unknown, or not the caller's"}},
)
def read_drift(
    signal_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> DriftSignalPublic:
    """One drift signal."""
    return drift.get_drift(session, signal_id, principal=principal)


@router.get("/trends", response_model=list[DeviceTrend], responses=_READ)
def read_trends(
    session: SessionDep,
    principal: PrincipalDep,
    device_name: Annotated[str | None, Query(max_length=200)] = None,
    weeks: Annotated[int, Query(ge=5, le=156)] = 26,
) -> list[DeviceTrend]:
    """Weekly incidents per device, per use when telemetry reports usage (MDR Art. 88)."""
    return statistics.trends(session, principal=principal, device_name=device_name, weeks=weeks)


@router.get("/disproportionality", response_model=list[DisproportionalityRow], responses=_READ)
def read_disproportionality(
    session: SessionDep,
    principal: PrincipalDep,
    flagged_only: bool = False,
    by: Breakdown = Breakdown.CATEGORY,
) -> list[DisproportionalityRow]:
    """PRR (chi-square) and ROR (95% CI) of each device's problem categories, or of another
    property of its reports (``by``: the clinician's action on an AI suggestion, the AI's
    task, the patient's age band or sex); flagged at PRR >= 2, chi-square >= 4, N >= 3."""
    return statistics.disproportionality(
        session, principal=principal, flagged_only=flagged_only, by=by
    )
