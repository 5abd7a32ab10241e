"""Registry API of follow-ups: a case's follow-ups for those who may read it, and the status
link check ingest makes before it accepts one."""

from __future__ import annotations

import hashlib
import uuid
from datetime import date

from fastapi import APIRouter
from pydantic import BaseModel, Field, field_validator

from services.registry.deps import PrincipalDep, SessionDep, SettingsDep
from services.registry.errors import NotFound
from services.registry.followups import service
from services.registry.followups.models import FollowUpPublic
from vigie.contracts import no_control_characters

router = APIRouter(tags=["follow-ups"])


class StatusLinkCheck(BaseModel):
    """A status link's secret, sent in the body so that it stays out of URLs and their logs."""

    token: str = Field(min_length=1, max_length=200)

    @field_validator("token", mode="before")
    @classmethod
    def _no_control_characters(cls, value: object) -> object:
        return no_control_characters(value)


class StatusLinkReport(BaseModel):
    """The report a status link belongs to."""

    report_id: uuid.UUID
    tracking_number: str
    awareness_date: date


@router.get(
    "/api/v1/cases/{case_id}/follow-ups",
    response_model=list[FollowUpPublic],
    responses={
        401: {"description": "No valid API token"},
        403: {"description": "The caller's role may not read cases"},
        404: {"description": "No such case for this caller"},
    },
)
def case_followups(
    case_id: uuid.UUID, session: SessionDep, settings: SettingsDep, principal: PrincipalDep
) -> list[FollowUpPublic]:
    """What reporters added to the case's reports after sending them, oldest first: the text
    (identifiers replaced), the outcome if it changed, and the case's severity and legal
    deadline before and after each. Only the follow-ups of reports the caller may read."""
    return service.list_for_case(
        session, case_id, principal=principal, key=settings.pseudonym_key_bytes
    )


@router.post(
    "/api/v1/status-links/check",
    response_model=StatusLinkReport,
    responses={404: {"description": "No report is recorded for this status link"}},
)
def check_status_link(body: StatusLinkCheck, session: SessionDep) -> StatusLinkReport:
    """The report a status link belongs to: ingest asks before it accepts a follow-up.

    Answers whoever holds the link with the report's id, tracking number and awareness date
    (the reporter's own entry, against which a follow-up's date is checked); a link is 256
    random bits, so guessing one is out of reach."""
    token_hash = hashlib.sha256(body.token.encode()).hexdigest()
    report = service.report_for_link(session, token_hash)
    if report is None:
        raise NotFound("status link")
    return StatusLinkReport(
        report_id=report.report_id,
        tracking_number=report.tracking_number,
        awareness_date=report.awareness_date,
    )
