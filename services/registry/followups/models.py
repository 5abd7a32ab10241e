"""Registry table and API models of reporters' follow-ups."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Column, DateTime, Text
from sqlmodel import Field, SQLModel

from vigie.contracts import Language, ReportedOutcome, Severity


class FollowUp(SQLModel, table=True):
    """A follow-up as recorded: one row per follow-up id, whatever the number of deliveries.

    Vocabularies are stored as their values (plain text, not database enumerations): the
    contract owns them, and a new value needs no schema change.
    """

    __tablename__ = "report_followup"

    followup_id: uuid.UUID = Field(primary_key=True)
    report_id: uuid.UUID = Field(foreign_key="report.report_id", index=True)
    case_id: uuid.UUID | None = Field(default=None, foreign_key="case.case_id", index=True)
    # Text as published: identifiers already replaced by ingest's scrubber.
    text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    outcome: str | None = Field(default=None, max_length=40)
    awareness_date: date | None = None
    language: str = Field(max_length=2)
    # What the follow-up did to the case: its severity and legal deadline before and after.
    severity_before: str = Field(max_length=20)
    severity_after: str = Field(max_length=20)
    deadline_before: date | None = None
    deadline_after: date | None = None
    submitted_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    # SHA-256 of what the follow-up says: a redelivery matches it; another body under the same
    # id is refused.
    content_hash: str = Field(max_length=64)
    # The event as received, for exports and audits.
    payload: str = Field(sa_column=Column(Text, nullable=False))


class FollowUpPublic(SQLModel):
    """A follow-up as the case API shows it."""

    followup_id: uuid.UUID
    report_id: uuid.UUID
    case_id: uuid.UUID | None
    text: str | None = Field(description="What the reporter added, identifiers replaced.")
    outcome: ReportedOutcome | None = Field(
        description="The patient's outcome as the reporter now states it, if it changed."
    )
    awareness_date: date | None = Field(
        description="Day the reporter learned of it (the clock start of a worse outcome)."
    )
    language: Language
    severity_before: Severity
    severity_after: Severity
    deadline_before: date | None
    deadline_after: date | None = Field(
        description="The case's legal deadline once the follow-up was recorded (never later "
        "than before)."
    )
    submitted_at: datetime
    recorded_at: datetime


class FollowUpReceived(SQLModel):
    """What a reporter sees of their follow-ups on the status page: that each was received,
    and the text as it was sent on."""

    received_at: datetime
    text: str | None
    outcome: ReportedOutcome | None
