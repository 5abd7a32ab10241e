"""Regulator subscriptions to alerts, and what was delivered to each."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, field_validator
from pydantic import Field as PydanticField
from sqlalchemy import Column, DateTime
from sqlmodel import Field, SQLModel

from vigie.contracts import AlertType, Severity, no_control_characters, utcnow

SLUG = r"^[a-z0-9][a-z0-9-]{1,40}$"


class Subscription(SQLModel, table=True):
    """Filters a regulator declared; matching alerts are copied to the subscription's topic."""

    sub_id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=42, unique=True)
    owner: str = Field(max_length=64, index=True)
    topic: str = Field(max_length=250)
    # Comma-separated lists; empty means "any".
    severities: str = ""
    alert_types: str = ""
    manufacturer_key: str | None = Field(default=None, max_length=200)
    device_name: str | None = Field(default=None, max_length=200)
    category: str | None = Field(default=None, max_length=100)
    country: str | None = Field(default=None, max_length=2)
    active: bool = True
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class Delivery(SQLModel, table=True):
    """An alert routed to a subscription (published when its outbox row is)."""

    id: int | None = Field(default=None, primary_key=True)
    sub_id: uuid.UUID = Field(foreign_key="subscription.sub_id", index=True)
    alert_id: str = Field(max_length=36)
    outbox_event_id: str = Field(max_length=36, unique=True)
    case_id: uuid.UUID | None = None
    routed_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class SubscriptionCreate(BaseModel):
    """What a regulator subscribes to (every filter optional; all given filters must match)."""

    model_config = ConfigDict(extra="forbid")

    name: str = PydanticField(pattern=SLUG, description="Short name; the topic derives from it.")
    severities: list[Severity] = PydanticField(default_factory=list)
    alert_types: list[AlertType] = PydanticField(default_factory=list)
    manufacturer: str | None = PydanticField(default=None, max_length=200)
    device_name: str | None = PydanticField(default=None, max_length=200)
    category: str | None = PydanticField(default=None, max_length=100)
    country: str | None = PydanticField(default=None, pattern=r"^[A-Z]{2}$")

    @field_validator("*")
    @classmethod
    def _no_control_characters(cls, value: object) -> object:
        # Stored as text, which PostgreSQL refuses with a NUL: a 422 here.
        return no_control_characters(value)


class SubscriptionPublic(SQLModel):
    """A subscription and the Kafka topic its alerts go to."""

    sub_id: uuid.UUID
    name: str
    topic: str
    severities: list[Severity]
    alert_types: list[AlertType]
    manufacturer: str | None
    device_name: str | None
    category: str | None
    country: str | None
    active: bool
    created_at: datetime


class DeliveryPublic(SQLModel):
    """An alert routed to a subscription, and when it reached Kafka."""

    alert_id: str
    case_id: uuid.UUID | None
    routed_at: datetime
    published_at: datetime | None
