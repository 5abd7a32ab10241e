"""REST endpoint of report submission."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, status
from fastapi.security import HTTPAuthorizationCredentials

from services.common.edges import RateLimit, StrictBearer
from services.ingest.deps import Submitter
from services.ingest.devices.views import catalogue
from services.ingest.reports.models import Receipt, ReportCreate, SubmissionNonce
from services.ingest.reports.nonces import SubmissionNonces

router = APIRouter(prefix="/api/v1", tags=["reports"])


def get_submitter(request: Request) -> Submitter:
    """The application's submitter (built at start-up)."""
    submitter: Submitter = request.app.state.submitter
    return submitter


def get_nonces(request: Request) -> SubmissionNonces:
    """The deployment's submission nonces."""
    nonces: SubmissionNonces = request.app.state.nonces
    return nonces


def rate_limited(request: Request) -> None:
    """429 with ``Retry-After`` when the caller's address submits more than its limit."""
    limit: RateLimit = request.app.state.rate_limit
    limit.check(request, scope="submit")


SubmitterDep = Annotated[Submitter, Depends(get_submitter)]
NoncesDep = Annotated[SubmissionNonces, Depends(get_nonces)]
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
        422: {
            "description": "Invalid report, with field errors; or, without a bearer token, an "
            "Idempotency-Key that is not a valid submission nonce"
        },
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

    An `Idempotency-Key` makes retries safe: a retry is the same report, on any replica. It is
    scoped to its caller: a token holder's keys are its own; without a token the key must be a
    submission nonce from `POST /api/v1/submission-nonces` (422 otherwise), so no one can
    submit under another party's key. The receipt shows the narrative and establishment as
    they were sent on, identifiers replaced.
    """
    token = credentials.credentials if credentials else None
    # `device.catalogue_id` says the device is the catalogue's: kept only when the catalogue
    # agrees, as the form does, never taken on a client's word.
    entry = catalogue().resolve(
        catalogue_id=report.device.catalogue_id,
        name=report.device.name,
        manufacturer=report.device.manufacturer,
    )
    found = entry.catalogue_id if entry else None
    if found != report.device.catalogue_id:
        device = report.device.model_copy(update={"catalogue_id": found})
        report = report.model_copy(update={"device": device})
    return await submitter.submit(report, idempotency_key=idempotency_key, token=token)


@router.post(
    "/submission-nonces",
    status_code=status.HTTP_201_CREATED,
    response_model=SubmissionNonce,
    tags=["reports"],
)
async def new_submission_nonce(nonces: NoncesDep) -> SubmissionNonce:
    """A submission nonce: the `Idempotency-Key` of one anonymous report and its retries.

    Stateless: any ingest replica verifies it. Ask for one per report, before the first
    attempt, and send the same one on every retry.
    """
    nonce, expires_at = nonces.issue()
    return SubmissionNonce(nonce=nonce, expires_at=expires_at)
