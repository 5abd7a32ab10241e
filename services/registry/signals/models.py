"""Registry tables and API models of signals."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, DateTime, Index
from sqlmodel import Field, SQLModel

from vigie.contracts import SignalSeverity, utcnow


class DriftSignalBase(SQLModel):
    """Fields of a drift signal that the API shows."""

    signal_id: uuid.UUID = Field(primary_key=True)
    device_id: str = Field(foreign_key="device.device_id", index=True, max_length=40)
    device_name: str = Field(max_length=200)
    manufacturer: str = Field(max_length=200)
    model_version: str = Field(max_length=100)
    detector: str = Field(max_length=40)
    subject: str = Field(max_length=250)
    statistic: float
    threshold: float
    p_value: float | None = None
    severity: SignalSeverity = Field(index=True)
    also_drifted: str = ""
    summary: str = Field(max_length=500)
    reference_start: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    reference_end: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    window_start: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    window_end: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    recorded_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class DriftSignal(DriftSignalBase, table=True):
    """A drift signal as recorded: one row per signal id, whatever the deliveries."""

    __tablename__ = "drift_signal"
    __table_args__ = (Index("ix_drift_signal_recorded", "recorded_at", "signal_id"),)

    manufacturer_key: str = Field(max_length=200, index=True)


class DriftSignalPublic(DriftSignalBase):
    """A drift signal as the API returns it."""


class TelemetryUsage(SQLModel, table=True):
    """Predictions a device reported in one telemetry window: the denominator of trends."""

    __tablename__ = "telemetry_usage"
    __table_args__ = (Index("ix_usage_device_day", "device_id", "window_day"),)

    event_id: uuid.UUID = Field(primary_key=True)
    device_id: str = Field(foreign_key="device.device_id", max_length=40)
    model_version: str = Field(max_length=100)
    window_day: date
    n_predictions: int


class StatisticalSignal(SQLModel, table=True):
    """A flagged statistic, kept so that each one raises its alert once."""

    __tablename__ = "statistical_signal"

    key: str = Field(primary_key=True, max_length=400)
    kind: str = Field(max_length=40)
    manufacturer_key: str = Field(max_length=200, index=True)
    device_name: str = Field(max_length=200)
    detail: str = Field(max_length=1000)
    raised_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class TrendWeek(SQLModel):
    """One week of a device's incident series (MDR Art. 88 trend)."""

    week: str
    reports: int
    usage: int | None
    rate_per_1000_uses: float | None
    expected: float | None
    ratio: float | None
    p_value: float | None
    flagged: bool


class DeviceTrend(SQLModel):
    """A device's weekly incident series and which weeks are a significant increase."""

    device_name: str
    manufacturer: str
    weeks: list[TrendWeek]
    flagged_weeks: list[str]


class Breakdown(StrEnum):
    """What disproportionality counts reports by, per device."""

    CATEGORY = "category"
    CLINICIAN_ACTION = "clinician_action"
    AI_TASK = "ai_task"
    PATIENT_AGE_BAND = "patient_age_band"
    PATIENT_SEX = "patient_sex"


class DisproportionalityRow(SQLModel):
    """One device and category against all other devices (PRR, chi-square, ROR)."""

    device_name: str
    manufacturer: str
    category: str = Field(
        description="The value counted: a problem category, or of the breakdown asked for "
        "(e.g. the clinician's action: followed, overrode)."
    )
    breakdown: Breakdown = Field(
        default=Breakdown.CATEGORY, description="What ``category`` is a value of (``by``)."
    )
    reports: int
    device_reports: int
    category_reports: int
    all_reports: int
    prr: float | None
    chi2: float
    ror: float | None
    ror_ci95: tuple[float, float] | None
    flagged: bool
