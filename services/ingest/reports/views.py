"""REST endpoint of report submission."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, status
from fastapi.security import HTTPAuthorizationCredentials

from services.common.edges import RateLimit, StrictBearer
from services.ingest.deps import Submitter
from services.ingest.reports.models import Receipt, ReportCreate

router = APIRouter(prefix="/api/v1", tags=["reports"])


def get_submitter(request: Request) -> Submitter:
    """The application's submitter (built at start-up)."""
    submitter: Submitter = request.app.state.submitter
    return submitter


def rate_limited(request: Request) -> None:
    """429 with ``Retry-After`` when the caller's address submits more than its limit."""
    limit: RateLimit = request.app.state.rate_limit
    limit.check(request, scope="submit")


SubmitterDep = Annotated[Submitter, Depends(get_submitter)]
RateLimited = Depends(rate_limited)
_bearer = StrictBearer(auto_error=False, description="Optional API token issued by the registry.")


@router.post(
    "/reports",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Receipt,
    dependencies=[RateLimited],
    responses={
        401: {"description": "Invalid API token"},
        409: {"description": "Idempotency-Key already used with a different body"},
        413: {"description": "Body too large"},
        422: {"description": "Invalid report, with field errors"},
        429: {"description": "Too many submissions from this address; see Retry-After"},
        503: {"description": "Kafka did not acknowledge the report; retry"},
    },
)
async def submit_report(
    report: ReportCreate,
    submitter: SubmitterDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Receipt:
    """Record a report; answers only once Kafka acknowledged it (acks=all).

    A bearer token (from the registry) is optional: with one, the report is attributed to its
    author, who can then follow it in the registry API.
    """
    token = credentials.credentials if credentials else None
    return await submitter.submit(report, idempotency_key=idempotency_key, token=token)
