"""REST endpoint of report submission."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, status
from fastapi.responses import JSONResponse

from services.ingest.deps import Submitter
from services.ingest.reports.models import Receipt, ReportCreate

router = APIRouter(prefix="/api/v1", tags=["reports"])


def get_submitter(request: Request) -> Submitter:
    """The application's submitter (built at start-up)."""
    submitter: Submitter = request.app.state.submitter
    return submitter


SubmitterDep = Annotated[Submitter, Depends(get_submitter)]


@router.post(
    "/reports",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Receipt,
    responses={
        409: {"description": "Idempotency-Key already used with a different body"},
        413: {"description": "Body too large"},
        422: {"description": "Invalid report, with field errors"},
        503: {"description": "Kafka did not acknowledge the report; retry"},
    },
)
async def submit_report(
    report: ReportCreate,
    submitter: SubmitterDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Receipt | JSONResponse:
    """Record a report; answers only once Kafka acknowledged it (acks=all)."""
    return await submitter.submit(report, idempotency_key=idempotency_key)
