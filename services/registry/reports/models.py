"""Registry tables and API models of reports and cases."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Column, DateTime, Index, Text
from sqlmodel import Field, SQLModel

from services.registry.cases.models import CaseStatus
from vigie.contracts import ReportedOutcome, ReporterRole, ReportKind, Severity, utcnow

# The columns of the AI part of a report (``ReportSubmitted.ai``), in the contract's order.
AI_COLUMNS = (
    "ai_task",
    "ai_output",
    "ai_output_confidence",
    "ai_clinician_action",
    "ai_patient_exposed",
    "ai_input_data_problems",
    "patient_age_band",
    "patient_sex",
)


class ReportBase(SQLModel):
    """Fields of a report that the API shows."""

    report_id: uuid.UUID = Field(primary_key=True)
    tracking_number: str = Field(index=True, max_length=16)
    kind: ReportKind
    reporter_role: ReporterRole
    country: str = Field(max_length=2, index=True)
    establishment: str | None = None
    device_name: str = Field(max_length=200, index=True)
    manufacturer: str = Field(max_length=200)
    udi_di: str | None = Field(default=None, max_length=100)
    model_version: str = Field(max_length=100)
    is_medical_device: bool = True
    event_date: date | None = None
    awareness_date: date
    outcome: ReportedOutcome
    severity: Severity = Field(index=True)
    needs_review: bool = False
    review_reasons: str = ""
    category: str | None = None
    confidence: float | None = None
    triage_model_version: str | None = None
    serious_incident: bool = False
    deadline: date | None = Field(default=None, index=True)
    narrative: str = Field(sa_column=Column(Text, nullable=False))
    # The AI part of the report (``ReportSubmitted.ai``), one column per field so that signals
    # and filters can count on them; null when the report did not say, or predates them.
    ai_task: str | None = Field(default=None, max_length=40)
    ai_output: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    ai_output_confidence: float | None = None
    ai_clinician_action: str | None = Field(default=None, max_length=40)
    ai_patient_exposed: bool | None = None
    # Input data problems, comma-separated in the contract's order ("missing,wrong").
    ai_input_data_problems: str | None = Field(default=None, max_length=200)
    patient_age_band: str | None = Field(default=None, max_length=10)
    patient_sex: str | None = Field(default=None, max_length=10)
    submitted_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    recorded_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class Report(ReportBase, table=True):
    """A report as recorded: one row per report id, whatever the number of deliveries."""

    __table_args__ = (
        # Keyset pagination walks (submitted_at, report_id); filters narrow by manufacturer.
        Index("ix_report_submitted", "submitted_at", "report_id"),
        Index("ix_report_manufacturer_submitted", "manufacturer_key", "submitted_at"),
        Index("ix_report_severity_submitted", "severity", "submitted_at", "report_id"),
        Index("ix_report_country_severity", "country", "severity", "submitted_at"),
    )

    # Lower-cased manufacturer: what access control and filters compare on.
    manufacturer_key: str = Field(max_length=200)
    patient_pseudonym: str | None = Field(default=None, max_length=40)
    reporter_ref: str | None = Field(default=None, max_length=40, index=True)
    status_token_hash: str | None = Field(default=None, max_length=64, index=True)
    # The triaged event as received, for exports and audits.
    payload: str = Field(sa_column=Column(Text, nullable=False))


class ReportStatusToken(SQLModel, table=True):
    """A status link of a report, by the hash of its secret: one per receipt given.

    Status tokens are random, so a retry answered by another ingest replica gives its reporter
    another link to the same report; every one of them must work.
    """

    __tablename__ = "report_status_token"

    token_hash: str = Field(primary_key=True, max_length=64)
    report_id: uuid.UUID = Field(index=True)


class ReportPublic(ReportBase):
    """A report as the API returns it."""

    case_id: uuid.UUID | None = None
    case_status: CaseStatus | None = None


class ReportPage(SQLModel):
    """One page of a report list; pass ``next_cursor`` back to get the next."""

    items: list[ReportPublic]
    next_cursor: str | None = None


class ReportStatus(SQLModel):
    """What a reporter may see of their own report: where it stands, nothing else."""

    tracking_number: str
    received_at: datetime
    case_status: CaseStatus
    last_update: datetime
