"""Registry tables and API models of vigilance cases, their reports and MIR reports."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from pydantic import field_validator
from sqlalchemy import Column, DateTime, Index, Text
from sqlmodel import Field, SQLModel

from vigie.contracts import AiSuggestionCategory, Severity, no_control_characters, utcnow


class CaseStatus(StrEnum):
    """Where a case stands in the vigilance workflow."""

    RECEIVED = "received"
    TRIAGED = "triaged"
    UNDER_ASSESSMENT = "under_assessment"
    AWAITING_MANUFACTURER = "awaiting_manufacturer"
    REPORTED_TO_AUTHORITY = "reported_to_authority"
    CLOSED = "closed"


class LinkRole(StrEnum):
    """Why a report belongs to a case."""

    PRIMARY = "primary"
    LINKED = "linked"
    MERGED = "merged"


class MirType(StrEnum):
    """EU MIR (Manufacturer Incident Report) report types."""

    INITIAL = "initial"
    FOLLOW_UP = "follow_up"
    COMBINED_INITIAL_FINAL = "combined_initial_final"
    FINAL = "final"


class Case(SQLModel, table=True):
    """A vigilance case followed from first report to closure."""

    __table_args__ = (
        # The regulator's queue: open cases by deadline.
        Index("ix_case_deadline_opened", "deadline", "opened_at", "case_id"),
        Index("ix_case_opened", "opened_at", "case_id"),
        Index("ix_case_manufacturer_deadline", "manufacturer_key", "deadline"),
    )

    case_id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    status: CaseStatus = Field(default=CaseStatus.RECEIVED)
    status_reason: str | None = Field(default=None, max_length=1000)
    severity: Severity
    serious_incident: bool = False
    needs_review: bool = Field(default=False, index=True)
    deadline: date | None = None
    device_name: str = Field(max_length=200)
    manufacturer: str = Field(max_length=200)
    manufacturer_key: str = Field(max_length=200)
    country: str = Field(max_length=2)
    category: str | None = None
    merged_into: uuid.UUID | None = Field(default=None, foreign_key="case.case_id")
    opened_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class CaseReport(SQLModel, table=True):
    """A report belongs to one or more cases; merging moves links, never reports."""

    __tablename__ = "case_report"

    case_id: uuid.UUID = Field(foreign_key="case.case_id", primary_key=True)
    report_id: uuid.UUID = Field(foreign_key="report.report_id", primary_key=True, index=True)
    role: LinkRole = LinkRole.PRIMARY
    linked_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class MirReport(SQLModel, table=True):
    """A manufacturer incident report (EU MIR form) filed on a case."""

    __tablename__ = "mir_report"

    mir_id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="case.case_id", index=True)
    report_type: MirType
    author_role: str = Field(max_length=20)
    author: str = Field(max_length=64)
    content: str = Field(sa_column=Column(Text, nullable=False))
    submitted_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


# --- API models ---------------------------------------------------------------------------


class CasePublic(SQLModel):
    """A case as the API returns it, with the time left before its legal deadline."""

    case_id: uuid.UUID
    status: CaseStatus
    status_reason: str | None
    severity: Severity
    serious_incident: bool
    needs_review: bool
    deadline: date | None
    days_left: int | None
    overdue: bool
    device_name: str
    manufacturer: str
    country: str
    category: str | None
    merged_into: uuid.UUID | None
    opened_at: datetime
    updated_at: datetime
    report_ids: list[uuid.UUID]


class CasePage(SQLModel):
    """One page of cases: overdue first, then by deadline."""

    items: list[CasePublic]
    next_offset: int | None = None


class _Request(SQLModel):
    """Base of request bodies: their text reaches the database and events, which refuse control
    characters, so they are a 422 here."""

    @field_validator("*")
    @classmethod
    def _no_control_characters(cls, value: object) -> object:
        return no_control_characters(value)


class Transition(_Request):
    """Move a case to another status, with the reason."""

    to: CaseStatus
    reason: str = Field(min_length=3, max_length=1000)


class MirContent(_Request):
    """Sections of the EU MIR form that a manufacturer fills in (MIR 7.3, abridged)."""

    manufacturer_awareness_date: date
    incident_description: str = Field(min_length=10, max_length=20_000)
    imdrf_device_problem_codes: list[str] = Field(default_factory=list, max_length=20)
    imdrf_cause_codes: list[str] = Field(default_factory=list, max_length=20)
    imdrf_health_effect_codes: list[str] = Field(default_factory=list, max_length=20)
    root_cause_analysis: str | None = Field(default=None, max_length=20_000)
    corrective_actions: str | None = Field(default=None, max_length=20_000)
    similar_incidents: int | None = Field(default=None, ge=0)
    fsca_reference: str | None = Field(default=None, max_length=100)


class MirCreate(SQLModel):
    """A MIR report filed on a case."""

    report_type: MirType
    content: MirContent


class MirPublic(SQLModel):
    """A MIR report as the API shows it."""

    mir_id: uuid.UUID
    case_id: uuid.UUID
    report_type: MirType
    author_role: str
    content: MirContent
    submitted_at: datetime


class Review(_Request):
    """A reviewer's decision on the triage of a case."""

    severity: Severity
    category: AiSuggestionCategory | None = None
    reason: str = Field(min_length=3, max_length=1000)


class LinkRequest(_Request):
    """Link an existing report to a case (it stays in its other cases)."""

    report_id: uuid.UUID
    reason: str = Field(min_length=3, max_length=1000)


class MergeRequest(_Request):
    """Merge a duplicate case into this one; its reports move here, none is lost."""

    duplicate_case_id: uuid.UUID
    reason: str = Field(min_length=3, max_length=1000)
