"""Registry tables and API models of the device catalogue."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel

from vigie.contracts import utcnow


class Device(SQLModel, table=True):
    """An AI medical device known to the registry."""

    device_id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=1000)
    name_key: str = Field(max_length=1000, index=True)
    manufacturer: str = Field(max_length=1000)
    manufacturer_key: str = Field(max_length=1000, index=True)
    udi_di: str | None = Field(default=None, max_length=100, index=True)
    risk_class: str | None = Field(default=None, max_length=60)
    submission_number: str | None = Field(default=None, max_length=40)
    pathway: str | None = Field(default=None, max_length=40)
    year: int | None = None
    clinical_domain: str | None = Field(default=None, max_length=100)
    device_function: str | None = Field(default=None, max_length=100)
    source: str = Field(default="reported", max_length=60)


class DeviceModelVersion(SQLModel, table=True):
    """An AI model version of a device, as seen in reports (and telemetry)."""

    __tablename__ = "device_model_version"
    __table_args__ = (UniqueConstraint("device_id", "model_version"),)

    id: int | None = Field(default=None, primary_key=True)
    device_id: str = Field(foreign_key="device.device_id", index=True)
    model_version: str = Field(max_length=100)
    first_seen: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class DevicePublic(SQLModel):
    """A device as the API shows it, with its known AI model versions."""

    device_id: str
    name: str
    manufacturer: str
    udi_di: str | None
    risk_class: str | None
    submission_number: str | None
    pathway: str | None
    year: int | None
    clinical_domain: str | None
    device_function: str | None
    source: str
    model_versions: list[str]


class DevicePage(SQLModel):
    """One page of the catalogue."""

    items: list[DevicePublic]
    next_offset: int | None = None
